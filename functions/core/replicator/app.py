"""The courier replicators' poller (issue 15): invoked by each replicator's EventBridge Scheduler ``rate()`` schedule
with ``{"tenant-id", "replicator-id"}``; pulls the upstream's JSON:API pages since the replicator's last-poll-time and
applies them in last-sync-time order (parley.domain.replicators; docs/courier.md "Replicators"). A failed poll is an
error of the invocation (the Errors metric) and leaves last-poll-time where it was."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import replicators
from parley.errors import NotFound
from parley.models.courier_replicators import Replicator

logger = Logger(service="replicator")
metrics = Metrics(namespace="Parley", service="replicator")
snapstart.register(services=("dynamodb", "secretsmanager"), models=(Replicator,))


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    tenant_id, replicator_id = (event or {}).get("tenant-id"), (event or {}).get("replicator-id")
    if not isinstance(tenant_id, str) or not isinstance(replicator_id, str):
        raise ValueError('the schedule\'s input must be {"tenant-id": …, "replicator-id": …}')
    logger.append_keys(tenant_id=tenant_id, replicator_id=replicator_id)
    try:
        summary = replicators.poll(tenant_id, replicator_id)
    except NotFound:
        logger.warning("replicator gone: its schedule outlived it")  # deleted between the schedule's run and now
        return {"polled": False}
    except replicators.ReplicationError as err:
        metrics.add_metric(name="ReplicatorPollsFailed", unit=MetricUnit.Count, value=1)
        logger.error("replicator poll failed; last-poll-time kept", extra={"error": str(err)})
        raise
    metrics.add_metric(name="ReplicatorEntitiesWritten", unit=MetricUnit.Count, value=summary.written)
    logger.info("replicator polled", extra=summary.as_dict())
    return {"polled": True, **summary.as_dict()}
