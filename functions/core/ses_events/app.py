"""SES events queue consumer: SES configuration-set events (via SNS) → activity, delivery state, suppression.

The batch is applied first, as a whole (``receive_ses_batch``: per tenant, batched reads and writes);
powertools' BatchProcessor then reports each record's outcome, a record that raised being a batch item failure.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters
from parley.domain.email_events import receive_ses_batch
from parley.models.domain import Message
from parley.models.email_events import Suppression

logger = Logger(service="ses_events")
metrics = Metrics(namespace="Parley", service="ses_events")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb",), models=(Message, Suppression))  # SnapStart: primed before the snapshot


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    records: list[dict[str, Any]] = event.get("Records") or []
    # keyed by the identity of each raw record (a batch may hold a redelivered message twice)
    results = {id(raw): out for raw, out in zip(records, receive_ses_batch([SQSRecord(r).body for r in records]), strict=True)}

    def record_handler(record: SQSRecord) -> str:
        result = results[id(record.raw_event)]
        if isinstance(result, Exception):
            dead_letters.note("ses-events", record.raw_event, result)  # on its last receive: why (dlq show)
            raise result
        metrics.add_metric(name=f"SesEvents{result.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("ses event", extra={"sqs_message_id": record.message_id, "result": result})
        return result

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
