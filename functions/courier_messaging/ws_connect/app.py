"""``$connect`` of the live-update WebSocket API (docs/courier.md "Live updates").

The credential is the REST API's (an API key or a user bearer token), from the ``Authorization`` header or, since a
browser cannot set headers on a WebSocket, the ``token`` query parameter; the individual from ``individual-id`` (and
``user-id`` / ``X-User-ID`` for an API key acting for a user). It is checked by the shared authorizer's own code
(``parley.domain.auth.authorize``, through ``parley.domain.live.listener``). A refused connect answers API Gateway with
the status (401, 403, 404, 400/422) and a JSON:API error body: API Gateway then refuses the WebSocket handshake with it.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger

from parley import snapstart
from parley.api.errors import body_for
from parley.domain import live
from parley.errors import ParleyError
from parley.models.api_keys import ApiKey
from parley.models.domain import Tenant

logger = Logger(service="courier_messaging")
snapstart.register(services=("dynamodb",), models=(Tenant, ApiKey))  # SnapStart: primed before the snapshot


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def credential(event: dict[str, Any]) -> str | None:
    """The Authorization header, else ``Bearer <token>`` from the ``token`` query parameter."""
    header = _header(event, "authorization")
    if header:
        return header
    token = ((event.get("queryStringParameters") or {}).get("token") or "").strip()
    return f"Bearer {token}" if token else None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    connection_id = event["requestContext"]["connectionId"]
    try:
        who = live.listener(
            credential(event), user_id=query.get("user-id") or _header(event, "x-user-id"), individual_id=query.get("individual-id")
        )
        live.open_connection(who, connection_id)
    except ParleyError as err:
        logger.info("connect refused", extra={"status": err.status, "reason": str(err)})
        body = body_for("courier_messaging", err.status, str(err), pointer=err.pointer, parameter=err.parameter, code=err.code)
        return {"statusCode": err.status, "headers": {"Content-Type": "application/vnd.api+json"}, "body": json.dumps(body)}
    logger.info("connected", extra={"tenant_id": who.tenant_id, "individual_id": who.individual_id, "connection_id": connection_id})
    return {"statusCode": 200}
