"""Organization preferences of the courier API (seed 003, ``/v1/org-preferences/``): a key/value store per
organization with three known names. ``value`` is the JSON text of the preference and ``value-js`` the same value
as JSON (docs/courier.md, "Organization preferences")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

PreferenceName = Literal["default-channel-title", "group-provider-ack", "initial-sms-message"]
NAMES: tuple[str, ...] = ("default-channel-title", "group-provider-ack", "initial-sms-message")
PreferenceType = Literal["json"]  # the seed shows `json` only (enum[json|...])
MAX_VALUE = 16_384  # characters of a preference's JSON text


class OrgPreferenceAttributes(Attributes):
    """One preference as answered: the stored one (``explicit``), or the name's default (``explicit`` false,
    ``created-at`` null)."""

    name: PreferenceName
    organization_id: str
    type: PreferenceType = "json"
    value: str = Field(description="The preference as JSON text (`value-js` serialized).")
    value_js: JsonValue = Field(description="The preference as JSON: the parsed `value`.")
    explicit: bool = Field(description="true when the organization set it; false for the name's default.")
    created_at: str | None = Field(default=None, description="When the organization first set it; null for a default.")


class OrgPreferenceInput(Attributes):
    """``POST /v1/org-preferences/``: ``name`` and ``organization-id`` are required, and ``value`` (JSON text) or
    ``value-js`` (JSON) or both, agreeing."""

    name: PreferenceName
    organization_id: Id
    type: PreferenceType = "json"
    value: Annotated[str, StringConstraints(max_length=MAX_VALUE)] | None = None
    value_js: JsonValue = None
