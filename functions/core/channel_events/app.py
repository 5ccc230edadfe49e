"""ChannelEventsQueue consumer: applies each channel event through the hooks of ``parley.domain.channel_events``
(the members' inbox state, live updates, the SMS bridge, offline pushes); partial batch failures."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import channel_events, dead_letters

logger = Logger(service="channel_events")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "sqs", "apigatewaymanagementapi"))  # the live hook posts to connections


def record_handler(record: SQSRecord) -> str:
    with dead_letters.noting("channel-events", record):  # on its last receive, why it failed (dlq show)
        event = channel_events.parse(record.body)
        channel_events.handle(event)
    logger.info(
        "channel event", extra={"tenant_id": event.tenant_id, "channel_id": event.channel_id, "kind": event.kind, "event_id": event.id}
    )
    return event.kind


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
