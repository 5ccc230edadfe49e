"""Stored message → what the provider sends: HTML detection and the derived plain-text part."""

from datetime import UTC, datetime

import pytest

from parley.domain.rendering import html_to_text, looks_like_html, render_email
from parley.models.domain import Message, MessageStatus


def _message(body: str) -> Message:
    return Message(
        tenant_id="t1",
        id="m1",
        channel="email",
        direction="outbound",
        status=MessageStatus.QUEUED,
        source_api="candidate",
        sender="no-reply@parley.example",
        sender_name="Acme",
        recipient="ada@example.com",
        subject="Interview",
        body=body,
        conversation_id="m1",
        provider="ses",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "body", ["<p>Hi</p>", "<html><body>x</body></html>", "Hello<br>there", "<DIV class='a'>x</DIV>", "see <a href='x'>link</a>"]
)
def test_looks_like_html(body):
    assert looks_like_html(body)


@pytest.mark.parametrize("body", ["Hi Ada, 3 < 5 and 7 > 2", "Use <angle brackets> freely", "plain text", "a <b2> tag-ish"])
def test_plain_text_is_not_html(body):
    assert not looks_like_html(body)


def test_html_to_text_breaks_blocks_strips_tags_and_unescapes():
    html = "<p>Hi Ada,</p><p>See you on <strong>Tuesday</strong> at 10:00 &amp; bring ID.</p><br/>Thanks"
    assert html_to_text(html) == "Hi Ada,\nSee you on Tuesday at 10:00 & bring ID.\n\nThanks"


def test_html_to_text_collapses_runs_of_blank_lines():
    assert html_to_text("a<br><br><br><br>b") == "a\n\nb"


def test_render_plain_text_is_text_only():
    out = render_email(_message("Hi Ada,\nsee you Tuesday."))
    assert out.html is None
    assert out.text == "Hi Ada,\nsee you Tuesday."
    assert (out.message_id, out.tenant_id, out.sender, out.sender_name, out.recipient, out.subject) == (
        "m1",
        "t1",
        "no-reply@parley.example",
        "Acme",
        "ada@example.com",
        "Interview",
    )


def test_render_html_keeps_html_and_derives_text():
    out = render_email(_message("<p>Hi Ada,</p><p>See you on Tuesday.</p>"))
    assert out.html == "<p>Hi Ada,</p><p>See you on Tuesday.</p>"
    assert out.text == "Hi Ada,\nSee you on Tuesday."


def test_html_to_text_drops_style_script_and_head_content():
    html = (
        "<html><head><title>Acme</title><style>p { color: red; }</style></head><body><script>track()</script><p>Hi Ada,</p></body></html>"
    )
    assert html_to_text(html) == "Hi Ada,"
