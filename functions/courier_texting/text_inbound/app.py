"""Twilio "A message comes in" webhook of the texting numbers (Lambda Function URL ``TextInboundFunction``).

Verified with the receiving account's auth token (``X-Twilio-Signature`` over the exact URL and the form) and handled
at once (``parley.domain.text_inbound``): a reply to a text, a consent answer, STOP/START, or the number's
unknown-number rule. The answer is the empty TwiML Twilio expects (any reply goes out through the send pipeline).
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from parley import snapstart
from parley.api import errors
from parley.domain import sms_webhooks, text_inbound
from parley.models.domain import Tenant

logger = Logger(service="courier_texting")
app = LambdaFunctionUrlResolver()
errors.install(app, "courier_texting", json_body=False)
snapstart.register(services=("dynamodb", "sqs", "secretsmanager"), models=(Tenant,))  # SnapStart: primed before the snapshot


@app.post("/")
def receive() -> Response:
    outcome = text_inbound.receive(app.current_event.raw_event)
    logger.info("inbound SMS handled", extra={"outcome": outcome})
    return Response(status_code=200, content_type="text/xml", body=sms_webhooks.EMPTY_TWIML)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
