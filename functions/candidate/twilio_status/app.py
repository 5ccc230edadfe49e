"""Twilio SMS status callback (Lambda Function URL): move our message's delivery state forward.

Configured as the message's StatusCallback, ``<function url>?tenant=<tenantId>``; authenticated by
``X-Twilio-Signature``. Verified and checked here, then queued and applied by ProviderEventsFunction
(``parley.domain.provider_events``). An unknown MessageSid is acknowledged (Twilio would otherwise retry it) and logged.
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
def status_callback() -> Response:
    verified = sms_webhooks.verify(app.current_event.raw_event)
    sid, status = sms_webhooks.check_status(verified.form)
    provider_events.queue_twilio(provider_events.TWILIO_STATUS, verified.tenant_id, verified.form)
    logger.info("Twilio status callback queued", extra={"tenant_id": verified.tenant_id, "sid": sid, "status": status[:40]})
    return Response(status_code=204, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
