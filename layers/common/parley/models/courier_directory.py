"""The courier directory (seed 003): organizations, users, individuals and individual-groups, replicated from the
platform (``python -m parley.admin import-directory``) and read through the admin API. The attribute names are the
seed's, dasherized by the alias generator (``parley.models.jsonapi.Attributes``); every attribute is optional, since
the seed shows none as required and a replica may lack any of them (docs/courier.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from parley import clock
from parley.models.jsonapi import Attributes

Text = Annotated[str, StringConstraints(max_length=255)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


def _timestamp(value: str) -> str:
    """An ISO-8601 time with a zone, stored and answered as UTC ``…sssZ`` (fixed width: string order is time order)."""
    try:
        return clock.iso(clock.parse_iso(value))
    except ValueError as err:
        raise ValueError("must be an ISO-8601 date-time with a time zone, e.g. 2024-01-01T00:00:00Z") from err


Timestamp = Annotated[str, StringConstraints(max_length=40), AfterValidator(_timestamp)]


class IdRef(Attributes):
    """``{"id": …}``: a member of an individual-group (``individuals[]``, ``leaders[]``)."""

    id: Id


class OrganizationAttributes(Attributes):
    name: Text | None = None
    display_name: Text | None = None
    classification: Text | None = None
    provider_type: Text | None = None
    timezone: Text | None = None
    last_modified_time: Timestamp | None = None


class UserAttributes(Attributes):
    username: Text | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    email_verified: bool | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    phone_verified: bool | None = None
    phone_unsubscribed: bool | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None
    locale_explicit: bool | None = None
    tz: Annotated[str, StringConstraints(max_length=64)] | None = None
    tz_explicit: bool | None = None
    notifications: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=32)]], Field(max_length=16)] | None = None
    sms_mode: Annotated[str, StringConstraints(max_length=32)] | None = None  # the seed shows only "disabled": an open enum
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    auto_sign_up: bool | None = None
    communication_preferences: dict[str, Any] | None = None
    primary_individual_id: Id | None = None
    last_sync_time: Timestamp | None = None


class IndividualAttributes(Attributes):
    first_name: Text | None = None
    last_name: Text | None = None
    preferred_name: Text | None = None
    birth_date: date | None = None
    account_type: Annotated[str, StringConstraints(max_length=64)] | None = None
    owner_id: Id | None = None  # the user who owns this person-in-organization record (docs/courier.md)
    last_modified_time: Timestamp | None = None


class IndividualRecordAttributes(IndividualAttributes):
    """An individual as the directory takes it in (import, events, replicators): the seed's attributes and ``photo``,
    its picture's URL, which only messaging's get-profile answers (the seed's individuals have no photo)."""

    photo: Annotated[str, StringConstraints(max_length=2048)] | None = None


class IndividualGroupAttributes(Attributes):
    name: Text | None = None
    organization_id: Id | None = None
    parent_id: Id | None = None
    individuals: Annotated[list[IdRef], Field(max_length=10_000)] | None = None
    leaders: Annotated[list[IdRef], Field(max_length=1_000)] | None = None
    last_sync_time: Timestamp | None = None


def _distinct(channels: list[str]) -> list[str]:
    if len(set(channels)) != len(channels):
        raise ValueError("each channel at most once")
    return channels


Channel = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")]


class UserPatchAttributes(Attributes):
    """The deprecated ``PATCH /v1/users/{id}/``: ``notifications`` only (any other attribute is a 400 naming it).
    ``null`` drops the caller's earlier change (the replica's value shows again); absent changes nothing."""

    notifications: Annotated[list[Channel], Field(max_length=16), AfterValidator(_distinct)] | None = None


EntityType = Literal["organizations", "users", "individuals", "individual-groups"]

# What the directory takes in, per type ...
ATTRIBUTES: dict[str, type[Attributes]] = {
    "organizations": OrganizationAttributes,
    "users": UserAttributes,
    "individuals": IndividualRecordAttributes,
    "individual-groups": IndividualGroupAttributes,
}
# ... and what the admin routes answer: the seed's attributes (stored ones beyond them, like an individual's photo,
# are left out).
ANSWERED: dict[str, type[Attributes]] = {**ATTRIBUTES, "individuals": IndividualAttributes}


class DirectoryRecord(Attributes):
    """One line of ``import-directory`` (and the ``entity`` of a directory event, or one resource a replicator pulled): a
    JSON:API resource, ordered by the time the platform last synced it (an older ``last-sync-time`` never overwrites a
    newer one). That time is the line's ``last-sync-time``, or else its attributes' (users and individual-groups carry
    one; organizations and individuals do not, so their lines name it). ``"deleted": true`` makes the line a delete:
    a tombstone with that time replaces the entity (its attributes, if any, are not kept)."""

    type: EntityType
    id: Id
    last_sync_time: Timestamp | None = None
    deleted: StrictBool = False  # true or false, not "yes" or 1
    attributes: dict[str, Any] = Field(default_factory=dict)
