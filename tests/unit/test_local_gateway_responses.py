"""The local gateway renders a gateway response template as API Gateway does: simple substitution only."""

from __future__ import annotations

import json
import re
import time

from parley_local.gateway import Gateway
from parley_local.templates import GatewayResponse, RestApi


def _render(template: str, rtype: str = "UNAUTHORIZED", status: int = 401) -> dict:
    api = RestApi(logical_id="Api", template=None, api_id="a1", stage="v1")  # type: ignore[arg-type]
    api.gateway_responses[rtype] = GatewayResponse(status=status, templates={"application/json": template}, headers={})
    response = Gateway.gateway_response(Gateway.__new__(Gateway), api, rtype)
    assert response.status_code == status
    return json.loads(response.get_data(as_text=True))


def test_both_request_time_variables_are_substituted():
    before = int(time.time() * 1000)
    out = _render('{"epoch": $context.requestTimeEpoch, "clf": "$context.requestTime", "m": $context.error.messageString}')
    assert before <= out["epoch"] <= int(time.time() * 1000) + 1  # not "06/Dec/2026:…Epoch"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", out["clf"])
    assert out["m"] == "Unauthorized"
