"""Twilio SMS status callback (Lambda Function URL): move our message's delivery state forward.

Configured as the message's StatusCallback, ``<function url>?tenant=<tenantId>``; authenticated by
``X-Twilio-Signature``. An unknown MessageSid is acknowledged (Twilio would otherwise retry it) and logged.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import errors
from parley.domain import sms_webhooks

logger = Logger(service="candidate")
app = LambdaFunctionUrlResolver()
errors.install(app, "candidate", json_body=False)


@app.post("/")
def status_callback() -> Response:
    verified = sms_webhooks.verify(app.current_event.raw_event)
    outcome = sms_webhooks.apply_status(verified.tenant_id, verified.form)
    logger.info(
        "Twilio status callback", extra={"tenant_id": verified.tenant_id, "result": outcome.result, "message_id": outcome.message_id}
    )
    return Response(status_code=204, body="")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
