"""Business metrics (CloudWatch EMF via powertools): counted where they happen, written once per request.

``count`` adds to powertools' shared metric set; the endpoint's handler (``parley.api.endpoint``) flushes it
with the request's latency and errors, so the counts carry the family (``service``) and ``route`` dimensions.
Outside an endpoint (a queue consumer that does not flush), the counts are dropped with the process."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Parley")


def count(name: str, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    _metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)
