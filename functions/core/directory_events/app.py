"""Directory events queue consumer (issue 15): EventBridge events of the care platform's directory (source
``parley.directory``, detail-type ``upsert``/``delete``) applied in last-sync-time order (parley.domain.directory_events);
partial batch failures: a malformed event fails alone, is retried, then dead-lettered with its reason."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters, directory_events
from parley.models.domain import Tenant

logger = Logger(service="directory_events")
metrics = Metrics(namespace="Parley", service="directory_events")
# A batch whose every record failed is answered as such (each one a batch item failure), not as an invocation error:
# a malformed event never fails the function, and the local poller and Lambda treat the answer alike.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
snapstart.register(services=("dynamodb",), models=(Tenant,))  # SnapStart: primed before the snapshot


def record_handler(record: SQSRecord) -> dict:
    try:
        with dead_letters.noting("directory-events", record):  # on its last receive, why it failed (dlq show)
            outcome = directory_events.apply(record.body)
    except Exception as err:
        logger.warning("directory event not applied", extra={"sqs_message_id": record.message_id, "error": str(err)})
        metrics.add_metric(name="DirectoryEventsFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="DirectoryEventsApplied", unit=MetricUnit.Count, value=1)
    logger.info("directory event applied", extra={"sqs_message_id": record.message_id, **outcome})
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
