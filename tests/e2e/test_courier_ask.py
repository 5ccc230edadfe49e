"""Alexa (issue 20) over HTTP on the local stack: every ask route in the seed's shapes, with the stack's fake Amazon
(signing-certificate host with a test CA, Login with Amazon, Proactive Events, Reminders). The test acts as Alexa:
the stack signs envelopes with the fake's key (``/_local/alexa/sign``) and the test POSTs them to the skill endpoint.

- ask-entries: a launch answered with speech; skill events make, link and change a subscription; a forged signature,
  a wrong certificate host, a stale timestamp and a replay are 400s that change nothing;
- ask-subscriptions: list (organization-id, filter[user-id]), get, send → a Proactive Event at the fake;
- ask-reminders: create (synced through the linked account), list, get, PATCH (synced again); another user's 404."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import requests

from helpers import import_directory

MEDIA = "application/vnd.api+json"
T1 = "2026-11-01T09:00:00Z"
ALEXA_USER = "amzn1.ask.account.E2E" + uuid.uuid4().hex.upper()
SUB_ATTRS = {
    "alexa-app-id",
    "alexa-user-id",
    "created-at",
    "last-modified-at",
    "organization-id",
    "registered-events",
    "skill-id",
    "user-id",
}
REM_ATTRS = {"account-id", "alexa-reminder-id", "created-at", "created-by", "individual-id", "name", "reminder-content", "reminder-rrule",
             "reminder-time-local", "synced-to-alexa", "tz-info"}  # fmt: skip
ALERT = "AMAZON.MessageAlert.Activated"


def _envelope(app_id, kind, *, body=None, access_token=None, at=None):
    user = {"userId": ALEXA_USER, **({"accessToken": access_token} if access_token else {})}
    request = {"type": kind, "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}", "locale": "en-US",
               "timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    if body is not None:
        request["body"] = body
    return json.dumps(
        {"version": "1.0", "context": {"System": {"application": {"applicationId": app_id}, "user": user}}, "request": request}
    )


def test_alexa_over_http(local, emulator_env, tmp_path):
    from parley.dal import ask as store

    tenant, stranger = local.new_tenant("courier-ask"), local.new_tenant("courier-ask-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "ia", "ib")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i in (("ua", "ia"), ("ub", "ib")):
        lines.append({"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": u, "primary-individual-id": ids[i]}})
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"owner-id": ids[u], "first-name": u}})
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    api = local.api

    def h(user="ua", credential=key, media=MEDIA):
        return {"Authorization": f"Bearer {credential}", "Content-Type": media, "X-User-ID": ids[user]}

    skill = requests.post(f"{api}/_local/alexa/skill", json={"tenantId": tid, "organizationId": ids["org"]}, timeout=30)
    assert skill.status_code == 201, skill.text
    app_id, skill_id, endpoint = skill.json()["alexaAppId"], skill.json()["skillId"], skill.json()["endpoint"]
    assert endpoint == f"{api}/v1/ask-entries/?tenant={tid}"

    def as_alexa(data, *, chain="echo-api-cert.pem", url=None, tamper=False):
        signed = requests.post(f"{api}/_local/alexa/sign", json={"body": data, "chain": chain, "url": url}, timeout=30).json()
        sent = data.replace("en-US", "en-GB") if tamper else data
        return requests.post(endpoint, data=sent.encode(), headers=signed, timeout=30)

    # ── ask-entries: a launch, then skill events ──
    launch = as_alexa(_envelope(app_id, "LaunchRequest"))
    assert launch.status_code == 200, launch.text
    assert launch.json()["version"] == "1.0" and launch.json()["response"]["outputSpeech"]["type"] == "PlainText"
    token = requests.post(f"{api}/_local/user-token", json={"sub": ids["ua"], "tenantId": tid}, timeout=30).json()["token"]
    subscribed = _envelope(app_id, "AlexaSkillEvent.ProactiveSubscriptionChanged", body={"subscriptions": [{"eventName": ALERT}]},
                           access_token=token)  # fmt: skip
    assert as_alexa(subscribed).status_code == 200
    sid = str(uuid.uuid5(uuid.UUID(skill_id), ALEXA_USER))
    stored = store.subscription(tid, sid, consistent=True)
    assert stored["registered_events"] == [ALERT] and stored["user_id"] == ids["ua"]

    # ── the battery's cases over HTTP: 400 and nothing changes ──
    before = store.subscription(tid, sid, consistent=True)
    removal = _envelope(app_id, "AlexaSkillEvent.SkillDisabled")
    for refused in (
        as_alexa(removal, tamper=True),
        as_alexa(removal, url="https://s3.amazonaws.evil.com/echo.api/echo-api-cert.pem"),
        as_alexa(removal, chain="expired-cert.pem"),
        as_alexa(_envelope(app_id, "AlexaSkillEvent.SkillDisabled", at=datetime.now(UTC) - timedelta(seconds=200))),
        as_alexa(subscribed),  # a replay
    ):
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["status"] == 400
    assert store.subscription(tid, sid, consistent=True) == before

    # ── ask-subscriptions: list, get, send ──
    listed = requests.get(f"{api}/v1/ask-subscriptions/", params={"organization-id": ids["org"], "filter[user-id]": ids["ua"]},
                          headers=h(), timeout=30)  # fmt: skip
    assert listed.status_code == 200 and listed.headers["Content-Type"] == MEDIA, listed.text
    (row,) = listed.json()["data"]
    assert row["id"] == sid and row["type"] == "ask-subscriptions" and set(row["attributes"]) == SUB_ATTRS
    assert row["attributes"]["skill-id"] == skill_id and row["attributes"]["alexa-app-id"] == app_id
    assert listed.json()["meta"]["page[total]"] == 1
    got = requests.get(f"{api}/v1/ask-subscriptions/{sid}/", headers=h(), timeout=30)
    assert got.status_code == 200 and got.json()["data"] == row
    stranger_h = {"Authorization": f"Bearer {stranger['apiKey']}", "X-User-ID": ids["ua"]}
    assert requests.get(f"{api}/v1/ask-subscriptions/{sid}/", headers=stranger_h, timeout=30).status_code == 404
    event = {
        "event": {"name": ALERT, "payload": {"state": {"status": "UNREAD"}}},
        "localized": [{"locale": "en-US", "source": "Northside"}],
    }
    sent = requests.post(f"{api}/v1/ask-subscriptions/{sid}/send/", json=event, headers=h(media="application/json"), timeout=30)
    assert sent.status_code == 201 and sent.json() == {}, sent.text
    fake = requests.get(f"{api}/_local/alexa", timeout=30).json()
    mine = [e for e in fake["events"] if e["relevantAudience"]["payload"]["user"] == ALEXA_USER]
    assert len(mine) == 1 and mine[0]["event"]["name"] == ALERT and mine[0]["localizedAttributes"] == event["localized"]
    unsubscribed = requests.post(f"{api}/v1/ask-subscriptions/{sid}/send/", json={"event": {"name": "AMAZON.Occasion.Updated"}},
                                 headers=h(media="application/json"), timeout=30)  # fmt: skip
    assert unsubscribed.status_code == 409

    # ── ask-reminders: create, list, get, PATCH ──
    attrs = {"individual-id": ids["ia"], "name": "Blood pressure", "reminder-content": "Time to take your blood pressure",
             "reminder-rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "reminder-time-local": "2026-12-08T09:00:00",
             "tz-info": "America/New_York"}  # fmt: skip
    made = requests.post(f"{api}/v1/ask-reminders/", json={"data": {"type": "ask-reminders", "attributes": attrs}}, headers=h(), timeout=30)
    assert made.status_code == 201, made.text
    rem = made.json()["data"]
    assert set(rem["attributes"]) == REM_ATTRS and rem["attributes"]["synced-to-alexa"] is True
    assert rem["attributes"]["account-id"] == sid and rem["attributes"]["created-by"] == ids["ua"]
    alert = rem["attributes"]["alexa-reminder-id"]
    fake = requests.get(f"{api}/_local/alexa", timeout=30).json()
    assert fake["reminders"][alert]["trigger"]["recurrence"]["recurrenceRules"] == ["FREQ=DAILY;BYHOUR=9;BYMINUTE=0"]
    assert store.reminder(tid, rem["id"], consistent=True)["alexa_reminder_id"] == alert
    listed = requests.get(f"{api}/v1/ask-reminders/", params={"individual-id": ids["ia"]}, headers=h(), timeout=30)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["data"]] == [rem["id"]]
    got = requests.get(f"{api}/v1/ask-reminders/{rem['id']}/", headers=h(), timeout=30)
    assert got.status_code == 200 and got.json()["data"] == rem
    assert requests.get(f"{api}/v1/ask-reminders/{rem['id']}/", headers=h("ub"), timeout=30).status_code == 404
    patch = {"data": {"type": "ask-reminders", "id": rem["id"], "attributes": {"reminder-time-local": "2026-12-08T10:30:00"}}}
    changed = requests.patch(f"{api}/v1/ask-reminders/{rem['id']}/", json=patch, headers=h(), timeout=30)
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"]["reminder-time-local"] == "2026-12-08T10:30:00"
    assert changed.json()["data"]["attributes"]["synced-to-alexa"] is True
    fake = requests.get(f"{api}/_local/alexa", timeout=30).json()
    assert fake["reminders"][alert]["trigger"]["scheduledTime"] == "2026-12-08T10:30:00"
    bad_doc = {"data": {"type": "ask-reminders", "attributes": {**attrs, "tz-info": "Nowhere/X"}}}
    bad = requests.post(f"{api}/v1/ask-reminders/", json=bad_doc, headers=h(), timeout=30)
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["pointer"] == "/data/attributes/tz-info"
