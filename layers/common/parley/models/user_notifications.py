"""The courier's user-notifications, their daily counts and badge counters (seed 003, docs/courier.md "User
notifications and badges"). Attribute names are the seed's, dasherized by the alias generator.

- ``UserNotificationAttributes``: one notification as answered (the seed's attributes, plus ``category``, which the
  seed filters on, and ``deliveries``: what each transport did, our extension);
- ``NotificationCountAttributes``: one user's count of one UTC day (``notification-counts``, no id);
- ``BadgeCountInput`` / ``BadgeCountAttributes`` / ``BulkBadgeCounts``: a badge counter per individual and type.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id, Timestamp
from parley.models.jsonapi import Attributes, PageMeta
from parley.models.notifications import NotificationData
from parley.models.numbers import Int32

TYPE = "user-notifications"
COUNT_TYPE = "notification-counts"
BADGE_TYPE = "badge-counts"
BULK_BADGE_TYPE = "bulk-badge-counts"
MAX_BULK = 100  # badge counters one bulk-badge-counts request may set

BadgeType = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class Delivery(Attributes):
    """What one transport did for a notification: ``outcome`` queued | held (SMS held for quiet hours) | sent |
    skipped | failed | duplicate | …; ``reason`` why (skipped, failed); ``message-ids`` the send pipeline's messages
    (SMS, email: readable on their own history); ``devices`` the pushes' outcomes per device."""

    outcome: str
    reason: str | None = None
    message_ids: list[str] = Field(default_factory=list)
    devices: list[dict[str, Any]] = Field(default_factory=list)
    at: str


class UserNotificationAttributes(Attributes):
    acknowledged: bool
    active: bool
    created_at: str
    data: NotificationData
    individual_id: str | None = None
    organization_id: str | None = None
    user_first_name: str | None = None
    user_id: str
    user_last_name: str | None = None
    category: str | None = Field(default=None, description="The notification's category (`filter[category]`).")
    deliveries: dict[str, Delivery] = Field(
        default_factory=dict, description="Per transport (push, sms, email): what was done (our extension; docs/courier.md)."
    )


class AckBody(Attributes):
    """``POST /v1/user-notifications/{id}/ack/``: a flat body (not JSON:API), as the seed shows it."""

    ack_previous: bool = False


class NotificationCountAttributes(Attributes):
    count: int
    daily_for_date: str
    user_id: str


class BadgeCountInput(Attributes):
    """A badge counter to set: ``individual-id``, ``type`` and ``count`` are required; ``timestamp`` (when the count
    was true, orders the writes: last write wins) defaults to the time of the request; ``organization-id`` is kept."""

    count: Annotated[Int32, Field(ge=0)] | None = None
    individual_id: Id | None = None
    organization_id: Id | None = None
    timestamp: Timestamp | None = None
    type: BadgeType | None = None


class BadgeCountAttributes(Attributes):
    count: int
    individual_id: str
    last_modified_at: str
    organization_id: str | None = None
    timestamp: str
    type: str


class BulkBadgeCounts(Attributes):
    values: Annotated[list[BadgeCountInput], Field(min_length=1, max_length=MAX_BULK)]


class NotificationCountResource(Model):
    """One item of ``user-notification-counts``: the seed's items have a type and attributes, and NO id."""

    type: str = COUNT_TYPE
    attributes: NotificationCountAttributes


class NotificationCountList(Model):
    data: list[NotificationCountResource]
    meta: PageMeta
