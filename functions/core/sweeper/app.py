"""Send sweeper (EventBridge Scheduler, every 5 minutes): re-queues messages whose job or schedule was lost, and
deletes bodies whose message was never stored."""

from dataclasses import asdict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain.sweeper import sweep

logger = Logger(service="sweeper")
metrics = Metrics(namespace="Parley", service="sweeper")
snapstart.register(services=("dynamodb", "sqs", "s3"))  # SnapStart: primed before the snapshot


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    result = sweep()
    metrics.add_metric(name="MessagesRequeued", unit=MetricUnit.Count, value=result.requeued)
    metrics.add_metric(name="OrphanBodiesDeleted", unit=MetricUnit.Count, value=result.orphan_bodies)
    if result.requeued or result.refused:
        logger.warning("re-queued messages whose job or schedule was lost", extra=asdict(result))
    if result.orphan_bodies:
        logger.warning("deleted bodies whose message was never stored", extra=asdict(result))
    return asdict(result)
