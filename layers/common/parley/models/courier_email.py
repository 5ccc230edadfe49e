"""The courier email domain (seed 003): ``user-emails``, emails a user sends about one of their individuals on an
organization's behalf (docs/courier.md "Email"). Attribute names are the seed's, dasherized by the alias generator.

- ``UserEmailCreate``: the attributes of ``POST /v1/user-emails/`` (``to`` is one address in, an array out);
- ``UserEmailAttributes``: the answered resource (``status``, ``result``, ``task-id`` are defined in docs/courier.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes
from parley.models.validators import EMAIL_FORMAT, email_address, single_line

TYPE = "user-emails"
MAX_MESSAGE = 40_000  # characters of `message` and of `message-html` each: both, in UTF-8, fit one 400 KB item

Address = Annotated[
    str, StringConstraints(min_length=3, max_length=254), Field(json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)
]
Subject = Annotated[str, StringConstraints(min_length=1, max_length=998), AfterValidator(single_line)]
Body = Annotated[str, StringConstraints(max_length=MAX_MESSAGE)]

# draft → queued → sent → delivered | bounced | complained; failed when the send pipeline refused or gave up on it.
Status = Literal["draft", "queued", "sent", "delivered", "bounced", "complained", "failed"]


class UserEmailCreate(Attributes):
    """A new email. ``to``, ``subject``, ``sender-organization-id`` and one of ``message`` / ``message-html`` are
    required (422 naming the member otherwise: no PATCH exists to complete a draft later); ``individual-id``
    defaults to the acting user's ``primary-individual-id``; ``auto-send`` defaults to false (a draft)."""

    to: Address | None = None
    subject: Subject | None = None
    message: Body | None = None
    message_html: Body | None = None
    sender_organization_id: Id | None = None
    individual_id: Id | None = None
    auto_send: bool = False


class UserEmailAttributes(Attributes):
    """One user-email as answered (every attribute of the seed's sample; none is omitted, ``null`` when unset)."""

    to: list[str]
    subject: str | None = None
    message: str | None = None
    message_html: str | None = None
    sender_organization_id: str | None = None
    individual_id: str | None = None
    user_id: str | None = None
    created_by: str | None = None
    status: Status
    result: str | None = None
    task_id: str | None = None
    created_at: str
    last_modified_at: str
