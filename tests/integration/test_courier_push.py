"""The push transport on moto (issue 16, docs/courier.md "Push credentials and devices"): app-credentials become SNS
platform applications with their secret in Secrets Manager (never answered) and rotate; device tokens become platform
endpoints (idempotent, moving between users); ``push.deliver`` publishes the APNs and FCM JSON with the badge, logs
every attempt, never pushes twice, stops at a disabled endpoint, and uses a rotated credential; web push goes through
pywebpush to a push service (a local HTTP server here) encrypted for the subscription and signed with VAPID."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import api_event, body

ORG_ID = "6a1b2c3d-0000-4000-8000-000000000001"
USER_ID = "6a1b2c3d-0000-4000-8000-000000000002"
USER2_ID = "6a1b2c3d-0000-4000-8000-000000000003"
IND_ID = "6a1b2c3d-0000-4000-8000-000000000004"
IND2_ID = "6a1b2c3d-0000-4000-8000-000000000005"
T1 = "2026-11-01T09:00:00Z"
APN_TOKEN = "a" * 64
APN_TOKEN2 = "b" * 64
FCM_TOKEN = "fcm-token-0123456789:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"
APN_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\nkey-one\n-----END PRIVATE KEY-----", "signing-key-id": "KEY1", "team-id": "TEAM1"}
APN_DATA2 = {"signing-key": "-----BEGIN PRIVATE KEY-----\nkey-two\n-----END PRIVATE KEY-----", "signing-key-id": "KEY2", "team-id": "TEAM1"}
FCM_DATA = {"service-account": {"type": "service_account", "project_id": "clinic", "private_key": "pk"}}
FN = {
    name: f"CourierNotificationsApi.{fn}Function"
    for name, fn in {
        "list_app_credentials": "ListAppCredentials", "create_app_credential": "CreateAppCredential",
        "get_app_credential": "GetAppCredential", "update_app_credential": "UpdateAppCredential",
        "list_user_devices": "ListUserDevices", "create_user_device": "CreateUserDevice",
        "get_user_device_logs": "GetUserDeviceLogs", "delete_user_device": "DeleteUserDevice",
    }.items()
}  # fmt: skip


@pytest.fixture
def pat(tenant):
    from parley.domain import directory as d

    t, _ = tenant

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        t.id,
        [
            line("organizations", ORG_ID, {"name": "northside"}),
            line("users", USER_ID, {"username": "pat", "primary-individual-id": IND_ID}),
            line("users", USER2_ID, {"username": "sam", "primary-individual-id": IND2_ID}),
            line("individuals", IND_ID, {"first-name": "Pat", "owner-id": USER_ID}),
            line("individuals", IND2_ID, {"first-name": "Sam", "owner-id": USER2_ID}),
        ],
    )
    assert summary.invalid == []
    return t


def call(handler, fn, tenant_id, *, user=USER_ID, body_=..., query=None, id_=None, context=None):
    headers = {"Content-Type": "application/vnd.api+json", "X-User-ID": user}
    ev = api_event(f"courier_notifications/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=headers)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].replace("11111111-1111-1111-1111-111111111111", id_)
    if context:
        ev["requestContext"]["authorizer"].update(context)
    return handler(FN[fn])(ev)


def credential(handler, tenant_id, **attributes):
    doc = {"data": {"type": "app-credentials", "attributes": {"app-name": "clinic", "type": "apn", "store-id": "com.example.clinic",
                                                               "data": APN_DATA, **attributes}}}  # fmt: skip
    out = call(handler, "create_app_credential", tenant_id, user=None, body_=doc)
    assert out["statusCode"] == 201, out["body"]
    return body(out)["data"]


def device(handler, tenant_id, *, user=USER_ID, **attributes):
    doc = {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": APN_TOKEN, "app-name": "clinic", **attributes}}}
    out = call(handler, "create_user_device", tenant_id, user=user, body_=doc)
    assert out["statusCode"] == 201, out["body"]
    return body(out)["data"]


def sns():
    from moto.sns.models import sns_backends

    return sns_backends["123456789012"]["us-east-1"]


def data(**kw):
    from parley.models.notifications import NotificationData

    return NotificationData.model_validate(kw)


NOTE = {
    "apn": {"title": "Appointment", "body": "Tomorrow at 10:00", "category": "appointment", "data": {"appointment-id": "a1"}},
    "fcm": {"title": "Appointment", "body": "Tomorrow at 10:00", "category": "appointment", "data": {"appointment-id": "a1", "n": 2}},
}


def test_a_credential_is_a_platform_application_with_its_secret_kept_out_of_answers(handler, pat):
    from parley.dal import push as store
    from parley.dal.aws import client

    created = credential(handler, pat.id, **{"display-name": "Clinic iOS", "organization-id": ORG_ID})
    attrs = created["attributes"]
    assert attrs["data"] == {} and attrs["type"] == "apn" and attrs["archived"] is False and attrs["test-mode"] is False
    assert set(attrs) == {"app-name", "archived", "created-at", "data", "display-name", "last-modified-at", "organization-id", "store-id",
                          "test-mode", "type"}  # fmt: skip
    item = store.get_credential(pat.id, created["id"])
    assert item["platform"] == "APNS" and item["secret_name"] == f"parley/push/{pat.id}/{created['id']}" and item["secret_version"] == 1
    assert "data" not in item and APN_DATA["signing-key"] not in json.dumps(item)
    secret = client("secretsmanager").get_secret_value(SecretId=item["secret_name"])
    assert json.loads(secret["SecretString"]) == APN_DATA
    app = sns().applications[item["platform_arn"]]
    assert app.platform == "APNS"
    assert app.attributes["PlatformCredential"] == APN_DATA["signing-key"] and app.attributes["PlatformPrincipal"] == "KEY1"
    assert app.attributes["ApplePlatformBundleID"] == "com.example.clinic" and app.attributes["ApplePlatformTeamID"] == "TEAM1"
    out = call(handler, "get_app_credential", pat.id, user=None, id_=created["id"])
    assert out["statusCode"] == 200, out
    got = body(out)["data"]
    assert got["attributes"]["data"] == {}

    sandbox = credential(handler, pat.id, **{"test-mode": True})
    assert sns().applications[store.get_credential(pat.id, sandbox["id"])["platform_arn"]].platform == "APNS_SANDBOX"
    fcm = credential(handler, pat.id, type="fcm", data=FCM_DATA)
    fcm_app = sns().applications[store.get_credential(pat.id, fcm["id"])["platform_arn"]]
    assert fcm_app.platform == "GCM" and json.loads(fcm_app.attributes["PlatformCredential"])["project_id"] == "clinic"

    # archived = the soft delete: hidden from the list unless include[archived]
    patch = {"data": {"type": "app-credentials", "id": sandbox["id"], "attributes": {"archived": True}}}
    out = call(handler, "update_app_credential", pat.id, user=None, body_=patch, id_=sandbox["id"])
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["archived"] is True
    listed = body(call(handler, "list_app_credentials", pat.id, user=None, query={}))
    assert [c["id"] for c in listed["data"]] == [created["id"], fcm["id"]] and listed["meta"]["page[total]"] == 2
    listed = body(call(handler, "list_app_credentials", pat.id, user=None, query={"include[archived]": "true", "filter[type]": "apn"}))
    assert [c["id"] for c in listed["data"]] == [created["id"], sandbox["id"]]


def test_bad_credentials_and_user_tokens_are_refused(handler, pat):
    doc = {"data": {"type": "app-credentials", "attributes": {"app-name": "clinic", "type": "apn", "data": {"signing-key": "k"}}}}
    out = call(handler, "create_app_credential", pat.id, user=None, body_=doc)
    assert out["statusCode"] == 422 and body(out)["errors"][0]["source"]["pointer"] == "/data/attributes/data"
    doc["data"]["attributes"]["type"] = "web"
    doc["data"]["attributes"]["data"] = {"vapid-private-key": "not a key", "subject": "mailto:ops@example.com"}
    out = call(handler, "create_app_credential", pat.id, user=None, body_=doc)
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "invalid-credential-data"
    out = call(handler, "list_app_credentials", pat.id, query={}, context={"credential": "user_token", "userId": USER_ID})
    assert out["statusCode"] == 403 and body(out)["errors"][0]["code"] == "admin-only"
    out = call(handler, "get_app_credential", pat.id, user=None, id_="6a1b2c3d-0000-4000-8000-00000000dead")
    assert out["statusCode"] == 404
    created = credential(handler, pat.id)
    patch = {"data": {"type": "app-credentials", "id": created["id"], "attributes": {"test-mode": True}}}
    out = call(handler, "update_app_credential", pat.id, user=None, body_=patch, id_=created["id"])
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "test-mode-fixed"


def test_a_token_is_one_endpoint_registered_again_idempotently_and_moving_between_users(handler, pat):
    from parley.dal import push as store

    cred = credential(handler, pat.id)
    first = device(handler, pat.id, **{"app-version": "4.2.0", "model": "iPhone15,2", "os-version": "18.1"})
    attrs = first["attributes"]
    assert attrs["type"] == "apn" and attrs["token"] == APN_TOKEN and attrs["individual-id"] == IND_ID and attrs["push-state"] == "enabled"
    assert attrs["allow-notification"] is True and attrs["sandbox"] is False and attrs["app-version"] == "4.2.0"
    item = store.get_device(pat.id, first["id"])
    assert item["credential_id"] == cred["id"] and item["user_id"] == USER_ID
    endpoint = sns().platform_endpoints[item["endpoint_arn"]]
    assert endpoint.token == APN_TOKEN and endpoint.custom_user_data == first["id"] and endpoint.attributes["Enabled"] is True
    assert endpoint.application.arn == store.get_credential(pat.id, cred["id"])["platform_arn"]

    again = device(handler, pat.id, **{"app-version": "4.3.0"})
    assert again["id"] == first["id"] and again["attributes"]["created-at"] == attrs["created-at"]
    assert again["attributes"]["app-version"] == "4.3.0"
    assert store.get_device(pat.id, first["id"])["endpoint_arn"] == item["endpoint_arn"] and len(sns().platform_endpoints) == 1

    moved = device(handler, pat.id, user=USER2_ID)
    assert moved["id"] == first["id"] and moved["attributes"]["individual-id"] == IND2_ID
    assert body(call(handler, "list_user_devices", pat.id, query={}))["data"] == []
    theirs = body(call(handler, "list_user_devices", pat.id, user=USER2_ID, query={}))
    assert [d["id"] for d in theirs["data"]] == [first["id"]] and theirs["meta"]["page[total]"] == 1

    # no credential for the app: stored, and says so
    other = device(handler, pat.id, token=APN_TOKEN2, **{"app-name": "other-app"})
    assert other["attributes"]["push-state"] == "no-credential" and "other-app" in other["attributes"]["push-state-reason"]
    assert "endpoint_arn" not in store.get_device(pat.id, other["id"])
    # the filters, and all-users for the API key without X-User-ID only
    assert [d["id"] for d in body(call(handler, "list_user_devices", pat.id, query={"filter[app-name]": "other-app"}))["data"]] == [
        other["id"]
    ]
    everyone = body(call(handler, "list_user_devices", pat.id, user=None, query={"all-users": "true"}))
    assert sorted(d["id"] for d in everyone["data"]) == sorted([first["id"], other["id"]])
    out = call(handler, "list_user_devices", pat.id, query={"all-users": "true"})
    assert out["statusCode"] == 403
    # a bad token, another user's individual
    doc = {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": "not hex"}}}
    out = call(handler, "create_user_device", pat.id, body_=doc)
    assert out["statusCode"] == 422 and body(out)["errors"][0]["source"]["pointer"] == "/data/attributes/token"
    doc = {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": APN_TOKEN, "individual-id": IND2_ID}}}
    assert call(handler, "create_user_device", pat.id, body_=doc)["statusCode"] == 403


def _logs(handler, tenant_id, device_id, user=USER_ID):
    out = call(handler, "get_user_device_logs", tenant_id, user=user, id_=device_id, query={})
    assert out["statusCode"] == 200, out["body"]
    return body(out)


def test_deliver_publishes_apns_and_fcm_json_with_the_badge_once_and_logs_it(handler, pat):
    from parley.dal import push as store
    from parley.domain import push

    credential(handler, pat.id)
    credential(handler, pat.id, type="fcm", data=FCM_DATA)
    ios = device(handler, pat.id)
    android = device(handler, pat.id, type="fcm", token=FCM_TOKEN)
    attempts = push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=3, collapse_id="appointment-a1")
    assert sorted((a.transport, a.outcome) for a in attempts) == [("apn", "sent"), ("fcm", "sent")]

    ios_endpoint = sns().platform_endpoints[store.get_device(pat.id, ios["id"])["endpoint_arn"]]
    (message,) = ios_endpoint.messages.values()
    apns = json.loads(json.loads(message)["APNS"])
    assert apns["aps"] == {"alert": {"title": "Appointment", "body": "Tomorrow at 10:00"}, "badge": 3, "category": "appointment",
                           "sound": "default"}  # fmt: skip
    assert apns["appointment-id"] == "a1"
    fcm_endpoint = sns().platform_endpoints[store.get_device(pat.id, android["id"])["endpoint_arn"]]
    (message,) = fcm_endpoint.messages.values()
    fcm = json.loads(json.loads(message)["GCM"])["fcmV1Message"]["message"]
    assert fcm["notification"] == {"title": "Appointment", "body": "Tomorrow at 10:00"}
    assert fcm["data"] == {"appointment-id": "a1", "n": "2", "badge": "3"}
    assert fcm["android"] == {"collapse_key": "appointment-a1", "notification": {"notification_count": 3, "click_action": "appointment"}}

    logs = _logs(handler, pat.id, ios["id"])
    (log,) = logs["data"]
    assert log["type"] == "user-device-logs" and logs["meta"]["page[total]"] == 1
    assert log["attributes"] | {"created-at": None} == {
        "badge-count": 3, "body": "Tomorrow at 10:00", "category": "appointment", "created-at": None, "data": {"appointment-id": "a1"},
        "title": "Appointment", "notification-id": "n-1", "transport": "apn", "outcome": "sent", "reason": None,
    }  # fmt: skip

    # the same notification again (a redelivered job): nothing pushed twice, nothing logged twice
    again = push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=3, collapse_id="appointment-a1")
    assert {a.outcome for a in again} == {"duplicate"}
    assert len(ios_endpoint.messages) == 1 and len(fcm_endpoint.messages) == 1
    assert len(_logs(handler, pat.id, ios["id"])["data"]) == 1
    # a transport without a payload is skipped (not logged); notifications off on the device: logged, not pushed
    only_fcm = push.deliver(pat.id, USER_ID, "n-2", data(fcm=NOTE["fcm"]), badge=None, collapse_id="n-2")
    assert {(a.transport, a.outcome) for a in only_fcm} == {("apn", "skipped"), ("fcm", "sent")}
    device(handler, pat.id, type="fcm", token=FCM_TOKEN, **{"allow-notification": False})
    off = push.deliver(pat.id, USER_ID, "n-3", data(**NOTE), badge=1, collapse_id="n-3")
    assert {(a.transport, a.outcome) for a in off} == {("apn", "sent"), ("fcm", "skipped")}
    assert len(fcm_endpoint.messages) == 2
    assert _logs(handler, pat.id, android["id"])["data"][0]["attributes"]["outcome"] == "skipped"
    # another user's device: 403; none: 404
    assert call(handler, "get_user_device_logs", pat.id, user=USER2_ID, id_=ios["id"], query={})["statusCode"] == 403
    assert push.deliver(pat.id, USER2_ID, "n-1", data(**NOTE), badge=3, collapse_id="x") == []


def test_a_disabled_endpoint_stops_receiving_and_the_log_says_why(handler, pat):
    from parley.dal import push as store
    from parley.dal.aws import client
    from parley.domain import push

    credential(handler, pat.id)
    ios = device(handler, pat.id)
    arn = store.get_device(pat.id, ios["id"])["endpoint_arn"]
    client("sns").set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})  # APNs said: unregistered
    (attempt,) = push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    assert attempt.outcome == "disabled" and "disabled" in attempt.reason
    assert sns().platform_endpoints[arn].messages == {}
    stored = store.get_device(pat.id, ios["id"])
    assert (stored["push_state"] == "disabled" and "EndpointDisabled" in stored["push_state_reason"]) or "disabled" in stored[
        "push_state_reason"
    ]
    log = _logs(handler, pat.id, ios["id"])["data"][0]["attributes"]
    assert log["outcome"] == "disabled" and log["reason"] == attempt.reason
    # later notifications are not published at all
    (later,) = push.deliver(pat.id, USER_ID, "n-2", data(**NOTE), badge=1, collapse_id="n-2")
    assert later.outcome == "disabled" and sns().platform_endpoints[arn].messages == {}
    # the app registers the token again (a fresh token from APNs): enabled, pushes flow
    again = device(handler, pat.id)
    assert again["attributes"]["push-state"] == "enabled" and sns().platform_endpoints[arn].attributes["Enabled"] is True
    (third,) = push.deliver(pat.id, USER_ID, "n-3", data(**NOTE), badge=1, collapse_id="n-3")
    assert third.outcome == "sent" and len(sns().platform_endpoints[arn].messages) == 1


def test_a_rotated_credential_is_used_by_the_next_push(handler, pat):
    from parley.dal import push as store
    from parley.dal.aws import client
    from parley.domain import push

    cred = credential(handler, pat.id)
    ios = device(handler, pat.id)
    push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    patch = {"data": {"type": "app-credentials", "id": cred["id"], "attributes": {"data": APN_DATA2}}}
    out = call(handler, "update_app_credential", pat.id, user=None, body_=patch, id_=cred["id"])
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["data"] == {}
    item = store.get_credential(pat.id, cred["id"])
    assert item["secret_version"] == 2
    assert json.loads(client("secretsmanager").get_secret_value(SecretId=item["secret_name"])["SecretString"]) == APN_DATA2
    app = sns().applications[item["platform_arn"]]
    assert app.attributes["PlatformCredential"] == APN_DATA2["signing-key"] and app.attributes["PlatformPrincipal"] == "KEY2"
    push.deliver(pat.id, USER_ID, "n-2", data(**NOTE), badge=2, collapse_id="n-2")
    endpoint = sns().platform_endpoints[store.get_device(pat.id, ios["id"])["endpoint_arn"]]
    assert len(endpoint.messages) == 2 and endpoint.application is app  # published through the rotated application
    # archived: its devices get no pushes
    patch = {"data": {"type": "app-credentials", "id": cred["id"], "attributes": {"archived": True}}}
    assert call(handler, "update_app_credential", pat.id, user=None, body_=patch, id_=cred["id"])["statusCode"] == 200
    (attempt,) = push.deliver(pat.id, USER_ID, "n-3", data(**NOTE), badge=2, collapse_id="n-3")
    assert attempt.outcome == "skipped" and "archived" in attempt.reason and len(endpoint.messages) == 2


def test_delete_unregisters_the_endpoint_and_forgets_the_device(handler, pat):
    from parley.dal import push as store
    from parley.domain import push

    credential(handler, pat.id)
    ios = device(handler, pat.id)
    push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    arn = store.get_device(pat.id, ios["id"])["endpoint_arn"]
    assert call(handler, "delete_user_device", pat.id, user=USER2_ID, id_=ios["id"])["statusCode"] == 403
    out = call(handler, "delete_user_device", pat.id, id_=ios["id"])
    assert out["statusCode"] == 204 and not out.get("body")
    assert arn not in sns().platform_endpoints and store.device_partition(pat.id, ios["id"]) == []
    assert call(handler, "delete_user_device", pat.id, id_=ios["id"])["statusCode"] == 404
    assert call(handler, "get_user_device_logs", pat.id, id_=ios["id"], query={})["statusCode"] == 404


# ───────────── web push ─────────────
class _PushService(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 201

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": self.rfile.read(length)}
        )
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def push_service(monkeypatch):
    _PushService.received, _PushService.status = [], 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PARLEY_WEB_PUSH_HTTP_HOSTS", host)
    yield f"http://{host}"
    server.shutdown()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def web_keys():
    """A browser's subscription keys (P-256 key pair, auth secret) and a VAPID key (raw, base64url)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    receiver = ec.generate_private_key(ec.SECP256R1())
    p256dh = receiver.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    vapid = ec.generate_private_key(ec.SECP256R1())
    return receiver, _b64(p256dh), auth, _b64(vapid.private_numbers().private_value.to_bytes(32, "big"))


def test_web_push_is_encrypted_for_the_subscription_signed_with_vapid_and_a_gone_subscription_disables(handler, pat, push_service):
    import http_ece

    from parley.dal import push as store
    from parley.domain import push

    receiver, p256dh, auth, vapid = web_keys()
    credential(handler, pat.id, type="web", data={"vapid-private-key": vapid, "subject": "mailto:ops@example.com"})
    subscription = {"endpoint": f"{push_service}/push/sub-1", "keys": {"p256dh": p256dh, "auth": _b64(auth)}}
    web = device(handler, pat.id, type="web", token=json.dumps(subscription))
    assert web["attributes"]["push-state"] == "enabled" and "endpoint_arn" not in store.get_device(pat.id, web["id"])

    (attempt,) = push.deliver(pat.id, USER_ID, "n-1", data(web={"title": "Appointment", "body": "Tomorrow"}), badge=4, collapse_id="n-1")
    assert attempt.outcome == "sent" and attempt.transport == "web"
    (got,) = _PushService.received
    assert got["path"] == "/push/sub-1" and got["headers"]["content-encoding"] == "aes128gcm"
    assert got["headers"]["authorization"].startswith("vapid t=") and "k=" in got["headers"]["authorization"]
    assert len(got["headers"]["topic"]) == 32 and int(got["headers"]["ttl"]) > 0
    payload = json.loads(http_ece.decrypt(got["body"], private_key=receiver, auth_secret=auth, version="aes128gcm"))
    assert payload == {"title": "Appointment", "body": "Tomorrow", "badge": 4, "notification-id": "n-1"}
    log = _logs(handler, pat.id, web["id"])["data"][0]["attributes"]
    assert log["transport"] == "web" and log["outcome"] == "sent" and log["title"] == "Appointment" and log["badge-count"] == 4

    _PushService.status = 410  # the browser unsubscribed
    (gone,) = push.deliver(pat.id, USER_ID, "n-2", data(web={"title": "Again"}), badge=None, collapse_id="n-2")
    assert gone.outcome == "disabled" and "410" in gone.reason
    assert store.get_device(pat.id, web["id"])["push_state"] == "disabled"
    (later,) = push.deliver(pat.id, USER_ID, "n-3", data(web={"title": "Third"}), badge=None, collapse_id="n-3")
    assert later.outcome == "disabled" and len(_PushService.received) == 2  # not pushed again


def test_web_subscriptions_must_be_https_unless_the_host_is_allowed(handler, pat, monkeypatch):
    monkeypatch.delenv("PARLEY_WEB_PUSH_HTTP_HOSTS", raising=False)
    _, p256dh, auth, _ = web_keys()
    for endpoint in ("http://127.0.0.1:9001/2018-06-01/runtime", "file:///etc/passwd", "https://"):
        token = json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": _b64(auth)}})
        doc = {"data": {"type": "user-devices", "attributes": {"type": "web", "token": token}}}
        out = call(handler, "create_user_device", pat.id, body_=doc)
        assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "invalid-token", endpoint


def test_a_throttled_publish_releases_its_claim_and_a_timeout_is_never_repeated(handler, pat, monkeypatch):
    from botocore.exceptions import ClientError, ReadTimeoutError

    from parley.dal import push as store
    from parley.domain import push
    from parley.providers import sns_push

    credential(handler, pat.id)
    ios = device(handler, pat.id)
    real = sns_push.publish
    failures = [
        ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Publish")
    ]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(sns_push, "publish", flaky)
    with pytest.raises(ClientError):
        push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    assert store.get_claim(pat.id, ios["id"], "n-1") is None  # released: the retry may push
    assert _logs(handler, pat.id, ios["id"])["data"] == []
    (retried,) = push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    assert retried.outcome == "sent"

    failures.append(ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com"))  # may have been taken
    (ambiguous,) = push.deliver(pat.id, USER_ID, "n-2", data(**NOTE), badge=1, collapse_id="n-2")
    assert ambiguous.outcome == "failed" and ambiguous.reason.startswith("unconfirmed")
    assert [a.outcome for a in push.deliver(pat.id, USER_ID, "n-2", data(**NOTE), badge=1, collapse_id="n-2")] == ["duplicate"]
    endpoint = sns().platform_endpoints[store.get_device(pat.id, ios["id"])["endpoint_arn"]]
    assert len(endpoint.messages) == 1  # n-1 once; n-2 never repeated


def test_a_claim_left_by_a_killed_worker_is_unconfirmed_and_never_pushed(handler, pat):
    from parley import clock
    from parley.dal import push as store
    from parley.domain import push

    credential(handler, pat.id)
    ios = device(handler, pat.id)
    # the worker claimed the device (claim + log "claimed") and died before publishing or confirming
    now = clock.iso(clock.now())
    log = store.log_item(
        pat.id, ios["id"], now, "n-1", {"title": "Appointment", "transport": "apn", "outcome": "claimed", "badge_count": 1}
    )
    assert store.claim(pat.id, ios["id"], "n-1", log)
    (again,) = push.deliver(pat.id, USER_ID, "n-1", data(**NOTE), badge=1, collapse_id="n-1")
    assert again.outcome == "duplicate"
    assert sns().platform_endpoints[store.get_device(pat.id, ios["id"])["endpoint_arn"]].messages == {}
    (shown,) = _logs(handler, pat.id, ios["id"])["data"]
    assert shown["attributes"]["outcome"] == "unconfirmed" and shown["attributes"]["notification-id"] == "n-1"


def test_notify_pushes_to_the_users_ios_and_android_devices_with_the_individuals_badge_once(handler, pat):
    """The notifications pipeline (parley.domain.notifications.notify, issue 16 part B) through this transport: one
    APNs-shaped and one FCM-shaped message, the APNs badge the individual's badge total; redelivered, nothing more."""
    from parley.dal import push as store
    from parley.domain import badges, notifications
    from parley.models.user_notifications import BadgeCountInput

    credential(handler, pat.id)
    credential(handler, pat.id, type="fcm", data=FCM_DATA)
    ios = device(handler, pat.id)
    android = device(handler, pat.id, type="fcm", token=FCM_TOKEN)
    badges.set_count(pat.id, BadgeCountInput(individual_id=IND_ID, type="appointment", count=2))
    badges.set_count(pat.id, BadgeCountInput(individual_id=IND_ID, type="message", count=3))

    def run():
        return notifications.notify(pat.id, notification_id="notif-1", user_id=USER_ID, individual_id=IND_ID, organization_id=ORG_ID,
                                    category="appointment", data=data(**NOTE), email=None, source={})  # fmt: skip

    result = run()
    assert result.deliveries["push"]["outcome"] == "sent"
    ios_endpoint = sns().platform_endpoints[store.get_device(pat.id, ios["id"])["endpoint_arn"]]
    fcm_endpoint = sns().platform_endpoints[store.get_device(pat.id, android["id"])["endpoint_arn"]]
    (apns,) = [json.loads(json.loads(m)["APNS"]) for m in ios_endpoint.messages.values()]
    assert apns["aps"]["badge"] == 5 and apns["aps"]["alert"]["title"] == "Appointment"
    (fcm,) = [json.loads(json.loads(m)["GCM"]) for m in fcm_endpoint.messages.values()]
    assert fcm["fcmV1Message"]["message"]["notification"]["body"] == "Tomorrow at 10:00"
    run()  # a redelivered fan-out job
    assert len(ios_endpoint.messages) == 1 and len(fcm_endpoint.messages) == 1
    assert [log["attributes"]["notification-id"] for log in _logs(handler, pat.id, ios["id"])["data"]] == ["notif-1"]
