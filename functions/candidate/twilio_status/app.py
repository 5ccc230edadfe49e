"""Twilio SMS status callback (Lambda Function URL): move our message's delivery state forward.

Configured as the message's StatusCallback, ``<function url>?tenant=<tenantId>``; authenticated by
``X-Twilio-Signature``. Verified and checked here, then queued and applied by ProviderEventsFunction
(``parley.domain.provider_events``). An unknown MessageSid is acknowledged (Twilio would otherwise retry it) and logged.
"""

from parley.api.twilio import twilio_webhook
from parley.domain import provider_events, sms_webhooks


def _check(form: sms_webhooks.Form) -> dict[str, str]:
    sid, status = sms_webhooks.check_status(form)
    return {"sid": sid, "status": status[:40]}


lambda_handler = twilio_webhook(provider_events.TWILIO_STATUS, _check, queued="Twilio status callback queued", status_code=204)
