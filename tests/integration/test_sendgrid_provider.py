"""The SendGrid provider against a local fake of the Mail Send API, and the dispatcher sending through it."""

from __future__ import annotations

import socket

import pytest
from fakes.sendgrid_api import FakeSendGrid

from helpers import api_event, body, through_queue
from parley_local.workers import _sqs_record

KEY = "SG.test-key"


@pytest.fixture
def sendgrid():
    with FakeSendGrid(api_keys={KEY}) as fake:
        yield fake


def outbound(**over):
    from parley.providers.base import OutboundEmail

    fields = dict(
        message_id="m-1",
        tenant_id="t-1",
        sender="no-reply@parley.example",
        sender_name="Acme Talent",
        recipient="ada@example.com",
        subject="Interview",
        html="<p>Hi <b>Ada</b></p>",
        text="Hi Ada",
        reply_to="reply+c1@in.parley.example",
    )
    fields.update(over)
    return OutboundEmail(**fields)


def provider(url, **kw):
    from parley.providers.sendgrid import SendGridEmailProvider

    return SendGridEmailProvider(tenant_id="t-1", api_key=kw.pop("api_key", KEY), base_url=url, **kw)


def test_send_posts_mail_send_and_returns_the_x_message_id(sendgrid):
    receipt = provider(sendgrid.url).send(outbound())
    (req,) = sendgrid.requests
    assert (req.method, req.path, req.status) == ("POST", "/v3/mail/send", 202)
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.headers["Content-Type"] == "application/json"
    assert req.json == {
        "personalizations": [{"to": [{"email": "ada@example.com"}]}],
        "from": {"email": "no-reply@parley.example", "name": "Acme Talent"},
        "reply_to": {"email": "reply+c1@in.parley.example"},
        "subject": "Interview",
        "content": [{"type": "text/plain", "value": "Hi Ada"}, {"type": "text/html", "value": "<p>Hi <b>Ada</b></p>"}],
        "custom_args": {"parley_message_id": "m-1", "parley_tenant_id": "t-1"},
        "categories": ["m-1"],
    }
    assert receipt.provider == "sendgrid"
    assert receipt.provider_message_id == req.message_id


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (403, False), (413, False)])
def test_http_errors_are_classified(sendgrid, status, retryable):
    from parley.providers.base import ProviderError

    sendgrid.fail_next(status, "scripted")
    with pytest.raises(ProviderError) as err:
        provider(sendgrid.url).send(outbound())
    assert err.value.retryable is retryable
    assert err.value.ambiguous is False
    assert f"HTTP {status}" in str(err.value) and "scripted" in str(err.value)


def test_a_wrong_key_is_a_permanent_failure(sendgrid):
    from parley.providers.base import ProviderError

    with pytest.raises(ProviderError, match="HTTP 401") as err:
        provider(sendgrid.url, api_key="SG.wrong").send(outbound())
    assert not err.value.retryable


def test_read_timeout_is_ambiguous_never_retried(sendgrid):
    from parley.providers.base import ProviderError

    sendgrid.delay_next(1.0)
    with pytest.raises(ProviderError) as err:
        provider(sendgrid.url, timeout=0.2).send(outbound())
    assert err.value.ambiguous is True and err.value.retryable is False
    assert len(sendgrid.requests) == 1  # it did reach SendGrid: it may have been sent


def test_connection_refused_is_retryable():
    from parley.providers.base import ProviderError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    with pytest.raises(ProviderError) as err:
        provider(f"http://127.0.0.1:{port}").send(outbound())
    assert err.value.retryable is True and err.value.ambiguous is False


def test_key_comes_from_the_tenant_secret(app_env, tenant, sendgrid):
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.providers.base import ProviderError
    from parley.providers.sendgrid import SendGridEmailProvider

    t, _ = tenant
    with pytest.raises(ProviderError, match="no sendgrid_api_key") as err:
        SendGridEmailProvider(tenant_id=t.id, base_url=sendgrid.url).send(outbound(tenant_id=t.id))
    assert not err.value.retryable
    assert sendgrid.requests == []
    put_tenant_secret(f"parley/{t.id}", {"sendgrid_api_key": KEY})
    configure_tenant(t.id, secret_name=f"parley/{t.id}")
    SendGridEmailProvider(tenant_id=t.id, base_url=sendgrid.url).send(outbound(tenant_id=t.id))
    assert len(sendgrid.sends()) == 1


def test_dispatcher_sends_a_sendgrid_tenants_email_once_and_events_find_it(handler, tenant, send_queue, drain, sendgrid, monkeypatch):
    from parley.dal import messages
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.models.domain import MessageStatus

    t, _ = tenant
    put_tenant_secret(f"parley/{t.id}", {"sendgrid_api_key": KEY})
    configure_tenant(t.id, email_provider="sendgrid", secret_name=f"parley/{t.id}")
    monkeypatch.setenv("SENDGRID_API_URL", sendgrid.url)

    event = api_event(
        "candidate/send_email",
        tenant_id=t.id,
        body={"subject": "Your interview", "emailContent": "<p>Hi Ada</p>", "toEmail": "ada@example.com"},
        headers={"Idempotency-Key": None},
    )
    event["requestContext"]["authorizer"]["emailProvider"] = "sendgrid"  # what the authorizer reports for this tenant now
    out = handler("CandidateApi.SendEmailFunction")(event)
    assert out["statusCode"] == 200, out
    mid = body(out)["data"]["emailActivityId"]

    dispatcher = handler("root.DispatcherFunction")  # loads its env after ours: keep the fake's URL
    monkeypatch.setenv("SENDGRID_API_URL", sendgrid.url)
    from parley.settings import get_settings

    get_settings.cache_clear()
    arn, url = send_queue
    (sqs_msg,) = drain(url)
    record = _sqs_record(sqs_msg, arn)
    assert dispatcher({"Records": [record, record]}) == {"batchItemFailures": []}

    (req,) = sendgrid.requests
    assert req.status == 202
    assert req.json["custom_args"] == {"parley_message_id": mid, "parley_tenant_id": t.id}
    assert req.json["content"][0] == {"type": "text/plain", "value": "Hi Ada"}
    msg = messages.get(t.id, mid, load_body=False)
    assert msg.status == MessageStatus.SENT
    assert msg.provider == "sendgrid"
    assert msg.provider_message_id == req.message_id
    assert messages.find_by_provider_id(t.id, "sendgrid", req.message_id) == mid

    # an Event Webhook event carrying only SendGrid's id finds the message through the lookup
    delivered = {
        "event": "delivered",
        "email": "ada@example.com",
        "timestamp": 1717667043,
        "sg_event_id": "d-1",
        "sg_message_id": f"{req.message_id}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
    }
    res = through_queue(handler, "CandidateApi.ReceiveEventsFunction")(
        api_event("candidate/receive_events", tenant_id=t.id, body=[delivered])
    )
    assert res["statusCode"] == 200
    msg, events = messages.get_with_events(t.id, mid)
    assert sorted(e.event for e in events) == ["delivered", "sent"]
    assert msg.delivery_status == "DELIVERED"


def test_sends_read_the_tenant_once_per_process(app_env, tenant, sendgrid):
    """N sends of one tenant read its item (which names its secret) and its secret once: both are cached
    for the process (tenants.cached, powertools Parameters) until CACHE_SECONDS pass or the tenant changes."""
    from parley.dal import keys, tenants
    from parley.dal.aws import client
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.providers.sendgrid import SendGridEmailProvider

    t, _ = tenant
    put_tenant_secret(f"parley/{t.id}", {"sendgrid_api_key": KEY})
    configure_tenant(t.id, secret_name=f"parley/{t.id}")
    reads: list[str] = []

    def count(params, **_):
        reads.append(params["Key"]["PK"]["S"] if "Key" in params else params.get("SecretId", ""))

    client("dynamodb").meta.events.register("provide-client-params.dynamodb.GetItem", count)
    client("secretsmanager").meta.events.register("provide-client-params.secrets-manager.GetSecretValue", count)
    for n in range(5):
        SendGridEmailProvider(tenant_id=t.id, base_url=sendgrid.url).send(outbound(tenant_id=t.id, message_id=f"m-{n}"))
    assert len(sendgrid.sends()) == 5
    assert reads.count(keys.tenant_pk(t.id)) == 1 and reads.count(f"parley/{t.id}") == 1

    configure_tenant(t.id, sender_name="Acme")  # a change made in this process is seen at once
    SendGridEmailProvider(tenant_id=t.id, base_url=sendgrid.url).send(outbound(tenant_id=t.id))
    assert reads.count(keys.tenant_pk(t.id)) == 3  # configure_tenant's own read, then the send's
    assert tenants.cached(t.id).sender_name == "Acme"
