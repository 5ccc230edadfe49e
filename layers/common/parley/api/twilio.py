"""Twilio's webhooks at Lambda Function URLs (``functions/candidate/twilio_inbound``, ``twilio_status``): one shape.

Each is a Lambda of its own: ``lambda_handler = twilio_webhook(kind, check, ...)``. A request is verified
(``X-Twilio-Signature`` with the tenant's auth token, ``sms_webhooks.verify``), its form checked (``check``: 400 when
a field Twilio always sends is missing or malformed), then queued as ``kind`` for ProviderEventsFunction
(``parley.domain.provider_events``), which applies it. Errors are the candidate API's (``parley.api.errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from parley import snapstart
from parley.api import errors
from parley.domain import provider_events, sms_webhooks
from parley.models.domain import Tenant


def twilio_webhook(
    kind: str,
    check: Callable[[sms_webhooks.Form], Mapping[str, str]],
    *,
    queued: str,
    status_code: int,
    content_type: str | None = None,
    body: str = "",
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one Twilio webhook: ``check`` validates the form and returns what to log of it
    (with the message ``queued``); the answer is ``status_code`` with ``body`` (what Twilio expects of that webhook)."""
    logger = Logger(service="candidate")
    app = LambdaFunctionUrlResolver()
    errors.install(app, "candidate", json_body=False)
    snapstart.register(services=("dynamodb", "sqs", "secretsmanager"), models=(Tenant,))  # SnapStart: primed before the snapshot

    @app.post("/")
    def receive() -> Response:
        verified = sms_webhooks.verify(app.current_event.raw_event)
        logged = check(verified.form)
        provider_events.queue_twilio(kind, verified.tenant_id, verified.form)
        logger.info(queued, extra={"tenant_id": verified.tenant_id, **logged})
        return Response(status_code=status_code, content_type=content_type, body=body)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler
