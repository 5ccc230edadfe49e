"""SES events queue consumer: SES configuration-set events (via SNS) → activity, delivery state, suppression."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain.email_events import receive_ses

logger = Logger(service="ses_events")
metrics = Metrics(namespace="Parley", service="ses_events")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    result = receive_ses(record.body)
    metrics.add_metric(name=f"SesEvents{result.capitalize()}", unit=MetricUnit.Count, value=1)
    logger.info("ses event", extra={"sqs_message_id": record.message_id, "result": result})
    return result


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
