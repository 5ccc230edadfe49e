"""Battery (issue 17, helper E): forged, stale and replayed Twilio webhooks of the texting API change nothing; signed
callbacks are never made to private, loopback, link-local or metadata addresses (nor names resolving there), never
follow a redirect, and are recorded when refused; a receiver failing 3 times then succeeding gets exactly one accepted
delivery; every id route of texts, consents and receive logs is a 404 for another tenant."""

from __future__ import annotations

import socket

import pytest
from texting import INBOUND, Account, Receiver, deliver_callbacks, deliveries, dispatch_all, inbound, make_account, status_event

from helpers import api_event, body

TARGET = "+15555550123"
CREATE = "CourierTextingApi.CreateTextFunction"
STATUS = "CourierTextingApi.TextStatusCallbackFunction"


@pytest.fixture
def acct(tenant, twilio):
    return make_account(tenant[0].id, twilio)


def create(handler, a, tenant_id=None, **attrs):
    doc = {"data": {"type": "texts", "attributes": {"account-id": a.account_id, "target": TARGET, "message": "YES or NO?", **attrs}}}
    ev = api_event("courier_texting/create_text", tenant_id=tenant_id or a.tenant_id, body=doc,
                   headers={"X-User-ID": "u1", "Content-Type": "application/vnd.api+json", "Idempotency-Key": None})  # fmt: skip
    out = handler(CREATE)(ev)
    assert out["statusCode"] == 201, out
    return body(out)["data"]


def get(handler, fn, tenant_id, id_):
    """GET one resource of ``fn`` (get_text, get_user_consent, get_text_receive_log) as ``tenant_id``: (status, body)."""
    ev = api_event(f"courier_texting/{fn}", tenant_id=tenant_id, headers={"X-User-ID": "u1"})
    ev["pathParameters"] = {"id": id_}
    ev["path"] = ev["path"].rstrip("/").rsplit("/", 1)[0] + f"/{id_}"
    out = handler("CourierTextingApi." + "".join(p.capitalize() for p in fn.split("_")) + "Function")(ev)
    return out["statusCode"], body(out)


def snapshot(table_items):
    return sorted((i["PK"], i["SK"], repr(sorted(i.items()))) for i in table_items())


def test_forged_inbound_webhooks_change_nothing(handler, acct, table_items):
    create(handler, acct, **{"expected-responses": ["YES"], "callback-url": "https://example.com/hook"})
    before = snapshot(table_items)
    forged = [
        inbound(acct, TARGET, "YES", token="not-the-account-token"),  # signed with another token
        inbound(acct, TARGET, "YES", signature=""),  # unsigned
        inbound(acct, TARGET, "STOP", url="https://elsewhere.example/"),  # signed for another URL
    ]
    other = inbound(acct, TARGET, "YES")
    other["body"] = inbound(acct, TARGET, "STOP", sid="SM" + "f" * 32)["body"]  # a valid signature over another form
    forged.append(other)
    for event in forged:
        assert handler(INBOUND)(event)["statusCode"] == 403
    assert snapshot(table_items) == before


def test_an_inbound_sms_to_a_number_that_is_not_ours_is_refused(handler, acct, table_items, twilio):
    before = snapshot(table_items)
    event = inbound(acct, TARGET, "YES")
    stranger = Account(**{**acct.__dict__, "phone": "+15555550999"})  # the same account's token, to a number not routed to us
    assert handler(INBOUND)(inbound(stranger, TARGET, "YES"))["statusCode"] == 403
    assert snapshot(table_items) == before
    assert handler(INBOUND)(event)["statusCode"] == 200


def test_a_replayed_inbound_webhook_changes_nothing(handler, acct, table_items):
    create(handler, acct, **{"expected-responses": ["YES"], "callback-url": "https://example.com/hook"})
    event = inbound(acct, TARGET, "STOP", sid="SM" + "1" * 32)
    assert handler(INBOUND)(event)["statusCode"] == 200
    after_first = snapshot(table_items)
    for _ in range(3):
        assert handler(INBOUND)(event)["statusCode"] == 200
    assert snapshot(table_items) == after_first


def test_stale_and_replayed_status_callbacks_change_nothing(handler, acct, table_items):
    from parley.dal import texts

    text = create(handler, acct)
    dispatch_all(handler)
    stored = texts.get_text(acct.tenant_id, text["id"], consistent=True)
    url = stored["status_callback_url"]
    sid = get(handler, "get_text", acct.tenant_id, text["id"])[1]["data"]["attributes"]["twilio-sid"]

    def post(status, token=acct.token):
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": acct.sid}
        return handler(STATUS)(status_event(url, params, token=token, tenant_id=acct.tenant_id))["statusCode"]

    assert post("delivered") == 204
    settled = snapshot(table_items)
    assert post("delivered") == 204  # replayed
    assert post("sent") == 204  # stale
    assert post("queued") == 204  # staler
    assert post("failed") == 204  # another final state never replaces the first
    assert post("undelivered", token="forged") == 403
    assert snapshot(table_items) == settled
    assert texts.get_text(acct.tenant_id, text["id"])["twilio_status"] == "delivered"


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://192.168.0.10/hook", "private"),
        ("http://internal.example/hook", "private"),  # a name resolving to 10.0.0.7
        ("http://metadata.example/hook", "metadata"),  # a name resolving to 169.254.169.254
        ("http://localhost:9/hook", "loopback"),
    ],
)
def test_callbacks_to_private_addresses_are_refused_and_recorded(handler, acct, monkeypatch, url, why):
    real = socket.getaddrinfo
    fake_dns = {"internal.example": "10.0.0.7", "metadata.example": "169.254.169.254"}

    def resolve(host, port, *args, **kwargs):
        if host in fake_dns:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (fake_dns[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    connects = []
    real_connect = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connects.append(a) or real_connect(*a, **k))
    text = create(handler, acct, **{"callback-url": url})
    assert handler(INBOUND)(inbound(acct, TARGET, "anything"))["statusCode"] == 200
    assert deliver_callbacks(handler) == []  # refused for good: acknowledged, not retried
    (delivery,) = deliveries(acct.tenant_id, text["id"])
    assert delivery["state"] == "refused" and why in delivery["last_error"] and delivery["last_error"].startswith("refused:")
    assert connects == []


def test_a_redirect_is_not_followed(handler, acct, monkeypatch):
    r = Receiver(answer_status=302).start()
    monkeypatch.setenv("TEXT_CALLBACK_ALLOW", f"127.0.0.1:{r.port}")
    from parley.settings import get_settings

    get_settings.cache_clear()
    try:
        text = create(handler, acct, **{"callback-url": r.url})
        handler(INBOUND)(inbound(acct, TARGET, "hi"))
        assert deliver_callbacks(handler) == []
        assert [q["path"] for q in r.requests] == ["/hook?x=1"]  # never /elsewhere
        (delivery,) = deliveries(acct.tenant_id, text["id"])
        assert delivery["state"] == "failed" and "redirects are not followed" in delivery["last_error"]
    finally:
        r.stop()
        get_settings.cache_clear()


def test_a_receiver_failing_three_times_then_succeeding_gets_exactly_one_accepted_delivery(handler, acct, monkeypatch):
    from parley.dal import text_callbacks as plumbing
    from parley.domain import text_callbacks

    r = Receiver(failures=3, fail_with=503).start()
    monkeypatch.setenv("TEXT_CALLBACK_ALLOW", f"127.0.0.1:{r.port}")
    from parley.settings import get_settings

    get_settings.cache_clear()
    try:
        text = create(handler, acct, **{"callback-url": r.url, "expected-responses": ["YES"], "callback-json": {"n": 1}})
        handler(INBOUND)(inbound(acct, TARGET, "yes"))
        failures = deliver_callbacks(handler, rounds=10)
        assert len(failures) == 3
        assert len(r.requests) == 4
        (delivery,) = deliveries(acct.tenant_id, text["id"])
        assert delivery["state"] == "delivered" and delivery["attempts"] == 4
        ids = {q["headers"]["Parley-Delivery-Id"] for q in r.requests}
        assert ids == {delivery["id"]}  # one delivery, retried: the receiver can tell the retries apart from new ones
        secret = plumbing.signing_secret(acct.tenant_id)
        assert all(text_callbacks.verify(secret, q["headers"]["Parley-Signature"], q["body"]) for q in r.requests)
        assert deliver_callbacks(handler, rounds=3) == [] and len(r.requests) == 4  # nothing left to deliver
    finally:
        r.stop()
        get_settings.cache_clear()


def test_backoff_grows_and_is_set_on_the_job():
    from parley.domain import text_callbacks

    assert [text_callbacks.backoff_seconds(n) for n in (1, 2, 3, 4, 8, 20)] == [10, 20, 40, 80, 900, 900]


def test_every_id_route_is_a_404_for_another_tenant(handler, acct, other_tenant, twilio):
    o, _ = other_tenant
    text = create(handler, acct)
    handler(INBOUND)(inbound(acct, TARGET, "hello", sid="SM" + "9" * 32))
    from parley.dal import texts

    consent_args = {"account-id": acct.account_id, "messages": {"initial": "Reply YES"}}
    ev = api_event("courier_texting/create_user_consent", tenant_id=acct.tenant_id,
                   body={"data": {"type": "user-consents", "attributes": {"target-id": "+15555550155", "args": consent_args}}},
                   headers={"X-User-ID": "u1", "Content-Type": "application/vnd.api+json", "Idempotency-Key": None})  # fmt: skip
    consent = body(handler("CourierTextingApi.CreateUserConsentFunction")(ev))["data"]
    for fn, id_ in (("get_text", text["id"]), ("get_user_consent", consent["id"]), ("get_text_receive_log", "SM" + "9" * 32)):
        for tenant_id, expected in ((o.id, 404), (acct.tenant_id, 200)):
            assert get(handler, fn, tenant_id, id_)[0] == expected, (fn, tenant_id)
    assert texts.get_text(o.id, text["id"]) is None


def test_a_status_report_at_the_inbound_webhook_is_no_inbound_sms(handler, acct, table_items):
    from texting import form_event

    before = snapshot(table_items)
    params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered", "SmsStatus": "delivered", "From": acct.phone, "To": TARGET,
              "AccountSid": acct.sid}  # fmt: skip
    assert handler(INBOUND)(form_event(params, token=acct.token))["statusCode"] == 200
    assert snapshot(table_items) == before
