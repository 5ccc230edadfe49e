"""The push transport over HTTP on the local stack (issue 16, docs/courier.md "Push credentials and devices"): every
route of app-credentials and user-devices (list, create, get, PATCH; list, create, get-logs, DELETE) in the seed's
shapes under the API key and a user bearer token; an iOS and an Android token registered, a notification delivered
(``parley.domain.push.deliver``, as the notifications pipeline calls it) puts one APNs-shaped and one FCM-shaped
message with the badge on the two SNS platform endpoints, readable from the local outbox; a web push reaches the
local fake push service encrypted for the subscription; another tenant's ids are 404s."""

from __future__ import annotations

import base64
import json
import os
import uuid
from urllib.parse import urlsplit

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
APN_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\ne2e\n-----END PRIVATE KEY-----", "signing-key-id": "KEYE2E", "team-id": "TEAME2E"}
FCM_DATA = {"server-key": "AAAA-e2e-server-key"}
CRED_KEYS = {"app-name", "archived", "created-at", "data", "display-name", "last-modified-at", "organization-id", "store-id", "test-mode",
             "type"}  # fmt: skip
DEVICE_KEYS = {"allow-notification", "app-name", "app-version", "created-at", "individual-id", "last-modified-at", "model", "os-version",
               "sandbox", "token", "topic", "type", "push-state", "push-state-reason"}  # fmt: skip
LOG_KEYS = {"badge-count", "body", "category", "created-at", "data", "title", "notification-id", "transport", "outcome", "reason"}


def _world():
    ids = {t: str(uuid.uuid4()) for t in ("org", "user", "user2", "individual", "individual2")}
    org = {"name": "northside", "display-name": "Northside Clinic"}
    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": org},
        {"type": "users", "id": ids["user"], "attributes": {"username": "pat", "primary-individual-id": ids["individual"],
                                                            "last-sync-time": T1}},
        {"type": "users", "id": ids["user2"], "attributes": {"username": "sam", "primary-individual-id": ids["individual2"],
                                                             "last-sync-time": T1}},
        {"type": "individuals", "id": ids["individual"], "last-sync-time": T1,
         "attributes": {"first-name": "Pat", "owner-id": ids["user"]}},
        {"type": "individuals", "id": ids["individual2"], "last-sync-time": T1,
         "attributes": {"first-name": "Sam", "owner-id": ids["user2"]}},
    ]  # fmt: skip
    return ids, lines


def _h(credential, user=None):
    return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", **({"X-User-ID": user} if user else {})}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_push_credentials_and_devices_over_http(local, emulator_env, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from parley.dal import push as store
    from parley.domain import push
    from parley.models.notifications import NotificationData

    tenant, stranger = local.new_tenant("courier-push"), local.new_tenant("courier-push-stranger")
    key, tid, other_key = tenant["apiKey"], tenant["tenantId"], stranger["apiKey"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    api, user = local.api, ids["user"]

    # ── app-credentials: create (201, data {}), get, list, PATCH (rotation, archive) ──
    def create_cred(attributes):
        doc = {"data": {"type": "app-credentials", "attributes": attributes}}
        out = requests.post(f"{api}/v1/app-credentials/", json=doc, headers=_h(key), timeout=30)
        assert out.status_code == 201, out.text
        assert out.headers["Content-Type"].startswith("application/vnd.api+json")
        data = out.json()["data"]
        assert data["type"] == "app-credentials" and set(data["attributes"]) == CRED_KEYS and data["attributes"]["data"] == {}
        return data

    apn = create_cred(
        {"app-name": "clinic", "type": "apn", "store-id": "com.example.clinic", "data": APN_DATA, "organization-id": ids["org"]}
    )
    fcm = create_cred({"app-name": "clinic", "type": "fcm", "data": FCM_DATA})
    got = requests.get(f"{api}/v1/app-credentials/{apn['id']}/", headers=_h(key), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["data"] == {}
    assert got.json()["data"]["attributes"]["organization-id"] == ids["org"]
    listed = requests.get(f"{api}/v1/app-credentials/", params={"filter[type]": "fcm"}, headers=_h(key), timeout=30).json()
    assert [c["id"] for c in listed["data"]] == [fcm["id"]] and listed["meta"]["page[total]"] == 1
    rotated = dict(APN_DATA, **{"signing-key-id": "KEYE2E2"})
    doc = {"data": {"type": "app-credentials", "id": apn["id"], "attributes": {"data": rotated, "display-name": "Clinic iOS"}}}
    out = requests.patch(f"{api}/v1/app-credentials/{apn['id']}/", json=doc, headers=_h(key), timeout=30)
    assert out.status_code == 200 and out.json()["data"]["attributes"] == {**out.json()["data"]["attributes"], "display-name": "Clinic iOS",
                                                                           "data": {}}  # fmt: skip
    stored = store.get_credential(tid, apn["id"])
    assert stored["secret_version"] == 2 and "data" not in stored
    minted = requests.post(f"{api}/_local/user-token", json={"sub": user, "tenantId": tid}, timeout=30).json()["token"]
    assert requests.get(f"{api}/v1/app-credentials/", headers=_h(minted), timeout=30).status_code == 403  # the API key's only

    # ── user-devices: an iOS and an Android token (the API key with X-User-ID; a user token) ──
    ios_token, android_token = uuid.uuid4().hex * 2, f"fcm-{uuid.uuid4().hex}:APA91b"
    doc = {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": ios_token, "app-name": "clinic", "model": "iPhone15,2"}}}
    out = requests.post(f"{api}/v1/user-devices/", json=doc, headers=_h(key, user), timeout=30)
    assert out.status_code == 201, out.text
    ios = out.json()["data"]
    assert ios["type"] == "user-devices" and set(ios["attributes"]) == DEVICE_KEYS and ios["attributes"]["push-state"] == "enabled"
    assert ios["attributes"]["individual-id"] == ids["individual"]
    doc = {"data": {"type": "user-devices", "attributes": {"type": "fcm", "token": android_token, "app-name": "clinic"}}}
    out = requests.post(f"{api}/v1/user-devices/", json=doc, headers=_h(minted), timeout=30)
    assert out.status_code == 201, out.text
    android = out.json()["data"]
    again = requests.post(f"{api}/v1/user-devices/", json=doc, headers=_h(minted), timeout=30)
    assert again.status_code == 201 and again.json()["data"]["id"] == android["id"]  # idempotent
    listed = requests.get(f"{api}/v1/user-devices/", headers=_h(minted), timeout=30).json()
    assert sorted(d["id"] for d in listed["data"]) == sorted([ios["id"], android["id"]]) and listed["meta"]["page[total]"] == 2
    listed = requests.get(f"{api}/v1/user-devices/", params={"filter[type]": "apn"}, headers=_h(key, user), timeout=30).json()
    assert [d["id"] for d in listed["data"]] == [ios["id"]]
    everyone = requests.get(f"{api}/v1/user-devices/", params={"all-users": "true"}, headers=_h(key), timeout=30)
    assert everyone.status_code == 200 and len(everyone.json()["data"]) == 2

    # ── a notification: one APNs-shaped and one FCM-shaped message with the badge on the two endpoints ──
    note = {"title": "Appointment", "body": "Tomorrow at 10:00", "category": "appointment", "data": {"appointment-id": "a1"}}
    attempts = push.deliver(tid, user, "e2e-n-1", NotificationData.model_validate({"apn": note, "fcm": note}), badge=7, collapse_id="a1")
    assert sorted((a.transport, a.outcome) for a in attempts) == [("apn", "sent"), ("fcm", "sent")]
    outbox = local.outbox()["push"]
    mine = {p["deviceId"]: p for p in outbox if p["deviceId"] in (ios["id"], android["id"])}
    assert set(mine) == {ios["id"], android["id"]}
    assert mine[ios["id"]]["platform"] == "APNS" and mine[ios["id"]]["message"]["APNS"]["aps"]["badge"] == 7
    assert mine[ios["id"]]["message"]["APNS"]["aps"]["alert"] == {"title": "Appointment", "body": "Tomorrow at 10:00"}
    fcm_message = mine[android["id"]]["message"]["GCM"]["fcmV1Message"]["message"]
    assert mine[android["id"]]["platform"] == "GCM" and fcm_message["android"]["notification"]["notification_count"] == 7
    assert fcm_message["notification"]["title"] == "Appointment"
    # redelivered: nothing new on the endpoints
    push.deliver(tid, user, "e2e-n-1", NotificationData.model_validate({"apn": note, "fcm": note}), badge=7, collapse_id="a1")
    assert len([p for p in local.outbox()["push"] if p["deviceId"] in mine]) == 2

    # ── get-logs ──
    out = requests.get(f"{api}/v1/user-devices/{ios['id']}/get-logs/", headers=_h(minted), timeout=30)
    assert out.status_code == 200, out.text
    (log,) = out.json()["data"]
    assert log["type"] == "user-device-logs" and set(log["attributes"]) == LOG_KEYS
    assert log["attributes"]["badge-count"] == 7 and log["attributes"]["outcome"] == "sent" and log["attributes"]["title"] == "Appointment"
    assert out.json()["meta"]["page[total]"] == 1

    # ── a disabled endpoint (FCM said the token is dead) stops receiving; the device and its log say why ──
    from parley.dal.aws import client

    client("sns").set_endpoint_attributes(EndpointArn=store.get_device(tid, android["id"])["endpoint_arn"], Attributes={"Enabled": "false"})
    before = len([p for p in local.outbox()["push"] if p["deviceId"] == android["id"]])
    note2 = NotificationData.model_validate({"fcm": note})
    assert [a.outcome for a in push.deliver(tid, user, "e2e-n-3", note2, badge=1, collapse_id="n3") if a.transport == "fcm"] == ["disabled"]
    assert len([p for p in local.outbox()["push"] if p["deviceId"] == android["id"]]) == before
    listed = requests.get(f"{api}/v1/user-devices/", params={"filter[type]": "fcm"}, headers=_h(minted), timeout=30).json()["data"]
    assert listed[0]["attributes"]["push-state"] == "disabled" and "disabled" in listed[0]["attributes"]["push-state-reason"]
    logs = requests.get(f"{api}/v1/user-devices/{android['id']}/get-logs/", headers=_h(minted), timeout=30).json()["data"]
    assert logs[0]["attributes"]["outcome"] == "disabled" and logs[0]["attributes"]["notification-id"] == "e2e-n-3"

    # ── web push through the local fake push service ──
    monkeypatch.setenv("PARLEY_WEB_PUSH_HTTP_HOSTS", urlsplit(api).netloc)
    receiver = ec.generate_private_key(ec.SECP256R1())
    p256dh = receiver.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    auth, vapid = os.urandom(16), ec.generate_private_key(ec.SECP256R1())
    vapid_key = _b64(vapid.private_numbers().private_value.to_bytes(32, "big"))
    create_cred({"app-name": "clinic-web", "type": "web", "data": {"vapid-private-key": vapid_key, "subject": "mailto:ops@example.com"}})
    sub_id = uuid.uuid4().hex
    subscription = {"endpoint": f"{api}/_local/webpush/{sub_id}", "keys": {"p256dh": _b64(p256dh), "auth": _b64(auth)}}
    doc = {"data": {"type": "user-devices", "attributes": {"type": "web", "token": json.dumps(subscription), "app-name": "clinic-web"}}}
    out = requests.post(f"{api}/v1/user-devices/", json=doc, headers=_h(key, user), timeout=30)
    assert out.status_code == 201 and out.json()["data"]["attributes"]["push-state"] == "enabled", out.text
    web = out.json()["data"]
    attempts = push.deliver(
        tid, user, "e2e-n-2", NotificationData.model_validate({"web": {"title": "Web hello"}}), badge=2, collapse_id="w"
    )
    assert [(a.transport, a.outcome) for a in attempts if a.device_id == web["id"]] == [("web", "sent")]
    import http_ece

    (received,) = [w for w in local.outbox()["webPush"] if w["subscription"] == sub_id]
    assert received["status"] == 201 and received["headers"]["content-encoding"] == "aes128gcm"
    assert received["headers"]["authorization"].startswith("vapid ")
    clear = http_ece.decrypt(base64.b64decode(received["body"]), private_key=receiver, auth_secret=auth, version="aes128gcm")
    assert json.loads(clear) == {"title": "Web hello", "badge": 2, "notification-id": "e2e-n-2"}

    # ── another tenant's ids: 404 (JSON:API error objects) ──
    for method, path in (("GET", f"/v1/app-credentials/{apn['id']}/"), ("GET", f"/v1/user-devices/{ios['id']}/get-logs/"),
                         ("DELETE", f"/v1/user-devices/{ios['id']}/")):  # fmt: skip
        out = requests.request(method, api + path, headers=_h(other_key, user), timeout=30)
        assert out.status_code == 404 and out.json()["errors"][0]["status"] == 404, (path, out.text)
    doc = {"data": {"type": "app-credentials", "id": apn["id"], "attributes": {"archived": True}}}
    assert requests.patch(f"{api}/v1/app-credentials/{apn['id']}/", json=doc, headers=_h(other_key), timeout=30).status_code == 404
    assert store.get_credential(tid, apn["id"])["archived"] is False

    # ── DELETE (ours): unregistered, the endpoint gone from the emulator ──
    arn = store.get_device(tid, ios["id"])["endpoint_arn"]
    out = requests.delete(f"{api}/v1/user-devices/{ios['id']}/", headers=_h(minted), timeout=30)
    assert out.status_code == 204 and out.content == b""
    assert store.get_device(tid, ios["id"]) is None
    from parley.providers import sns_push

    assert sns_push.endpoint_attributes(arn) is None
    assert requests.get(f"{api}/v1/user-devices/{ios['id']}/get-logs/", headers=_h(minted), timeout=30).status_code == 404
