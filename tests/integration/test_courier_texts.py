"""The courier texts, consents and receive logs on moto with the fake Twilio (helper E, issue 17): a text goes out
through the send pipeline from the account's number with the account's credentials; Twilio's status callback (signed
over the text's URL) moves the status forward only; a matching reply is delivered as one signed callback; consent
flows; STOP in the one consent store shared with the candidate API; receive logs; tenant isolation (404)."""

from __future__ import annotations

import json

import pytest
from texting import INBOUND, Receiver, deliver_callbacks, deliveries, dispatch_all, inbound, make_account, status_event

from helpers import api_event, body

TARGET = "+15555550123"
FN = {
    "create_text": "CourierTextingApi.CreateTextFunction",
    "list_texts": "CourierTextingApi.ListTextsFunction",
    "get_text": "CourierTextingApi.GetTextFunction",
    "text_status_callback": "CourierTextingApi.TextStatusCallbackFunction",
    "create_user_consent": "CourierTextingApi.CreateUserConsentFunction",
    "list_user_consents": "CourierTextingApi.ListUserConsentsFunction",
    "get_user_consent": "CourierTextingApi.GetUserConsentFunction",
    "get_text_receive_log": "CourierTextingApi.GetTextReceiveLogFunction",
}


@pytest.fixture
def receiver(monkeypatch):
    r = Receiver().start()
    monkeypatch.setenv("TEXT_CALLBACK_ALLOW", f"127.0.0.1:{r.port}")  # the local receiver only: every other private address refused
    from parley.settings import get_settings

    get_settings.cache_clear()
    yield r
    r.stop()
    get_settings.cache_clear()


@pytest.fixture
def acct(tenant, twilio):
    t, _ = tenant
    return make_account(t.id, twilio)


def call(handler, fn, tenant_id, *, body_=..., query=None, id_=None, user="user-1"):
    ev = api_event(f"courier_texting/{fn}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": user, "Content-Type": "application/vnd.api+json", "Idempotency-Key": None})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].rsplit("/", 2)[0] + f"/{id_}/" if ev["path"].endswith("/") else ev["path"].rsplit("/", 1)[0] + f"/{id_}"
    out = handler(FN[fn])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def send(handler, a, **attrs):
    doc = {
        "data": {"type": "texts", "attributes": {"account-id": a.account_id, "target": TARGET, "message": "Shift at 10? YES/NO", **attrs}}
    }
    status, out = call(handler, "create_text", a.tenant_id, body_=doc)
    assert status == 201, out
    return out["data"]


def stored_text(tenant_id, text_id):
    from parley.dal import texts

    return texts.get_text(tenant_id, text_id, consistent=True)


def test_a_text_goes_out_from_the_account_number_with_the_account_credentials(handler, acct, twilio):
    text = send(handler, acct, target="(555) 555-0123", **{"callback-json": {"shift": 7}})
    a = text["attributes"]
    assert (a["target"], a["from"], a["status"], a["account-id"], a["number-id"]) == (
        TARGET,
        acct.phone,
        "accepted",
        acct.account_id,
        acct.number_id,
    )
    assert a["callback-json"] == {"shift": 7} and a["twilio-sid"] is None
    item = stored_text(acct.tenant_id, text["id"])
    assert item["status_callback_url"].endswith(f"/v1/texts/{text['id']}/callback/?tenant={acct.tenant_id}")

    assert dispatch_all(handler) == 1
    (req,) = twilio.messages()
    assert req.account_sid == acct.sid  # the text-account's subaccount, with its own token
    assert req.form["From"] == acct.phone and req.form["To"] == TARGET and req.form["Body"] == "Shift at 10? YES/NO"
    assert req.form["StatusCallback"] == item["status_callback_url"]

    status, got = call(handler, "get_text", acct.tenant_id, id_=text["id"])
    assert status == 200 and got["data"]["attributes"]["status"] == "queued"
    assert got["data"]["attributes"]["twilio-sid"].startswith("SM")
    assert dispatch_all(handler) == 0  # exactly one provider send


def test_bad_input_is_a_4xx_naming_the_member_and_stores_nothing(handler, acct, table_items):
    before = len(table_items())
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": "not a phone", "message": "hi"}}}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 400 and out["errors"][0]["source"]["pointer"] == "/data/attributes/target"
    doc["data"]["attributes"] |= {"target": TARGET, "message": None}
    del doc["data"]["attributes"]["message"]
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/message"
    doc["data"]["attributes"] |= {"message": "hi", "callback-url": "ftp://example.com/x"}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 400 and out["errors"][0]["source"]["pointer"] == "/data/attributes/callback-url"
    doc["data"]["attributes"] |= {"callback-url": None, "number-id": "no-such-number"}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/number-id"
    assert len(table_items()) == before


def test_status_callback_moves_forward_only_and_is_relayed_signed(handler, acct, receiver):
    text = send(handler, acct, **{"callback-status-url": receiver.url, "callback-json": {"k": "v"}})
    dispatch_all(handler)
    sid = (
        stored_text(acct.tenant_id, text["id"]).get("twilio_sid")
        or call(handler, "get_text", acct.tenant_id, id_=text["id"])[1]["data"]["attributes"]["twilio-sid"]
    )
    url = stored_text(acct.tenant_id, text["id"])["status_callback_url"]

    def post(status, **kw):
        params = {"MessageSid": sid, "MessageStatus": status, "To": TARGET, "From": acct.phone, "AccountSid": acct.sid}
        return call_raw(handler, status_event(url, params, token=acct.token, tenant_id=acct.tenant_id, **kw))

    first = post("delivered")
    assert first["statusCode"] == 204, first
    assert post("sent")["statusCode"] == 204  # late, older: changes nothing
    got = call(handler, "get_text", acct.tenant_id, id_=text["id"])[1]["data"]["attributes"]
    assert got["status"] == "delivered" and got["twilio-sid"] == sid
    assert post("undelivered", signature="forged")["statusCode"] == 403
    assert call(handler, "get_text", acct.tenant_id, id_=text["id"])[1]["data"]["attributes"]["status"] == "delivered"

    assert deliver_callbacks(handler) == []
    (payload,) = receiver.payloads()  # one relay: the delivered change (the stale "sent" made none)
    assert payload["type"] == "text-status" and payload["status"] == "delivered" and payload["callback-json"] == {"k": "v"}


def call_raw(handler, event):
    return handler(FN["text_status_callback"])(event)


def test_a_matching_reply_is_one_signed_callback_with_callback_json(handler, acct, receiver):
    from parley.dal import text_callbacks as plumbing
    from parley.domain import text_callbacks

    text = send(handler, acct, **{"expected-responses": ["Yes", "NO"], "callback-url": receiver.url, "callback-json": {"shift": 7},
                                  "callback-one-off": True})  # fmt: skip
    dispatch_all(handler)
    event = inbound(acct, TARGET, "  y e s ", sid="SM" + "a" * 32)
    out = handler(INBOUND)(event)
    assert out["statusCode"] == 200 and "<Response>" in out["body"]
    assert handler(INBOUND)(event)["statusCode"] == 200  # Twilio's retry (same MessageSid): a replay, nothing more
    assert handler(INBOUND)(inbound(acct, TARGET, "NO"))["statusCode"] == 200  # one-off: the first reply only

    assert deliver_callbacks(handler) == []
    (req,) = receiver.requests
    payload = json.loads(req["body"])
    assert payload["callback-json"] == {"shift": 7} and payload["text-id"] == text["id"] and payload["matched-response"] == "YES"
    assert payload["from"] == TARGET and payload["to"] == acct.phone and payload["sid"] == "SM" + "a" * 32
    secret = plumbing.signing_secret(acct.tenant_id)
    assert text_callbacks.verify(secret, req["headers"]["Parley-Signature"], req["body"])
    assert not text_callbacks.verify(secret, req["headers"]["Parley-Signature"], req["body"] + b" ")
    assert not text_callbacks.verify("whsec_other", req["headers"]["Parley-Signature"], req["body"])
    (delivery,) = deliveries(acct.tenant_id, text["id"])
    assert delivery["state"] == "delivered" and delivery["attempts"] == 1

    from parley.dal import texts

    assert texts.get_log(acct.tenant_id, "SM" + "a" * 32)["outcome"] == f"reply:{text['id']}"
    status, log = call(handler, "get_text_receive_log", acct.tenant_id, id_="SM" + "a" * 32)
    assert status == 200 and log["data"]["attributes"] == {
        "created-at": log["data"]["attributes"]["created-at"], "message": "  y e s ", "sender": TARGET, "sid": "SM" + "a" * 32,
        "to": acct.phone,
    }  # fmt: skip


def test_a_reply_that_is_not_expected_goes_on_to_the_unknown_number_rule(handler, tenant, twilio):
    t, _ = tenant
    a = make_account(t.id, twilio, events={"unknown-number": {"action": "reply", "message": "This number is not monitored."}})
    send(handler, a, **{"expected-responses": ["YES"], "callback-url": "https://example.com/x"})
    dispatch_all(handler)
    handler(INBOUND)(inbound(a, TARGET, "what is this?", sid="SM" + "b" * 32))
    from parley.dal import texts

    assert texts.get_log(t.id, "SM" + "b" * 32)["outcome"] == "unknown-number:reply"
    dispatch_all(handler)
    assert [m.form["Body"] for m in twilio.messages()][-1] == "This number is not monitored."


def test_forged_inbound_changes_nothing(handler, acct, table_items):
    before = table_items()
    for event in (inbound(acct, TARGET, "STOP", token="wrong-token"), inbound(acct, TARGET, "STOP", signature="")):
        out = handler(INBOUND)(event)
        assert out["statusCode"] == 403
    assert table_items() == before


def test_stop_through_texting_blocks_the_candidate_api_and_texts(handler, acct):
    from parley.domain import sms
    from parley.domain.context import Caller, Sender
    from parley.errors import BadRequest

    handler(INBOUND)(inbound(acct, TARGET, "stop"))
    caller = Caller(tenant_id=acct.tenant_id, sender_email="x@example.com")
    with pytest.raises(BadRequest, match="opted out"):
        sms.send_candidate_sms(Sender(caller=caller, user_id="r1"), phone="(555) 555-0123", text="hello")
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": "(555) 555-0123", "message": "hi"}}}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 422 and out["errors"][0]["code"] == "opted-out"
    handler(INBOUND)(inbound(acct, TARGET, "START"))
    assert call(handler, "create_text", acct.tenant_id, body_=doc)[0] == 201


def test_one_consent_record_for_national_and_e164_forms(handler, acct):
    from parley.dal import optins as store
    from parley.domain import optins

    optins.update(acct.tenant_id, phone="(555) 555-0100", email=None, opt_in=False, reason="candidate API STOP", region="US")
    assert store.get_state(acct.tenant_id, "+15555550100")["opted_in"] is False
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": "+15555550100", "message": "hi"}}}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 422 and out["errors"][0]["code"] == "opted-out"


def test_consent_flow_initial_invalid_then_accepted(handler, acct, twilio):
    from parley.dal import optins

    args = {
        "account-id": acct.account_id,
        "messages": {"initial": "Reply YES for alerts", "accept": "Subscribed!", "invalid-response": "YES or NO?"},
    }
    doc = {"data": {"type": "user-consents", "attributes": {"type": "sms", "user-id": "user-9", "target-id": "(555) 555-0123",
                                                             "organization-id": "org-1", "args": args}}}  # fmt: skip
    status, out = call(handler, "create_user_consent", acct.tenant_id, body_=doc)
    assert status == 201, out
    consent = out["data"]
    assert consent["attributes"]["state"] == "pending" and consent["attributes"]["target-id"] == TARGET
    assert consent["attributes"]["args"]["messages"]["initial"] == "Reply YES for alerts"
    dispatch_all(handler)
    assert [m.form["Body"] for m in twilio.messages()] == ["Reply YES for alerts"]  # sent with no opt-in record yet

    handler(INBOUND)(inbound(acct, TARGET, "maybe"))
    assert call(handler, "get_user_consent", acct.tenant_id, id_=consent["id"])[1]["data"]["attributes"]["state"] == "invalid-response"
    handler(INBOUND)(inbound(acct, TARGET, "Yes"))
    got = call(handler, "get_user_consent", acct.tenant_id, id_=consent["id"])[1]["data"]["attributes"]
    assert got["state"] == "accepted"
    assert optins.get_state(acct.tenant_id, TARGET)["opted_in"] is True
    dispatch_all(handler)
    assert [m.form["Body"] for m in twilio.messages()] == ["Reply YES for alerts", "YES or NO?", "Subscribed!"]

    status, listed = call(handler, "list_user_consents", acct.tenant_id, query={"filter[user-id]": "user-9"})
    assert status == 200 and [c["id"] for c in listed["data"]] == [consent["id"]] and listed["meta"]["page[total]"] == 1
    assert call(handler, "list_user_consents", acct.tenant_id, query={"filter[organization-id]": "org-2"})[1]["data"] == []


def test_list_texts_by_account_number_and_target(handler, acct):
    first = send(handler, acct)
    second = send(handler, acct, target="+15555550124")
    status, out = call(handler, "list_texts", acct.tenant_id, query={"account-id": acct.account_id})
    assert status == 200 and [t["id"] for t in out["data"]] == [second["id"], first["id"]] and out["meta"]["page[total]"] == 2
    out = call(handler, "list_texts", acct.tenant_id, query={"account-id": acct.account_id, "filter[target]": "(555) 555-0124"})[1]
    assert [t["id"] for t in out["data"]] == [second["id"]]
    out = call(handler, "list_texts", acct.tenant_id, query={"account-id": acct.account_id, "filter[number-id]": "other"})[1]
    assert out["data"] == []
    status, out = call(handler, "list_texts", acct.tenant_id, query={"account-id": acct.account_id, "filter[target]": "nope"})
    assert status == 400 and out["errors"][0]["source"]["parameter"] == "filter[target]"


def test_tenant_isolation_foreign_ids_are_404(handler, acct, other_tenant):
    o, _ = other_tenant
    text = send(handler, acct)
    handler(INBOUND)(inbound(acct, TARGET, "hello", sid="SM" + "c" * 32))
    assert call(handler, "get_text", o.id, id_=text["id"])[0] == 404
    assert call(handler, "get_text_receive_log", o.id, id_="SM" + "c" * 32)[0] == 404
    assert call(handler, "list_texts", o.id, query={"account-id": acct.account_id})[1]["data"] == []
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": TARGET, "message": "hi"}}}
    assert call(handler, "create_text", o.id, body_=doc)[0] == 422  # another tenant's account is no account of this one


def test_purge_of_a_user_erases_their_texts_consents_and_receive_logs(handler, acct, monkeypatch, table_items):
    from parley.domain import directory, purge
    from parley.models.purge import PurgeRequest

    monkeypatch.setattr(purge, "queue", type("Q", (), {"enqueue_purge": staticmethod(lambda *a, **k: None)}))  # the data step only
    line = {"type": "users", "id": "user-purge", "attributes": {"username": "ada", "phone": "(555) 555-0123"},
            "last-sync-time": "2026-11-01T09:00:00Z"}  # fmt: skip
    assert directory.import_lines(acct.tenant_id, [json.dumps(line)]).invalid == []
    send(handler, acct, **{"callback-url": "https://example.com/hook"})
    handler(INBOUND)(inbound(acct, TARGET, "hello there", sid="SM" + "d" * 32))
    args = {"account-id": acct.account_id, "messages": {"initial": "Reply YES"}}
    doc = {"data": {"type": "user-consents", "attributes": {"user-id": "user-purge", "args": args}}}
    status, consent = call(handler, "create_user_consent", acct.tenant_id, body_=doc)
    assert status == 201 and consent["data"]["attributes"]["target-id"] == TARGET  # the directory user's phone, in E.164
    kinds = {"text", "text_open", "text_callback", "text_receive_log", "consent", "consent_open"}
    found = {i.get("type") for i in table_items() if TARGET in json.dumps(i, default=str)}
    assert found & kinds >= {"text", "text_open", "text_receive_log", "consent", "consent_open"}

    job = purge.submit(acct.tenant_id, PurgeRequest(entity_type="user", entity_id="user-purge", request_id="erase-ada"))
    done = purge.run(acct.tenant_id, job.request.request_id or "erase-ada", "data")
    assert done.counts["texts"] == 1 and done.counts["text_receive_logs"] == 1 and done.counts["user_consents"] == 1
    left = [i for i in table_items() if i.get("type") in kinds]
    assert left == [], left


def test_a_directory_users_phone_unsubscribed_is_a_stop_in_the_one_consent_store(handler, acct):
    from parley.dal import optins
    from parley.domain import directory

    def user(uid, sync, **attrs):
        return json.dumps({"type": "users", "id": uid, "attributes": {"username": uid, **attrs}, "last-sync-time": sync})

    lines = [user("u-out", "2026-11-01T09:00:00Z", phone="(555) 555-0123", **{"phone-unsubscribed": True}),
             user("u-in", "2026-11-01T09:00:00Z", phone="+15555550124", **{"phone-unsubscribed": False}),
             user("u-bad", "2026-11-01T09:00:00Z", phone="n/a", **{"phone-unsubscribed": True})]  # fmt: skip
    assert directory.import_lines(acct.tenant_id, lines).invalid == []
    assert optins.get_state(acct.tenant_id, TARGET)["opted_in"] is False
    assert optins.get_state(acct.tenant_id, "+15555550124") is None  # the directory never opts anyone in
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": TARGET, "message": "hi"}}}
    status, out = call(handler, "create_text", acct.tenant_id, body_=doc)
    assert status == 422 and out["errors"][0]["code"] == "opted-out"
    # a START lifts it; the same directory line imported again (not newer) does not put the STOP back
    handler(INBOUND)(inbound(acct, TARGET, "START"))
    assert directory.import_lines(acct.tenant_id, lines[:1]).invalid == []
    assert optins.get_state(acct.tenant_id, TARGET)["opted_in"] is True


def test_an_inbound_sms_is_in_the_number_logs_when_logging_is_on(handler, tenant, twilio):
    from parley.domain import text_numbers

    t, _ = tenant
    a = make_account(t.id, twilio, phone="+15555550111", logging=True)
    handler(INBOUND)(inbound(a, TARGET, "hello logs", sid="SM" + "e" * 32))
    items, total = text_numbers.log_page(t.id, a.number_id, offset=0, limit=10)
    assert total == 1
    line = json.loads(items[0][1].log)
    assert line["sid"] == "SM" + "e" * 32 and line["message"] == "hello logs" and line["sender"] == TARGET
    assert line["outcome"] == "unknown-number:ignored"


def test_an_idempotency_key_makes_one_text(handler, acct):
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": TARGET, "message": "once"}}}
    answers = []
    for _ in range(2):
        ev = api_event("courier_texting/create_text", tenant_id=acct.tenant_id, body=doc,
                       headers={"X-User-ID": "user-1", "Content-Type": "application/vnd.api+json", "Idempotency-Key": "k-1"})  # fmt: skip
        out = handler(FN["create_text"])(ev)
        assert out["statusCode"] == 201, out
        answers.append(body(out)["data"]["id"])
    assert answers[0] == answers[1]
    assert dispatch_all(handler) == 1


def test_quiet_hours_hold_a_text_until_the_morning(handler, acct, frozen):
    from datetime import UTC, datetime

    from parley.dal import messages, tenants
    from parley.domain.auth import configure_tenant
    from parley.domain.context import Caller

    configure_tenant(acct.tenant_id, quiet_hours=True, timezone="America/New_York")
    frozen(datetime(2026, 11, 3, 4, 0, tzinfo=UTC))  # 23:00 in New York
    doc = {"data": {"type": "texts", "attributes": {"account-id": acct.account_id, "target": TARGET, "message": "late"}}}
    ev = api_event("courier_texting/create_text", tenant_id=acct.tenant_id, body=doc,
                   headers={"X-User-ID": "user-1", "Content-Type": "application/vnd.api+json", "Idempotency-Key": None})  # fmt: skip
    ev["requestContext"]["authorizer"].update(Caller.of(tenants.get(acct.tenant_id)).authorizer_context())  # as the authorizer says
    out = handler(FN["create_text"])(ev)
    assert out["statusCode"] == 201, out
    text = body(out)["data"]
    assert text["attributes"]["status"] == "scheduled"
    msg = messages.get(acct.tenant_id, stored_text(acct.tenant_id, text["id"])["message_id"], load_body=False)
    assert msg.status.value == "SCHEDULED" and msg.scheduled_at.astimezone(UTC).hour == 13  # 08:00 in New York
    assert dispatch_all(handler) == 0
