"""Send-queue consumer: one SQS batch → one batch dispatch (parley.domain.dispatch), with partial batch failures.

The batch is dispatched as a whole (claims, re-checks and outcome writes shared by its records); the domain
answers SQS directly with ``batchItemFailures``: a record whose job raised (bad JSON, ``RetryLater``, a
retry-exhausted provider error, …) is a batch item failure, and a batch whose every record failed raises
(``BatchProcessingError``, as powertools' BatchProcessor did), so the whole batch comes back.

A record that fails its last receive (``MAX_SEND_ATTEMPTS``, the queue's maxReceiveCount) is moved to the send DLQ
by SQS: why it failed is kept for ``python -m parley.admin dlq`` (``parley.domain.dead_letters.note_failures``).
Every provider call's outcome goes to the per-tenant ``ProviderCallFailed`` metric (``parley.metrics``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import metrics as business_metrics
from parley import snapstart
from parley.domain import dead_letters
from parley.domain.dispatch import dispatch_sqs
from parley.models.domain import ActivityEvent, Message, SendJob
from parley.models.email_events import Suppression
from parley.settings import get_settings

logger = Logger(service="dispatcher")
metrics = Metrics(namespace="Parley", service="dispatcher")
snapstart.register(
    services=("dynamodb", "s3", "sqs", "sesv2", "sns", "secretsmanager"), models=(SendJob, Message, ActivityEvent, Suppression)
)  # SnapStart: primed before the snapshot


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    remaining = context.get_remaining_time_in_millis if context is not None else None
    records = event.get("Records") or []
    batch = dispatch_sqs(records, remaining_ms=remaining)
    for outcome, receive_count in batch.done:
        metrics.add_metric(name=f"Messages{outcome.result.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("dispatched", extra={"message_id": outcome.message_id, "result": outcome.result, "receive_count": receive_count})
    if batch.failed:
        dead_letters.note_failures(dead_letters.SEND, records, batch.failed, max_receive_count=get_settings().max_send_attempts)
    business_metrics.provider_calls("dispatcher", batch.provider_calls)
    return batch.response()
