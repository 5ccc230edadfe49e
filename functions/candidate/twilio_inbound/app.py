"""Twilio "A message comes in" webhook (Lambda Function URL): store the inbound SMS, honour STOP/START.

Configured in Twilio as ``<function url>?tenant=<tenantId>``; authenticated by ``X-Twilio-Signature``. Verified and
checked here, then queued: ProviderEventsFunction stores the message and applies STOP/START
(``parley.domain.provider_events``). The answer is the empty TwiML Twilio expects (no auto-reply).
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.api import errors
from parley.domain import provider_events, sms_webhooks
from parley.models.domain import Tenant

logger = Logger(service="candidate")
app = LambdaFunctionUrlResolver()
errors.install(app, "candidate", json_body=False)
snapstart.register(services=("dynamodb", "sqs", "secretsmanager"), models=(Tenant,))  # SnapStart: primed before the snapshot


@app.post("/")
def inbound_sms() -> Response:
    verified = sms_webhooks.verify(app.current_event.raw_event)
    sid, *_ = sms_webhooks.check_inbound(verified.form)
    provider_events.queue_twilio(provider_events.TWILIO_INBOUND, verified.tenant_id, verified.form)
    logger.info("inbound SMS queued", extra={"tenant_id": verified.tenant_id, "sid": sid})
    return Response(status_code=200, content_type="text/xml", body=sms_webhooks.EMPTY_TWIML)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
