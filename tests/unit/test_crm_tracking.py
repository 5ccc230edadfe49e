"""Instrumenting outbound HTML for open/click tracking (domain/tracking.prepare), without AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from parley.domain import tracking
from parley.domain.analytics import parse_bound
from parley.errors import BadRequest
from parley.models.domain import Message, MessageStatus

BASE = "https://crm.example/v1"


def message(body: str, *, pixel: bool = True, links: bool = True) -> Message:
    return Message(
        tenant_id="t1",
        id="m1",
        channel="email",
        direction="outbound",
        status=MessageStatus.QUEUED,
        source_api="crm",
        sender="no-reply@parley.example",
        recipient="ada@example.com",
        subject="Hi",
        body=body,
        conversation_id="m1",
        provider="ses",
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
        tracking_enabled=pixel,
        link_tracking_enabled=links,
    )


def link(token: str, i: int) -> str:
    return f"{BASE}/api/v1/communications/link/{token}/{i}"


def pixel(token: str) -> str:
    return f'<img src="{BASE}/api/v1/communications/track/{token}" width="1" height="1" alt="" style="display:none">'


def test_links_are_rewritten_in_order_and_the_pixel_goes_before_body_end():
    html = (
        '<html><body><p><a href="https://a.example/x">A</a> <a href="http://b.example/y?q=1">B</a></p>'
        '<a href="https://a.example/x">A again</a></body></html>'
    )
    out = tracking.prepare(message(html), BASE)
    t = out.track_token
    assert out.original_body == html
    assert out.body == (
        f'<html><body><p><a href="{link(t, 0)}">A</a> <a href="{link(t, 1)}">B</a></p>'
        f'<a href="{link(t, 2)}">A again</a>{pixel(t)}</body></html>'
    )
    assert [(x.url, x.original_url, x.click_count, x.clicked_at) for x in out.links] == [
        (link(t, 0), "https://a.example/x", 0, None),
        (link(t, 1), "http://b.example/y?q=1", 0, None),
        (link(t, 2), "https://a.example/x", 0, None),
    ]
    # a new token for every email
    assert tracking.prepare(message(html), BASE).track_token != t


@pytest.mark.parametrize(
    "href",
    [
        "mailto:sales@example.com",
        "tel:+31201234567",
        "#top",
        "/relative/path",
        "relative.html",
        "//cdn.example/protocol-relative",
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "java&#x09;script:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://files.example/x",
        "https:\\\\evil.example/",
        "https:///no-host",
        "",
    ],
)
def test_hrefs_that_are_not_absolute_http_urls_are_left_alone(href):
    html = f'<html><body><a href="{href}">x</a></body></html>'
    out = tracking.prepare(message(html), BASE)
    assert out.links == []
    assert f'<a href="{href}">x</a>' in out.body
    assert "/api/v1/communications/link/" not in out.body


def test_attribute_quoting_and_entities():
    html = (
        "<body><A HREF='https://a.example/?x=1&amp;y=2' class=btn>1</A>"
        '<a class="c" href=https://b.example/plain>2</a>'
        '<a data-href="https://nope.example/" title="href=https://nope.example/" href = " https://c.example/sp " >3</a>'
        '<a href="https://d.example/&quot;onmouseover=&quot;alert(1)">4</a></body>'
    )
    out = tracking.prepare(message(html, pixel=False), BASE)
    t = out.track_token
    assert [x.original_url for x in out.links] == [
        "https://a.example/?x=1&y=2",  # entities decoded: the URL a browser would open
        "https://b.example/plain",
        "https://c.example/sp",
        'https://d.example/"onmouseover="alert(1)',
    ]
    assert out.body == (
        f'<body><A HREF="{link(t, 0)}" class=btn>1</A>'
        f'<a class="c" href="{link(t, 1)}">2</a>'
        f'<a data-href="https://nope.example/" title="href=https://nope.example/" href = "{link(t, 2)}" >3</a>'
        f'<a href="{link(t, 3)}">4</a></body>'
    )


def test_links_in_comments_scripts_and_styles_are_not_touched():
    html = (
        "<html><head><style>a[href='https://s.example/']{color:red}</style></head><body>"
        '<!-- <a href="https://comment.example/">old</a> -->'
        "<script>document.write('<a href=\"https://script.example/\">x</a>')</script>"
        '<a href="https://real.example/">real</a></body></html>'
    )
    out = tracking.prepare(message(html), BASE)
    assert [x.original_url for x in out.links] == ["https://real.example/"]
    for untouched in ("https://s.example/", "https://comment.example/", "https://script.example/"):
        assert untouched in out.body


def test_only_the_first_of_duplicate_hrefs_counts_like_in_a_browser():
    out = tracking.prepare(message('<a href="https://first.example/" href="https://second.example/">x</a>', pixel=False), BASE)
    assert [x.original_url for x in out.links] == ["https://first.example/"]
    assert 'href="https://second.example/"' in out.body


def test_pixel_placement_without_body_end():
    no_body = tracking.prepare(message("<p>Hello <b>there</b></p>", links=False), BASE)
    assert no_body.body == "<p>Hello <b>there</b></p>" + pixel(no_body.track_token)
    html_only = tracking.prepare(message("<html><p>Hi</p></HTML>", links=False), BASE)
    assert html_only.body == "<html><p>Hi</p>" + pixel(html_only.track_token) + "</HTML>"
    upper = tracking.prepare(message("<BODY><p>Hi</p></BODY >", links=False), BASE)
    assert upper.body == "<BODY><p>Hi</p>" + pixel(upper.track_token) + "</BODY >"


def test_flags_choose_pixel_and_links_independently():
    html = '<body><a href="https://a.example/">a</a></body>'
    only_pixel = tracking.prepare(message(html, links=False), BASE)
    assert only_pixel.links == [] and 'href="https://a.example/"' in only_pixel.body and pixel(only_pixel.track_token) in only_pixel.body
    only_links = tracking.prepare(message(html, pixel=False), BASE)
    assert len(only_links.links) == 1 and "/track/" not in only_links.body
    neither = tracking.prepare(message(html, pixel=False, links=False), BASE)
    assert neither.track_token is None and neither.links == []
    assert neither.body == neither.original_body == html


def test_tokens_are_unguessable_and_not_the_record_id():
    tokens = {tracking.prepare(message("<p>x</p>"), BASE).track_token for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", t) for t in tokens)  # >= 128 random bits
    assert "m1" not in tokens


def test_plain_text_becomes_minimal_html_with_its_text_kept_for_the_text_part():
    text = "Hi <Ada> & co,\nsee https://shop.example/o?id=1&x=2.\r\nOr (https://en.example/wiki/A_(b)).\nmailto:x@y.z"
    out = tracking.prepare(message(text), BASE)
    t = out.track_token
    assert out.original_body == text and out.body_text == text
    assert out.body == (
        "<html><body><div>Hi &lt;Ada&gt; &amp; co,<br>\n"
        f'see <a href="{link(t, 0)}">https://shop.example/o?id=1&amp;x=2</a>.<br>\n'
        f'Or (<a href="{link(t, 1)}">https://en.example/wiki/A_(b)</a>).<br>\n'
        f"mailto:x@y.z</div>{pixel(t)}</body></html>"
    )
    assert [x.original_url for x in out.links] == ["https://shop.example/o?id=1&x=2", "https://en.example/wiki/A_(b)"]


def test_plain_text_keeps_a_stored_text_alternative():
    msg = message("plain https://a.example/").model_copy(update={"body_text": "the template's own text"})
    assert tracking.prepare(msg, BASE).body_text == "the template's own text"


def test_links_already_pointing_at_our_redirect_are_not_wrapped_again():
    first = tracking.prepare(message('<a href="https://a.example/">a</a>', pixel=False), BASE)
    again = tracking.prepare(message(first.body, pixel=False), BASE)
    assert again.links == []
    assert link(first.track_token, 0) in again.body


def test_limits_keep_the_record_item_small():
    many = "".join(f'<a href="https://a.example/{i}">{i}</a>' for i in range(tracking.MAX_LINKS + 20))
    out = tracking.prepare(message(many, pixel=False), BASE)
    assert len(out.links) == tracking.MAX_LINKS
    assert 'href="https://a.example/100"' in out.body  # beyond the limit: untracked, not broken
    long_url = "https://a.example/" + "x" * tracking.MAX_URL
    out = tracking.prepare(message(f'<a href="{long_url}">x</a>', pixel=False), BASE)
    assert out.links == [] and long_url in out.body


def test_malformed_html_still_gets_its_pixel_and_parsable_links():
    html = '<p><a href="https://ok.example/">ok</a><a href="https://broken.example/ <div><<<</p'
    out = tracking.prepare(message(html), BASE)
    assert [x.original_url for x in out.links] == ["https://ok.example/"]
    assert out.body.endswith(pixel(out.track_token))


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("7", 7), ("123456", 123456), ("-1", None), ("01", None), ("1.0", None),
                                               ("", None), ("1e3", None), (" 1", None), ("1234567", None)])  # fmt: skip
def test_link_index_is_a_canonical_non_negative_integer(raw, expected):
    assert tracking.parse_index(raw) == expected


def test_location_is_the_url_itself_or_its_percent_encoded_form():
    assert tracking.location("https://a.example/p?x=1&y=%20#frag") == "https://a.example/p?x=1&y=%20#frag"
    assert tracking.location("https://a.example/a b/ü") == "https://a.example/a%20b/%C3%BC"
    assert tracking.location('https://a.example/"x"') == "https://a.example/%22x%22"


def test_the_pixel_is_a_43_byte_transparent_gif():
    gif = tracking.PIXEL_GIF
    assert gif[:6] == b"GIF89a" and len(gif) == 43
    assert int.from_bytes(gif[6:8], "little") == 1 and int.from_bytes(gif[8:10], "little") == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-01-31T23:59:59Z", datetime(2030, 1, 31, 23, 59, 59, tzinfo=UTC)),
        ("2030-01-31T01:00:00+02:00", datetime(2030, 1, 30, 23, 0, tzinfo=UTC)),
        ("2030-01-31T10:00:00", datetime(2030, 1, 31, 10, 0, tzinfo=UTC)),
        ("2030-01-31", datetime(2030, 1, 31, tzinfo=UTC)),
        (None, None),
        ("  ", None),
    ],
)
def test_analytics_bounds(value, expected):
    assert parse_bound("from", value) == expected


@pytest.mark.parametrize("value", ["tomorrow", "2030-02-30", "31-01-2030", "2030-01-31T25:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_bad_analytics_bounds(value):
    with pytest.raises(BadRequest):
        parse_bound("from", value)
