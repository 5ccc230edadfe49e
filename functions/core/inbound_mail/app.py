"""Inbound mail queue consumer: SES-received mail (S3 event notifications) and kept Inbound Parse posts → threaded replies."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters
from parley.domain.inbound_email import receive_queued
from parley.models.domain import Message
from parley.models.inbound import ParsePointer

logger = Logger(service="inbound_mail")
metrics = Metrics(namespace="Parley", service="inbound_mail")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "s3"), models=(ParsePointer, Message))  # SnapStart: primed before the snapshot


def record_handler(record: SQSRecord) -> list[str]:
    with dead_letters.noting("inbound-mail", record):  # on its last receive, why it failed (dlq show)
        results = receive_queued(record.body)
    for result in results:
        metrics.add_metric(name=f"InboundMail{result.replace('_', ' ').title().replace(' ', '')}", unit=MetricUnit.Count, value=1)
    logger.info("inbound mail", extra={"sqs_message_id": record.message_id, "results": results})
    return results


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
