"""What a sniffer log keeps of a request (parley.domain.redaction): credentials and token-like values replaced, the rest
intact; and the sniffed-user list the authorizer's context carries (parley.domain.context)."""

from __future__ import annotations

import json

import pytest

from parley.domain import redaction
from parley.domain.redaction import REDACTED

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
KEY = "prl_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA"


@pytest.mark.parametrize(
    ("name", "raw", "kept"),
    [
        ("Authorization", f"Bearer {KEY}", f"Bearer {REDACTED}"),
        ("authorization", f"Bearer {JWT}", f"Bearer {REDACTED}"),
        ("Authorization", "Basic dXNlcjpwcmxfc2VjcmV0", f"Basic {REDACTED}"),
        ("Authorization", KEY, REDACTED),  # a bare key: no scheme to keep
        ("X-API-Key", "abc", REDACTED),
        ("Cookie", "session=abc", REDACTED),
        ("Set-Cookie", "session=abc; HttpOnly", REDACTED),
        ("X-Amz-Security-Token", "abc", REDACTED),
        ("X-CSRF-Token", "abc", REDACTED),
        ("X-User-ID", "user-1", "user-1"),
        ("User-Agent", "curl/8.5.0", "curl/8.5.0"),
        ("Referer", f"https://x.example/?token={JWT}", f"https://x.example/?token={REDACTED}"),
    ],
)
def test_headers(name, raw, kept):
    assert redaction.header(name, raw) == kept


def test_json_bodies_lose_secret_members_at_any_depth_and_keep_the_rest():
    ticket = {
        "upload-url": "https://bucket.s3.amazonaws.com/",
        "upload-data": {
            "key": "attachments/t/a.pdf",
            "policy": "eyJleHBpcmF0aW9uIjoi",
            "x-amz-signature": "abcdef",
            "x-amz-credential": "AKIA/20261207/us-east-1/s3/aws4_request",
            "x-amz-security-token": "FwoGZX",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
        },
        "download-url": "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff00&X-Amz-Expires=60",
    }
    doc = {"data": {"attributes": {"password": "hunter2", "client_secret": "s", "device-token": "d", "name": "Pat", "count": 3,
                                   "nested": [{"apiKey": "k", "id": "1"}], "note": f"my key is {KEY}", "ticket": ticket}}}  # fmt: skip
    out = json.loads(redaction.body(json.dumps(doc), "application/vnd.api+json"))
    attrs = out["data"]["attributes"]
    assert attrs["password"] == attrs["client_secret"] == attrs["device-token"] == REDACTED
    assert attrs["name"] == "Pat" and attrs["count"] == 3 and attrs["nested"] == [{"apiKey": REDACTED, "id": "1"}]
    assert attrs["note"] == f"my key is {REDACTED}"
    data = attrs["ticket"]["upload-data"]
    assert data["key"] == "attachments/t/a.pdf" and data["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert data["policy"] == data["x-amz-signature"] == data["x-amz-credential"] == data["x-amz-security-token"] == REDACTED
    url = attrs["ticket"]["download-url"]
    assert "ff00" not in url and "AKIA" not in url and f"X-Amz-Signature={REDACTED}" in url and "X-Amz-Expires=60" in url
    assert attrs["ticket"]["upload-url"] == "https://bucket.s3.amazonaws.com/"


def test_push_credentials_lose_their_secret_data():
    data = {"signing-key": "-----BEGIN PRIVATE KEY-----", "signing-key-id": "KEY1", "team-id": "TEAM1", "server-key": "AAAA",
            "service-account": {"project_id": "p", "private_key": "pk"}, "private-key": "pk", "vapid-private-key": "vk",
            "subject": "mailto:ops@example.com"}  # fmt: skip
    out = json.loads(redaction.body(json.dumps({"data": {"attributes": {"app-name": "clinic", "data": data}}}), "application/vnd.api+json"))
    kept = out["data"]["attributes"]["data"]
    for name in ("signing-key", "server-key", "service-account", "private-key", "vapid-private-key"):
        assert kept[name] == REDACTED, name
    assert kept["subject"] == "mailto:ops@example.com" and kept["team-id"] == "TEAM1"


def test_an_empty_or_null_secret_member_stays_as_it_was():
    assert json.loads(redaction.body('{"token": null, "password": ""}', "application/json")) == {"token": None, "password": ""}


def test_forms_query_strings_and_text():
    assert redaction.body("user=pat&password=hunter2", "application/x-www-form-urlencoded") == f"user=pat&password={REDACTED}".replace(
        "[", "%5B"
    ).replace("]", "%5D")
    assert redaction.query({"access_token": ["abc"], "page[limit]": ["5"]}) == "access_token=%5Bredacted%5D&page%5Blimit%5D=5"
    assert redaction.body(f"plain text with {JWT} inside", "text/plain") == f"plain text with {REDACTED} inside"
    assert redaction.body("{not json", "application/json") == "{not json"  # not JSON: kept as text (tokens still redacted)


def test_long_bodies_are_cut():
    out = redaction.body("x" * (redaction.MAX_CHARS + 10), "text/plain")
    assert out.startswith("x" * redaction.MAX_CHARS) and out.endswith("[10 more characters not recorded]")


def test_the_context_names_each_sniffed_user_with_its_latest_end():
    from datetime import UTC, datetime

    from parley.domain.context import Caller, sniffed_users
    from parley.models.domain import ActiveSniffer, Tenant

    tenant = Tenant(
        id="t",
        name="T",
        sender_email="a@x.example",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        sniffers={
            "s1": ActiveSniffer(user_id="u1", until=2000),
            "s2": ActiveSniffer(user_id="u1", until=3000),
            "s3": ActiveSniffer(user_id="u:2", until=1500),
            "s4": ActiveSniffer(user_id="u3", until=900),  # ended
        },
    )
    assert sniffed_users(tenant, now=1000) == "3000:u1 1500:u:2"
    caller = Caller(tenant_id="t", sniffed_users=sniffed_users(tenant, now=1000))
    back = Caller.from_authorizer({k: str(v) for k, v in caller.authorizer_context().items()})
    assert back.sniffed_until("u1") == 3000 and back.sniffed_until("u:2") == 1500
    assert back.sniffed_until("u3") is None and back.sniffed_until("u") is None and back.sniffed_until(None) is None
    assert "sniffers" not in __import__("parley.models.domain", fromlist=["TENANT_SETTINGS"]).TENANT_SETTINGS


@pytest.mark.parametrize("event", [{}, {"requestContext": None}, {"requestContext": "x"}, {"requestContext": {"authorizer": {}}}])
def test_an_event_without_sniffed_users_is_not_looked_at(event):
    from parley.domain import sniffers

    assert sniffers.before(event) is None
    sniffers.record(event, None, {"statusCode": 200})  # nothing to record: no call, no error
