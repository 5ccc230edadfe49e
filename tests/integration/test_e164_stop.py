"""Issue 12's acceptance for phone numbers: an opt-in written as ``(555) 555-0100`` for a US tenant is stopped by a
Twilio STOP from ``+15555550100``, on every send path. The numbers are one consent record because both are kept
as E.164.

The SMS send paths: the candidate API's ``POST /communications/sms/v1/send`` (refused at accept time), an SMS it
accepted before the STOP and queued (refused by the dispatcher's send-time re-check, P1), and one held for quiet
hours whose schedule fires after the STOP (the same re-check). No other API sends SMS (the CRM sends email; the
ATS and ``/sms/v1/transactional/sms`` only read). Nothing may reach the provider's outbox (SNS here).
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import api_event, body, load_event, through_queue

SEND, DISPATCHER, INBOUND = "CandidateApi.SendSmsFunction", "root.DispatcherFunction", "CandidateApi.TwilioInboundFunction"
OPTIN_PUT, OPTIN_GET, OPTIN_HISTORY = (
    "CandidateApi.SmsOptinPutFunction",
    "CandidateApi.SmsOptinGetFunction",
    "CandidateApi.SmsOptinHistoryFunction",
)
HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
TOKEN = "auth-token-of-acme"
WRITTEN, TWILIO = "(555) 555-0100", "+15555550100"
ACCOUNT, REGION = "123456789012", "us-east-1"


def _configure_twilio(tenant_id: str) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    put_tenant_secret(f"parley/{tenant_id}", {"twilio_account_sid": "AC0123", "twilio_auth_token": TOKEN})
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")


def _signed_stop(tenant_id: str, sid: str = "SM00000000000000000000000000000099") -> dict:
    """Twilio's inbound webhook for a STOP from +15555550100, signed as Twilio signs it."""
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC0123", "From": TWILIO, "To": "+15555550999", "Body": "STOP",
              "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}  # fmt: skip
    event = copy.deepcopy(load_event("candidate/twilio_inbound"))
    event["rawQueryString"] = f"tenant={tenant_id}"
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-twilio-signature"] = RequestValidator(TOKEN).compute_signature(f"https://{HOST}/?tenant={tenant_id}", params)
    return event


def _send(handler, tenant_id: str, phone: str = WRITTEN, **authorizer):
    event = api_event("candidate/send_sms", tenant_id=tenant_id, body={"message": "See you at 10", "phoneNumber": phone},
                      headers={"x-ph-userid": "recruiter-1", "Idempotency-Key": None})  # fmt: skip
    event["requestContext"]["authorizer"].update(authorizer)
    return handler(SEND)(event)


def _optin(handler, tenant_id: str, phone: str = WRITTEN):
    event = api_event("candidate/sms_optin_put", tenant_id=tenant_id, body={"phoneNumber": phone, "optIn": True},
                      headers={"x-ph-userid": "recruiter-1"})  # fmt: skip
    return handler(OPTIN_PUT)(event)


def _sns_outbox() -> list:
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def _dispatch(handler, send_queue, drain) -> None:
    from parley_local.workers import _sqs_record

    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    assert records, "the send queue should hold the accepted SMS"
    assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}


def test_a_twilio_stop_from_e164_stops_an_opt_in_written_nationally_on_every_send_path(handler, tenant, send_queue, drain, frozen):
    from parley.dal import messages, schedules
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    t, _ = tenant  # default_country: US
    _configure_twilio(t.id)
    assert _optin(handler, t.id)["statusCode"] == 200

    # Accepted while opted in: one SMS queued now, one held for quiet hours (22:00 in New York).
    queued = _send(handler, t.id, "555.555.0100")
    assert queued["statusCode"] == 200, queued
    queued_sid = body(queued)["data"]["messageSID"]
    frozen(datetime(2030, 6, 19, 2, 0, tzinfo=UTC))
    held = _send(handler, t.id, quietHours="true", timezone="America/New_York")
    assert held["statusCode"] == 200, held
    held_sid = body(held)["data"]["messageSID"]
    assert messages.get(t.id, held_sid).status == MessageStatus.SCHEDULED

    # The candidate answers STOP; Twilio posts it from the E.164 number.
    assert through_queue(handler, INBOUND)(_signed_stop(t.id))["statusCode"] == 200

    # The consent record the opt-in wrote is the one the STOP changed, whichever way the number is written.
    for written in (WRITTEN, "5555550100", TWILIO, "+1 555 555 0100"):
        got = handler(OPTIN_GET)(api_event("candidate/sms_optin_get", tenant_id=t.id, query={"phoneNumber": written}))
        assert body(got)["status"] == "OPTED_OUT", (written, body(got))
    page = body(handler(OPTIN_HISTORY)(api_event("candidate/sms_optin_history", tenant_id=t.id, query={"phoneNumber": WRITTEN})))
    assert [(e["phoneNumber"], e["actionType"]) for e in page["details"]["content"]] == [(TWILIO, "OPT_OUT"), (TWILIO, "OPT_IN")]

    # 1. The candidate API refuses a new SMS, however the number is written; nothing is stored or queued.
    for written in (WRITTEN, "5555550100", TWILIO):
        refused = _send(handler, t.id, written)
        assert refused["statusCode"] == 400, refused
        assert body(refused) == {"status": 400, "message": f"phoneNumber {TWILIO} has opted out of SMS"}

    # 2. The SMS queued before the STOP: the dispatcher's send-time re-check refuses it.
    _dispatch(handler, send_queue, drain)
    msg = messages.get(t.id, queued_sid)
    assert msg.recipient == TWILIO
    assert msg.status == MessageStatus.FAILED and "no longer opted in" in msg.error

    # 3. The SMS held for quiet hours: its schedule fires at 08:00 and the dispatcher refuses it too.
    sched = client("scheduler").get_schedule(Name=schedules.schedule_name(held_sid), GroupName=get_settings().schedule_group)
    frozen(datetime(2030, 6, 19, 12, 0, tzinfo=UTC))
    client("sqs").send_message(QueueUrl=send_queue[1], MessageBody=sched["Target"]["Input"])
    _dispatch(handler, send_queue, drain)
    msg = messages.get(t.id, held_sid)
    assert msg.status == MessageStatus.FAILED and "no longer opted in" in msg.error

    assert _sns_outbox() == []  # nothing reached the provider


def test_start_from_twilio_opts_the_nationally_written_number_back_in(handler, tenant, send_queue, drain):
    t, _ = tenant
    _configure_twilio(t.id)
    assert _optin(handler, t.id)["statusCode"] == 200
    through_queue(handler, INBOUND)(_signed_stop(t.id))
    assert _send(handler, t.id)["statusCode"] == 400
    start = _signed_stop(t.id, sid="SM00000000000000000000000000000100")
    params = dict(p.split("=", 1) for p in base64.b64decode(start["body"]).decode().split("&"))
    params = {k: v.replace("%2B", "+") for k, v in params.items()} | {"Body": "START"}
    start["body"] = base64.b64encode(urlencode(params).encode()).decode()
    start["headers"]["x-twilio-signature"] = RequestValidator(TOKEN).compute_signature(f"https://{HOST}/?tenant={t.id}", params)
    assert through_queue(handler, INBOUND)(start)["statusCode"] == 200
    sent = _send(handler, t.id)
    assert sent["statusCode"] == 200, sent
    _dispatch(handler, send_queue, drain)
    assert [m[0] for m in _sns_outbox()] == [TWILIO]  # sent to the E.164 number


@pytest.mark.parametrize("written", ["555-0100", "(555) 555-01000000", "+999 555 0100", "+1 (555) 555-010"])
def test_an_impossible_number_is_a_400_in_the_candidate_shape(handler, tenant, written):
    t, _ = tenant
    out = _optin(handler, t.id, written)
    assert out["statusCode"] == 400, out
    assert body(out)["status"] == 400 and body(out)["message"].startswith("phoneNumber: ")
    out = _send(handler, t.id, written)
    assert out["statusCode"] == 400 and body(out)["message"].startswith("phoneNumber: "), out
