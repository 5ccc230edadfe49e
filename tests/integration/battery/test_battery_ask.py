"""Battery (issue 20): forged, stale or replayed Alexa requests at the skill endpoint (POST /v1/ask-entries/) are a
400 and record nothing — the whole table is compared before and after (every item, every attribute). Amazon's rules
(docs/courier.md "Alexa (issue 20)"): the chain URL (https, s3.amazonaws.com, port 443, /echo.api/), the chain (valid
now, SAN echo-api.amazon.com, a trusted root), Signature-256 over the raw body, timestamp within 150 s; and ours: a
request id is accepted once."""

from __future__ import annotations

import json

import pytest
from alexa_kit import envelope, old, raw, setup_tenant

from helpers import api_event

ENTRY = "CourierNotificationsApi.HandleAskEntryFunction"
GOOD_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"


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
    setup_tenant(tenant[0].id, fake, with_tokens=False)
    return tenant[0]


def post(handler, tenant_id: str, data: str, headers: dict[str, str]) -> dict:
    ev = api_event("courier_notifications/handle_ask_entry", body=data, query={"tenant": tenant_id},
                   headers={"SignatureCertChainUrl": None, "Signature-256": None, **headers})  # fmt: skip
    return handler(ENTRY)(ev)


def _refused(handler, table_items, tenant_id: str, data: str, headers: dict[str, str], reason: str) -> None:
    before = table_items()
    out = post(handler, tenant_id, data, headers)
    assert out["statusCode"] == 400, out["body"]
    error = json.loads(out["body"])["errors"][0]
    assert reason in error["detail"], error
    assert table_items() == before


def _subscription_changed():
    return envelope(
        "AlexaSkillEvent.ProactiveSubscriptionChanged", body={"subscriptions": [{"eventName": "AMAZON.MessageAlert.Activated"}]}
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://s3.amazonaws.evil.com/echo.api/echo-api-cert.pem", "must be on s3.amazonaws.com"),
        ("https://evil.example/echo.api/echo-api-cert.pem", "must be on s3.amazonaws.com"),
        ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "must be https"),
        ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port 443"),
        ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "must start with /echo.api/"),
        ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "must start with /echo.api/"),
        ("https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem", "must start with /echo.api/"),
    ],
)
def test_a_wrong_certificate_url_is_refused(handler, fake, alexa, table_items, url, reason):
    data = raw(_subscription_changed())
    _refused(handler, table_items, alexa.id, data, fake.sign(data.encode(), url=url), reason)


def test_an_expired_certificate_is_refused(handler, fake, alexa, table_items):
    data = raw(_subscription_changed())
    _refused(handler, table_items, alexa.id, data, fake.sign(data.encode(), chain="expired-cert.pem"), "not valid now")


def test_a_certificate_for_another_name_is_refused(handler, fake, alexa, table_items):
    data = raw(_subscription_changed())
    _refused(handler, table_items, alexa.id, data, fake.sign(data.encode(), chain="wrong-san-cert.pem"), "echo-api.amazon.com")


def test_a_chain_from_an_untrusted_ca_is_refused(handler, fake, alexa, table_items, monkeypatch):
    """The same chain, with the test CA not among the roots (what a deployed function trusts: certifi's)."""
    from parley.providers import alexa as provider

    monkeypatch.delenv("ALEXA_CERT_ROOTS")
    provider._ROOTS.clear()
    data = raw(_subscription_changed())
    _refused(handler, table_items, alexa.id, data, fake.sign(data.encode()), "not trusted")


def test_a_bad_signature_is_refused(handler, fake, alexa, table_items):
    data = raw(_subscription_changed())
    signed = fake.sign(data.encode())
    tampered = data.replace("MessageAlert", "MessageAlerx")
    _refused(handler, table_items, alexa.id, tampered, signed, "does not match the body")
    other = fake.sign(b"another body")
    _refused(handler, table_items, alexa.id, data, {**signed, "Signature-256": other["Signature-256"]}, "does not match the body")
    # signed by the wrong-SAN certificate's key, presented with the good chain
    wrong_key = fake.sign(data.encode(), chain="wrong-san-cert.pem")["Signature-256"]
    _refused(handler, table_items, alexa.id, data, {**signed, "Signature-256": wrong_key}, "does not match the body")


def test_missing_headers_are_refused(handler, fake, alexa, table_items):
    data = raw(_subscription_changed())
    signed = fake.sign(data.encode())
    _refused(handler, table_items, alexa.id, data, {"Signature-256": signed["Signature-256"]}, "SignatureCertChainUrl header is missing")
    _refused(handler, table_items, alexa.id, data, {"SignatureCertChainUrl": GOOD_URL}, "Signature-256 header is missing")


@pytest.mark.parametrize("seconds", [151, 3600, -151])
def test_a_stale_or_future_timestamp_is_refused(handler, fake, alexa, table_items, seconds):
    data = raw(envelope("AlexaSkillEvent.ProactiveSubscriptionChanged", at=old(seconds),
                        body={"subscriptions": [{"eventName": "AMAZON.MessageAlert.Activated"}]}))  # fmt: skip
    _refused(handler, table_items, alexa.id, data, fake.sign(data.encode()), "150 s")


def test_a_replayed_request_is_refused(handler, fake, alexa, table_items):
    data = raw(_subscription_changed())
    signed = fake.sign(data.encode())
    first = post(handler, alexa.id, data, signed)
    assert first["statusCode"] == 200, first["body"]
    assert any(i.get("type") == "ask_subscription" for i in table_items())
    _refused(handler, table_items, alexa.id, data, signed, "received before")


def test_a_valid_request_is_accepted(handler, fake, alexa, table_items):
    """The control: the same flow, signed properly, is a 200 that records the request and the subscription."""
    data = raw(_subscription_changed())
    out = post(handler, alexa.id, data, fake.sign(data.encode()))
    assert out["statusCode"] == 200, out["body"]
    kinds = [i.get("type") for i in table_items()]
    assert "ask_request" in kinds and "ask_subscription" in kinds
