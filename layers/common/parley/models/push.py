"""Push transport of the courier notifications (seed 003, docs/courier.md "Push credentials and devices"):
``app-credentials`` (an organization's APNs / FCM / web push credentials), ``user-devices`` (a user's push tokens),
``user-device-logs`` (what was pushed to a device) and ``PushAttempt`` (one device's outcome of a push).
Attribute names are the seed's, dasherized by the alias generator.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes
from parley.models.validators import single_line

CREDENTIAL_TYPE = "app-credentials"
DEVICE_TYPE = "user-devices"
LOG_TYPE = "user-device-logs"

# apn | fcm as the seed shows them; web (VAPID keys) is ours: web devices need a sender identity too.
CredentialKind = Literal["apn", "fcm", "web"]
DeviceKind = Literal["apn", "fcm", "web"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(single_line)]
Text = Annotated[str, StringConstraints(max_length=255), AfterValidator(single_line)]
Version = Annotated[str, StringConstraints(max_length=20), AfterValidator(single_line)]
# A device token: an APNs token (64 hex), an FCM registration token (~160 characters), or a web push subscription
# (JSON: endpoint + keys, up to a few hundred characters).
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class AppCredentialCreate(Attributes):
    """A new app-credential: ``type`` and ``data`` (the secret material) are required; ``app-name`` too (devices find
    their credential by it). ``data``'s shape per type: docs/courier.md."""

    app_name: Name | None = None
    data: dict[str, Any] | None = None
    display_name: Text | None = None
    organization_id: Id | None = None
    store_id: Text | None = None
    test_mode: bool = False
    type: CredentialKind | None = None


class AppCredentialPatch(Attributes):
    """A change: any of the seed's writable attributes but ``type``; ``archived: true`` is the soft delete; ``data``
    rotates the secret (and the SNS platform application's credentials)."""

    app_name: Name | None = None
    archived: bool | None = None
    data: dict[str, Any] | None = None
    display_name: Text | None = None
    organization_id: Id | None = None
    store_id: Text | None = None
    test_mode: bool | None = None


class AppCredentialAttributes(Attributes):
    """An app-credential as answered: ``data`` is always ``{}`` (the secret is never answered, creation included)."""

    app_name: str | None = None
    archived: bool = False
    created_at: str
    data: dict[str, Any]
    display_name: str | None = None
    last_modified_at: str
    organization_id: str | None = None
    store_id: str | None = None
    test_mode: bool = False
    type: CredentialKind


class UserDeviceCreate(Attributes):
    """A device registration: ``type`` and ``token`` are required; ``app-name`` picks the app-credential."""

    allow_notification: bool = True
    app_name: Name | None = None
    app_version: Version | None = None
    individual_id: Id | None = None
    model: Name | None = None
    os_version: Version | None = None
    sandbox: bool = False
    token: Token | None = None
    topic: Text | None = None
    type: DeviceKind | None = None


class UserDeviceAttributes(Attributes):
    """A device as answered: the seed's attributes, and ours (``push-state``, ``push-state-reason``)."""

    allow_notification: bool
    app_name: str | None = None
    app_version: str | None = None
    created_at: str
    individual_id: str | None = None
    last_modified_at: str
    model: str | None = None
    os_version: str | None = None
    sandbox: bool = False
    token: str
    topic: str | None = None
    type: DeviceKind
    # ours: enabled (pushes go out) | disabled (the platform said the token is dead) | no-credential (no active
    # app-credential for its app and type when it registered)
    push_state: str
    push_state_reason: str | None = None


class UserDeviceLogAttributes(Attributes):
    """One push to a device: the seed's attributes, and ours (``notification-id``, ``transport``, ``outcome``,
    ``reason``)."""

    badge_count: int | None = None
    body: str | None = None
    category: str | None = None
    created_at: str
    data: dict[str, Any]
    title: str | None = None
    notification_id: str
    transport: str
    outcome: str
    reason: str | None = None


Outcome = Literal["sent", "skipped", "failed", "disabled", "duplicate"]


class PushAttempt(Model):
    """One device's outcome of ``parley.domain.push.deliver``: ``sent`` (the platform took it), ``skipped`` (not
    attempted: notifications off on the device, no payload for its transport, no credential), ``failed`` (the platform
    refused it or could not be reached; not retried), ``disabled`` (the token is dead: the device stops receiving),
    ``duplicate`` (an earlier delivery of the same notification claimed this device: nothing pushed again)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    device_id: str
    transport: Literal["apn", "fcm", "web"]
    outcome: Outcome
    reason: str | None = None
