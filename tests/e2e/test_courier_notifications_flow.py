"""Issue 16's end-to-end acceptance over HTTP on the local stack, through every part at once: push credentials and
devices (SNS mobile push, emulated by moto), badge counters, a CRM template, a multicast to one user
(`POST /v1/users/{id}/multicast/`), the fan-out worker, `notify()`, the send pipeline and the local outbox.

- Pat registered an iOS and an Android token and has SMS on and opted in: one APNs-shaped message and one FCM-shaped
  message reach Pat's two SNS platform endpoints, both carrying the badge = Pat's individual's total (the sum of its
  counters), and one SMS reaches Pat's phone — once, however long we wait.
- Sam has SMS off, Lee has SMS on but never opted in: no SMS for either; their notifications say why.
- The device logs and the notification's deliveries record every attempt; a second multicast is a second push, each
  device's log has both, and nothing is sent twice.
"""

from __future__ import annotations

import random
import time
import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
APN_DATA = {
    "signing-key": "-----BEGIN PRIVATE KEY-----\nflow\n-----END PRIVATE KEY-----",
    "signing-key-id": "KEYFLOW",
    "team-id": "TEAMFLOW",
}
FCM_DATA = {"server-key": "AAAA-flow-server-key"}


def _h(key, user=None, media="application/vnd.api+json"):
    return {"Authorization": f"Bearer {key}", "Content-Type": media, **({"X-User-ID": user} if user else {})}


def _phone():
    return f"+1555556{random.randint(0, 9999):04d}"


def test_a_multicast_pushes_to_ios_and_android_with_the_badge_and_texts_only_who_opted_in(local, tmp_path):
    tenant = local.new_tenant("notifications-flow")
    key, tid, api = tenant["apiKey"], tenant["tenantId"], local.api
    ids = {name: str(uuid.uuid4()) for name in ("org", "pat", "sam", "lee", "ind_pat", "ind_sam", "ind_lee")}
    phones = {name: _phone() for name in ("pat", "sam", "lee")}
    while len(set(phones.values())) < 3:
        phones = {name: _phone() for name in ("pat", "sam", "lee")}

    def user(name, notifications):
        attrs = {"username": name, "first-name": name.title(), "primary-individual-id": ids[f"ind_{name}"], "phone": phones[name],
                 "notifications": notifications, "sms-mode": "all"}  # fmt: skip
        return {"type": "users", "id": ids[name], "last-sync-time": T1, "attributes": attrs}

    def individual(name):
        attrs = {"first-name": name.title(), "owner-id": ids[name]}
        return {"type": "individuals", "id": ids[f"ind_{name}"], "last-sync-time": T1, "attributes": attrs}

    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}},
        user("pat", ["sms"]), user("sam", []), user("lee", ["sms"]),
        individual("pat"), individual("sam"), individual("lee"),
    ]  # fmt: skip
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    for name in ("pat", "sam"):  # Lee never opts in
        put = requests.put(api + "/communications/sms/v1/optIn", json={"phoneNumber": phones[name], "optIn": True},
                           headers={**_h(key, media="application/json"), "x-ph-userid": "nurse-1"}, timeout=30)  # fmt: skip
        assert put.status_code == 200, put.text

    # the organization's push credentials, Pat's two devices (the API key acting as Pat)
    for cred_type, data in (("apn", APN_DATA), ("fcm", FCM_DATA)):
        doc = {"data": {"type": "app-credentials", "attributes": {"app-name": "clinic", "type": cred_type, "store-id": "com.example.clinic",
                                                                  "data": data, "organization-id": ids["org"]}}}  # fmt: skip
        made = requests.post(f"{api}/v1/app-credentials/", json=doc, headers=_h(key), timeout=30)
        assert made.status_code == 201, made.text
    devices = {}
    for device_type, token in (("apn", uuid.uuid4().hex + uuid.uuid4().hex), ("fcm", f"fcm-{uuid.uuid4().hex}")):
        doc = {"data": {"type": "user-devices", "attributes": {"type": device_type, "token": token, "app-name": "clinic"}}}
        made = requests.post(f"{api}/v1/user-devices/", json=doc, headers=_h(key, ids["pat"]), timeout=30)
        assert made.status_code == 201, made.text
        assert made.json()["data"]["attributes"]["push-state"] == "enabled"
        devices[device_type] = made.json()["data"]["id"]

    # Pat's individual's badge counters: the APNs/FCM badge is their total
    for badge_type, count in (("appointment", 3), ("message", 2)):
        attrs = {"individual-id": ids["ind_pat"], "organization-id": ids["org"], "type": badge_type, "count": count,
                 "timestamp": "2026-11-02T08:00:00Z"}  # fmt: skip
        doc = {"data": {"type": "badge-counts", "attributes": attrs}}
        made = requests.post(f"{api}/v1/badge-counts/", json=doc, headers=_h(key, ids["pat"]), timeout=30)
        assert made.status_code == 201, made.text

    template = requests.post(api + "/api/v1/communications/templates", headers=_h(key, media="application/json"), timeout=30, json={
        "name": "Visit", "subject": "Visit reminder, {{recipient.first_name}}", "bodyHtml": "<p>See you at {{time}}</p>",
        "bodyText": "See you at {{time}}", "type": "REMINDER"})  # fmt: skip
    assert template.status_code == 201, template.text
    tpl = template.json()["id"]

    def multicast(name, time_):
        out = requests.post(f"{api}/v1/users/{ids[name]}/multicast/", headers=_h(key, media="application/json"), timeout=30,
                            json={"template-id": tpl, "data": {"time": time_}, "individual-id": ids[f"ind_{name}"]})  # fmt: skip
        assert out.status_code == 201, out.text
        return out.json()["task-id"]

    def pushes(device_id):
        return [p for p in local.outbox()["push"] if p["deviceId"] == device_id]

    def sms_to(phone):
        return [m for m in local.outbox()["sms"] if m["to"] == phone]

    multicast("pat", "10:00")
    assert local.wait_for(lambda: pushes(devices["apn"]) and pushes(devices["fcm"]) and sms_to(phones["pat"]), timeout=30, interval=0.3)
    (ios,) = pushes(devices["apn"])
    (android,) = pushes(devices["fcm"])
    assert ios["platform"] == "APNS"
    aps = ios["message"]["APNS"]["aps"]
    assert aps["badge"] == 5 and aps["alert"] == {"title": "Visit reminder, Pat", "body": "See you at 10:00"}
    fcm = android["message"]["GCM"]["fcmV1Message"]["message"]
    assert android["platform"] == "GCM" and fcm["android"]["notification"]["notification_count"] == 5
    assert fcm["notification"] == {"title": "Visit reminder, Pat", "body": "See you at 10:00"}
    (sms,) = sms_to(phones["pat"])
    assert sms["message"] == "See you at 10:00"

    # Sam (SMS off) and Lee (not opted in): the notification is made, no SMS goes out
    multicast("sam", "11:00")
    multicast("lee", "12:00")

    def notifications_of(name):
        got = requests.get(f"{api}/v1/user-notifications/", headers=_h(key, ids[name]), timeout=30)
        assert got.status_code == 200, got.text
        return got.json()["data"]

    def delivered(name):
        found = notifications_of(name)
        return found if found and "sms" in found[0]["attributes"]["deliveries"] else None

    for name in ("sam", "lee"):
        (note,) = local.wait_for(lambda name=name: delivered(name), timeout=30, interval=0.3)
        sms_delivery = note["attributes"]["deliveries"]["sms"]
        assert sms_delivery["outcome"] == "skipped" and sms_delivery["reason"], sms_delivery
    (pat_note,) = notifications_of("pat")
    deliveries = pat_note["attributes"]["deliveries"]
    assert deliveries["sms"]["outcome"] == "queued" and len(deliveries["sms"]["message-ids"]) == 1
    assert sorted((d["transport"], d["outcome"]) for d in deliveries["push"]["devices"]) == [("apn", "sent"), ("fcm", "sent")]

    # a second multicast to Pat: one more push per device, one more SMS; the device logs hold both, the badge too
    multicast("pat", "15:30")
    assert local.wait_for(lambda: len(pushes(devices["apn"])) == 2 and len(pushes(devices["fcm"])) == 2 and len(sms_to(phones["pat"])) == 2,
                          timeout=30, interval=0.3)  # fmt: skip
    time.sleep(2)  # the stack's pollers would have sent a duplicate by now
    assert len(pushes(devices["apn"])) == 2 and len(pushes(devices["fcm"])) == 2 and len(sms_to(phones["pat"])) == 2
    assert sms_to(phones["sam"]) == [] and sms_to(phones["lee"]) == []
    for device_id in devices.values():
        logs = requests.get(f"{api}/v1/user-devices/{device_id}/get-logs/", headers=_h(key, ids["pat"]), timeout=30)
        assert logs.status_code == 200, logs.text
        entries = logs.json()["data"]
        assert [e["attributes"]["body"] for e in entries] == ["See you at 15:30", "See you at 10:00"]  # newest first
        assert {e["attributes"]["outcome"] for e in entries} == {"sent"} and {e["attributes"]["badge-count"] for e in entries} == {5}
