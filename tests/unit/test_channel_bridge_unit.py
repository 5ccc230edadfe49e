"""The SMS bridge's pure parts (docs/courier.md "SMS bridge and offline pushes"): the initial message's locale
choice, the deterministic message and notification ids, and the ``/sms/`` body's validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.domain import channel_bridge, channel_push
from parley.models.channel_sms import ChannelSmsSwitch

TEXTS = {"en_US": "Welcome", "es_US": "Bienvenido", "fr": "Bienvenue"}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", "Welcome"),
        ("en-us", "Welcome"),  # the directory's spelling varies
        ("es", "Bienvenido"),  # a language alone takes one of its regions
        ("es_MX", "Bienvenido"),  # another region of the language
        ("fr_CA", "Bienvenue"),
        ("de_DE", "Default"),  # no text in the language: initial-message
        (None, "Default"),
        ("", "Default"),
    ],
)
def test_the_initial_message_follows_the_members_locale(locale, expected):
    assert channel_bridge.localized(locale, TEXTS, "Default") == expected


def test_no_text_at_all_is_none_and_blank_texts_do_not_count():
    assert channel_bridge.localized("en_US", {}, None) is None
    assert channel_bridge.localized("en_US", {"en_US": "  "}, " ") is None
    assert channel_bridge.localized("en_US", {"en_US": "  "}, "Default") == "Default"


def test_ids_are_the_same_every_time_and_differ_per_member_and_event():
    one = channel_bridge.message_id("event-1", "ind-a", "relay")
    assert one == channel_bridge.message_id("event-1", "ind-a", "relay")
    assert len({one, channel_bridge.message_id("event-1", "ind-b", "relay"), channel_bridge.message_id("event-2", "ind-a", "relay"),
                channel_bridge.message_id("event-1", "ind-a", "initial")}) == 4  # fmt: skip
    assert channel_push.notification_id("event-1", "ind-a") == channel_push.notification_id("event-1", "ind-a")
    assert channel_push.notification_id("event-1", "ind-a") != channel_push.notification_id("event-1", "ind-b")


def test_the_body_is_flat_with_active_required_and_bounded_texts():
    ok = ChannelSmsSwitch.model_validate({"active": True, "initial-message": "hi", "initial-message-js": {"en_US": "hi", "es": "hola"}})
    assert ok.active is True and ok.initial_message_js == {"en_US": "hi", "es": "hola"}
    long_js = {"active": True, "initial-message-js": {"en_US": "x" * 1025}}
    for bad in ({}, {"active": "yes"}, {"active": True, "initial-message": "x" * 1025}, {"active": True, "initial-message-js": {"en": 1}},
                {"active": True, "initial-message-js": {"english": "hi"}}, long_js, {"active": True, "data": {}}):  # fmt: skip
        with pytest.raises(ValidationError):
            ChannelSmsSwitch.model_validate(bad)
