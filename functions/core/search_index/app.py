"""Search indexer (the table's DynamoDB stream): keeps the CRM records' free-text token lists (docs/data-model.md §6.8)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import search_index

logger = Logger(service="search-index")
metrics = Metrics(namespace="Parley", service="search-index")
snapstart.register(services=("dynamodb", "s3"))  # SnapStart: primed before the snapshot


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    """A batch of stream records, in order. Every write is idempotent and the manifests make a repeat after a failure
    at any point converge, so a failed batch is reported from its first record change on and delivered again."""
    records = event.get("Records") or []
    try:
        done = search_index.index_stream(records)
    except Exception:
        first = search_index.first_change(records)
        if first is None:
            raise
        logger.exception("search index not updated; the batch is retried from its first record change", extra={"seq": first})
        metrics.add_metric(name="SearchIndexRetries", unit=MetricUnit.Count, value=1)
        return {"batchItemFailures": [{"itemIdentifier": first}]}
    metrics.add_metric(name="SearchIndexRecords", unit=MetricUnit.Count, value=done.changed)
    metrics.add_metric(name="SearchIndexTokenWrites", unit=MetricUnit.Count, value=done.puts + done.deletes)
    return {"batchItemFailures": []}
