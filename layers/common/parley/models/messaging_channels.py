"""Courier messaging channels (seed 003, reading-003.yaml ``messaging_channels_attrs``; docs/courier.md "Channels"):
the resource, its create and PATCH bodies (a partial object, or the seed's ``[{op: "replace", path, value}]``) and
the flat bodies of its actions (subscribe, unsubscribe, preferences)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes, dasherize

CHANNEL_TYPE = "messaging-channels"
PROFILE_TYPE = "individual-profiles"
MAX_IDS = 1_000  # individual-ids in one request
Name = Annotated[str, StringConstraints(max_length=255)]
# The seed shows only "none" (reading-003 §12.6: an open enum, "probably none|open|single")
SubscriptionType = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")]
IdList = Annotated[list[Id], Field(max_length=MAX_IDS)]


class EventSettings(Attributes):
    """``event-settings``: ``enabled`` (system messages for joins and leaves)."""

    enabled: StrictBool = False


class BookmarkRef(Attributes):
    id: str
    message_id: str | None = None


class LastMessage(Attributes):
    id: str
    message: str | None = None
    posted_time: str | None = None
    removed: bool = False


class IdRef(Attributes):
    id: str


class Owner(Attributes):
    id: str
    type: str


class GroupIndividual(Attributes):
    birth_date: str | None = None
    first_name: str | None = None
    id: str
    last_name: str | None = None
    name: str | None = None
    owner: Owner | None = None
    preferred_name: str | None = None
    verified: bool | None = None


class GroupLeader(Attributes):
    first_name: str | None = None
    id: str
    last_name: str | None = None


class IndividualGroupView(Attributes):
    individual_ids: list[str] = Field(default_factory=list)
    individuals: list[GroupIndividual] = Field(default_factory=list)
    individuals_count: int = 0
    leader_ids: list[str] = Field(default_factory=list)
    leaders: list[GroupLeader] = Field(default_factory=list)
    name: str | None = None
    organization_id: str | None = None


class Subscriber(Attributes):
    """A member, with the directory's data of the individual and of the user who owns it."""

    admin: bool = False
    auto_sign_up: bool | None = None
    birth_date: str | None = None
    communication_preferences: dict[str, Any] | None = None
    email: str | None = None
    email_verified: bool | None = None
    first_name: str | None = None
    id: str
    last_name: str | None = None
    phone_number: str | None = None
    phone_number_unsubscribed: bool | None = None
    phone_number_verified: bool | None = None
    pinned: bool = False


class ChannelAttributes(Attributes):
    """A channel as the seed answers it (every attribute of ``messaging_channels_attrs``), plus ``notify`` (ours: the
    caller's own preference)."""

    archived: bool = False
    bookmark: BookmarkRef | None = None
    caller_has_new_message: bool = False
    caller_new_message_count: int = 0
    can_enable_sms: bool = False
    created_at: str
    created_by: str | None = None
    event_settings: EventSettings = Field(default_factory=EventSettings)
    floating: bool = False
    group_provider_ack: bool = False
    individual_group: IndividualGroupView | None = None
    individual_group_id: str | None = None
    label: str | None = None
    last_message: LastMessage | None = None
    last_modified_time: str
    name: str | None = None
    observation_id: str | None = None
    org_id: str
    owner_first_name: str | None = None
    owner_id: str | None = None
    owner_last_name: str | None = None
    subscribers: list[Subscriber] = Field(default_factory=list)
    subscription_type: str = "none"
    text_number: IdRef | None = None
    with_sms: bool = False
    notify: bool | None = None


class ChannelCreate(Attributes):
    """``POST /v1/messaging-channels/``: ``organization-id`` required; ``individual-group-id`` (group-bound),
    ``floating``, or else ``individual-ids`` (a direct channel)."""

    organization_id: Id | None = None
    individual_group_id: Id | None = None
    individual_ids: IdList | None = None
    floating: StrictBool = False
    name: Name | None = None
    label: Name | None = None
    subscription_type: SubscriptionType | None = None
    event_settings: EventSettings | None = None
    observation_id: Id | None = None
    text_number_id: Id | None = None


class ChannelPatch(Attributes):
    """PATCH as a partial object: the whitelisted attributes; ``null`` clears ``name``, ``label``, ``observation-id``
    and ``text-number-id``."""

    name: Name | None = None
    label: Name | None = None
    subscription_type: SubscriptionType | None = None
    event_settings: EventSettings | None = None
    observation_id: Id | None = None
    text_number_id: Id | None = None
    archived: StrictBool | None = None


class PatchOperation(Model):
    """One of the seed's patch operations: only ``replace`` (reading-003 §12.7)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["replace"]
    path: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    value: Any = None


class ChannelPatchResource(Model):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=128)
    type: str = Field(max_length=64)
    attributes: Annotated[list[PatchOperation], Field(min_length=1, max_length=20)] | ChannelPatch


class ChannelPatchDocument(Model):
    """``PATCH /v1/messaging-channels/{id}/``: ``data.attributes`` a partial object or a list of operations."""

    model_config = ConfigDict(extra="forbid")

    data: ChannelPatchResource
    meta: dict[str, Any] | None = None


class _Flat(Model):
    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)


class Subscription(_Flat):
    """subscribe / unsubscribe: the individuals to add or remove; ``individual-id`` the caller's acting individual."""

    individual_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)]
    individual_id: Id | None = None


class PreferenceValue(_Flat):
    name: Literal["notify", "pinned"]
    value: Annotated[str, StringConstraints(max_length=16)] | StrictBool


class Preferences(_Flat):
    """``values=[{name: "notify", value}]`` for ``individual-id`` (the caller's acting individual)."""

    individual_id: Id | None = None
    values: Annotated[list[PreferenceValue], Field(min_length=1, max_length=10)]


class EmptyBody(_Flat):
    """archive / unarchive: ``{}`` (``individual-id``, the caller's acting individual, allowed)."""

    individual_id: Id | None = None


class ProfileAttributes(Attributes):
    photo: str | None = None
