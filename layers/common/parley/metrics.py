"""Business metrics (CloudWatch EMF via powertools): counted where they happen, written once per request.

``count`` adds to powertools' shared metric set; the endpoint's handler (``parley.api.endpoint``) flushes it
with the request's latency and errors, so the counts carry the family (``service``) and ``route`` dimensions.
Outside an endpoint (a queue consumer that does not flush), the counts are dropped with the process.

``provider_calls`` writes per-tenant documents of their own (dimensions ``service`` and ``tenant``): what the
provider failure rate alarm reads (template.yaml ``ProviderFailureRateAlarm``, docs/operations.md "Alarms")."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

NAMESPACE = "Parley"
PROVIDER_CALL_FAILED = "ProviderCallFailed"  # 1 per failed provider call, 0 per accepted one: its average is the failure rate
TENANT_DIMENSION = "tenant"


@cache
def _metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE)


def count(name: str, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    _metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def provider_calls(service: str, calls: Iterable[tuple[str, bool]]) -> None:
    """Flush one EMF document per tenant of ``calls`` (``(tenant_id, failed)``, one per provider call):
    ``ProviderCallFailed`` with a value per call, 1 if it failed, 0 if the provider took the message, under the
    dimensions ``service`` and ``tenant``. Over a period, its average is the tenant's failure rate and its sample
    count the tenant's calls. Every tenant that sends is one more custom metric (docs/operations.md "Alarms")."""
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    by_tenant: dict[str, list[bool]] = {}
    for tenant_id, failed in calls:
        by_tenant.setdefault(tenant_id, []).append(failed)
    for tenant_id, outcomes in by_tenant.items():
        document = EphemeralMetrics(namespace=NAMESPACE, service=service)
        document.add_dimension(name=TENANT_DIMENSION, value=tenant_id)
        for failed in outcomes:
            document.add_metric(name=PROVIDER_CALL_FAILED, unit=MetricUnit.Count, value=int(failed))
        document.flush_metrics()
