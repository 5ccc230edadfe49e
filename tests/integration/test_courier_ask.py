"""Alexa on moto (issue 20, docs/courier.md "Alexa (issue 20)"): the skill endpoint verifies Amazon's signature and
applies skill events to ask-subscriptions (stored state asserted); proactive events go through LWA and the Proactive
Events API of a fake Amazon; reminders are stored and synced to its Reminders API (``synced-to-alexa``)."""

from __future__ import annotations

import json
import uuid

import pytest
from alexa_kit import (
    ALEXA_USER,
    APP_ID,
    IND2_ID,
    IND_ID,
    ORG_ID,
    USER2_ID,
    USER_ID,
    envelope,
    raw,
    setup_tenant,
    user_token,
)

from helpers import api_event, body

FN = {
    name: f"CourierNotificationsApi.{fn}Function"
    for name, fn in {
        "handle_ask_entry": "HandleAskEntry", "list_ask_subscriptions": "ListAskSubscriptions",
        "get_ask_subscription": "GetAskSubscription", "send_ask_subscription": "SendAskSubscription",
        "list_ask_reminders": "ListAskReminders", "create_ask_reminder": "CreateAskReminder",
        "get_ask_reminder": "GetAskReminder", "update_ask_reminder": "UpdateAskReminder",
    }.items()
}  # fmt: skip
MESSAGE_ALERT = "AMAZON.MessageAlert.Activated"


@pytest.fixture(scope="module")
def fake():
    from parley_local.fake_alexa import FakeAlexa

    server = FakeAlexa().start()
    yield server
    server.stop()


@pytest.fixture
def alexa(fake, tenant, monkeypatch):
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    t = tenant[0]
    skill_id = setup_tenant(t.id, fake)
    fake.events.clear()
    fake.reminders.clear()
    return t, skill_id


def entry(handler, fake, tenant_id, env, *, headers=None, raw_body=None):
    data = raw_body if raw_body is not None else raw(env)
    signed = headers if headers is not None else fake.sign(data.encode())
    for name in ("SignatureCertChainUrl", "Signature-256"):
        signed.setdefault(name, None)
    ev = api_event("courier_notifications/handle_ask_entry", body=data, query={"tenant": tenant_id}, headers=signed)
    for name in ("SignatureCertChainUrl", "Signature-256"):
        if signed.get(name) is None:
            ev["headers"].pop(name, None)
    return handler(FN["handle_ask_entry"])(ev)


def call(handler, fn, tenant_id, *, user=USER_ID, body_=..., query=None, id_=None):
    headers = {"Content-Type": "application/vnd.api+json", "X-User-ID": user}
    if fn == "send_ask_subscription":
        headers["Content-Type"] = "application/json"
    ev = api_event(f"courier_notifications/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=headers)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].replace("11111111-1111-1111-1111-111111111111", id_)
    return handler(FN[fn])(ev)


def sub_id(skill_id: str, alexa_user: str = ALEXA_USER) -> str:
    return str(uuid.uuid5(uuid.UUID(skill_id), alexa_user))


def subscribe(handler, fake, t, events=(MESSAGE_ALERT,), **kw):
    out = entry(handler, fake, t.id, envelope("AlexaSkillEvent.ProactiveSubscriptionChanged",
                                               body={"subscriptions": [{"eventName": e} for e in events]}, **kw))  # fmt: skip
    assert out["statusCode"] == 200, out["body"]
    return out


# ───────────── ask-entries ─────────────
def test_a_signed_launch_request_is_answered_with_speech_and_recorded(handler, fake, alexa):
    from parley.dal import ask as store

    t, _ = alexa
    env = envelope("LaunchRequest")
    out = entry(handler, fake, t.id, env)
    assert out["statusCode"] == 200, out["body"]
    answer = json.loads(out["body"])
    assert answer["version"] == "1.0"
    assert answer["response"]["outputSpeech"]["type"] == "PlainText" and answer["response"]["shouldEndSession"] is True
    stored = store.request(t.id, APP_ID, env["request"]["requestId"])
    assert stored["request_type"] == "LaunchRequest" and stored["alexa_user_id"] == ALEXA_USER and stored["ttl"] > 0
    # a launch by a user with no subscription creates none
    assert store.subscription(t.id, sub_id(alexa[1])) is None


def test_skill_events_create_change_and_remove_a_subscription(handler, fake, alexa):
    from parley.dal import ask as store

    t, skill_id = alexa
    assert entry(handler, fake, t.id, envelope("AlexaSkillEvent.SkillEnabled"))["statusCode"] == 200
    item = store.subscription(t.id, sub_id(skill_id))
    assert item["registered_events"] == [] and item["organization_id"] == ORG_ID and item["skill_id"] == skill_id
    subscribe(handler, fake, t, events=(MESSAGE_ALERT, "AMAZON.Occasion.Updated"))
    item = store.subscription(t.id, sub_id(skill_id))
    assert item["registered_events"] == ["AMAZON.MessageAlert.Activated", "AMAZON.Occasion.Updated"]
    got = call(handler, "get_ask_subscription", t.id, id_=sub_id(skill_id), body_=None)
    assert got["statusCode"] == 200, got["body"]
    attrs = body(got)["data"]["attributes"]
    assert attrs["alexa-app-id"] == APP_ID and attrs["alexa-user-id"] == ALEXA_USER and attrs["skill-id"] == skill_id
    assert attrs["registered-events"] == ["AMAZON.MessageAlert.Activated", "AMAZON.Occasion.Updated"] and attrs["user-id"] is None
    # unsubscribing from every event (no body) removes it
    assert entry(handler, fake, t.id, envelope("AlexaSkillEvent.ProactiveSubscriptionChanged"))["statusCode"] == 200
    assert store.subscription(t.id, sub_id(skill_id)) is None
    subscribe(handler, fake, t)
    assert entry(handler, fake, t.id, envelope("AlexaSkillEvent.SkillDisabled"))["statusCode"] == 200
    assert store.subscription(t.id, sub_id(skill_id)) is None
    assert call(handler, "get_ask_subscription", t.id, id_=sub_id(skill_id), body_=None)["statusCode"] == 404


def test_an_older_event_delivered_late_changes_nothing(handler, fake, alexa):
    from alexa_kit import old

    from parley.dal import ask as store

    t, skill_id = alexa
    subscribe(handler, fake, t)
    late = envelope("AlexaSkillEvent.SkillDisabled", at=old(60))
    assert entry(handler, fake, t.id, late)["statusCode"] == 200
    assert store.subscription(t.id, sub_id(skill_id))["registered_events"] == [MESSAGE_ALERT]


def test_account_linking_with_a_parley_user_token_sets_user_id(handler, fake, alexa):
    from parley.dal import ask as store

    t, skill_id = alexa
    subscribe(handler, fake, t)
    linked = envelope("AlexaSkillEvent.SkillAccountLinked", body={"accessToken": user_token(USER_ID)})
    assert entry(handler, fake, t.id, linked)["statusCode"] == 200
    assert store.subscription(t.id, sub_id(skill_id))["user_id"] == USER_ID
    listed = call(handler, "list_ask_subscriptions", t.id, body_=None, query={"organization-id": ORG_ID, "filter[user-id]": USER_ID})
    assert listed["statusCode"] == 200, listed["body"]
    doc = body(listed)
    assert [r["id"] for r in doc["data"]] == [sub_id(skill_id)] and doc["meta"]["page[total]"] == 1
    none = call(handler, "list_ask_subscriptions", t.id, body_=None, query={"organization-id": ORG_ID, "filter[user-id]": USER2_ID})
    assert body(none)["data"] == []
    # a forged token (not signed with the tenant's secret) links nobody
    import jwt

    forged = jwt.encode({"iss": "https://login.alexa-tests.example/", "aud": "parley", "sub": USER2_ID, "exp": 9999999999}, "x" * 40)
    entry(handler, fake, t.id, envelope("AlexaSkillEvent.SkillAccountLinked", body={"accessToken": forged}))
    assert store.subscription(t.id, sub_id(skill_id))["user_id"] == USER_ID


def test_an_unknown_skill_or_no_tenant_is_a_400(handler, fake, alexa, other_tenant, table_items):
    t, _ = alexa
    before = table_items()
    out = entry(handler, fake, t.id, envelope("LaunchRequest", app_id="amzn1.ask.skill.00000000-0000-4000-8000-00000000ffff"))
    assert out["statusCode"] == 400 and body(out)["errors"][0]["code"] == "unknown-skill"
    out = entry(handler, fake, other_tenant[0].id, envelope("LaunchRequest"))  # the skill is not the other tenant's
    assert out["statusCode"] == 400 and body(out)["errors"][0]["code"] == "unknown-skill"
    out = entry(handler, fake, "", envelope("LaunchRequest"))
    assert out["statusCode"] == 400
    assert table_items() == before


def test_intents_get_an_answer(handler, fake, alexa):
    t, _ = alexa
    out = entry(handler, fake, t.id, envelope("IntentRequest", intent="AMAZON.StopIntent"))
    assert json.loads(out["body"])["response"]["outputSpeech"]["text"] == "Goodbye."
    out = entry(handler, fake, t.id, envelope("SessionEndedRequest"))
    assert json.loads(out["body"]) == {"version": "1.0", "response": {}}


# ───────────── ask-subscriptions ─────────────
def test_subscriptions_list_by_organization_with_filters_and_paging(handler, fake, alexa):
    t, skill_id = alexa
    subscribe(handler, fake, t)
    subscribe(handler, fake, t, user="amzn1.ask.account.SECOND")
    doc = body(call(handler, "list_ask_subscriptions", t.id, body_=None, query={"organization-id": ORG_ID}))
    assert {r["id"] for r in doc["data"]} == {sub_id(skill_id), sub_id(skill_id, "amzn1.ask.account.SECOND")}
    assert all(r["type"] == "ask-subscriptions" for r in doc["data"]) and doc["meta"]["page[total]"] == 2
    page = body(call(handler, "list_ask_subscriptions", t.id, body_=None, query={"organization-id": ORG_ID, "page[limit]": "1"}))
    assert len(page["data"]) == 1 and page["meta"]["page[total]"] == 2
    other = body(call(handler, "list_ask_subscriptions", t.id, body_=None,
                      query={"organization-id": ORG_ID, "filter[skill-id]": str(uuid.uuid4())}))  # fmt: skip
    assert other["data"] == []
    unknown = call(handler, "list_ask_subscriptions", t.id, body_=None, query={"organization-id": str(uuid.uuid4())})
    assert unknown["statusCode"] == 404


def test_send_pushes_a_proactive_event_with_lwa_credentials(handler, fake, alexa):
    t, skill_id = alexa
    subscribe(handler, fake, t)
    payload = {"state": {"status": "UNREAD", "freshness": "NEW"}, "messageGroup": {"creator": {"name": "Northside"}, "count": 1}}
    doc = {"event": {"name": MESSAGE_ALERT, "payload": payload}, "expire": 600, "localized": [{"locale": "en-US", "source": "Northside"}]}
    out = call(handler, "send_ask_subscription", t.id, id_=sub_id(skill_id), body_=doc)
    assert out["statusCode"] == 201, out["body"]
    assert json.loads(out["body"]) == {}
    (event,) = fake.events
    assert event["event"] == {"name": MESSAGE_ALERT, "payload": payload}
    assert event["relevantAudience"] == {"type": "Unicast", "payload": {"user": ALEXA_USER}}
    assert event["localizedAttributes"] == [{"locale": "en-US", "source": "Northside"}] and event["stage"] == "live"
    from datetime import datetime

    sent, expiry = (datetime.fromisoformat(event[k].replace("Z", "+00:00")) for k in ("timestamp", "expiryTime"))
    assert (expiry - sent).total_seconds() == 600
    token_calls = [r for r in fake.requests if r["path"] == "/auth/o2/token"]
    assert token_calls[-1]["body"]["scope"] == "alexa::proactive_events" and "client_secret" not in token_calls[-1]["body"]


def test_send_refusals(handler, fake, alexa, other_tenant):
    t, skill_id = alexa
    subscribe(handler, fake, t)
    sid = sub_id(skill_id)
    not_registered = call(handler, "send_ask_subscription", t.id, id_=sid, body_={"event": {"name": "AMAZON.Occasion.Updated"}})
    assert not_registered["statusCode"] == 409 and body(not_registered)["errors"][0]["code"] == "not-subscribed"
    no_event = call(handler, "send_ask_subscription", t.id, id_=sid, body_={"expire": 600})
    assert no_event["statusCode"] in (400, 422)
    foreign = call(handler, "send_ask_subscription", other_tenant[0].id, id_=sid, body_={"event": {"name": MESSAGE_ALERT}})
    assert foreign["statusCode"] == 404
    fake.fail_next(500)
    failed = call(handler, "send_ask_subscription", t.id, id_=sid, body_={"event": {"name": MESSAGE_ALERT}})
    assert failed["statusCode"] == 502 and body(failed)["errors"][0]["code"] == "alexa-failed"
    assert fake.events == []


# ───────────── ask-reminders ─────────────
def reminder_doc(**attrs):
    base = {"individual-id": IND_ID, "name": "Blood pressure", "reminder-content": "Time to take your blood pressure",
            "reminder-rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "reminder-time-local": "2026-12-08T09:00:00",
            "tz-info": "America/New_York"}  # fmt: skip
    return {"data": {"type": "ask-reminders", "attributes": {**base, **attrs}}}


def test_a_reminder_without_a_linked_account_is_kept_unsynced(handler, fake, alexa):
    from parley.dal import ask as store

    t, _ = alexa
    out = call(handler, "create_ask_reminder", t.id, body_=reminder_doc())
    assert out["statusCode"] == 201, out["body"]
    data = body(out)["data"]
    attrs = data["attributes"]
    assert attrs["synced-to-alexa"] is False and attrs["alexa-reminder-id"] is None and attrs["account-id"] is None
    assert (
        attrs["created-by"] == USER_ID and attrs["individual-id"] == IND_ID and attrs["reminder-rrule"] == "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"
    )
    stored = store.reminder(t.id, data["id"])
    assert stored["synced_to_alexa"] is False and "linked" in stored["sync_error"]
    assert fake.reminders == {}


def test_a_reminder_syncs_to_alexa_and_a_patch_updates_it(handler, fake, alexa):
    from parley.dal import ask as store

    t, skill_id = alexa
    subscribe(handler, fake, t, access_token=user_token(USER_ID))  # the Alexa user linked Pat's account
    out = call(handler, "create_ask_reminder", t.id, body_=reminder_doc())
    assert out["statusCode"] == 201, out["body"]
    rid, attrs = body(out)["data"]["id"], body(out)["data"]["attributes"]
    assert attrs["synced-to-alexa"] is True and attrs["account-id"] == sub_id(skill_id)
    alert = attrs["alexa-reminder-id"]
    sent = fake.reminders[alert]
    assert sent["trigger"] == {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": "2026-12-08T09:00:00", "timeZoneId": "America/New_York",
                               "recurrence": {"recurrenceRules": ["FREQ=DAILY;BYHOUR=9;BYMINUTE=0"]}}  # fmt: skip
    assert sent["alertInfo"]["spokenInfo"]["content"][0]["text"] == "Time to take your blood pressure"
    assert sent["relevantAudience"]["payload"]["user"] == ALEXA_USER
    patch = {"data": {"type": "ask-reminders", "id": rid, "attributes": {"reminder-rrule": "FREQ=WEEKLY;BYDAY=MO,TH", "name": "BP"}}}
    out = call(handler, "update_ask_reminder", t.id, id_=rid, body_=patch)
    assert out["statusCode"] == 200, out["body"]
    attrs = body(out)["data"]["attributes"]
    assert attrs["synced-to-alexa"] is True and attrs["alexa-reminder-id"] == alert and attrs["name"] == "BP"
    assert fake.reminders[alert]["trigger"]["recurrence"] == {"recurrenceRules": ["FREQ=WEEKLY;BYDAY=MO,TH"]}
    assert store.reminder(t.id, rid)["reminder_rrule"] == "FREQ=WEEKLY;BYDAY=MO,TH"
    # Amazon refusing the next sync: kept, synced-to-alexa false
    fake.fail_next(500)
    out = call(
        handler, "update_ask_reminder", t.id, id_=rid, body_={"data": {"type": "ask-reminders", "id": rid, "attributes": {"name": "B"}}}
    )
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["synced-to-alexa"] is False
    assert store.reminder(t.id, rid)["name"] == "B"
    got = call(handler, "get_ask_reminder", t.id, id_=rid, body_=None)
    assert got["statusCode"] == 200 and body(got)["data"]["attributes"]["synced-to-alexa"] is False


def test_reminders_list_get_and_isolation(handler, fake, alexa, other_tenant):
    t, _ = alexa
    ids = [body(call(handler, "create_ask_reminder", t.id, body_=reminder_doc(name=f"r{n}")))["data"]["id"] for n in range(3)]
    listed = call(handler, "list_ask_reminders", t.id, body_=None, query={"individual-id": IND_ID, "page[limit]": "2"})
    assert listed["statusCode"] == 200, listed["body"]
    doc = body(listed)
    assert len(doc["data"]) == 2 and {r["id"] for r in doc["data"]} < set(ids) and doc["meta"]["page[total]"] == 3
    rest = body(call(handler, "list_ask_reminders", t.id, body_=None, query={"individual-id": IND_ID, "page[offset]": "2"}))
    assert {r["id"] for r in doc["data"] + rest["data"]} == set(ids)
    # another user's individual: 403 to list, 404 to get
    assert call(handler, "list_ask_reminders", t.id, user=USER2_ID, body_=None, query={"individual-id": IND_ID})["statusCode"] == 403
    assert call(handler, "get_ask_reminder", t.id, user=USER2_ID, id_=ids[0], body_=None)["statusCode"] == 404
    assert call(handler, "get_ask_reminder", other_tenant[0].id, id_=ids[0], body_=None)["statusCode"] == 404
    own = call(handler, "list_ask_reminders", t.id, user=USER2_ID, body_=None, query={"individual-id": IND2_ID})
    assert body(own)["data"] == []


@pytest.mark.parametrize(
    ("attrs", "pointer"),
    [
        ({"tz-info": "Mars/Olympus"}, "/data/attributes/tz-info"),
        ({"reminder-rrule": "BYDAY=MO"}, "/data/attributes/reminder-rrule"),
        ({"reminder-rrule": "FREQ=SOMETIMES"}, "/data/attributes/reminder-rrule"),
        ({"reminder-rrule": "DTSTART:20260101\nRRULE:FREQ=DAILY"}, "/data/attributes/reminder-rrule"),
        ({"reminder-time-local": "2026-13-40T09:00:00"}, "/data/attributes/reminder-time-local"),
        ({"reminder-content": None}, "/data/attributes/reminder-content"),
    ],
)
def test_bad_reminders_are_422_and_not_stored(handler, fake, alexa, table_items, attrs, pointer):
    t, _ = alexa
    doc = reminder_doc(**attrs)
    doc["data"]["attributes"] = {k: v for k, v in doc["data"]["attributes"].items() if v is not None}
    before = [i for i in table_items() if i.get("type") == "ask_reminder"]
    out = call(handler, "create_ask_reminder", t.id, body_=doc)
    assert out["statusCode"] == 422, out["body"]
    assert body(out)["errors"][0]["source"]["pointer"] == pointer
    assert [i for i in table_items() if i.get("type") == "ask_reminder"] == before


def test_the_test_ca_is_trusted_only_with_a_loopback_fetch_url(fake, monkeypatch):
    """ALEXA_CERT_ROOTS alone (no loopback ALEXA_CERT_FETCH_URL) does not replace the public roots."""
    from datetime import UTC, datetime

    from parley.providers import alexa as provider

    now = datetime.now(UTC)
    monkeypatch.setenv("ALEXA_CERT_ROOTS", fake.roots_path)
    monkeypatch.delenv("ALEXA_CERT_FETCH_URL", raising=False)
    with pytest.raises(provider.InvalidRequest, match="not trusted"):
        provider.check_chain(fake.chains["echo-api-cert.pem"], now)
    monkeypatch.setenv("ALEXA_CERT_FETCH_URL", "http://evil.example:80")
    with pytest.raises(provider.InvalidRequest, match="loopback"):
        provider.check_chain(fake.chains["echo-api-cert.pem"], now)
    monkeypatch.setenv("ALEXA_CERT_FETCH_URL", fake.url)
    assert provider.check_chain(fake.chains["echo-api-cert.pem"], now).subject.rfc4514_string() == "CN=echo-api.amazon.com"


def test_the_purge_erases_reminders_and_unlinks_subscriptions(handler, fake, alexa):
    from parley.dal import ask as store
    from parley.domain import purge

    t, skill_id = alexa
    subscribe(handler, fake, t, access_token=user_token(USER_ID))
    rid = body(call(handler, "create_ask_reminder", t.id, body_=reminder_doc()))["data"]["id"]
    other = body(call(handler, "create_ask_reminder", t.id, user=USER2_ID, body_=reminder_doc(**{"individual-id": IND2_ID})))["data"]["id"]
    done = purge.purge_courier(purge.Subject(tenant_id=t.id, user_ids={USER_ID}, individual_ids={IND_ID}))
    assert done["ask_reminders"] == 1 and done["ask_subscriptions_unlinked"] == 1
    assert store.reminder(t.id, rid) is None and store.reminder(t.id, other) is not None
    sub = store.subscription(t.id, sub_id(skill_id))
    assert "user_id" not in sub and "GSI4PK" not in sub and sub["registered_events"] == [MESSAGE_ALERT]
    assert store.subscriptions_of_user(t.id, USER_ID) == []


def test_the_ask_skill_command_registers_a_skill_with_its_secret_from_stdin(aws, tenant, monkeypatch, capsys):
    import io

    from alexa_kit import setup_tenant as _setup

    from parley import admin
    from parley.dal import ask as store
    from parley.dal import secrets

    class Fake:
        def add_client(self):
            return "client-0", "unused"

    t = tenant[0]
    first = _setup(t.id, Fake(), with_tokens=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("the-lwa-secret\n"))
    argv = ["ask-skill", "--tenant-id", t.id, "--organization-id", ORG_ID, "--alexa-app-id", APP_ID, "--client-id", "client-1"]
    assert admin.main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["skillId"] == first and out["endpoint"].endswith(f"/v1/ask-entries/?tenant={t.id}")  # re-registering keeps the id
    skill = store.skill(t.id, APP_ID)
    assert secrets.named_secret(skill["secret_name"]) == {"client-id": "client-1", "client-secret": "the-lwa-secret"}
    monkeypatch.setattr("sys.stdin", io.StringIO("s\n"))
    assert admin.main([*argv[:-4], "--alexa-app-id", "not-a-skill", "--client-id", "c"]) == 1
