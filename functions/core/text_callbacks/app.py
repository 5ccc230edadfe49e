"""TextCallbackQueue consumer: delivers the signed callbacks of courier texts (replies, status changes), one POST per
job (``parley.domain.text_callbacks``): SSRF-checked, never following a redirect; a failed attempt is retried with
backoff (its job's visibility), reported as a partial batch failure; a refusal or a final failure is recorded."""

from typing import Any

from aws_lambda_powertools import Logger

from parley import snapstart
from parley.domain import text_callbacks

logger = Logger(service="text_callbacks")
snapstart.register(services=("dynamodb", "sqs", "secretsmanager"))  # SnapStart: primed before the snapshot


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return text_callbacks.handle_batch(event.get("Records") or [])
