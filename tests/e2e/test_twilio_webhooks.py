"""Twilio webhooks over HTTP against the local stack: signed inbound SMS, STOP, status callbacks, forgeries."""

from __future__ import annotations

import random
import secrets
import time
from datetime import timedelta

import requests
from twilio.request_validator import RequestValidator

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
OUR_NUMBER = "+15555550100"


def _twilio_tenant(local) -> tuple[dict[str, str], str]:
    from parley.dal.secrets import put_tenant_secret

    tenant = local.new_tenant("twilio e2e")
    token = secrets.token_hex(16)
    name = f"parley/{tenant['tenantId']}"
    put_tenant_secret(name, {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": token})
    out = requests.post(
        f"{local.api}/_local/tenant-settings", json={"tenantId": tenant["tenantId"], "settings": {"secret_name": name}}, timeout=10
    )
    assert out.status_code == 200, out.text
    return tenant, token


def _post(url: str, params: dict[str, str], token: str | None, signature: str | None = None) -> requests.Response:
    headers = {}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    elif token is not None:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
    return requests.post(url, data=params, headers=headers, timeout=30)


def _inbound(phone: str, text: str) -> dict[str, str]:
    sid = "SM" + secrets.token_hex(16)
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": OUR_NUMBER, "Body": text,
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}  # fmt: skip


def _sms(tenant_id: str, phone: str):
    from parley import clock
    from parley.dal import messages

    now = clock.now()
    page, _ = messages.history(
        tenant_id, channel="sms", start=now - timedelta(hours=1), end=now + timedelta(minutes=1), offset=0, limit=50, address=phone
    )
    return page


def test_signed_inbound_sms_is_stored_and_forgeries_are_refused(emulator_env):
    local = emulator_env
    tenant, token = _twilio_tenant(local)
    tid = tenant["tenantId"]
    phone = f"+1555{random.randrange(10**6, 10**7)}"
    url = f"{local.api}/_url/TwilioInboundFunction/?tenant={tid}"

    forged = _post(url, _inbound(phone, "STOP"), None, signature="ksKQrMkt8SCZ1pRzNunCoSdLxWE=")
    absent = _post(url, _inbound(phone, "STOP"), None)
    wrong_key = _post(url, _inbound(phone, "STOP"), "not-the-token")
    other_url = _post(url, _inbound(phone, "STOP"), None, signature=RequestValidator(token).compute_signature(url + "x", {}))
    for out in (forged, absent, wrong_key, other_url):
        assert out.status_code == 403, out.text
        assert out.json() == {"status": 403, "message": "invalid Twilio signature"}
    assert _sms(tid, phone) == []

    params = _inbound(phone, "Is the role still open?")
    out = _post(url, params, token)
    assert out.status_code == 200, out.text
    assert out.text == TWIML and out.headers["Content-Type"].startswith("text/xml")
    assert local.wait_for(lambda: _sms(tid, phone), timeout=20)  # stored asynchronously (provider events queue)
    again = _post(url, params, token)  # Twilio retries: the same MessageSid
    assert again.status_code == 200
    time.sleep(2)  # give the retry every chance to be applied
    (msg,) = _sms(tid, phone)
    assert (msg.direction, msg.status.value, msg.sender, msg.recipient, msg.body) == (
        "inbound",
        "RECEIVED",
        phone,
        OUR_NUMBER,
        params["Body"],
    )
    assert msg.provider_message_id == params["MessageSid"] and msg.candidate_id

    bad = requests.post(url, data=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["status"] == 400
    missing = _post(url, {k: v for k, v in _inbound(phone, "hi").items() if k != "MessageSid"}, token)
    assert missing.status_code == 400 and "MessageSid" in missing.json()["message"]
    assert len(_sms(tid, phone)) == 1


def test_stop_opts_the_number_out_with_the_message_in_its_history(emulator_env):
    local = emulator_env
    tenant, token = _twilio_tenant(local)
    tid = tenant["tenantId"]
    phone = f"+1555{random.randrange(10**6, 10**7)}"
    url = f"{local.api}/_url/TwilioInboundFunction/?tenant={tid}"
    auth = {"Authorization": f"Bearer {tenant['apiKey']}", "x-ph-userid": "recruiter-5"}
    optin = f"{local.api}/communications/sms/v1/optIn"

    def state(expected: str) -> bool:
        return requests.get(optin, params={"phoneNumber": phone}, headers=auth, timeout=30).json()["status"] == expected

    # STOP/START take effect asynchronously (provider events queue), within seconds
    assert _post(url, _inbound(phone, "START"), token).status_code == 200
    assert local.wait_for(lambda: state("OPTED_IN"), timeout=20)
    assert _post(url, _inbound(phone, " stop "), token).status_code == 200
    assert local.wait_for(lambda: state("OPTED_OUT"), timeout=20)

    stop = next(m for m in _sms(tid, phone) if m.body == " stop ")
    hist = requests.get(optin + "/history", params={"phoneNumber": phone, "communicationId": stop.id}, headers=auth, timeout=30)
    assert hist.status_code == 200, hist.text
    content = hist.json()["details"]["content"]
    assert [(c["actionType"], c["reason"], c["phoneNumber"]) for c in content] == [("OPT_OUT", "keyword STOP", phone)]
    full = requests.get(optin + "/history", params={"phoneNumber": phone}, headers=auth, timeout=30).json()["details"]["content"]
    assert [c["reason"] for c in full] == ["keyword STOP", "keyword START"]


def test_status_callbacks_move_delivery_forward_only(emulator_env):
    from parley import clock
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import ActivityEvent, Message, MessageStatus

    local = emulator_env
    tenant, token = _twilio_tenant(local)
    tid = tenant["tenantId"]
    sid = "SM" + secrets.token_hex(16)
    mid = new_id()
    phone = f"+1555{random.randrange(10**6, 10**7)}"
    msg = Message(tenant_id=tid, id=mid, channel="sms", direction="outbound", status=MessageStatus.SENDING, source_api="candidate",
                  sender=OUR_NUMBER, recipient=phone, body="Hello", conversation_id=mid, provider="twilio",
                  created_at=clock.now())  # fmt: skip
    messages.create(msg)
    sent = ActivityEvent(message_id=mid, event_id=new_id(), event="sent", created_ms=clock.epoch_ms(clock.now()) - 1000)
    assert messages.mark_sent(msg, provider="twilio", provider_message_id=sid, sent_at=clock.now(), event=sent)

    url = f"{local.api}/_url/TwilioStatusFunction/?tenant={tid}"

    def callback(status: str, **extra: str) -> requests.Response:
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "To": phone, "From": OUR_NUMBER, **extra}
        return _post(url, params, token)

    assert callback("delivered").status_code == 204
    assert local.wait_for(lambda: messages.get(tid, mid).delivery_status == "DELIVERED", timeout=20)  # applied asynchronously
    assert callback("sent").status_code == 204  # late: ignored
    assert callback("failed", ErrorCode="30003").status_code == 204  # after a final state: ignored
    time.sleep(2)  # give the ignored callbacks every chance to be applied
    current, events = messages.get_with_events(tid, mid)
    assert current.delivery_status == "DELIVERED"
    assert [e.event for e in events] == ["sent", "delivered"]

    unknown = _post(url, {"MessageSid": "SM" + secrets.token_hex(16), "MessageStatus": "delivered"}, token)
    assert unknown.status_code == 204
    forged = _post(url, {"MessageSid": sid, "MessageStatus": "read"}, "not-the-token")
    assert forged.status_code == 403
    time.sleep(1)
    assert messages.get(tid, mid).delivery_status == "DELIVERED"
