"""Tally keeper (the table's DynamoDB stream): adds every change of a listed item to its lists' tallies, once."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.dal import tallies

logger = Logger(service="tally")
metrics = Metrics(namespace="Parley", service="tally")
snapstart.register(services=("dynamodb",))  # SnapStart: primed before the snapshot


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    """A batch of stream records, in order. What could not be applied (contended tallies) is reported from its
    first record on: Lambda delivers it again from there, and the ``SEEN#`` markers leave out what landed."""
    changes = tallies.stream_changes(event.get("Records") or [])
    try:
        applied = tallies.apply(changes)
    except tallies.Unapplied as stop:
        logger.warning(
            "tallies not applied; the batch is retried from the first change left", extra={"seq": stop.seq, "error": repr(stop.cause)}
        )
        metrics.add_metric(name="TallyRetries", unit=MetricUnit.Count, value=1)
        return {"batchItemFailures": [{"itemIdentifier": stop.seq}]}
    metrics.add_metric(name="TallyChanges", unit=MetricUnit.Count, value=applied)
    return {"batchItemFailures": []}
