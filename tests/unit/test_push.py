"""The push transport's pure parts (docs/courier.md "Push credentials and devices"): the APNs and FCM payloads with the
badge and collapse key, the web push subscription rules (https only unless the local stack allows a host), device ids
(one token, one device per tenant), and a cold start that imports neither pywebpush nor its HTTP stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT


def test_apns_payload_carries_the_alert_badge_category_and_the_apps_data():
    from parley.domain.push import apns_payload
    from parley.models.notifications import PushContent

    content = PushContent(title="T", body="B", category="appointment", data={"id": "a1", "aps": {"badge": 99}})
    assert apns_payload(content, 5) == {"id": "a1", "aps": {"alert": {"title": "T", "body": "B"}, "sound": "default", "badge": 5,
                                                            "category": "appointment"}}  # fmt: skip
    assert "badge" not in apns_payload(PushContent(title="T"), None)["aps"]


def test_fcm_payload_is_an_http_v1_message_with_string_data_and_the_collapse_key():
    from parley.domain.push import fcm_payload
    from parley.models.notifications import PushContent

    message = fcm_payload(PushContent(title="T", body="B", data={"n": 2, "o": {"k": True}}), 3, "c" * 80)["fcmV1Message"]["message"]
    assert message["data"] == {"n": "2", "o": '{"k":true}', "badge": "3"}
    assert message["android"] == {"collapse_key": "c" * 64, "notification": {"notification_count": 3}}


@pytest.mark.parametrize(
    "endpoint",
    ["http://push.example/x", "ftp://push.example/x", "https://user:pw@push.example/x", "https:///nohost", "file:///etc/passwd"],
)
def test_a_subscription_must_name_an_https_push_service(endpoint, monkeypatch):
    from parley.providers import web_push

    monkeypatch.delenv("PARLEY_WEB_PUSH_HTTP_HOSTS", raising=False)
    with pytest.raises(web_push.SubscriptionInvalid):
        web_push.subscription(json.dumps({"endpoint": endpoint, "keys": {"p256dh": "k", "auth": "a"}}))


def test_plain_http_only_for_the_hosts_the_local_stack_names(monkeypatch):
    from parley.providers import web_push

    token = json.dumps({"endpoint": "http://127.0.0.1:3000/_local/webpush/s1", "keys": {"p256dh": "k", "auth": "a"}})
    monkeypatch.setenv("PARLEY_WEB_PUSH_HTTP_HOSTS", "127.0.0.1:3000")
    assert web_push.subscription(token).endpoint.endswith("/s1")
    monkeypatch.setenv("PARLEY_WEB_PUSH_HTTP_HOSTS", "127.0.0.1:3001")
    with pytest.raises(web_push.SubscriptionInvalid):
        web_push.subscription(token)
    for bad in ("not json", "[]", json.dumps({"endpoint": "https://p.example/x", "keys": {"p256dh": "k"}})):
        with pytest.raises(web_push.SubscriptionInvalid):
            web_push.subscription(bad)


def test_one_token_is_one_device_per_tenant_and_type():
    from parley.dal.push import device_id

    assert device_id("t1", "apn", "a" * 64) == device_id("t1", "apn", "a" * 64)
    assert len({device_id("t1", "apn", "a" * 64), device_id("t2", "apn", "a" * 64), device_id("t1", "fcm", "a" * 64)}) == 3


def test_the_push_handlers_cold_start_without_pywebpush_or_http_stacks():
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import api.user_devices, api.app_credentials, parley.domain.push\n"
        "heavy = sorted(m for m in ('pywebpush', 'requests', 'aiohttp', 'http_ece', 'py_vapid') if m in sys.modules)\n"
        "print(heavy)"
    )
    env = {**os.environ, "TABLE_NAME": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "functions" / "courier_notifications"), str(ROOT / "layers" / "common")],
                         capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
