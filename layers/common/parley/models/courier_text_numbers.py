"""The courier texting domain's accounts, numbers and lookups (seed 003, docs/courier.md "Texting" → "Accounts,
numbers, lookups"). Attribute names are the seed's, dasherized by the alias generator.

- ``text-accounts``: an organization's Twilio subaccount (``TextAccountCreate``, ``TextAccountUpdate``, answered as
  ``TextAccountAttributes``); ``claim-number`` takes a plain ``{"notes": …}`` body (``ClaimNumber``);
- ``text-account-numbers``: a phone number bought into an account (``TextNumberCreate``, ``TextNumberUpdate``,
  ``TextNumberAttributes``); ``TextNumber`` is the number as the texting domain uses it (``parley.domain.text_numbers``);
- ``text-number-info``: a cached Twilio Lookup v2 answer (``NumberInfoCreate``, ``NumberInfoAttributes``);
- ``text-user-number-maps``: a user's stable sender number in an organization;
- ``text-number-logs``: a number's debug log lines.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

ACCOUNTS = "text-accounts"
NUMBERS = "text-account-numbers"
NUMBER_INFO = "text-number-info"
NUMBER_MAPS = "text-user-number-maps"
NUMBER_LOGS = "text-number-logs"

Phone = Annotated[str, StringConstraints(min_length=1, max_length=64)]  # parsed to E.164 by the domain (400 naming it)
Notes = Annotated[str, StringConstraints(max_length=255)]
AreaCode = Annotated[str, StringConstraints(pattern=r"^[2-9][0-9]{2}$")]  # a North American area code: 3 digits
ForwardTo = Annotated[str, StringConstraints(max_length=64)]

# What the number does with an inbound SMS that is no reply, no consent answer and no STOP/START (docs/courier.md):
# ``ignore`` (only logged), ``forward`` (to ``forward-to``, or ``to``), ``reply`` (answer ``message``).
UnknownNumberAction = Literal["ignore", "forward", "reply"]


class UnknownNumberRule(Model):
    """``events.unknown-number``: the rule for an inbound SMS from a number nothing else claims."""

    model_config = ConfigDict(extra="forbid")

    action: UnknownNumberAction = "ignore"
    to: Phone | None = None  # forward: this E.164 number instead of the number's forward-to
    message: Annotated[str, StringConstraints(min_length=1, max_length=1600)] | None = None  # reply: this text


class NumberEvents(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    unknown_number: UnknownNumberRule | None = Field(default=None, alias="unknown-number")


# ── text-accounts ──


class TextAccountCreate(Attributes):
    """A new account: ``organization-id`` (required: an organization of the tenant) and ``allow-custom-number``."""

    organization_id: Id | None = None
    allow_custom_number: bool = False


class TextAccountUpdate(Attributes):
    """``allow-custom-number``, and ``phone-number``: the account's default sender (one of its numbers; ``null``
    clears it)."""

    allow_custom_number: bool | None = None
    phone_number: Phone | None = None


class TextAccountAttributes(Attributes):
    allow_custom_number: bool
    created_at: str
    organization_id: str
    phone_number: str | None = None
    twilio_id: str


class ClaimNumber(Model):
    """``POST /v1/text-accounts/{id}/claim-number/``: a plain body ``{"notes": "…"}`` (required, ≤ 255), and an
    optional ``area-code`` to buy in."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    notes: Notes
    area_code: AreaCode | None = Field(default=None, alias="area-code")


# ── text-account-numbers ──


class EmptyBody(Model):
    """``reset-logs``'s body: the seed sends ``{}`` (no fields); a member is refused (400 with its pointer)."""

    model_config = ConfigDict(extra="forbid")


class TextNumberCreate(Attributes):
    """Buy a number into ``account-id`` (required), in ``area-code`` when given."""

    account_id: Id | None = None
    area_code: AreaCode | None = None
    forward_to: ForwardTo | None = None
    alert: bool = False
    logging: bool = False
    notes: Notes | None = None


class TextNumberUpdate(Attributes):
    alert: bool | None = None
    events: NumberEvents | None = None
    forward_to: ForwardTo | None = None
    logging: bool | None = None
    notes: Notes | None = None


class TextNumberAttributes(Attributes):
    account_id: str
    alert: bool
    capability_mms: bool
    capability_sms: bool
    capability_voice: bool
    created_at: str
    events: dict[str, Any]
    forward_to: str | None = None
    lata: str | None = None
    latitude: str | None = None
    logging: bool
    longitude: str | None = None
    notes: str | None = None
    phone_number: str
    postal_code: str | None = None
    rate_center: str | None = None
    region: str | None = None
    twilio_id: str


class TextNumber(Model):
    """A number as the texting domain uses it (helper interface ``parley.domain.text_numbers``): which tenant,
    account and organization it belongs to, and its settings (``forward_to``, ``alert``, ``logging``, ``events``)."""

    id: str
    tenant_id: str
    account_id: str
    phone_number: str  # E.164
    organization_id: str
    twilio_id: str
    settings: dict[str, Any]


# ── text-number-info ──

LookupStatus = Literal["pending", "resolved", "failed"]
LineType = Literal["", "mobile", "landline", "voip", "fixedVoip", "nonFixedVoip", "tollFree", "pager", "personal", "premium",
                   "sharedCost", "uan", "voicemail", "unknown"]  # fmt: skip


class NumberInfoCreate(Attributes):
    number: Phone | None = None
    reresolve: bool = False


class NumberInfoAttributes(Attributes):
    carrier_name: str | None = None
    created_at: str
    error: str | None = None
    last_modified_at: str
    mobile_country_code: str | None = None
    mobile_network_code: str | None = None
    number: str
    status: LookupStatus
    type: LineType


# ── text-user-number-maps ──


class NumberMapCreate(Attributes):
    number_id: Id | None = None
    organization_id: Id | None = None
    user_id: Id | None = None


class NumberMapAttributes(Attributes):
    created_at: str
    number_id: str
    organization_id: str
    user_id: str


# ── text-number-logs ──


class NumberLogAttributes(Attributes):
    created_at: str
    log: str
