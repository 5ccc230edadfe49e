"""The SES v2 adapter: the request it makes, and how SES errors map to retryable / ambiguous."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from parley.providers.base import OutboundEmail, ProviderError

EMAIL = OutboundEmail(
    message_id="m-1",
    tenant_id="t-1",
    sender="no-reply@parley.example",
    sender_name="Acme Talent",
    recipient="ada@example.com",
    subject="Interview",
    html="<p>Hi</p>",
    text="Hi",
)


class FakeSes:
    def __init__(self, error=None):
        self.error = error
        self.requests = []

    def send_email(self, **params):
        self.requests.append(params)
        if self.error:
            raise self.error
        return {"MessageId": "ses-123"}


@pytest.fixture
def fake_ses(app_env, monkeypatch):
    from parley.providers import ses

    def install(error=None):
        fake = FakeSes(error)
        monkeypatch.setattr(ses, "client", lambda service, retry=True: fake)
        return fake

    return install


def _client_error(code, status):
    return ClientError({"Error": {"Code": code, "Message": "nope"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")


def test_request_shape(fake_ses):
    from parley.providers.ses import SesEmailProvider

    fake = fake_ses()
    receipt = SesEmailProvider().send(EMAIL)
    assert (receipt.provider, receipt.provider_message_id) == ("ses", "ses-123")
    (req,) = fake.requests
    assert req["FromEmailAddress"] == "Acme Talent <no-reply@parley.example>"
    assert req["Destination"] == {"ToAddresses": ["ada@example.com"]}
    simple = req["Content"]["Simple"]
    assert simple["Subject"] == {"Data": "Interview", "Charset": "UTF-8"}
    assert simple["Body"] == {"Html": {"Data": "<p>Hi</p>", "Charset": "UTF-8"}, "Text": {"Data": "Hi", "Charset": "UTF-8"}}
    assert req["EmailTags"] == [{"Name": "parley_message_id", "Value": "m-1"}, {"Name": "parley_tenant_id", "Value": "t-1"}]
    assert "ReplyToAddresses" not in req


def test_configuration_set_and_text_only(fake_ses, monkeypatch):
    from dataclasses import replace

    from parley.providers.ses import SesEmailProvider
    from parley.settings import get_settings

    monkeypatch.setenv("SES_CONFIGURATION_SET", "parley-events")
    get_settings.cache_clear()
    fake = fake_ses()
    SesEmailProvider().send(replace(EMAIL, html=None, sender_name="", reply_to="hr@parley.example"))
    (req,) = fake.requests
    assert req["ConfigurationSetName"] == "parley-events"
    assert req["FromEmailAddress"] == "no-reply@parley.example"
    assert req["ReplyToAddresses"] == ["hr@parley.example"]
    assert req["Content"]["Simple"]["Body"] == {"Text": {"Data": "Hi", "Charset": "UTF-8"}}


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        (_client_error("Throttling", 400), True, False),
        (_client_error("TooManyRequestsException", 429), True, False),
        (_client_error("InternalFailure", 500), True, False),
        (_client_error("SomethingNew", 503), True, False),
        (_client_error("MessageRejected", 400), False, False),
        (_client_error("MailFromDomainNotVerifiedException", 400), False, False),
        (ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"), False, True),
        (EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"), True, False),
    ],
)
def test_error_mapping(error, retryable, ambiguous, fake_ses):
    from parley.providers.ses import SesEmailProvider

    fake_ses(error)
    with pytest.raises(ProviderError) as raised:
        SesEmailProvider().send(EMAIL)
    assert (raised.value.retryable, raised.value.ambiguous) == (retryable, ambiguous)
    assert str(raised.value).startswith("ses ")
    assert raised.value.__cause__ is error


@pytest.mark.parametrize("failure", ["read timeout", "throttled"])
def test_a_send_is_attempted_once_at_the_http_level(failure, app_env):
    """Whatever happens on the wire, SendEmail goes out once; retries are the dispatcher's call."""
    from botocore.awsrequest import AWSResponse

    from parley.dal.aws import client
    from parley.providers.ses import SesEmailProvider

    attempts = []

    def wire(request, **kwargs):
        attempts.append(request.url)
        if failure == "read timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        raw = type("Raw", (), {"stream": lambda self, *a, **k: iter([b'{"message": "slow down"}'])})()
        return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "TooManyRequestsException"}, raw)

    ses_client = client("sesv2", retry=False)
    ses_client.meta.events.register("before-send.sesv2.SendEmail", wire)
    try:
        with pytest.raises(ProviderError):
            SesEmailProvider().send(EMAIL)
    finally:
        ses_client.meta.events.unregister("before-send.sesv2.SendEmail", wire)
    assert len(attempts) == 1
