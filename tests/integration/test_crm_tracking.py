"""GET /api/v1/communications/track/{token} and /link/{token}/{linkIndex} on moto: records instrumented by
domain/tracking.prepare, stored and queued by the real send path, sent by the dispatcher, then opened and
clicked through the handlers (with no authorizer context, as API Gateway calls them: Auth NONE)."""

from __future__ import annotations

import base64
import copy
import re

import pytest

from helpers import api_event, body

PIXEL = "CrmApi.TrackPixelFunction"
LINK = "CrmApi.LinkClickFunction"
BASE = "https://crm.parley.example/v1"
TEMPLATE_ID = "tpl-quote"

HTML = (
    '<html><body><p>Dear Ada, <a href="https://shop.example/offer?id=7&amp;lang=nl">your offer</a>, '
    "<a href='https://docs.example/terms'>terms</a>, <a href=\"mailto:sales@example.com\">mail us</a>.</p></body></html>"
)


@pytest.fixture
def caller(app_env, tenant):
    from parley.domain.context import Caller

    t, _ = tenant
    return Caller.of(t)


def sent_record(caller, *, tracking=True, links=True, html=HTML, category="OFFERTE", template=(TEMPLATE_ID, "Quote"), dispatch=True):
    """A CRM record through the real path: prepare → store + queue → token lookup → dispatcher (SENT)."""
    from parley.dal import messages
    from parley.domain import dispatch as dispatcher
    from parley.domain import emails
    from parley.domain import tracking as instrument
    from parley.models.domain import MessageStatus, SendJob

    msg = emails.new_outbound_email(caller, source_api="crm", recipient="ada@example.com", subject="Your offer", body=html)
    msg = msg.model_copy(
        update={
            "recipients": ["ada@example.com"],
            "category": category,
            "template_id": template[0] if template else None,
            "template_name": template[1] if template else None,
            "tracking_enabled": tracking,
            "link_tracking_enabled": links,
        }
    )
    msg = instrument.prepare(msg, BASE)
    emails.submit(msg)
    instrument.register(msg)
    if dispatch:
        out = dispatcher.dispatch(SendJob(tenant_id=msg.tenant_id, message_id=msg.id), receive_count=1)
        assert out.result == "sent"
    stored = messages.get(msg.tenant_id, msg.id)
    assert stored.status == (MessageStatus.SENT if dispatch else MessageStatus.QUEUED)
    return stored


def stored(msg):
    from parley.dal import messages

    return messages.get(msg.tenant_id, msg.id, load_body=False)


def day_counters(msg):
    from parley.dal import counters

    day = msg.sent_at.strftime("%Y-%m-%d")
    items = counters.days(msg.tenant_id, day, day)
    return items[0] if items else {}


def pixel_event(token, query=None):
    event = api_event("crm/track_pixel", query=query)
    event["pathParameters"] = {"id": token}
    event["path"] = f"/api/v1/communications/track/{token}"
    event["requestContext"].pop("authorizer", None)  # Auth NONE: API Gateway runs no authorizer
    return event


def link_event(token, index, query=None):
    event = api_event("crm/link_click", query=query)
    event["pathParameters"] = {"id": token, "linkIndex": str(index)}
    event["path"] = f"/api/v1/communications/link/{token}/{index}"
    event["requestContext"].pop("authorizer", None)  # Auth NONE: API Gateway runs no authorizer
    return event


def header(out, name):
    headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
    for k, values in (out.get("multiValueHeaders") or {}).items():
        headers.setdefault(k.lower(), ", ".join(values))
    return headers.get(name.lower())


def assert_crm_404(out):
    assert out["statusCode"] == 404, out
    err = body(out)
    assert set(err) == {"title", "detail", "time"}
    assert err["title"] == "Not Found"
    assert header(out, "Location") is None


# ── the stored email ──


def test_sent_email_carries_the_pixel_and_rewritten_links(caller, sent_emails):
    msg = sent_record(caller)
    token = msg.track_token
    assert token and len(token) >= 22 and token != msg.id
    assert msg.original_body == HTML
    assert f'<img src="{BASE}/api/v1/communications/track/{token}" width="1" height="1" alt="" style="display:none"></body>' in msg.body
    assert [(link.original_url, link.url, link.click_count) for link in msg.links] == [
        ("https://shop.example/offer?id=7&lang=nl", f"{BASE}/api/v1/communications/link/{token}/0", 0),
        ("https://docs.example/terms", f"{BASE}/api/v1/communications/link/{token}/1", 0),
    ]
    assert 'href="mailto:sales@example.com"' in msg.body
    assert "shop.example" not in msg.body and "docs.example" not in msg.body
    # what SES was given is the instrumented HTML
    (sent,) = sent_emails()
    assert f"/api/v1/communications/track/{token}" in sent.body
    assert f"/api/v1/communications/link/{token}/1" in sent.body
    # the lookup item: token → tenant and record
    from parley.dal import keys, table

    item = table.get(keys.track_pk(token), keys.TRACK_SK)
    assert item["tenant_id"] == msg.tenant_id and item["message_id"] == msg.id


# ── the pixel ──


def test_pixel_returns_an_uncacheable_gif_and_counts_the_first_open_once(handler, caller):
    msg = sent_record(caller)
    before = day_counters(msg)
    assert before.get("sent") == 1 and "opened" not in before

    first = handler(PIXEL)(pixel_event(msg.track_token))
    assert first["statusCode"] == 200, first
    assert first["isBase64Encoded"] is True
    gif = base64.b64decode(first["body"])
    assert gif[:6] == b"GIF89a" and len(gif) == 43
    assert header(first, "Content-Type") == "image/gif"
    assert header(first, "Cache-Control") == "no-cache, no-store, must-revalidate, private, max-age=0"
    assert header(first, "Pragma") == "no-cache"
    assert header(first, "Expires") == "0"

    after_one = stored(msg)
    assert after_one.open_count == 1
    assert after_one.opened_at is not None and after_one.updated_at is not None
    counted = day_counters(msg)
    assert counted["opened"] == 1
    assert counted["t:OFFERTE:opened"] == 1 and counted[f"p:{TEMPLATE_ID}:opened"] == 1
    assert counted[f"p:{TEMPLATE_ID}:name"] == "Quote"

    second = handler(PIXEL)(pixel_event(msg.track_token))
    assert second["statusCode"] == 200
    after_two = stored(msg)
    assert after_two.open_count == 2
    assert after_two.opened_at == after_one.opened_at  # the first open's time stays
    again = day_counters(msg)
    assert again["opened"] == 1 and again["t:OFFERTE:opened"] == 1  # a second open is not a second opened email
    assert again["sent"] == 1


def test_first_open_is_counted_once_when_two_opens_race(caller):
    """Two opens that both read the record before either wrote: only the update that finds no opened_at
    (ALL_OLD) bumps the counter, whichever order DynamoDB applies them in."""
    from parley.domain import tracking

    msg = sent_record(caller)
    assert stored(msg).opened_at is None
    assert tracking.open_pixel(msg.track_token) is True
    assert tracking.open_pixel(msg.track_token) is True
    assert stored(msg).open_count == 2
    assert day_counters(msg)["opened"] == 1


def test_unknown_or_malformed_token_is_404_and_changes_nothing(handler, caller, table_items):
    msg = sent_record(caller)
    snapshot = sorted(map(repr, table_items()))
    for token in ("A" * 22, msg.id, "short", "bad token with spaces!!", msg.track_token + "x"):
        assert_crm_404(handler(PIXEL)(pixel_event(token)))
        assert_crm_404(handler(LINK)(link_event(token, 0)))
    assert sorted(map(repr, table_items())) == snapshot


def test_pixel_of_a_record_not_sent_is_a_gif_but_not_counted(handler, caller):
    msg = sent_record(caller, dispatch=False)  # still QUEUED
    out = handler(PIXEL)(pixel_event(msg.track_token))
    assert out["statusCode"] == 200
    assert base64.b64decode(out["body"])[:6] == b"GIF89a"
    now = stored(msg)
    assert now.open_count == 0 and now.opened_at is None

    click = handler(LINK)(link_event(msg.track_token, 0))
    assert click["statusCode"] == 302
    assert header(click, "Location") == "https://shop.example/offer?id=7&lang=nl"
    assert stored(msg).links[0].click_count == 0

    from parley.dal import counters

    day = msg.created_at.strftime("%Y-%m-%d")
    assert all("opened" not in d and "clicked" not in d for d in counters.days(msg.tenant_id, day, day))


def test_deleted_record_token_is_404(handler, caller):
    from parley.dal import records

    msg = sent_record(caller)
    assert records.delete_record(stored(msg))
    assert_crm_404(handler(PIXEL)(pixel_event(msg.track_token)))
    assert_crm_404(handler(LINK)(link_event(msg.track_token, 0)))


# ── the links ──


def test_click_redirects_to_the_stored_url_only_and_counts(handler, caller):
    msg = sent_record(caller)
    # nothing from the request reaches the Location header
    out = handler(LINK)(link_event(msg.track_token, 0, query={"url": "https://evil.example/", "redirect": "https://evil.example/"}))
    assert out["statusCode"] == 302, out
    assert header(out, "Location") == "https://shop.example/offer?id=7&lang=nl"
    assert header(out, "Cache-Control") == "no-store"
    assert header(out, "Referrer-Policy") == "no-referrer"

    now = stored(msg)
    assert now.links[0].click_count == 1 and now.links[0].clicked_at is not None
    assert now.links[1].click_count == 0 and now.links[1].clicked_at is None
    # a click on a never-opened email is its open too (the image may have been blocked)
    assert now.open_count == 1 and now.opened_at == now.links[0].clicked_at
    counted = day_counters(msg)
    assert counted["clicked"] == 1 and counted["t:OFFERTE:clicked"] == 1 and counted[f"p:{TEMPLATE_ID}:clicked"] == 1
    assert counted["opened"] == 1

    # another click, and a click on the other link: more clicks, still one clicked (and opened) email
    for index in (0, 1):
        again = handler(LINK)(link_event(msg.track_token, index))
        assert again["statusCode"] == 302
    assert header(again, "Location") == "https://docs.example/terms"
    now = stored(msg)
    assert [link.click_count for link in now.links] == [2, 1]
    assert now.open_count == 1  # only the first click stood in for an open
    counted = day_counters(msg)
    assert counted["clicked"] == 1 and counted["opened"] == 1

    # a later pixel load: an open, but not a newly opened email
    assert handler(PIXEL)(pixel_event(msg.track_token))["statusCode"] == 200
    assert stored(msg).open_count == 2
    assert day_counters(msg)["opened"] == 1


def test_click_after_an_open_does_not_add_an_open(handler, caller):
    msg = sent_record(caller)
    handler(PIXEL)(pixel_event(msg.track_token))
    opened_at = stored(msg).opened_at
    assert handler(LINK)(link_event(msg.track_token, 1))["statusCode"] == 302
    now = stored(msg)
    assert now.open_count == 1 and now.opened_at == opened_at
    assert now.links[1].click_count == 1
    counted = day_counters(msg)
    assert counted["opened"] == 1 and counted["clicked"] == 1


@pytest.mark.parametrize("index", ["2", "99", "-1", "01", "1.0", "1234567", "2147483647"])
def test_link_index_that_is_not_an_existing_link_is_404(handler, caller, index):
    msg = sent_record(caller)
    out = handler(LINK)(link_event(msg.track_token, index))
    assert_crm_404(out)
    now = stored(msg)
    assert [link.click_count for link in now.links] == [0, 0] and now.open_count == 0
    assert "clicked" not in day_counters(msg)


@pytest.mark.parametrize("index", ["abc", "1.5", "2147483648", "9999999999999", "-2147483649"])
def test_link_index_that_is_not_an_int32_is_400(handler, caller, index):
    # The seed types the index int32: what a Java int cannot hold is a bad request, not an unknown link.
    msg = sent_record(caller)
    out = handler(LINK)(link_event(msg.track_token, index))
    assert out["statusCode"] == 400, out
    payload = body(out)
    assert set(payload) == {"title", "detail", "time"} and payload["title"] == "Bad Request"
    assert payload["detail"].startswith("linkIndex: ")
    now = stored(msg)
    assert [link.click_count for link in now.links] == [0, 0] and now.open_count == 0


def test_pixel_only_email_has_no_click_links(handler, caller):
    msg = sent_record(caller, links=False)
    assert msg.links == [] and "https://shop.example/offer?id=7&amp;lang=nl" in msg.body
    assert f"/api/v1/communications/track/{msg.track_token}" in msg.body
    assert_crm_404(handler(LINK)(link_event(msg.track_token, 0)))


def test_link_only_email_has_no_pixel(handler, caller):
    msg = sent_record(caller, tracking=False)
    assert "/api/v1/communications/track/" not in msg.body
    assert len(msg.links) == 2
    out = handler(LINK)(link_event(msg.track_token, 1))
    assert header(out, "Location") == "https://docs.example/terms"


def test_untracked_email_has_no_token(caller):
    from parley.dal import keys, table

    msg = sent_record(caller, tracking=False, links=False)
    assert msg.track_token is None and msg.links == []
    assert msg.body == msg.original_body == HTML
    assert not [i for i in table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=keys.track_pk("x")))]


def test_plain_text_body_with_tracking_becomes_html_and_keeps_its_text_part(handler, caller, sent_emails):
    text = "Hi Ada,\nyour offer: https://shop.example/o/7.\nRegards <Sales>"
    msg = sent_record(caller, html=text)
    assert msg.original_body == text and msg.body_text == text
    assert msg.body.startswith("<html><body><div>Hi Ada,<br>")
    assert "Regards &lt;Sales&gt;" in msg.body
    assert [link.original_url for link in msg.links] == ["https://shop.example/o/7"]
    (sent,) = sent_emails()
    assert f"/api/v1/communications/track/{msg.track_token}" in sent.body
    out = handler(LINK)(link_event(msg.track_token, 0))
    assert header(out, "Location") == "https://shop.example/o/7"


def test_the_token_lookup_survives_only_with_its_record(handler, caller, table_items):
    """The token item is the record's: one per tracked record, under TRACK#<token>."""
    msg = sent_record(caller)
    other = sent_record(caller)
    tracks = [i for i in table_items() if i["PK"].startswith("TRACK#")]
    assert sorted(i["PK"] for i in tracks) == sorted([f"TRACK#{msg.track_token}", f"TRACK#{other.track_token}"])
    assert all(i["SK"] == "TRACK" and i["type"] == "track" for i in tracks)
    event = copy.deepcopy(pixel_event(other.track_token))
    assert handler(PIXEL)(event)["statusCode"] == 200
    assert stored(other).open_count == 1 and stored(msg).open_count == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", msg.track_token)


def test_a_click_racing_a_first_open_does_not_count_a_second_first_open(caller):
    """The click read the record before a pixel load opened it: its open-and-click update (conditional on
    no opened_at) fails, the click alone is recorded, and "opened" stays counted once."""
    from parley import clock
    from parley.dal import tracking as store
    from parley.domain import tracking

    msg = sent_record(caller)
    stale = stored(msg)
    assert stale.opened_at is None
    assert tracking.open_pixel(msg.track_token)  # lands between the click's read and its write
    recorded = store.record_click(msg.tenant_id, msg.id, 0, clock.now(), maybe_first_open=stale.opened_at is None)
    assert recorded.counted and recorded.first_click and not recorded.first_open
    now = stored(msg)
    assert now.open_count == 1 and now.links[0].click_count == 1
    # and a click that finds no such link (the index checked against a stale read) records nothing
    missing = store.record_click(msg.tenant_id, msg.id, 5, clock.now(), maybe_first_open=False)
    assert not missing.counted
    assert [link.click_count for link in stored(msg).links] == [1, 0]
