"""The courier's user-emails without AWS: the status and result an email answers from its own state and its message's
(docs/courier.md "Email"), the create attributes' validation, and the acting user of a courier request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.domain import user_emails
from parley.models.courier_email import UserEmailCreate

STORED = {
    "to": ["ada@example.com"],
    "subject": "Hi",
    "message": "Hello",
    "sender_organization_id": "org-1",
    "individual_id": "ind-1",
    "user_id": "u-1",
    "created_by": "u-1",
    "state": "queued",
    "message_id": "m-1",
    "created_at": "2026-12-07T04:00:00.000Z",
    "last_modified_at": "2026-12-07T04:00:00.000Z",
}


@pytest.mark.parametrize(
    ("message", "status", "result"),
    [
        (None, "queued", None),  # queued, its message not readable yet
        ({"status": "QUEUED"}, "queued", None),
        ({"status": "SCHEDULED"}, "queued", None),
        ({"status": "SENDING"}, "queued", None),
        ({"status": "SENT", "provider": "ses"}, "sent", "ses: accepted"),
        ({"status": "UNCONFIRMED", "provider": "ses"}, "sent", "ses: unconfirmed"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "PROCESSED"}, "sent", "ses: processed"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "DEFERRED"}, "sent", "ses: deferred"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "DELIVERED"}, "delivered", "ses: delivered"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "OPENED"}, "delivered", "ses: opened"),
        ({"status": "SENT", "provider": "sendgrid", "delivery_status": "CLICKED"}, "delivered", "sendgrid: clicked"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "BOUNCED"}, "bounced", "ses: bounced"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "COMPLAINED"}, "complained", "ses: complained"),
        ({"status": "SENT", "provider": "ses", "delivery_status": "DROPPED"}, "failed", "ses: dropped"),
        ({"status": "UNCONFIRMED", "provider": "ses", "delivery_status": "DELIVERED"}, "delivered", "ses: delivered"),
        ({"status": "FAILED", "error": "address suppressed"}, "failed", "address suppressed"),
        ({"status": "FAILED"}, "failed", "failed"),
    ],
)
def test_status_follows_the_message(message, status, result):
    assert user_emails.status_of(STORED, message) == (status, result)


def test_a_draft_is_a_draft_whatever_else():
    assert user_emails.status_of({**STORED, "state": "draft"}, {"status": "SENT"}) == ("draft", None)


def test_view_answers_every_attribute_and_the_latest_modification():
    view = user_emails.view(STORED, {"status": "SENT", "provider": "ses", "sent_at": "2026-12-07T05:00:00.5+00:00"})
    dumped = view.model_dump(mode="json")
    assert dumped["to"] == ["ada@example.com"] and dumped["task-id"] == "m-1" and dumped["message-html"] is None
    assert dumped["status"] == "sent" and dumped["last-modified-at"] == "2026-12-07T05:00:00.500Z"
    assert dumped["created-at"] == "2026-12-07T04:00:00.000Z"


def test_create_attributes():
    attrs = UserEmailCreate.model_validate({"to": "ada@example.com", "auto-send": True, "message-html": "<p>x</p>"})
    assert attrs.auto_send is True and attrs.message_html == "<p>x</p>" and attrs.individual_id is None
    assert UserEmailCreate.model_validate({}).auto_send is False  # a draft by default
    for bad in ({"to": ["ada@example.com"]}, {"to": "Ada <ada@example.com>"}, {"subject": "a\r\nBcc: x@y.z"}, {"cc": "x@y.z"},
                {"message": "x" * 40_001}, {"individual-id": "has space"}):  # fmt: skip
        with pytest.raises(ValidationError):
            UserEmailCreate.model_validate(bad)


@pytest.mark.parametrize(
    ("missing", "pointer"),
    [("to", "/data/attributes/to"), ("subject", "/data/attributes/subject"),
     ("sender_organization_id", "/data/attributes/sender-organization-id"), ("message", "/data/attributes/message")],
)  # fmt: skip
def test_check_complete_names_the_missing_member(missing, pointer):
    from parley.errors import Unprocessable

    full = {"to": "ada@example.com", "subject": "Hi", "message": "x", "sender_organization_id": "org-1"}
    user_emails.check_complete(UserEmailCreate(**full))
    with pytest.raises(Unprocessable) as err:
        user_emails.check_complete(UserEmailCreate(**{k: v for k, v in full.items() if k != missing}))
    assert err.value.pointer == pointer
    user_emails.check_complete(UserEmailCreate(**{**{k: v for k, v in full.items() if k != "message"}, "message_html": "<p>x</p>"}))
