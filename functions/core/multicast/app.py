"""Multicast queue consumer: the fan-out's page and batch steps (parley/domain/multicasts.py); partial batch failures."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import dead_letters, multicasts

logger = Logger(service="multicast")
metrics = Metrics(namespace="Parley", service="multicast")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "sqs"))


def record_handler(record: SQSRecord) -> str:
    with dead_letters.noting("multicast", record):  # on its last receive, why it failed (dlq show)
        job = json.loads(record.body)
        tenant_id, multicast_id = job["tenant_id"], job["multicast_id"]
        if job["step"] == "page":
            outcome = multicasts.run_page(tenant_id, multicast_id, int(job["page"]), int(job.get("segment", 0)), job.get("pos"))
            where = {"tenant_id": tenant_id, "multicast_id": multicast_id, "page": job["page"], "outcome": outcome}
        else:
            counts = multicasts.run_batch(tenant_id, multicast_id, job["batch"], job.get("ids") or [], user_id=job.get("user_id"),
                                          individual_id=job.get("individual_id"))  # fmt: skip
            for name in ("notified", "skipped", "failed"):
                if counts.get(name):
                    metrics.add_metric(name=f"MulticastRecipients{name.capitalize()}", unit=MetricUnit.Count, value=counts[name])
            outcome = "duplicate" if not counts else "batch"
            where = {"tenant_id": tenant_id, "multicast_id": multicast_id, "batch": job["batch"], **counts}
    logger.info("multicast step", extra=where)
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
