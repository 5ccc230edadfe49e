"""``$default`` of the live-update WebSocket API: every client message (docs/courier.md "Live updates").

``{"action": "ping"}`` answers ``{"type": "pong"}`` (a client keeps its connection from API Gateway's 10-minute idle
timeout this way); anything else answers ``{"type": "error", …}``. The route has a route response, so API Gateway
sends the returned body back on the connection. The server pushes the events; a client sends nothing else.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger

from parley import snapstart

logger = Logger(service="courier_messaging")
snapstart.register(services=())  # SnapStart: the settings and the validators built before the snapshot (no AWS client)


def _answer(payload: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(payload, separators=(",", ":"))}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        body = None
    action = body.get("action") if isinstance(body, dict) else None
    if action == "ping":
        return _answer({"type": "pong"})
    return _answer(
        {"type": "error", "status": 400, "code": "unknown-action", "detail": 'the only action is "ping"; send {"action": "ping"}'}
    )
