"""Send-queue consumer: one SQS batch → one dispatch per record, with partial batch failures."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain.dispatch import dispatch
from parley.models.domain import SendJob

logger = Logger(service="dispatcher")
metrics = Metrics(namespace="Parley", service="dispatcher")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    job = SendJob.model_validate_json(record.body)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    outcome = dispatch(job, receive_count=receive_count)
    metrics.add_metric(name=f"Messages{outcome.result.capitalize()}", unit=MetricUnit.Count, value=1)
    logger.info("dispatched", extra={"message_id": outcome.message_id, "result": outcome.result, "receive_count": receive_count})
    return outcome.result


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
