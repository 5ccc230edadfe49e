"""Pure logic of the Twilio webhooks: keywords, the forward-only status order, URL reconstruction, form parsing."""

from __future__ import annotations

import base64

import pytest
from twilio.request_validator import RequestValidator

from helpers import load_event
from parley.domain import sms_webhooks as sw
from parley.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", (False, "STOP")), (" stop \n", (False, "STOP")), ("StopAll", (False, "STOPALL")), ("unsubscribe", (False, "UNSUBSCRIBE")),
        ("cancel", (False, "CANCEL")), ("End", (False, "END")), ("QUIT", (False, "QUIT")),
        ("start", (True, "START")), ("Unstop", (True, "UNSTOP")), (" yes ", (True, "YES")),
        ("stop please", None), ("STOP!", None), ("yes sure", None), ("", None), ("HELP", None), ("S T O P", None),
    ],
)  # fmt: skip
def test_keywords_are_whole_body_trimmed_any_case(text, expected):
    assert sw.keyword(text) == expected


def test_status_order():
    order = ["queued", "sending", "sent", "delivered", "read"]
    assert [sw.rank(s) for s in order] == sorted(sw.rank(s) for s in order)
    assert len({sw.rank(s) for s in order}) == len(order)
    assert sw.rank("delivered") == sw.rank("undelivered") == sw.rank("failed")  # final: none replaces another
    assert sw.rank("sent") < sw.rank("failed") < sw.rank("read")
    assert sw.rank("DELIVERED") == sw.rank("delivered")
    assert sw.rank("receiving") is None and sw.rank("") is None


def _event(**over):
    event = load_event("candidate/twilio_inbound")
    event.update(over)
    return event


def test_public_url_of_a_deployed_function_url():
    assert (
        sw.public_url(_event())
        == "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/?tenant=00000000-0000-4000-8000-000000000001"
    )


def test_public_url_keeps_the_raw_query_and_path():
    event = _event(rawPath="/hooks/sms", rawQueryString="tenant=t1&x=a%20b&x=c")
    assert sw.public_url(event).endswith(".on.aws/hooks/sms?tenant=t1&x=a%20b&x=c")


def test_public_url_without_host_header_uses_the_domain_name_and_defaults_to_https():
    event = _event(rawQueryString="")
    del event["headers"]["host"]
    del event["headers"]["x-forwarded-proto"]
    assert sw.public_url(event) == "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"


def test_public_url_behind_the_local_gateway():
    event = _event(rawQueryString="tenant=t1")
    event["headers"] |= {"host": "127.0.0.1:8123", "x-forwarded-proto": "http", "x-forwarded-prefix": "/_url/TwilioInboundFunction"}
    assert sw.public_url(event) == "http://127.0.0.1:8123/_url/TwilioInboundFunction/?tenant=t1"
    event["headers"] |= {"x-forwarded-proto": "gopher", "x-forwarded-prefix": "no-slash"}
    assert sw.public_url(event) == "https://127.0.0.1:8123/?tenant=t1"


@pytest.mark.parametrize(
    ("query", "tenant"),
    [
        ("tenant=abc-123", "abc-123"),
        ("", None),
        ("tenant=", None),
        ("tenant=a/b", None),
        ("tenant=" + "x" * 129, None),
        ("x=1&tenant=t_2", "t_2"),
    ],
)
def test_tenant_of(query, tenant):
    assert sw.tenant_of(_event(rawQueryString=query)) == tenant


def test_parse_form_base64_and_plain_and_repeated():
    form = sw.parse_form(_event())
    assert form.one("Body") == "STOP" and form.one("From") == "+14155550123"
    plain = sw.parse_form(_event(body="a=1&a=2&b=&c=x%2By+z", isBase64Encoded=False))
    assert plain == {"a": ["1", "2"], "b": [""], "c": ["x+y z"]}
    assert sw.parse_form(_event(body="", isBase64Encoded=False)) == {}


@pytest.mark.parametrize(
    "over",
    [
        {"body": "***", "isBase64Encoded": True},
        {"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True},
        {"body": "a=%FF", "isBase64Encoded": False},
        {"body": "no equals sign", "isBase64Encoded": False},
    ],
)
def test_parse_form_rejects_what_is_not_a_form(over):
    with pytest.raises(BadRequest):
        sw.parse_form(_event(**over))


def test_parse_form_rejects_other_media_types():
    event = _event()
    event["headers"]["content-type"] = "application/json"
    with pytest.raises(BadRequest):
        sw.parse_form(event)


def test_signature_check_matches_twilios_own_computation():
    url = "https://h.example/?tenant=t1"
    form = sw.Form({"Body": ["hi"], "From": ["+1555"], "MediaUrl0": ["u1"]})
    good = RequestValidator("tok").compute_signature(url, {"Body": "hi", "From": "+1555", "MediaUrl0": "u1"})
    assert sw.signature_valid("tok", url, form, good)
    assert sw.signature_valid("tok", "https://h.example:443/?tenant=t1", form, good)  # Twilio signs with or without the port
    assert not sw.signature_valid("other", url, form, good)
    assert not sw.signature_valid("tok", "https://h.example/?tenant=t2", form, good)
    assert not sw.signature_valid("tok", url, sw.Form({**form, "Body": ["hj"]}), good)
    assert not sw.signature_valid("tok", url, form, "")


def test_sample_events_are_signed_for_their_url():
    for name in ("twilio_inbound", "twilio_status"):
        event = load_event(f"candidate/{name}")
        assert sw.signature_valid("sample-auth-token", sw.public_url(event), sw.parse_form(event), event["headers"]["x-twilio-signature"])
