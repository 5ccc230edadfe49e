"""WebSocket connections of the live-update API (docs/courier.md "Live updates", docs/data-model.md §6.20).

Two items per open connection, written and deleted together (one transaction):

- ``PK = TENANT#<t>#WS#IND#<individual>``, ``SK = CONN#<connection id>``: the individual's connections (a Query on
  the key: who to post an event to, ``connected``); ``tenant_id``, ``individual_id``, ``connection_id``,
  ``connected_at``, ``user_id`` (a user token's caller), ``ttl``;
- ``PK = WSCONN#<connection id>``, ``SK = CONN``: the pointer ``$disconnect`` (which knows only the connection id)
  reads to find the first item; ``tenant_id``, ``individual_id``, ``ttl``.

``ttl`` is the connection's latest possible end: API Gateway closes a WebSocket after 2 hours at most, so an item
whose ``$disconnect`` never ran expires by itself. DynamoDB deletes expired items late (up to days), so readers also
skip items whose ``ttl`` has passed.
"""

from __future__ import annotations

import threading
from typing import Any

from parley.dal import table

# API Gateway's maximum connection duration (2 h) plus a margin for clock skew and the $connect call itself
TTL_SECONDS = 2 * 3600 + 300
POINTER_SK = "CONN"


def individual_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#WS#IND#{individual_id}"


def connection_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def pointer_pk(connection_id: str) -> str:
    return f"WSCONN#{connection_id}"


def put(tenant_id: str, individual_id: str, connection_id: str, *, connected_at: str, now_epoch: int, user_id: str | None = None) -> None:
    """Both items of a new connection."""
    ttl = now_epoch + TTL_SECONDS
    conn = {
        "PK": individual_pk(tenant_id, individual_id),
        "SK": connection_sk(connection_id),
        "type": "ws_connection",
        "tenant_id": tenant_id,
        "individual_id": individual_id,
        "connection_id": connection_id,
        "connected_at": connected_at,
        "user_id": user_id,
        "ttl": ttl,
    }
    pointer = {
        "PK": pointer_pk(connection_id),
        "SK": POINTER_SK,
        "type": "ws_connection_pointer",
        "tenant_id": tenant_id,
        "individual_id": individual_id,
        "connection_id": connection_id,
        "ttl": ttl,
    }
    table.transact([{"Put": {"Item": table.marshal(conn)}}, {"Put": {"Item": table.marshal(pointer)}}])


def pointer(connection_id: str) -> dict[str, Any] | None:
    return table.get(pointer_pk(connection_id), POINTER_SK, consistent=True)


def delete(tenant_id: str, individual_id: str, connection_id: str) -> None:
    """Both items of a connection (deleting an absent item is no error: a repeat is harmless)."""
    table.transact(
        [
            {"Delete": {"Key": table.key(individual_pk(tenant_id, individual_id), connection_sk(connection_id))}},
            {"Delete": {"Key": table.key(pointer_pk(connection_id), POINTER_SK)}},
        ]
    )


def connections(tenant_id: str, individual_id: str, *, now_epoch: int, limit: int | None = None) -> list[dict[str, Any]]:
    """The individual's connections whose ``ttl`` has not passed (one Query on the key; expired ones filtered out)."""
    params: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "FilterExpression": "#ttl > :now",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
        "ExpressionAttributeValues": table.values(pk=individual_pk(tenant_id, individual_id), sk="CONN#", now=now_epoch),
    }
    items = table.query_raw(**params)
    return items[:limit] if limit else items


# ── the management API (API Gateway's @connections) ──
def _management(endpoint_url: str) -> Any:
    """The apigatewaymanagementapi client of one WebSocket API stage (``https://<api id>.execute-api.<region>.
    amazonaws.com/<stage>``), made once per endpoint (botocore client, as ``parley.dal.aws``), under a lock: a botocore
    session does not create clients thread-safely (the clients themselves are thread-safe)."""
    client = _clients.get(endpoint_url)
    if client is None:
        from parley.dal.aws import _DEFAULT, session

        with _lock:
            client = _clients.get(endpoint_url)
            if client is None:
                client = _clients[endpoint_url] = session().create_client(
                    "apigatewaymanagementapi", endpoint_url=endpoint_url, config=_DEFAULT
                )
    return client


def prepare(endpoint_url: str) -> None:
    """Create the clients a fan-out uses (the table's, the management API's) before its threads start."""
    table.ddb()
    _management(endpoint_url)


_clients: dict[str, Any] = {}
_lock = threading.Lock()


def post(endpoint_url: str, connection_id: str, data: bytes) -> bool:
    """Send ``data`` to a connection: False when API Gateway says it is gone (``GoneException``, 410); any other error
    is raised."""
    from botocore.exceptions import ClientError

    try:
        _management(endpoint_url).post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as err:
        if (
            err.response.get("Error", {}).get("Code") == "GoneException"
            or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
        ):
            return False
        raise
    return True


def close(endpoint_url: str, connection_id: str) -> bool:
    """Close a connection (``DeleteConnection``); False when it was already gone."""
    from botocore.exceptions import ClientError

    try:
        _management(endpoint_url).delete_connection(ConnectionId=connection_id)
    except ClientError as err:
        if (
            err.response.get("Error", {}).get("Code") == "GoneException"
            or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
        ):
            return False
        raise
    return True


def _forget_clients() -> None:
    _clients.clear()


def _register_reset() -> None:
    from parley.dal.aws import on_reset

    on_reset(_forget_clients)


_register_reset()
