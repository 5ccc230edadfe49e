"""The dispatcher's work for one queued message: claim it, send it once, record the outcome.

Exactly-once sending rests on the message's own state, not on the queue:
- a message is sent only by whoever moves it QUEUED/SCHEDULED → SENDING (a conditional write);
- a redelivered job for a SENT, FAILED or CANCELLED message is acknowledged and does nothing;
- a job that finds a *fresh* SENDING claim is a concurrent duplicate: it is retried later;
- a job that finds a *stale* SENDING claim means an earlier attempt died between handing the
  message to the provider and recording the result. It may have been sent, so it is not sent
  again: the message becomes FAILED with an "outcome unknown" error (at-most-once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parley import clock
from parley.dal import counters, messages, optins, suppressions
from parley.domain.ids import new_id
from parley.domain.rendering import render_email
from parley.models.domain import ActivityEvent, Message, MessageStatus, SendJob
from parley.providers.base import EmailProvider, OutboundSms, ProviderError, SmsProvider
from parley.providers.registry import email_provider, sms_provider
from parley.settings import get_settings


class RetryLater(Exception):
    """The job must come back later (SQS redelivery after the visibility timeout)."""


@dataclass(frozen=True)
class Outcome:
    message_id: str
    result: str  # sent | failed | skipped


def _event(msg: Message, name: str, response: str) -> ActivityEvent:
    now = clock.now()
    return ActivityEvent(
        message_id=msg.id, event_id=new_id(), event=name, email=msg.recipient, created_ms=clock.epoch_ms(now), response=response
    )


def _fail(msg: Message, error: str) -> None:
    failed = messages.transition(
        msg.tenant_id,
        msg.id,
        to=MessageStatus.FAILED,
        expect=(MessageStatus.SENDING,),
        extra={"error": error},
        event=_event(msg, "failed", error),
    )
    if failed:
        _count(msg, "failed", clock.now())


def _count(msg: Message, counter: str, at: datetime) -> None:
    """Analytics counters (dal/counters.py) of records, bumped once by whoever made the change."""
    if messages.is_record(msg):
        counters.bump(msg.tenant_id, clock.iso(at)[:10], counter, category=msg.category, template_id=msg.template_id,
                      template_name=msg.template_name)  # fmt: skip


def render_sms(msg: Message) -> OutboundSms:
    return OutboundSms(message_id=msg.id, tenant_id=msg.tenant_id, sender=msg.sender, recipient=msg.recipient, body=msg.body)


def _no_longer_allowed(msg: Message) -> str | None:
    """Why a claimed message must not go out after all: its number opted out (STOP) or its address was
    suppressed (hard bounce, spam report) after it was accepted. One GetItem."""
    if msg.channel == "sms":
        state = optins.get_state(msg.tenant_id, msg.recipient)
        if not (state and state.get("opted_in")):
            return f"not sent: {msg.recipient} is no longer opted in to SMS"
    elif msg.direction == "outbound":
        for address in dict.fromkeys([*msg.all_recipients, *msg.cc, *msg.bcc]):
            entry = suppressions.get(msg.tenant_id, address)
            if entry is not None:
                return f"not sent: {address} is on the suppression list ({entry.reason})"
    return None


def dispatch(job: SendJob, *, receive_count: int, provider: EmailProvider | SmsProvider | None = None) -> Outcome:
    settings = get_settings()
    now = clock.now()
    msg = messages.claim(job.tenant_id, job.message_id, now)
    if msg is None:
        current = messages.get(job.tenant_id, job.message_id, load_body=False)
        if current is None or current.status != MessageStatus.SENDING:
            return Outcome(job.message_id, "skipped")  # gone, or already SENT/FAILED/CANCELLED
        claimed_at = current.claimed_at or now
        if now - claimed_at < timedelta(seconds=settings.send_claim_seconds):
            raise RetryLater(f"message {job.message_id} is being sent by another worker")
        _fail(current, "delivery outcome unknown: an earlier attempt was interrupted after handing the message to the provider; not resent")
        return Outcome(job.message_id, "failed")

    try:
        msg = messages.load_body(msg)
    except Exception as err:
        # Nothing was handed to the provider yet: give the claim back so a retry can send it.
        messages.transition(
            msg.tenant_id,
            msg.id,
            to=MessageStatus.QUEUED,
            expect=(MessageStatus.SENDING,),
            extra={"error": f"body unavailable: {err}"},
            remove=("claimed_at",),
        )
        raise RetryLater(f"body of {msg.id} unavailable: {err}") from err
    refusal = _no_longer_allowed(msg)
    if refusal:
        # Consent or deliverability changed while it waited (quiet hours, a schedule): never send it.
        _fail(msg, refusal)
        return Outcome(msg.id, "failed")
    if msg.channel == "sms":
        sender, outbound = provider or sms_provider(msg.provider, msg.tenant_id), render_sms(msg)
    else:
        sender, outbound = provider or email_provider(msg.provider, msg.tenant_id), render_email(msg)
    try:
        receipt = sender.send(outbound)
    except ProviderError as err:
        if err.retryable and receive_count < settings.max_send_attempts:
            messages.transition(
                msg.tenant_id,
                msg.id,
                to=MessageStatus.QUEUED,
                expect=(MessageStatus.SENDING,),
                extra={"error": str(err)},
                remove=("claimed_at",),
            )
            raise RetryLater(str(err)) from err
        _fail(msg, str(err))
        if err.retryable:
            raise  # out of attempts: report the failure so SQS moves the job to the DLQ
        return Outcome(msg.id, "failed")

    sent_at = clock.now()
    recorded = messages.mark_sent(
        msg,
        provider=receipt.provider,
        provider_message_id=receipt.provider_message_id,
        internet_message_id=receipt.internet_message_id,
        sent_at=sent_at,
        event=_event(msg, "sent", f"accepted by {receipt.provider}: {receipt.provider_message_id}"),
    )
    if recorded:
        _count(msg, "sent", sent_at)
    return Outcome(msg.id, "sent")
