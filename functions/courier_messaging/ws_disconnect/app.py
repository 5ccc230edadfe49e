"""``$disconnect`` of the live-update WebSocket API: the connection's items are deleted (docs/courier.md "Live updates").
API Gateway calls it on a best-effort basis; a connection whose call never comes is deleted by the first post that
finds it gone (410), or expires (``ttl``)."""

from typing import Any

from aws_lambda_powertools import Logger

from parley import snapstart
from parley.domain import live

logger = Logger(service="courier_messaging")
snapstart.register(services=("dynamodb",))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    known = live.close_connection(connection_id)
    logger.info("disconnected", extra={"connection_id": connection_id, "known": known})
    return {"statusCode": 200}
