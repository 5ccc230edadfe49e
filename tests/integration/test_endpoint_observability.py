"""Every endpoint's function logs with API Gateway's request id as correlation id and writes EMF metrics by family and
route: its latency, whether it failed (4xx / 5xx), and what it accepted (parley.api.endpoint, parley.metrics)."""

from __future__ import annotations

import json
from typing import Any

from helpers import api_event

SEND = "CandidateApi.SendEmailFunction"
ROUTE = "POST /communications/email/v1/send"


def _emf(out: str) -> list[dict[str, Any]]:
    blobs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def _logs(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"level"' in line]


def test_a_send_writes_latency_and_accepted_by_route_and_logs_the_request_id(handler, tenant, capsys):
    t, _ = tenant
    event = api_event("candidate/send_email", tenant_id=t.id)
    event["requestContext"]["requestId"] = "req-observed-1"
    capsys.readouterr()

    out = handler(SEND)(event)

    assert out["statusCode"] == 200
    printed = capsys.readouterr().out
    (blob,) = [b for b in _emf(printed) if b.get("route") == ROUTE]
    assert blob["service"] == "candidate"
    assert blob["EmailAccepted"] == [1.0]
    assert blob["ClientErrors"] == [0.0] and blob["ServerErrors"] == [0.0]
    assert blob["Latency"][0] > 0
    declared = {m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"Latency", "ClientErrors", "ServerErrors", "EmailAccepted"} <= declared
    assert blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route", "service"]]


def test_a_refused_request_counts_a_client_error_and_nothing_accepted(handler, tenant, capsys):
    t, _ = tenant
    capsys.readouterr()

    out = handler(SEND)(api_event("candidate/send_email", tenant_id=t.id, body={"toEmail": "not-an-address"}))

    assert out["statusCode"] == 400
    (blob,) = [b for b in _emf(capsys.readouterr().out) if b.get("route") == ROUTE]
    assert blob["ClientErrors"] == [1.0] and blob["ServerErrors"] == [0.0]
    assert "EmailAccepted" not in blob


def test_log_lines_carry_the_api_gateway_request_id(handler, tenant, capsys):
    t, _ = tenant
    event = api_event("candidate/send_email", tenant_id=t.id, body={"toEmail": "x"})
    event["requestContext"]["requestId"] = "req-observed-2"
    capsys.readouterr()

    handler(SEND)(event)

    # a refused request logs nothing by itself: log one line through the family's logger inside the request
    from aws_lambda_powertools import Logger

    assert Logger(service="candidate").get_correlation_id() == "req-observed-2"
