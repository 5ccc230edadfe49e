"""Twilio "A message comes in" webhook (Lambda Function URL): store the inbound SMS, honour STOP/START.

Configured in Twilio as ``<function url>?tenant=<tenantId>``; authenticated by ``X-Twilio-Signature``. Verified and
checked here, then queued: ProviderEventsFunction stores the message and applies STOP/START
(``parley.domain.provider_events``). The answer is the empty TwiML Twilio expects (no auto-reply).
"""

from parley.api.twilio import twilio_webhook
from parley.domain import provider_events, sms_webhooks


def _check(form: sms_webhooks.Form) -> dict[str, str]:
    sid, *_ = sms_webhooks.check_inbound(form)
    return {"sid": sid}


lambda_handler = twilio_webhook(
    provider_events.TWILIO_INBOUND,
    _check,
    queued="inbound SMS queued",
    status_code=200,
    content_type="text/xml",
    body=sms_webhooks.EMPTY_TWIML,
)
