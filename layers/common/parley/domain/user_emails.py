"""The courier's user-emails (seed 003, docs/courier.md "Email"): an email a user writes about one of their
individuals, sent on an organization's behalf through the existing send pipeline.

- **create**: a draft (``state = draft``), or with ``auto-send`` a queued email: the user-email and the send
  pipeline's message are written in one transaction (``emails.submit``: suppression-checked before anything is
  stored, then put on the send queue), so an email is never queued without its message nor the reverse. An
  ``Idempotency-Key`` makes a retried create return the first email (``run_once``).
- **send**: ``draft → queued`` in the message's own create transaction, conditional on the email still being a draft:
  two sends of one draft (a retry, a race) make one message; the later one answers the email as it is (idempotent).
- **status** is read, never copied: ``draft`` while the email is one; afterwards its message's, which the
  dispatcher (SENDING → SENT, at most once, retried) and the SES events (``email_events.apply``: DELIVERED, BOUNCED …)
  move, as they do every other email's: ``queued`` → ``sent`` → ``delivered`` | ``bounced`` | ``complained``, or
  ``failed``. ``task-id`` is the message's id (the send job's); ``result`` the provider's latest word on it.
"""

from __future__ import annotations

import re
from typing import Any

from parley import clock
from parley.dal import directory as people
from parley.dal import user_emails as store
from parley.domain import emails, limits
from parley.domain.context import Caller
from parley.domain.idempotency import run_once
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.courier_email import UserEmailAttributes, UserEmailCreate
from parley.models.domain import Message, MessageStatus

SOURCE_API = "courier"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

# The message's delivery status (SES and SendGrid events, domain/email_events.py) → the email's status.
_DELIVERY = {
    "DELIVERED": "delivered",
    "OPENED": "delivered",
    "CLICKED": "delivered",
    "BOUNCED": "bounced",
    "COMPLAINED": "complained",
    "DROPPED": "failed",
}
_PENDING = {MessageStatus.QUEUED.value, MessageStatus.SCHEDULED.value, MessageStatus.SENDING.value}
_HANDED_OVER = {MessageStatus.SENT.value, MessageStatus.UNCONFIRMED.value}


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def check_complete(attrs: UserEmailCreate) -> None:
    """The members an email cannot go without (422 naming the first one missing): ``to``, ``subject``,
    ``sender-organization-id``, and ``message`` or ``message-html``."""
    for name, member in (("to", "to"), ("subject", "subject"), ("sender_organization_id", "sender-organization-id")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=pointer(member), code="missing-member")
    if attrs.message is None and attrs.message_html is None:
        raise Unprocessable("message or message-html is required", pointer=pointer("message"), code="missing-member")


def _sender_name(caller: Caller, organization: dict[str, Any]) -> str:
    """The From display name: the organization's (its ``display-name``, else its ``name``), else the tenant's."""
    attrs = people.attributes(organization)
    name = attrs.get("display-name") or attrs.get("name") or caller.sender_name
    return _CONTROL.sub(" ", name).strip()


def _organization(tenant_id: str, organization_id: str) -> dict[str, Any]:
    found = people.get(tenant_id, "organizations", organization_id)
    if found is None:
        raise Unprocessable(f"no organization {organization_id!r}", pointer=pointer("sender-organization-id"), code="unknown-organization")
    return found


def _message(caller: Caller, stored: dict[str, Any], sender_name: str) -> Message:
    """The send pipeline's message for an email: from the tenant's sender address with the organization's name."""
    html, text = stored.get("message_html"), stored.get("message")
    return emails.new_outbound(
        caller,
        "email",
        message_id=stored["id"],  # one id: the dispatcher finds the email's attachments by its message's id
        source_api=SOURCE_API,
        recipient=stored["to"][0],
        sender_name=sender_name,
        subject=stored["subject"],
        body=html if html is not None else text or "",
        body_text=text if html is not None else None,
        created_by=stored["user_id"],
    )


def create(
    caller: Caller,
    user_id: str,
    individual_id: str,
    attrs: UserEmailCreate,
    *,
    idempotency_key: str | None = None,
    lambda_context: Any = None,
) -> tuple[str, UserEmailAttributes]:
    """A new email of ``user_id`` about ``individual_id`` (already checked to be the user's): a draft, or queued at
    once with ``auto-send``. The caller has checked ``check_complete``."""
    organization = _organization(caller.tenant_id, attrs.sender_organization_id or "")

    def accept() -> dict[str, Any]:
        email_id, now = new_id(), clock.iso(clock.now())
        stored = store.item(
            caller.tenant_id,
            email_id,
            {
                "to": [attrs.to],
                "subject": attrs.subject,
                "message": attrs.message,
                "message_html": attrs.message_html,
                "sender_organization_id": attrs.sender_organization_id,
                "individual_id": individual_id,
                "user_id": user_id,
                "created_by": user_id,
                "state": "draft",
                "created_at": now,
                "last_modified_at": now,
            },
        )
        if not attrs.auto_send:
            store.create(stored)
            return {"id": email_id}
        msg = _message(caller, stored, _sender_name(caller, organization))
        stored.update(state="queued", message_id=msg.id)
        with limits.sending(caller):  # the tenant's send rate and daily quota (429), as every send
            emails.submit(msg, extra_ops=store.create_ops(stored))
        return {"id": email_id}

    payload = {"user": user_id, "individual": individual_id, **attrs.model_dump(mode="json")}
    done = run_once(
        tenant_id=caller.tenant_id, scope="courier.user-emails.create", key=idempotency_key, payload=payload, fn=accept,
        lambda_context=lambda_context,
    )  # fmt: skip
    return get(caller.tenant_id, done["id"], consistent=True)


def send(caller: Caller, email_id: str, *, check: Any = None) -> tuple[str, UserEmailAttributes]:
    """Send a draft: ``draft → queued`` with its message, once. An email that is no longer a draft (sent before, or
    by a concurrent request) is answered as it is, and nothing is sent again. ``check(stored)`` may refuse the
    request (the acting user's ownership) before anything is written."""
    stored = store.get(caller.tenant_id, email_id, consistent=True)
    if stored is None:
        raise NotFound(f"no user-email {email_id!r}", code="not-found")
    if check is not None:
        check(stored)
    if stored.get("state") == "draft":
        organization = _organization(caller.tenant_id, stored["sender_organization_id"])
        msg = _message(caller, stored, _sender_name(caller, organization))
        try:
            with limits.sending(caller):
                emails.submit(msg, extra_ops=[store.queue_op(caller.tenant_id, email_id, msg.id, clock.iso(clock.now()))])
        except Exception as err:
            if not store.lost_race(err):
                raise
            # another request sent it between our read and our write: its message is the one
    return get(caller.tenant_id, email_id, consistent=True)


def get(tenant_id: str, email_id: str, *, consistent: bool = False) -> tuple[str, UserEmailAttributes]:
    stored = store.get(tenant_id, email_id, consistent=consistent)
    if stored is None:
        raise NotFound(f"no user-email {email_id!r}", code="not-found")
    return answer(tenant_id, stored)


def answer(tenant_id: str, stored: dict[str, Any]) -> tuple[str, UserEmailAttributes]:
    """A stored email as answered: its status read from its message (one read of the message's status fields)."""
    messages = store.messages_of(tenant_id, [stored["message_id"]]) if stored.get("message_id") else {}
    return stored["id"], view(stored, messages.get(stored.get("message_id", "")))


def stored(tenant_id: str, email_id: str) -> dict[str, Any]:
    """The stored email (for an ownership check before answering it); 404 when the tenant has none."""
    found = store.get(tenant_id, email_id)
    if found is None:
        raise NotFound(f"no user-email {email_id!r}", code="not-found")
    return found


def page(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, UserEmailAttributes]], int]:
    """A page of the individual's emails, newest first, and how many it has."""
    items, total = store.page(tenant_id, individual_id, offset=offset, limit=limit)
    messages = store.messages_of(tenant_id, [i["message_id"] for i in items if i.get("message_id")])
    return [(i["id"], view(i, messages.get(i.get("message_id", "")))) for i in items], total


def status_of(stored: dict[str, Any], message: dict[str, Any] | None) -> tuple[str, str | None]:
    """``(status, result)`` of an email from its own state and its message's (docs/courier.md "Email")."""
    if stored.get("state") == "draft":
        return "draft", None
    if message is None or message.get("status") in _PENDING:
        return "queued", None
    provider = message.get("provider") or "provider"
    if message.get("status") in _HANDED_OVER:
        delivery = message.get("delivery_status")
        if delivery:
            return _DELIVERY.get(delivery, "sent"), f"{provider}: {delivery.lower()}"
        if message["status"] == MessageStatus.UNCONFIRMED.value:
            return "sent", f"{provider}: unconfirmed"
        return "sent", f"{provider}: accepted"
    return "failed", message.get("error") or message.get("status", "").lower()


def view(stored: dict[str, Any], message: dict[str, Any] | None) -> UserEmailAttributes:
    status, result = status_of(stored, message)
    modified = stored["last_modified_at"]
    for field in ("updated_at", "sent_at"):
        if message and message.get(field):
            modified = max(modified, clock.iso(clock.parse_iso(message[field])))
    return UserEmailAttributes(
        to=stored["to"],
        subject=stored.get("subject"),
        message=stored.get("message"),
        message_html=stored.get("message_html"),
        sender_organization_id=stored.get("sender_organization_id"),
        individual_id=stored.get("individual_id"),
        user_id=stored.get("user_id"),
        created_by=stored.get("created_by"),
        status=status,  # type: ignore[arg-type]
        result=result,
        task_id=stored.get("message_id"),
        created_at=stored["created_at"],
        last_modified_at=modified,
    )
