"""Send-queue consumer: one SQS batch → one batch dispatch (parley.domain.dispatch), with partial batch failures.

The batch is dispatched first, as a whole (claims, re-checks and outcome writes shared by its records);
powertools' BatchProcessor then walks the records and reports, per record, the outcome already decided
for it: a record whose job raised (bad JSON, ``RetryLater``, a retry-exhausted provider error, …) is a
batch item failure.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.domain.dispatch import Result, dispatch_batch
from parley.models.domain import SendJob

logger = Logger(service="dispatcher")
metrics = Metrics(namespace="Parley", service="dispatcher")
processor = BatchProcessor(event_type=EventType.SQS)


def _dispatch_records(records: list[dict[str, Any]], context: LambdaContext | None = None) -> dict[int, Result]:
    """Every record's result, keyed by the identity of its raw dict (SQS message ids repeat in a batch
    that holds a redelivered job twice)."""
    results: dict[int, Result] = {}
    jobs: list[tuple[SendJob, int]] = []
    owners: list[dict[str, Any]] = []
    for raw in records:
        record = SQSRecord(raw)
        try:
            job = SendJob.model_validate_json(record.body)
        except Exception as err:
            results[id(raw)] = err
            continue
        jobs.append((job, int(record.attributes.approximate_receive_count or 1)))
        owners.append(raw)
    remaining = context.get_remaining_time_in_millis if context is not None else None
    for raw, result in zip(owners, dispatch_batch(jobs, remaining_ms=remaining), strict=True):
        results[id(raw)] = result
    return results


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    results = _dispatch_records(event.get("Records") or [], context)

    def record_handler(record: SQSRecord) -> str:
        result = results[id(record.raw_event)]
        receive_count = int(record.attributes.approximate_receive_count or 1)
        if isinstance(result, Exception):
            raise result
        metrics.add_metric(name=f"Messages{result.result.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("dispatched", extra={"message_id": result.message_id, "result": result.result, "receive_count": receive_count})
        return result.result

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
