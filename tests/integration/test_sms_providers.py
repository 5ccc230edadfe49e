"""The SMS adapters: SNS (on moto) and Twilio (against a real local fake Twilio HTTP server)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from fakes.twilio_api import FakeTwilio

from parley.providers.base import OutboundSms, ProviderError

ACCOUNT, REGION = "123456789012", "us-east-1"


def sms(**kw):
    base = {"message_id": "m-1", "tenant_id": "t-1", "sender": "+15555550199", "recipient": "+15555550100", "body": "Hi Ada"}
    return OutboundSms(**(base | kw))


def sns_sent():
    from moto.sns.models import sns_backends

    return dict(sns_backends[ACCOUNT][REGION].sms_messages)


# ── SNS ──


def test_sns_publishes_a_transactional_sms_from_the_tenant_number(app_env):
    from parley.providers.sns_sms import SnsSmsProvider

    receipt = SnsSmsProvider(tenant_id="t-1").send(sms())
    assert receipt.provider == "sns"
    assert sns_sent() == {receipt.provider_message_id: ("+15555550100", "Hi Ada")}


class RecordingSns:
    def __init__(self, error=None):
        self.error, self.calls = error, []

    def publish(self, **params):
        self.calls.append(params)
        if self.error:
            raise self.error
        return {"MessageId": "sns-1"}


@pytest.fixture
def sns_client(app_env, monkeypatch):
    """The SNS client the adapter gets, recording its arguments (and the retry flag it asked for)."""
    from parley.providers import sns_sms

    def install(error=None):
        fake = RecordingSns(error)
        asked = []
        monkeypatch.setattr(sns_sms, "client", lambda service, retry=True: asked.append((service, retry)) or fake)
        fake.asked = asked
        return fake

    return install


def test_sns_request_attributes_and_sdk_retries_off(sns_client):
    from parley.providers.sns_sms import SnsSmsProvider

    fake = sns_client()
    SnsSmsProvider(tenant_id="t-1").send(sms())
    assert fake.asked == [("sns", False)]
    (call,) = fake.calls
    assert call["PhoneNumber"] == "+15555550100"
    assert call["Message"] == "Hi Ada"
    assert call["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+15555550199"},
    }
    SnsSmsProvider(tenant_id="t-1").send(sms(sender=""))
    assert "AWS.MM.SMS.OriginationNumber" not in fake.calls[1]["MessageAttributes"]


def _client_error(code, status):
    return ClientError({"Error": {"Code": code, "Message": "nope"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Publish")


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        (_client_error("Throttling", 400), True, False),
        (_client_error("InternalError", 500), True, False),
        (_client_error("ServiceUnavailable", 503), True, False),
        (_client_error("InvalidParameter", 400), False, False),
        (_client_error("OptedOut", 400), False, False),
        (ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com"), False, True),
    ],
)
def test_sns_error_classification(sns_client, error, retryable, ambiguous):
    from parley.providers.sns_sms import SnsSmsProvider

    sns_client(error)
    with pytest.raises(ProviderError) as caught:
        SnsSmsProvider(tenant_id="t-1").send(sms())
    assert (caught.value.retryable, caught.value.ambiguous) == (retryable, ambiguous)


def test_sns_invalid_number_on_moto_is_permanent(app_env):
    from parley.providers.sns_sms import SnsSmsProvider

    with pytest.raises(ProviderError) as caught:
        SnsSmsProvider(tenant_id="t-1").send(sms(recipient="+0123"))
    assert not caught.value.retryable
    assert sns_sent() == {}


# ── Twilio ──


@pytest.fixture
def twilio(app_env, monkeypatch):
    fake = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_API_URL", fake.url)
    monkeypatch.setenv("TWILIO_STATUS_CALLBACK_URL", "https://hooks.parley.example/twilio/status")
    from parley.settings import get_settings

    get_settings.cache_clear()
    yield fake
    fake.stop()
    get_settings.cache_clear()


@pytest.fixture
def twilio_tenant(twilio, tenant):
    """A tenant sending SMS through Twilio, its credentials in its Secrets Manager secret."""
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    t, _ = tenant
    sid, token = twilio.add_account()
    name = f"parley/{t.id}/{uuid.uuid4().hex[:6]}"
    put_tenant_secret(name, {"twilio_account_sid": sid, "twilio_auth_token": token})
    configure_tenant(t.id, sms_provider="twilio", sms_sender="+15555550199", secret_name=name)
    return t.id, sid


def test_twilio_posts_the_message_form_with_basic_auth_and_status_callback(twilio, twilio_tenant):
    from parley.providers.twilio_sms import TwilioSmsProvider

    tenant_id, sid = twilio_tenant
    receipt = TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id, body="Interview Tue 10:00 & more"))
    (req,) = twilio.messages()
    assert req.path == f"/2010-04-01/Accounts/{sid}/Messages.json"
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert req.form == {
        "To": "+15555550100",
        "From": "+15555550199",
        "Body": "Interview Tue 10:00 & more",
        "StatusCallback": f"https://hooks.parley.example/twilio/status?tenant={tenant_id}",
    }
    assert receipt.provider == "twilio"
    assert receipt.provider_message_id.startswith("SM") and len(receipt.provider_message_id) == 34


def test_twilio_uses_the_messaging_service_when_the_tenant_has_no_number(twilio, tenant):
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.providers.twilio_sms import TwilioSmsProvider

    t, _ = tenant
    sid, token = twilio.add_account()
    name = f"parley/{t.id}/{uuid.uuid4().hex[:6]}"
    put_tenant_secret(name, {"twilio_account_sid": sid, "twilio_auth_token": token, "twilio_messaging_service_sid": "MG" + "0" * 32})
    configure_tenant(t.id, secret_name=name)
    TwilioSmsProvider(tenant_id=t.id).send(sms(tenant_id=t.id, sender=""))
    (req,) = twilio.messages()
    assert req.form["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in req.form


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(429, 20429, True), (500, 20500, True), (503, 20503, True), (400, 21211, False), (401, 20003, False), (404, 20404, False)],
)
def test_twilio_http_errors_are_classified(twilio, twilio_tenant, status, code, retryable):
    from parley.providers.twilio_sms import TwilioSmsProvider

    tenant_id, _ = twilio_tenant
    twilio.fail_next(status, code, "scripted failure")
    with pytest.raises(ProviderError) as caught:
        TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id))
    assert caught.value.retryable is retryable
    assert caught.value.ambiguous is False
    assert f"HTTP {status}" in str(caught.value) and str(code) in str(caught.value)
    assert twilio.messages() == []


def test_twilio_wrong_token_is_a_permanent_401(twilio, tenant):
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.providers.twilio_sms import TwilioSmsProvider

    t, _ = tenant
    sid, _ = twilio.add_account()
    name = f"parley/{t.id}/{uuid.uuid4().hex[:6]}"
    put_tenant_secret(name, {"twilio_account_sid": sid, "twilio_auth_token": "wrong"})
    configure_tenant(t.id, secret_name=name)
    with pytest.raises(ProviderError) as caught:
        TwilioSmsProvider(tenant_id=t.id).send(sms(tenant_id=t.id))
    assert "HTTP 401" in str(caught.value) and not caught.value.retryable


def test_twilio_read_timeout_is_ambiguous(twilio, twilio_tenant, monkeypatch):
    from parley.providers import twilio_sms

    tenant_id, _ = twilio_tenant
    monkeypatch.setattr(twilio_sms, "TIMEOUT_SECONDS", 0.3)
    twilio.stall_next(1.0)
    with pytest.raises(ProviderError) as caught:
        twilio_sms.TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id))
    assert caught.value.ambiguous is True and caught.value.retryable is False


def test_twilio_unreachable_is_retryable(twilio, twilio_tenant, monkeypatch):
    from parley.providers.twilio_sms import TwilioSmsProvider
    from parley.settings import get_settings

    tenant_id, _ = twilio_tenant
    url = twilio.url
    twilio.stop()  # nothing listens on that port any more: connection refused
    monkeypatch.setenv("TWILIO_API_URL", url)
    get_settings.cache_clear()
    with pytest.raises(ProviderError) as caught:
        TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id))
    assert caught.value.retryable is True and caught.value.ambiguous is False


def test_twilio_without_credentials_is_permanent(twilio, tenant):
    from parley.providers.twilio_sms import TwilioSmsProvider

    t, _ = tenant
    with pytest.raises(ProviderError) as caught:
        TwilioSmsProvider(tenant_id=t.id).send(sms(tenant_id=t.id))
    assert "credentials missing" in str(caught.value) and not caught.value.retryable
    assert twilio.requests == []


def test_twilio_sends_read_the_tenant_once_per_process(twilio, twilio_tenant):
    """N sends read the tenant (its secret name) once; past CACHE_SECONDS it is read again."""
    from parley.dal import keys, tenants
    from parley.dal.aws import client
    from parley.providers.twilio_sms import TwilioSmsProvider

    tenant_id, _ = twilio_tenant
    reads: list[str] = []
    client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(params["Key"]["PK"]["S"])
    )
    for _ in range(4):
        TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id))
    assert len(twilio.messages()) == 4
    assert reads.count(keys.tenant_pk(tenant_id)) == 1

    read_at, tenant = tenants._cache[tenant_id]
    tenants._cache[tenant_id] = (read_at - tenants.CACHE_SECONDS - 1, tenant)  # as if read CACHE_SECONDS ago
    TwilioSmsProvider(tenant_id=tenant_id).send(sms(tenant_id=tenant_id))
    assert reads.count(keys.tenant_pk(tenant_id)) == 2
