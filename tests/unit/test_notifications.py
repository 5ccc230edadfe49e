"""The pure parts of user-notifications and badges (docs/courier.md "User notifications and badges"): deterministic
message and counter ids, what `active` means, the answered shape of a stored notification, and how the push attempts
of the devices sum up to one delivery."""

from __future__ import annotations

import json
import sys
import types
from datetime import UTC, datetime, timedelta

from parley import clock
from parley.dal import badges as badge_store
from parley.domain import notifications
from parley.models.notifications import NotificationData


def test_message_ids_are_deterministic_per_notification_transport_and_body():
    a = notifications.message_id("n-1", "sms", 0)
    assert a == notifications.message_id("n-1", "sms", 0)
    others = {
        notifications.message_id("n-1", "sms", 1),
        notifications.message_id("n-1", "email"),
        notifications.message_id("n-2", "sms", 0),
    }
    assert a not in others and len(others) == 3


def test_a_badge_counter_id_is_one_per_tenant_individual_and_type():
    one = badge_store.counter_id("t-1", "ind-1", "appointment")
    assert one == badge_store.counter_id("t-1", "ind-1", "appointment")
    assert one != badge_store.counter_id("t-2", "ind-1", "appointment") != badge_store.counter_id("t-1", "ind-1", "message")


def _stored(created_at: datetime, **extra):
    return {"id": "n-1", "user_id": "u-1", "created_at": clock.iso(created_at), "acknowledged": False,
            "data": json.dumps({"sms": {"bodies": ["hi"]}}), **extra}  # fmt: skip


def test_a_notification_is_active_for_thirty_days():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert notifications.view(_stored(now - timedelta(days=29)), now).active is True
    assert notifications.view(_stored(now - timedelta(days=31)), now).active is False


def test_the_answered_shape_has_the_seeds_attributes_and_the_deliveries():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    delivery = {"outcome": "queued", "message_ids": ["m-1"], "devices": [], "at": "2026-11-30T12:00:00.000Z"}
    out = notifications.view(_stored(now, deliveries={"sms": delivery}), now).model_dump(by_alias=True)
    assert out["data"] == {"apn": None, "fcm": None, "web": None, "sms": {"bodies": ["hi"]}}
    assert out["deliveries"]["sms"] == {"outcome": "queued", "reason": None, "message-ids": ["m-1"], "devices": [],
                                        "at": "2026-11-30T12:00:00.000Z"}  # fmt: skip
    assert {
        "acknowledged",
        "active",
        "created-at",
        "individual-id",
        "organization-id",
        "user-first-name",
        "user-id",
        "user-last-name",
    } <= set(out)


def _with_push(monkeypatch, attempts):
    fake = types.SimpleNamespace(deliver=lambda *a, **k: attempts)
    monkeypatch.setitem(sys.modules, "parley.domain.push", fake)
    import parley.domain

    monkeypatch.setattr(parley.domain, "push", fake, raising=False)
    monkeypatch.setattr("parley.domain.badges.total", lambda tenant, individual: 0)


def _attempt(outcome):
    return types.SimpleNamespace(device_id="d", transport="fcm", outcome=outcome, reason=None)


def test_push_attempts_sum_up_to_one_delivery(monkeypatch):
    data = NotificationData.model_validate({"fcm": {"title": "t", "body": "b"}})
    for outcomes, expected in (
        (["sent", "failed"], "sent"),
        (["duplicate"], "sent"),
        (["disabled", "skipped"], "skipped"),
        (["failed"], "failed"),
    ):
        _with_push(monkeypatch, [_attempt(o) for o in outcomes])
        assert notifications._push("t", "n", "u", None, data)["outcome"] == expected, outcomes
    _with_push(monkeypatch, [])
    assert notifications._push("t", "n", "u", None, data)["outcome"] == "skipped"
    assert notifications._push("t", "n", "u", None, NotificationData())["reason"].startswith("the notification has no push payload")
