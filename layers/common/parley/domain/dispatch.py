"""The dispatcher's work for a batch of queued messages: claim them, send each once, record the outcomes.

Exactly-once sending rests on each message's own state, not on the queue:
- a message is sent only by whoever moves it QUEUED/SCHEDULED → SENDING (a conditional write);
- a redelivered job for a SENT, FAILED or CANCELLED message is acknowledged and does nothing;
- a job that finds a *fresh* SENDING claim is a concurrent duplicate: it is retried later;
- a job that finds a *stale* SENDING claim means an earlier attempt died between handing the
  message to the provider and recording the result. It may have been sent, so it is not sent
  again: the message becomes UNCONFIRMED ("delivery outcome unknown"), never FAILED (at-most-once);
  the provider's own events confirm it SENT later (``email_events.apply``).

A message the provider accepted never ends FAILED (docs/architecture.md §6.2):
- its SENT write (conditional on the claim, so repeatable) is retried with a jittered exponential backoff
  while the invocation has time left (``remaining_ms``; ``OUTCOME_RESERVE_MS`` is kept for what follows);
  a repeat that finds the message SENT already (the earlier write landed, its answer lost) writes nothing.
  The claim and the send-time re-check are repeated the same way (a claim carries the attempt's token, so
  a claim that landed with its answer lost is recognised); a re-check that still fails gives the claims back;
- if it still cannot be written, the provider's answer is queued as a *receipt job* (a ``SendJob`` with
  ``receipt``, outside the table, delayed ``RECEIPT_DELAY_SECONDS``), whose later dispatch writes SENT and
  never calls a provider; the send job itself is then acknowledged;
- if even that fails, the answer is logged (message id, provider, provider message id) and the record
  reported failed: its redelivery finds the claim, fresh and then stale → UNCONFIRMED, and the provider's
  events, which carry Parley's message id (SES tags, SendGrid custom args), confirm it SENT;
- an ambiguous provider error (a read timeout: it may have been accepted) also ends UNCONFIRMED.

A batch (``dispatch_batch``; ``dispatch`` is a batch of one) is worked in rounds of distinct messages:
a job repeated in one SQS batch goes to the next round, which starts when the previous one is recorded,
so it sees the message exactly as a job in a later invocation would. One round:

1. claim: one ``TransactWriteItems`` of conditional claims (``messages.claim_many``); the messages whose
   condition failed come back with their item as it was, from which skipped / fresh / stale is decided
   as above, and the others are claimed again; then one consistent ``BatchGetItem`` of the claimed items;
2. bodies kept in S3 are read (a failure gives the claim back: QUEUED again, retried later);
3. send-time re-check, one ``BatchGetItem`` for the whole round: the suppression entry of every To/Cc/Bcc
   address of each outbound email and the opt-in state of each SMS number; a message no longer allowed
   becomes FAILED and is never sent;
4. the outcomes decided before any provider call (the stale claims, the refusals, the bodies that could
   not be read) are written, then each allowed message is handed to its provider, one call each;
5. the outcomes after the provider calls (SENT, FAILED, QUEUED again for a retryable error) are written
   in one ``TransactWriteItems``: each status change in it is conditional on the message still being
   SENDING, and the transaction is all-or-nothing; if it fails for any reason (a message moved meanwhile),
   each message's outcome is written on its own (``messages.mark_sent`` / ``messages.transition``), so
   one message never loses another's outcome. A lone outcome is written that way directly;
6. the analytics day counters the recorded outcomes earn are bumped, summed per day item
   (``counters.DayBumps``: one UpdateItem per tenant and day, usually one per batch). They stay out of
   the outcome transaction on purpose: concurrent batches of one tenant would conflict on the day item.

An outcome write that still raises leaves its message SENDING: the job fails and its redelivery finds the
claim, fresh (retried later) and then stale (UNCONFIRMED "outcome unknown", not resent).

The last attempt (the job's ``receive_count`` reaches ``MAX_SEND_ATTEMPTS``, its queue's maxReceiveCount): a job
that fails then goes to the send DLQ, so a message that certainly did not go out (a retryable provider error, a
body or re-check that could not be read, a provider that could not be set up) is not given back to QUEUED, where
nothing would bring it to a dispatcher again: it becomes FAILED *dead-lettered* (``dead_letter_at``, a ``failed``
event and an ``error`` saying it waits for an operator). ``python -m parley.admin dlq redrive`` puts it back to
QUEUED and its job back on the queue; the claim above makes that redriven job send it at most once
(``parley.domain.dead_letters``, docs/operations.md "Dead letters").

Every provider call's outcome, per tenant, is returned for the ``ProviderCallFailed`` metric (``parley.metrics``).

Pacing (issue 14, docs/architecture.md §6.4), before any round: each send job gets a provider-send slot of its
tenant (``dal/limits.reserve``: one conditional write per tenant in the batch; the slots are
``provider_rate_limit`` apart). A job whose slot is within ``PACE_HORIZON_US`` is worked in this invocation, its
provider call made no earlier than its slot (a short sleep); a job whose slot is further off is put back on the
send queue, delayed until its slot, with the slot in the job (``SendJob.not_before``: not reserved again), and
acknowledged: result ``deferred``. Nothing is claimed for a deferred job, so its message stays QUEUED/SCHEDULED
with its attempts untouched, and a fresh queue message starts its receive count again: pacing never fails a send
nor moves it towards the DLQ. Receipt jobs are not paced (no provider call).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from parley import clock
from parley.dal import counters, messages, optins, queue, suppressions, table, tenants
from parley.dal import limits as pace
from parley.domain import limits
from parley.domain.ids import new_id
from parley.domain.rendering import render_email
from parley.models.domain import ActivityEvent, Message, MessageStatus, SendJob, SendReceipt
from parley.models.email_events import Suppression
from parley.providers.base import EmailProvider, OutboundEmail, OutboundSms, ProviderError, SmsProvider
from parley.providers.registry import email_provider, sms_provider
from parley.settings import get_settings

MAX_TRANSACTION_ITEMS = 100
# Outcome writes that fail transiently (throttling, 5xx, a conflict) are repeated after a jittered
# exponential backoff (full jitter: a random wait up to base * 2^n, at most the cap) while the invocation
# has more than the reserve left; the reserve is for queuing receipts and answering SQS.
OUTCOME_BACKOFF_BASE_S = 0.05
OUTCOME_BACKOFF_CAP_S = 2.0
OUTCOME_RESERVE_MS = 3_000
DEFAULT_BUDGET_MS = 20_000  # without a Lambda context (a direct call): the time outcome writes may take
# Pacing: a send slot within this is waited for in the invocation (it sleeps at most this long per batch); a
# later one is put back on the queue, delayed (SQS's longest delay is 900 s: a job further off comes back sooner,
# still holding its slot, and is put back again).
PACE_HORIZON_US = 1_000_000
MAX_DELAY_SECONDS = 900
UNKNOWN_OUTCOME = "delivery outcome unknown: an earlier attempt was interrupted after handing the message to the provider; not resent"
DEAD_LETTERED = "not sent after {attempts} attempts; held in the dead-letter queue until an operator retries or discards it"
logger = Logger(child=True)
_sleep = time.sleep

Remaining = Callable[[], int]  # milliseconds the invocation has left (LambdaContext.get_remaining_time_in_millis)


class RetryLater(Exception):
    """The job must come back later (SQS redelivery after the visibility timeout)."""


@dataclass(frozen=True)
class Outcome:
    message_id: str
    # sent | failed | unconfirmed | skipped | recorded (a receipt job wrote a SENT counted when it was sent) |
    # deferred (paced: put back on the queue until its send slot)
    result: str


Result = Outcome | Exception  # what became of one job: its outcome, or why it must be reported as failed


def _event(msg: Message, name: str, response: str) -> ActivityEvent:
    now = clock.now()
    return ActivityEvent(
        message_id=msg.id, event_id=new_id(), event=name, email=msg.recipient, created_ms=clock.epoch_ms(now), response=response
    )


def with_attachments(msg: Message, outbound: OutboundEmail) -> OutboundEmail:
    """A courier email with its ready user-email-attachments (read from S3; the provider sends them as MIME parts).
    A user-email's message has the user-email's id (docs/courier.md "Email attachments"); other families' emails have none
    and cost no read. A failed read is a failure to prepare the message: given back, retried."""
    if msg.source_api != "courier" or msg.channel != "email":
        return outbound
    from parley.domain import email_attachments

    files = email_attachments.ready_attachments(msg.tenant_id, msg.id)
    return replace(outbound, attachments=tuple(files)) if files else outbound


def render_sms(msg: Message) -> OutboundSms:
    return OutboundSms(message_id=msg.id, tenant_id=msg.tenant_id, sender=msg.sender, recipient=msg.recipient, body=msg.body,
                       account=msg.provider_account, status_callback=msg.status_callback)  # fmt: skip


@dataclass
class _Write:
    """One message's outcome, to be recorded: its writes (the conditional status change first), the day
    counter they earn, and its job's result once they are made."""

    msg: Message
    ops: list[dict[str, Any]]
    counter: str | None  # "sent" | "failed" (records only) | None
    at: datetime
    result: Result
    transition: dict[str, Any] | None = None  # keyword arguments of messages.transition, or
    sent: dict[str, Any] | None = None  # of messages.mark_sent


def _counted(msg: Message, counter: str) -> str | None:
    """Analytics counters (dal/counters.py) are kept for records only."""
    return counter if messages.is_record(msg) else None


def _bumps(writes: Sequence[_Write]) -> counters.DayBumps:
    bumps = counters.DayBumps()
    for w in writes:
        if w.counter is not None:
            m = w.msg
            bumps.add(m.tenant_id, clock.iso(w.at)[:10], w.counter, category=m.category, template_id=m.template_id,
                      template_name=m.template_name)  # fmt: skip
    return bumps


def _fail_write(msg: Message, error: str, result: Result) -> _Write:
    kw: dict[str, Any] = {"to": MessageStatus.FAILED, "expect": (MessageStatus.SENDING,), "extra": {"error": error},
                          "event": _event(msg, "failed", error)}  # fmt: skip
    ops = messages.transition_ops(msg.tenant_id, msg.id, **kw)
    return _Write(msg, ops, _counted(msg, "failed"), clock.now(), result, transition=kw)


def _unconfirmed_write(msg: Message, error: str, result: Result) -> _Write:
    """SENDING → UNCONFIRMED: it may be with the provider; never resent, confirmed by the provider's events."""
    kw: dict[str, Any] = {"to": MessageStatus.UNCONFIRMED, "expect": (MessageStatus.SENDING,), "extra": {"error": error},
                          "event": _event(msg, "unconfirmed", error), "remove": ("claimed_at",)}  # fmt: skip
    return _Write(msg, messages.transition_ops(msg.tenant_id, msg.id, **kw), None, clock.now(), result, transition=kw)


def dead_letter_error(error: str, attempts: int) -> str:
    """The ``error`` of a message whose job was dead-lettered: the cause, and that an operator holds it."""
    return f"{error} ({DEAD_LETTERED.format(attempts=attempts)})"


def _dead_letter_write(msg: Message, error: str, result: Result, attempts: int) -> _Write:
    """SENDING → FAILED, dead-lettered: the provider certainly does not have it and its job (reported failed, so
    SQS moves it to the DLQ) waits for an operator, who may redrive it (back to QUEUED) or discard it."""
    now = clock.now()
    text = dead_letter_error(error, attempts)
    kw: dict[str, Any] = {"to": MessageStatus.FAILED, "expect": (MessageStatus.SENDING,),
                          "extra": {"error": text, "dead_letter_at": clock.iso(now)}, "event": _event(msg, "failed", text),
                          "remove": ("claimed_at",)}  # fmt: skip
    return _Write(msg, messages.transition_ops(msg.tenant_id, msg.id, **kw), _counted(msg, "failed"), now, result, transition=kw)


def _give_back(msg: Message, error: str, result: Result, receive_count: int) -> _Write:
    """Nothing was handed to the provider: QUEUED again for a later attempt, or dead-lettered on the last one."""
    if receive_count >= get_settings().max_send_attempts:
        return _dead_letter_write(msg, error, result, receive_count)
    return _requeue_write(msg, error, result)


def _requeue_write(msg: Message, error: str, result: Result) -> _Write:
    kw: dict[str, Any] = {"to": MessageStatus.QUEUED, "expect": (MessageStatus.SENDING,), "extra": {"error": error},
                          "remove": ("claimed_at",)}  # fmt: skip
    return _Write(msg, messages.transition_ops(msg.tenant_id, msg.id, **kw), None, clock.now(), result, transition=kw)


def _sent_write(msg: Message, receipt: Any, sent_at: datetime | None = None) -> _Write:
    """SENT with the provider's answer. From SENDING (our claim) or UNCONFIRMED (a stale-claim rule gave the
    claim up meanwhile: the answer in hand is better knowledge than "unknown")."""
    sent_at = sent_at or clock.now()
    kw: dict[str, Any] = {
        "provider": receipt.provider,
        "provider_message_id": receipt.provider_message_id,
        "internet_message_id": receipt.internet_message_id,
        "sent_at": sent_at,
        "event": _event(msg, "sent", f"accepted by {receipt.provider}: {receipt.provider_message_id}"),
        "expect": messages.UNCONFIRMED_STATES,
    }
    return _Write(msg, messages.mark_sent_ops(msg, **kw), _counted(msg, "sent"), sent_at, Outcome(msg.id, "sent"), sent=kw)


def _budget(remaining_ms: Remaining | None) -> Remaining:
    """The time left, as ``remaining_ms`` says but never more than what it said at the start minus the time
    spent since (a clock of our own: repeats end even if the given one stands still)."""
    start = remaining_ms() if remaining_ms is not None else DEFAULT_BUDGET_MS
    end = time.monotonic() + start / 1000

    def left() -> int:
        own = int((end - time.monotonic()) * 1000)
        return own if remaining_ms is None else min(own, remaining_ms())

    return left


def _persist[T](write: Callable[[], T], remaining_ms: Remaining, message_id: str) -> T:
    """``write()``, repeated after a backoff while it fails transiently (``table.is_transient``) and the
    invocation has time left; the last error is raised. Only for calls that are safe to repeat."""
    attempt = 0
    while True:
        try:
            return write()
        except Exception as err:
            if not table.is_transient(err):
                raise
            wait = random.uniform(0, min(OUTCOME_BACKOFF_CAP_S, OUTCOME_BACKOFF_BASE_S * 2**attempt))
            if remaining_ms() - wait * 1000 < OUTCOME_RESERVE_MS:
                raise
            attempt += 1
            logger.warning("outcome write failed; repeating it", extra={"message_id": message_id, "attempt": attempt, "error": str(err)})
            _sleep(wait)


def _write_one(w: _Write, remaining_ms: Remaining) -> bool:
    """One outcome on its own, repeated while it fails transiently; False if its message was in none of the
    expected states: nothing written by this call. For a SENT that means it is SENT already (an earlier try,
    or the combined transaction, landed with its answer lost; or a provider's event confirmed it first): its
    day counter is then not bumped here (at-most-once counters, never doubled)."""
    m = w.msg
    if w.sent is None:
        return _persist(lambda: messages.transition(m.tenant_id, m.id, **(w.transition or {})), remaining_ms, m.id)
    sent = w.sent
    return _persist(lambda: messages.mark_sent(m, **sent), remaining_ms, m.id)


def _queue_receipt(w: _Write) -> bool:
    """Keep the provider's answer outside the table: a receipt job, delayed, that writes SENT later."""
    m, sent = w.msg, w.sent or {}
    receipt = SendReceipt(provider=sent["provider"], provider_message_id=sent["provider_message_id"],
                          internet_message_id=sent.get("internet_message_id"), sent_at=sent["sent_at"])  # fmt: skip
    where = {"message_id": m.id, "tenant_id": m.tenant_id, "provider": receipt.provider, "provider_message_id": receipt.provider_message_id}
    try:
        queue.enqueue(SendJob(tenant_id=m.tenant_id, message_id=m.id, receipt=receipt), delay_seconds=get_settings().receipt_delay_seconds)
    except Exception:
        # The log line is then the only copy of the answer; the provider's events confirm it SENT.
        logger.exception("SENT could not be written nor its receipt queued", extra=where)
        return False
    logger.warning("SENT could not be written in time; receipt job queued", extra=where)
    return True


def _write_all(writes: Sequence[_Write], results: dict[int, Result], index_of: dict[int, int], remaining_ms: Remaining, *,
               receipts: bool = True) -> None:  # fmt: skip
    """Record ``writes``: several in one transaction (up to 100 items each); one alone, or all of a combined
    transaction that failed, each on its own (``_write_one``, repeated while it fails transiently). A SENT
    that still cannot be written is queued as a receipt job (``receipts``). Then the counters of what was
    recorded."""
    chunks: list[list[_Write]] = []
    size = 0
    for w in writes:
        if not chunks or size + len(w.ops) > MAX_TRANSACTION_ITEMS:
            chunks.append([])
            size = 0
        chunks[-1].append(w)
        size += len(w.ops)
    recorded: list[_Write] = []
    for chunk in chunks:
        if len(chunk) > 1:
            try:
                messages.write_ops([op for w in chunk for op in w.ops])
            except Exception:  # noqa: S110 (cancelled or failed: each outcome is written on its own, below)
                pass
            else:
                for w in chunk:
                    results[index_of[id(w)]] = w.result
                recorded.extend(chunk)
                continue
        for w in chunk:
            try:
                made = _write_one(w, remaining_ms)
            except Exception as err:
                if receipts and w.sent is not None and _queue_receipt(w):
                    results[index_of[id(w)]] = w.result  # the provider has it; the receipt job records it
                else:
                    results[index_of[id(w)]] = err
            else:
                results[index_of[id(w)]] = w.result
                if made:
                    recorded.append(w)
    bumps = _bumps(recorded)
    if bumps:
        try:
            bumps.apply()
        except Exception:
            # At-most-once counters (dal/counters.py): the outcomes stand; only these counts are lost.
            logger.exception("analytics counters not bumped")


def _recheck(claimed: Sequence[Message]) -> dict[str, str]:
    """Why each claimed message must not go out after all (``{message_id: reason}``): its tenant was disabled
    (``parley.admin disable-tenant``), its number opted out (STOP) or one of its addresses was suppressed (hard
    bounce, spam report) after it was accepted. One BatchGetItem for all of them (the tenants' items, suppression
    entries and opt-in states, any tenants)."""
    wanted: list[tuple[str, str]] = list(dict.fromkeys(tenants.key(msg.tenant_id) for msg in claimed))
    for msg in claimed:
        if msg.channel == "sms":
            wanted.append(optins.state_key(msg.tenant_id, msg.recipient))
        elif msg.direction == "outbound":
            addresses = dict.fromkeys([*msg.all_recipients, *msg.cc, *msg.bcc])
            wanted.extend((suppressions.suppression_pk(msg.tenant_id), suppressions.suppression_sk(a)) for a in addresses)
    found = table.batch_get(wanted) if wanted else {}
    refusals: dict[str, str] = {}
    for msg in claimed:
        tenant = found.get(tenants.key(msg.tenant_id))
        if tenant is None or tenant.get("disabled_at"):
            refusals[msg.id] = "not sent: the tenant is disabled" if tenant else "not sent: the tenant no longer exists"
        elif msg.channel == "sms":
            state = found.get(optins.state_key(msg.tenant_id, msg.recipient))
            # courier texts need no opt-in record, only no STOP (docs/courier.md "Texts, replies and consents")
            if state is None and msg.source_api == "courier":
                continue
            if not (state and state.get("opted_in")):
                refusals[msg.id] = f"not sent: {msg.recipient} is no longer opted in to SMS"
        elif msg.direction == "outbound":
            for address in dict.fromkeys([*msg.all_recipients, *msg.cc, *msg.bcc]):
                item = found.get((suppressions.suppression_pk(msg.tenant_id), suppressions.suppression_sk(address)))
                if item is not None:
                    entry = Suppression.model_validate(item)
                    refusals[msg.id] = f"not sent: {address} is on the suppression list ({entry.reason})"
                    break
    return refusals


def _round(jobs: list[tuple[int, SendJob, int]], provider: EmailProvider | SmsProvider | None, results: dict[int, Result],
           remaining_ms: Remaining, calls: list[tuple[str, bool]], slots: dict[int, int]) -> None:  # fmt: skip
    settings = get_settings()
    now = clock.now()
    # Repeated like an outcome write: the token makes a claim whose answer was lost count as ours.
    token, keys = new_id(), [(j.tenant_id, j.message_id) for _, j, _ in jobs]
    claimed, refused = _persist(lambda: messages.claim_many(keys, now, token), remaining_ms, f"{len(keys)} claims")
    before: list[_Write] = []  # outcomes decided before any provider call
    index_of: dict[int, int] = {}
    to_send: list[tuple[int, int, Message]] = []

    def add(ws: list[_Write], w: _Write, i: int) -> None:
        ws.append(w)
        index_of[id(w)] = i

    for i, job, receive_count in jobs:
        key = (job.tenant_id, job.message_id)
        if key in refused:
            current = refused[key]
            if current is None or current.status != MessageStatus.SENDING:
                results[i] = Outcome(job.message_id, "skipped")  # gone, or already SENT/FAILED/CANCELLED
                continue
            claimed_at = current.claimed_at or now
            if now - claimed_at < timedelta(seconds=settings.send_claim_seconds):
                results[i] = RetryLater(f"message {job.message_id} is being sent by another worker")
                continue
            add(before, _unconfirmed_write(current, UNKNOWN_OUTCOME, Outcome(job.message_id, "unconfirmed")), i)
            continue
        msg = claimed[key]
        try:
            msg = messages.load_body(msg)
        except Exception as err:
            # Nothing was handed to the provider yet: give the claim back so a retry can send it.
            retry = RetryLater(f"body of {msg.id} unavailable: {err}")
            retry.__cause__ = err
            add(before, _give_back(msg, f"body unavailable: {err}", retry, receive_count), i)
            continue
        to_send.append((i, receive_count, msg))

    try:
        refusals = _persist(lambda: _recheck([m for _, _, m in to_send]), remaining_ms, "send-time re-check")
    except Exception as err:
        # Nothing was handed to the provider: give the claims back (as for an unreadable body) rather than
        # leave them to the stale-claim rule, which would call them UNCONFIRMED though never sent.
        for i, receive_count, msg in to_send:
            retry = RetryLater(f"send-time re-check of {msg.id} unavailable: {err}")
            retry.__cause__ = err
            add(before, _give_back(msg, f"send-time re-check unavailable: {err}", retry, receive_count), i)
        to_send = []
        refusals = {}
    allowed = []
    for i, receive_count, msg in to_send:
        if msg.id in refusals:
            # Consent or deliverability changed while it waited (quiet hours, a schedule): never send it.
            add(before, _fail_write(msg, refusals[msg.id], Outcome(msg.id, "failed")), i)
        else:
            allowed.append((i, receive_count, msg))
    _write_all(before, results, index_of, remaining_ms)

    after: list[_Write] = []
    providers: dict[tuple[str, str, str], Any] = {}
    allowed.sort(key=lambda a: slots.get(a[0], 0))  # in slot order: each wait is the rest of the one before
    for i, receive_count, msg in allowed:
        _wait_for(slots.get(i))
        try:
            if msg.channel == "sms":
                key3 = ("sms", msg.provider, msg.tenant_id)
                if provider is None and key3 not in providers:
                    providers[key3] = sms_provider(msg.provider, msg.tenant_id)
                sender, outbound = provider or providers[key3], render_sms(msg)
            else:
                key3 = ("email", msg.provider, msg.tenant_id)
                if provider is None and key3 not in providers:
                    providers[key3] = email_provider(msg.provider, msg.tenant_id)
                sender, outbound = provider or providers[key3], with_attachments(msg, render_email(msg))
        except Exception as err:
            # The provider could not be set up or the message rendered: nothing was handed to it. Given back (a
            # later attempt may find it fixed), dead-lettered on the last attempt.
            calls.append((msg.tenant_id, True))
            retry = RetryLater(f"{msg.id} could not be prepared for {msg.provider}: {err!r}")
            retry.__cause__ = err
            add(after, _give_back(msg, f"could not be prepared for {msg.provider}: {err}", retry, receive_count), i)
            continue
        try:
            receipt = sender.send(outbound)
        except ProviderError as err:
            calls.append((msg.tenant_id, True))
            if err.ambiguous:
                # It may have been accepted: never FAILED (a resend could duplicate it), never retried.
                add(after, _unconfirmed_write(msg, str(err), Outcome(msg.id, "unconfirmed")), i)
            elif err.retryable:
                # retried while attempts are left; on the last, reported so SQS moves the job to the DLQ
                retry = RetryLater(str(err))
                retry.__cause__ = err
                add(after, _give_back(msg, str(err), err if receive_count >= settings.max_send_attempts else retry, receive_count), i)
            else:
                add(after, _fail_write(msg, str(err), Outcome(msg.id, "failed")), i)
            continue
        except Exception as err:
            # Not the provider's own refusal: whether it took the message is not known. The message stays SENDING;
            # the job's redelivery finds the claim stale and makes it UNCONFIRMED (never resent).
            calls.append((msg.tenant_id, True))
            results[i] = err
            continue
        calls.append((msg.tenant_id, False))
        add(after, _sent_write(msg, receipt), i)
    _write_all(after, results, index_of, remaining_ms)


def _now_us() -> int:
    """Wall-clock time for pacing (not ``clock.now``, which tests may stop: a provider's rate is real time)."""
    return time.time_ns() // 1000


def _wait_for(slot_us: int | None) -> None:
    """Sleep until the send slot (at most ``PACE_HORIZON_US``: a slot further off was deferred, not kept)."""
    if slot_us is not None and (wait := slot_us - _now_us()) > 0:
        _sleep(min(wait, PACE_HORIZON_US) / 1_000_000)


def _pace(jobs: list[tuple[int, SendJob, int]], results: dict[int, Result]) -> dict[int, int]:
    """The send slot of each job (``{index: epoch µs}``): the one it carries (``not_before``), else one reserved
    now for its tenant. A job whose slot is ``PACE_HORIZON_US`` or more away is put back on the queue, delayed,
    carrying its slot: its result is ``deferred`` (or, if the queue refused it, ``RetryLater``: SQS brings the
    record back). If a tenant's slots cannot be reserved (the table fails), its jobs go unpaced rather than wait:
    the provider's own throttling is still answered by the retry rules."""
    now = _now_us()
    slots: dict[int, int] = {}
    fresh: dict[str, list[int]] = {}
    for i, job, _ in jobs:
        if job.not_before is not None:
            slots[i] = job.not_before
        else:
            fresh.setdefault(job.tenant_id, []).append(i)
    for tenant_id, indexes in fresh.items():
        try:
            interval = limits.provider_interval_us(tenant_id)
            first = pace.reserve(tenant_id, len(indexes), interval_us=interval, now_us=now)
        except Exception:
            logger.exception("send slots not reserved; these sends are not paced", extra={"tenant_id": tenant_id})
            continue
        slots.update((i, first + k * interval) for k, i in enumerate(indexes))
    later = [(i, job) for i, job, _ in jobs if slots.get(i, now) - now >= PACE_HORIZON_US]
    if later:
        deferred = [job.model_copy(update={"not_before": slots[i]}) for i, job in later]
        delays = [min(MAX_DELAY_SECONDS, (slots[i] - now) // 1_000_000) for i, _ in later]
        try:
            refused = {id(j) for j in queue.enqueue_many(deferred, delays=delays)}
        except Exception as err:
            logger.exception("paced sends not put back on the queue", extra={"count": len(later)})
            refused, cause = {id(j) for j in deferred}, err
        else:
            cause = None
        for (i, job), copy in zip(later, deferred, strict=True):
            if id(copy) in refused:
                retry = RetryLater(f"message {job.message_id} paced, but its delayed job could not be queued")
                retry.__cause__ = cause
                results[i] = retry
            else:
                results[i] = Outcome(job.message_id, "deferred")
    return slots


def _record_receipts(jobs: list[tuple[int, SendJob]], results: dict[int, Result], remaining_ms: Remaining) -> None:
    """Receipt jobs: write SENT from the provider's answer they carry (SENDING or UNCONFIRMED → SENT). No
    provider is called. A receipt whose write still fails is reported failed (SQS brings it back; after
    ``maxReceiveCount`` it waits in the DLQ, the answer in its body)."""
    writes: list[_Write] = []
    index_of: dict[int, int] = {}
    for i, job in jobs:
        receipt = job.receipt
        assert receipt is not None
        try:
            msg = _persist(lambda j=job: messages.get(j.tenant_id, j.message_id, load_body=False), remaining_ms, job.message_id)
        except Exception as err:
            results[i] = err
            continue
        if msg is None or msg.status not in messages.UNCONFIRMED_STATES:
            results[i] = Outcome(job.message_id, "skipped")  # recorded already (or deleted): nothing to do
            continue
        w = _sent_write(msg, receipt, receipt.sent_at)
        w.result = Outcome(msg.id, "recorded")  # its send job already counted it sent (metrics)
        writes.append(w)
        index_of[id(w)] = i
    _write_all(writes, results, index_of, remaining_ms, receipts=False)


def dispatch_batch(jobs: Sequence[tuple[SendJob, int]], *, provider: EmailProvider | SmsProvider | None = None,
                   remaining_ms: Remaining | None = None, calls: list[tuple[str, bool]] | None = None) -> list[Result]:  # fmt: skip
    """Dispatch ``(job, receive_count)`` pairs together; one result per job, in order: its ``Outcome``, or
    the exception its record must be reported failed with (``RetryLater``, a retry-exhausted retryable
    ``ProviderError``, or an error that left the message SENDING). ``remaining_ms``: the invocation's
    remaining time, which bounds the repeats of outcome writes (without it: ``DEFAULT_BUDGET_MS``).
    ``calls`` gets ``(tenant_id, failed)`` for each provider call made (and each provider that could not be set up)."""
    remaining = _budget(remaining_ms)
    calls = [] if calls is None else calls
    results: dict[int, Result] = {}
    rounds: list[list[tuple[int, SendJob, int]]] = []
    seen: dict[tuple[str, str], int] = {}
    receipts = [(i, job) for i, (job, _) in enumerate(jobs) if job.receipt is not None]
    if receipts:
        try:
            _record_receipts(receipts, results, remaining)
        except Exception as err:
            for i, _ in receipts:
                results.setdefault(i, err)
    sends = [(i, job, receive_count) for i, (job, receive_count) in enumerate(jobs) if job.receipt is None]
    slots = _pace(sends, results) if sends else {}
    for i, job, receive_count in sends:
        if i in results:
            continue  # deferred by the pace
        key = (job.tenant_id, job.message_id)
        n = seen[key] = seen.get(key, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((i, job, receive_count))
    for batch in rounds:
        try:
            _round(batch, provider, results, remaining, calls, slots)
        except Exception as err:
            for i, _, _ in batch:
                results.setdefault(i, err)
    return [results[i] for i in range(len(jobs))]


@dataclass(frozen=True)
class SqsBatch:
    """What became of one SQS batch of send jobs (``dispatch_sqs``): the outcome of each record that
    succeeded, with its receive count, and the records to report failed, with why."""

    done: list[tuple[Outcome, int]]
    failed: list[tuple[str, BaseException]]  # (SQS messageId, the error), in record order
    size: int
    provider_calls: list[tuple[str, bool]]  # (tenant_id, failed) of every provider call (dispatch_batch's ``calls``)

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The SQS partial batch response: ``{"batchItemFailures": [{"itemIdentifier": <messageId>}, …]}``
        (SQS deletes every other record). When every record of a non-empty batch failed, raises
        ``BatchProcessingError`` instead, as powertools' ``BatchProcessor`` does: the invocation fails and
        the whole batch comes back."""
        if self.failed and len(self.failed) == self.size:
            raise BatchProcessingError(
                msg=f"All records failed processing. {len(self.failed)} individual errors logged separately below.",
                child_exceptions=[(type(e), e, e.__traceback__) for _, e in self.failed],
            )
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id, _ in self.failed]}


def dispatch_sqs(records: Sequence[dict[str, Any]], *, remaining_ms: Remaining | None = None) -> SqsBatch:
    """Dispatch the send jobs of an SQS event's ``Records`` as one batch (``dispatch_batch``). A record
    whose body is not a ``SendJob`` fails on its own; a record whose job has an ``Outcome`` is done; any
    other result (``RetryLater``, a retry-exhausted provider error, …) reports the record failed, so SQS
    delivers it again (a record repeated in the batch is reported once per copy)."""
    failed: dict[int, BaseException] = {}
    jobs: list[tuple[SendJob, int]] = []
    owners: list[int] = []
    counts = [int((raw.get("attributes") or {}).get("ApproximateReceiveCount") or 1) for raw in records]
    for n, raw in enumerate(records):
        try:
            job = SendJob.model_validate_json(raw["body"])
        except Exception as err:
            failed[n] = err
            continue
        jobs.append((job, counts[n]))
        owners.append(n)
    done: dict[int, Outcome] = {}
    calls: list[tuple[str, bool]] = []
    for n, result in zip(owners, dispatch_batch(jobs, remaining_ms=remaining_ms, calls=calls), strict=True):
        if isinstance(result, Exception):
            failed[n] = result
        else:
            done[n] = result
    return SqsBatch(
        done=[(done[n], counts[n]) for n in sorted(done)],
        failed=[(records[n]["messageId"], failed[n]) for n in sorted(failed)],
        size=len(records),
        provider_calls=calls,
    )


def dispatch(job: SendJob, *, receive_count: int, provider: EmailProvider | SmsProvider | None = None,
             remaining_ms: Remaining | None = None) -> Outcome:  # fmt: skip
    """One job (a batch of one): its outcome, or the exception its record must be reported failed with."""
    (result,) = dispatch_batch([(job, receive_count)], provider=provider, remaining_ms=remaining_ms)
    if isinstance(result, Exception):
        raise result
    return result
