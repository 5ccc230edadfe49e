"""The courier texting resources helper E owns (seed 003, docs/courier.md "Texts, replies and consents"): ``texts``,
``user-consents`` and ``text-receive-logs``. Attribute names are the seed's, dasherized by the alias generator.

- ``TextCreate`` / ``TextAttributes``: an outbound SMS from an account number and how its replies are routed back;
- ``ConsentCreate`` / ``ConsentAttributes``: an SMS opt-in flow (``args.messages`` = initial, accept, invalid-response);
- ``ReceiveLogAttributes``: one inbound SMS as received (its id is Twilio's MessageSid).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes
from parley.models.validators import single_line

TEXT_TYPE = "texts"
CONSENT_TYPE = "user-consents"
RECEIVE_LOG_TYPE = "text-receive-logs"

MAX_MESSAGE = 1600  # Twilio's own limit of one message body (characters)
MAX_URL = 2048
MAX_RESPONSES = 20
MAX_CALLBACK_JSON = 8192  # bytes of callback-json as JSON (it travels in every callback body)

Url = Annotated[str, StringConstraints(min_length=8, max_length=MAX_URL), AfterValidator(single_line)]
Phone = Annotated[str, StringConstraints(min_length=3, max_length=40), AfterValidator(single_line)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]
Response = Annotated[str, StringConstraints(min_length=1, max_length=160)]

# Twilio's message states (the seed's enum shows only "accepted"), in the order they can happen; docs/courier.md.
TextStatus = Literal["accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed", "canceled", "read"]
ConsentState = Literal["pending", "accepted", "declined", "invalid-response"]


class TextCreate(Attributes):
    """A new text. ``account-id``, ``target`` and ``message`` are required (422 naming the member); ``number-id`` is the
    sender (one of the account's numbers), else the account's stable sender for the target (text-user-number-maps)."""

    account_id: Id | None = None
    number_id: Id | None = None
    organization_id: Id | None = None
    target: Phone | None = None
    message: Body | None = None
    callback_url: Url | None = None
    callback_status_url: Url | None = None
    callback_json: dict[str, Any] | None = None
    callback_one_off: bool = False
    expected_responses: Annotated[list[Response], Field(max_length=MAX_RESPONSES)] | None = None


class TextAttributes(Attributes):
    """One text as answered (every attribute of the seed's sample; ``null`` when unset), plus what it was sent with."""

    account_id: str
    number_id: str | None = None
    organization_id: str | None = None
    callback_status_url: str | None = None
    callback_url: str | None = None
    callback_json: dict[str, Any] | None = None
    callback_one_off: bool = False
    expected_responses: list[str] = []
    created_at: str
    created_by: str | None = None
    error: str | None = None
    from_: str = Field(alias="from")
    last_modified_at: str
    message: str
    status: TextStatus
    target: str
    twilio_sid: str | None = None


class ConsentMessages(Attributes):
    initial: Body
    accept: Body | None = None
    invalid_response: Body | None = None


class ConsentArgs(Attributes):
    """``messages`` (the seed's), and the sender: ``account-id`` with an optional ``number-id`` (docs/courier.md)."""

    messages: ConsentMessages
    account_id: Id | None = None
    number_id: Id | None = None


class ConsentCreate(Attributes):
    """A new consent flow: ``type`` sms, ``user-id`` (a directory user with a phone, or ``target-id`` names the phone),
    ``args``."""

    type: Literal["sms"] = "sms"
    user_id: Id | None = None
    organization_id: Id | None = None
    target_id: Phone | None = None
    args: ConsentArgs | None = None


class ConsentAttributes(Attributes):
    args: dict[str, Any]
    created_at: str
    last_modified_at: str
    organization_id: str | None = None
    state: ConsentState
    target_id: str
    type: Literal["sms"] = "sms"
    user_id: str | None = None


class ReceiveLogAttributes(Attributes):
    created_at: str
    message: str
    sender: str
    sid: str
    to: str
