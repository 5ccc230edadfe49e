"""``POST /v1/messaging-channels/{id}/sms/`` (seed 003 "Enable/disable SMS path for this messaging channel"): a flat
body, not JSON:API (docs/courier.md "SMS bridge and offline pushes")."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import dasherize

MAX_MESSAGE = 1024  # seed: initial-message <= 1024 characters (the localized texts likewise)
MAX_LOCALES = 32
LOCALE_PATTERN = r"^[a-z]{2,3}(_[A-Z]{2})?$"  # en_US, es_US, fr (as the organization's initial-sms-message)

Text = Annotated[str, StringConstraints(max_length=MAX_MESSAGE)]
Locale = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN)]


class ChannelSmsSwitch(Model):
    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)

    active: StrictBool
    initial_message: Text | None = None
    initial_message_js: Annotated[dict[Locale, Text], Field(max_length=MAX_LOCALES)] | None = None
    # an extension (the seed names none): the organization's text number the bridge texts from; default: the one the
    # channel had, else the organization's first
    text_number_id: Id | None = None
    individual_id: Id | None = None  # the acting individual (default: the acting user's primary individual)
