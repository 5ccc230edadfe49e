"""Provider events queue consumer: verified webhooks (SendGrid event chunks, Twilio inbound SMS and status
callbacks) applied with batched writes, each at most once in effect; partial batch failures."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters, provider_events
from parley.models.domain import Message, Tenant

logger = Logger(service="provider_events")
metrics = Metrics(namespace="Parley", service="provider_events")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb",), models=(Message, Tenant))  # SnapStart: primed before the snapshot


def record_handler(record: SQSRecord) -> dict:
    with dead_letters.noting("provider-events", record):  # on its last receive, why it failed (dlq show)
        outcome = provider_events.apply(record.body)
    metrics.add_metric(name="ProviderEventsApplied", unit=MetricUnit.Count, value=1)
    logger.info(
        "provider events applied",
        extra={"sqs_message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count, **outcome},
    )
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
