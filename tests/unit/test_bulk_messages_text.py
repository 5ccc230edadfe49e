"""Bulk messages (issue 19, area 1): the text each recipient gets (message-js by locale, docs/courier.md "Bulk
messages") and the per-recipient message id (exactly once: the same id on every attempt, another for anyone else)."""

from __future__ import annotations

import pytest

from parley.domain import bulk_messages

BULK = {"message": "Closed", "message_js": {"en_US": "Closed Friday", "es_US": "Cerrado el viernes"}}


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("es_US", "Cerrado el viernes"),
        ("es-US", "Cerrado el viernes"),  # the directory's spelling may use a hyphen
        ("es_MX", "Cerrado el viernes"),  # no es_MX: the first of the same language
        ("en_GB", "Closed Friday"),
        ("fr_FR", "Closed"),  # no French: message
        (None, "Closed"),
        ("", "Closed"),
    ],
)
def test_message_js_by_the_recipients_locale(locale, text):
    assert bulk_messages.text_for(BULK, locale) == text


def test_without_message_js_everyone_gets_message():
    assert bulk_messages.text_for({"message": "Hi", "message_js": None}, "es_US") == "Hi"


def test_the_message_id_is_the_same_for_a_recipient_and_differs_between_them():
    a = bulk_messages.message_id("bulk-1", "ind-a")
    assert a == bulk_messages.message_id("bulk-1", "ind-a")
    assert len({a, bulk_messages.message_id("bulk-1", "ind-b"), bulk_messages.message_id("bulk-2", "ind-a")}) == 3
