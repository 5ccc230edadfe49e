"""Sending email: accept (store + queue, or schedule) and read back its activity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from parley import clock, metrics
from parley.dal import messages, queue, schedules
from parley.domain import candidates, limits, users
from parley.domain.context import Caller, Sender
from parley.domain.email_events import ensure_sendable
from parley.domain.idempotency import send_once
from parley.domain.ids import new_id
from parley.errors import BadRequest, NotFound
from parley.models.domain import ActivityEvent, Message, MessageStatus, SendJob


def new_outbound(
    caller: Caller,
    channel: Literal["email", "sms"],
    *,
    source_api: str,
    recipient: str,
    message_id: str | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> Message:
    """A new QUEUED outbound message on ``channel``, from the caller's sender on that channel and through its
    provider for it: a new id (unless ``message_id``) and, unless ``fields`` names one, a conversation of its
    own. ``fields`` are the rest of the message (body, subject, recruiter_id, candidate_id, …)."""
    message_id = message_id or new_id()
    email = channel == "email"
    return Message(
        tenant_id=caller.tenant_id,
        id=message_id,
        channel=channel,
        direction="outbound",
        status=MessageStatus.QUEUED,
        source_api=source_api,
        sender=caller.sender_email if email else caller.sms_sender,
        provider=caller.email_provider if email else caller.sms_provider,
        recipient=recipient,
        conversation_id=fields.pop("conversation_id", None) or message_id,
        created_at=created_at or clock.now(),
        **fields,
    )


def new_outbound_email(
    caller: Caller,
    *,
    source_api: str,
    recipient: str,
    subject: str,
    body: str,
    recruiter_id: str | None = None,
    candidate_id: str | None = None,
    conversation_id: str | None = None,
) -> Message:
    message_id = new_id()
    conversation_id = conversation_id or message_id
    return new_outbound(
        caller,
        "email",
        source_api=source_api,
        recipient=recipient,
        message_id=message_id,
        conversation_id=conversation_id,
        sender_name=caller.sender_name,
        subject=subject,
        body=body,
        recruiter_id=recruiter_id,
        candidate_id=candidate_id,
        # Replies to this address reach POST /communications/email/v1/reply and thread by the token.
        reply_to=f"reply+{conversation_id}@{caller.reply_domain}" if caller.reply_domain else None,
    )


def submit(msg: Message, *, extra_ops: Sequence[dict[str, Any]] = ()) -> Message:
    """Store a QUEUED message and put it on the send queue.

    If the queue refuses it, the stored record is marked FAILED (never left looking queued) and
    the error propagates, so the caller sees a failure and an Idempotency-Key retry starts afresh.
    An outbound email to an address on the tenant's suppression list is refused (``Suppressed``, 400)
    before anything is stored. ``extra_ops`` are written in the message's own create transaction
    (e.g. the CRM's tracking-token lookup), so they exist exactly when the message does. The message's
    recruiter is numbered in the users directory (``_number_author``) before it is stored.
    """
    _refuse_suppressed(msg)
    _number_author(msg)
    messages.create(msg, extra_ops=extra_ops)
    try:
        queue.enqueue(SendJob(tenant_id=msg.tenant_id, message_id=msg.id))
    except Exception as err:
        messages.transition(
            msg.tenant_id, msg.id, to=MessageStatus.FAILED, expect=(MessageStatus.QUEUED,), extra={"error": f"could not queue: {err}"}
        )
        raise
    metrics.count(f"{msg.channel.capitalize()}Accepted")  # EmailAccepted / SmsAccepted, by family and route
    return msg


def _number_author(msg: Message) -> None:
    """Give an outbound message's recruiter its users-directory integer (the ATS ``created_by``) now, on
    the write path, so that reading the message later never has to write (a no-op once this process has
    seen the recruiter numbered)."""
    if msg.direction == "outbound" and msg.recruiter_id:
        users.number(msg.tenant_id, msg.recruiter_id)


def _refuse_suppressed(msg: Message) -> None:
    # Every addressee (To, Cc, Bcc), in one read: the dispatcher re-checks the same set just before sending.
    if msg.channel == "email" and msg.direction == "outbound":
        ensure_sendable(msg.tenant_id, [*msg.all_recipients, *msg.cc, *msg.bcc])


MIN_SCHEDULE_LEAD = timedelta(seconds=5)


def schedule(msg: Message, at: datetime, tz_name: str | None = None, *, extra_ops: Sequence[dict[str, Any]] = ()) -> Message:
    """Store a SCHEDULED message and create its one-time schedule (fires onto the send queue);
    ``extra_ops`` as for ``submit``."""
    if at.tzinfo is None:
        raise BadRequest("scheduledAt must carry a time zone or offset")
    if at - clock.now() < MIN_SCHEDULE_LEAD:
        raise BadRequest("scheduledAt must be in the future")
    _refuse_suppressed(msg)
    _number_author(msg)
    msg = msg.model_copy(update={"status": MessageStatus.SCHEDULED, "scheduled_at": at.astimezone(clock.UTC), "scheduled_tz": tz_name})
    messages.create(msg, extra_ops=extra_ops)
    try:
        schedules.create_at(SendJob(tenant_id=msg.tenant_id, message_id=msg.id), msg.scheduled_at)
    except Exception as err:
        messages.transition(
            msg.tenant_id, msg.id, to=MessageStatus.FAILED, expect=(MessageStatus.SCHEDULED,), extra={"error": f"could not schedule: {err}"}
        )
        raise
    metrics.count(f"{msg.channel.capitalize()}Scheduled")
    return msg


def cancel(tenant_id: str, message_id: str, *, author_id: str | None = None, extra: dict[str, Any] | None = None) -> bool:
    """SCHEDULED → CANCELLED, then delete the schedule.

    The state change is the arbiter: the dispatcher only sends what it can claim from SCHEDULED or
    QUEUED, so a cancel racing the firing schedule ends either CANCELLED (not sent) or SENT (the
    cancel is refused), never both. Returns False if the message was no longer cancellable.
    ``author_id`` signs the timeline's STATUS_CHANGE entry; ``extra`` are fields set with the change.
    """
    if messages.get(tenant_id, message_id, load_body=False) is None:
        raise NotFound("message not found")
    now = clock.now()
    event = ActivityEvent(message_id=message_id, event_id=new_id(), event="cancelled", created_ms=clock.epoch_ms(now))
    if not messages.transition(
        tenant_id, message_id, to=MessageStatus.CANCELLED, expect=(MessageStatus.SCHEDULED,), event=event, extra=extra, author_id=author_id
    ):
        return False
    schedules.delete(message_id)
    return True


def send_candidate_email(sender: Sender, *, to: str, subject: str, content: str) -> str:
    """POST /communications/email/v1/send: returns the emailActivityId (= the message id). The sender's user is the
    recruiter."""
    caller, recruiter_id = sender.caller, sender.user_id

    @limits.sending(caller)  # the tenant's send rate and daily quota (429 beyond), counted once per accepted send
    def accept() -> dict[str, Any]:
        candidate_id = candidates.resolve(caller.tenant_id, email=to)
        msg = new_outbound_email(
            caller,
            source_api="candidate",
            recipient=to,
            subject=subject,
            body=content,
            recruiter_id=recruiter_id,
            candidate_id=candidate_id,
        )
        submit(msg)
        return {"message_id": msg.id}

    payload = {"to": to, "subject": subject, "content": content, "recruiter": recruiter_id}
    return send_once(sender, "email.send", payload, accept)["message_id"]


def email_activity(tenant_id: str, message_id: str) -> tuple[Message, list[ActivityEvent]]:
    msg, events = messages.get_with_events(tenant_id, message_id)
    if msg is None or msg.channel != "email":
        raise NotFound(f"emailActivityId {message_id} not found")
    return msg, events
