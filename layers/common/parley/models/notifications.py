"""What a notification carries, shared by the notifications family (docs/courier.md "Notifications"): the per-transport
payloads of a user-notification (`data.apn`, `data.fcm`, `data.web`, `data.sms.bodies[]`, as the seed shows them) and
the email a notification may also send. Multicasts render a template into these; the transports read them.
"""

from typing import Any

from pydantic import ConfigDict, Field

from parley.models.base import Model


class PushContent(Model):
    """An APNs or FCM payload as a user-notification shows it: title, body, category and the app's own data."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    body: str | None = None
    category: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SmsContent(Model):
    model_config = ConfigDict(extra="forbid")

    bodies: list[str] = Field(default_factory=list)


class NotificationData(Model):
    """A user-notification's `data`: one payload per transport; a transport without one is not used."""

    model_config = ConfigDict(extra="forbid")

    apn: PushContent | None = None
    fcm: PushContent | None = None
    web: dict[str, Any] | None = None
    sms: SmsContent | None = None


class EmailContent(Model):
    """The email a notification sends when the user gets notifications by email (escaped HTML and its text)."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    html: str
    text: str
