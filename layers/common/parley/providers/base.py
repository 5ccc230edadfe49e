"""The provider interface the dispatcher sends through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from parley.providers.mime import Attachment


@dataclass(frozen=True)
class OutboundEmail:
    message_id: str
    tenant_id: str
    sender: str
    sender_name: str
    recipient: str
    subject: str
    html: str | None
    text: str | None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    to: tuple[str, ...] = ()  # every To address when there are several (``recipient`` is the first)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # files sent as MIME attachments (courier user-email-attachments)

    @property
    def to_addresses(self) -> list[str]:
        return list(self.to) or [self.recipient]


@dataclass(frozen=True)
class Receipt:
    provider: str
    provider_message_id: str
    internet_message_id: str | None = None  # the Message-ID header the provider gave the email, when known


class ProviderError(Exception):
    """A provider refused or failed a send.

    ``retryable``: the provider certainly did not accept it and a later attempt may succeed
    (throttling, 5xx, connection refused). ``ambiguous``: it may have been accepted (a read
    timeout); the dispatcher never retries those, so a message is never sent twice.
    """

    def __init__(self, message: str, *, retryable: bool, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable and not ambiguous
        self.ambiguous = ambiguous


class EmailProvider(Protocol):
    name: str

    def send(self, email: OutboundEmail) -> Receipt: ...


@dataclass(frozen=True)
class OutboundSms:
    message_id: str
    tenant_id: str
    sender: str  # the origination number (E.164); "" = the provider account's default
    recipient: str
    body: str
    account: str | None = None  # a courier text-account: send with its Twilio credentials (parley.domain.text_numbers)
    status_callback: str | None = None  # where Twilio reports this message's states (else the provider's default)


class SmsProvider(Protocol):
    name: str

    def send(self, sms: OutboundSms) -> Receipt: ...
