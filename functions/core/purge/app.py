"""Purge queue consumer: runs the steps of GDPR erasure jobs (domain/purge.py); partial batch failures."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters, purge

logger = Logger(service="purge")
metrics = Metrics(namespace="Parley", service="purge")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "s3", "sqs"))


def record_handler(record: SQSRecord) -> str:
    with dead_letters.noting("purge", record):  # on its last receive, why it failed (dlq show)
        step = json.loads(record.body)
        job = purge.run(step["tenant_id"], step["request_id"], step.get("phase", "data"), int(step.get("attempt", 0)))
    if job.status in ("done", "failed"):
        metrics.add_metric(name="PurgesDone" if job.status == "done" else "PurgesFailed", unit=MetricUnit.Count, value=1)
    where = {"tenant_id": job.tenant_id, "request_id": job.request_id, "phase": step.get("phase"), "status": job.status}
    logger.info("purge step", extra=where)
    return job.status


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
