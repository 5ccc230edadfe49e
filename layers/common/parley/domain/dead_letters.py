"""Dead letters someone sees: why each failed, and redriving or discarding them safely (docs/operations.md).

Every SQS consumer notes, on a message's last receive (its queue's maxReceiveCount), why it failed
(``note`` / ``noting``: a reason item, ``dal/dead_letters.py``): SQS moves the message to the DLQ without a word.
The dispatcher also marks the message of a send job it gives up on FAILED *dead-lettered* (``dispatch.py``), so
the message's activity says so instead of staying silently QUEUED.

The operator's side (``python -m parley.admin dlq``, ``parley.admin_dlq``): ``letters`` lists what waits in the
DLQs with its reason (and, for a send job, its message's state); ``redrive`` sends a message back to the queue
it came from and only then deletes it from the DLQ; ``discard`` deletes it.

Redriving a send job is safe: the dispatcher sends a message only by claiming it QUEUED → SENDING (a
conditional write), so a job redriven twice, or redriven while another copy is queued, sends it at most once.
A dead-lettered message is first put back to QUEUED (``messages.revive``) — back on the pending index, so the
sweeper re-queues it if the redriven job is lost — and its analytics "failed" count taken back. Refused: a send
job that is not one (it can never succeed), a message that is gone, ended (SENT, UNCONFIRMED, CANCELLED, FAILED for
good) or was resent by a user meanwhile (the CRM's resend: sending the original too would deliver it twice).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import counters, keys, messages, table
from parley.dal import dead_letters as store
from parley.domain.ids import new_id
from parley.models.domain import ActivityEvent, Message, MessageStatus, SendJob
from parley.settings import get_settings

logger = Logger(child=True)

SEND = "send"
PEEK_HIDE_SECONDS = 300  # how long a message read by these commands stays hidden if it is not released
MAX_SCAN = 1_000  # messages one command reads from a DLQ (looking for given ids, or all of them)
REDRIVE_NOTE = "retried by an operator from the dead-letter queue"


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    setting: str  # the Settings field (and so the environment variable) holding its URL
    holds: str
    redrivable: bool = True

    def url(self) -> str:
        return str(getattr(get_settings(), self.setting))


QUEUES: dict[str, DeadLetterQueue] = {
    q.name: q
    for q in (
        DeadLetterQueue(SEND, "send_dlq_url", "send jobs the dispatcher gave up on, and schedules EventBridge Scheduler could not deliver"),
        DeadLetterQueue("ses-events", "ses_events_dlq_url", "SES event notifications SesEventsFunction could not apply"),
        DeadLetterQueue("inbound-mail", "inbound_mail_dlq_url", "received mail and Inbound Parse posts InboundMailFunction could not use"),
        DeadLetterQueue("provider-events", "provider_events_dlq_url", "provider webhooks ProviderEventsFunction could not apply"),
        DeadLetterQueue("purge", "purge_dlq_url", "purge (GDPR erasure) job steps PurgeFunction could not run"),
        DeadLetterQueue(
            "multicast", "multicast_dlq_url", "multicast fan-out steps (audience pages, recipient batches) MulticastFunction could not run"
        ),
        DeadLetterQueue(
            "directory-events", "directory_events_dlq_url", "directory events (EventBridge) DirectoryEventsFunction could not apply"
        ),
        DeadLetterQueue(
            "text-callback",
            "text_callback_dlq_url",
            "signed text callbacks TextCallbackFunction could not attempt (its own failures; a receiver's are recorded on the delivery)",
        ),
        DeadLetterQueue(
            "channel-events",
            "channel_events_dlq_url",
            "channel events (inbox state, live updates, SMS bridge, offline pushes) ChannelEventsFunction could not apply",
        ),
        DeadLetterQueue(
            "thumbnails",
            "thumbnails_dlq_url",
            "thumbnail jobs (S3 notifications of attached images) ThumbnailsFunction could not run",
        ),
        DeadLetterQueue(
            "automation",
            "automation_dlq_url",
            "messaging automation jobs (bulk messages' batches, operations' steps, announcements, summary rebuilds)"
            " AutomationFunction could not run",
        ),
        DeadLetterQueue(
            "tally",
            "tally_dlq_url",
            "table-stream batches TallyFunction could not apply (Lambda's on-failure records: they describe a batch, which "
            "cannot be sent back)",
            redrivable=False,
        ),
    )
}


class DeadLetterError(Exception):
    """The operator's command cannot be carried out (an unknown or unconfigured queue, no source queue)."""


# ───────────── the consumers' side: why it failed ─────────────
def describe(error: BaseException) -> str:
    """``Type: message``, and its cause when the message does not already say it."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if cause is not None and str(cause) not in str(error):
        text += f" (caused by {type(cause).__name__}: {cause})"
    return text


def _receive_count(record: dict[str, Any]) -> int:
    return int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)


def note(queue: str, record: dict[str, Any], error: BaseException, *, max_receive_count: int | None = None) -> bool:
    """Keep why an SQS ``record`` of ``queue`` failed, when this receive was its last (its redrive policy moves it to
    the DLQ next): True if a reason was written. Best effort: a reason that cannot be written is logged, never
    raised (the record's own failure is what SQS must be told)."""
    limit = max_receive_count or get_settings().max_receive_count
    count = _receive_count(record)
    if count < limit:
        return False
    details: dict[str, Any] = {}
    if queue == SEND:
        try:
            job = SendJob.model_validate_json(record.get("body") or "")
            details = {"tenant_id": job.tenant_id, "message_id": job.message_id}
        except ValueError:
            pass
    try:
        store.put_reason(queue, record["messageId"], reason=describe(error), error_type=type(error).__name__, receive_count=count,
                         at=clock.now(), details=details)  # fmt: skip
    except Exception:
        where = {"queue": queue, "sqs_message_id": record.get("messageId")}
        logger.exception("the reason of a dead-lettered message could not be kept", extra=where)
        return False
    logger.warning("dead-lettered: its last receive failed", extra={"queue": queue, "sqs_message_id": record.get("messageId"),
                                                                   "reason": describe(error), **details})  # fmt: skip
    return True


def note_failures(queue: str, records: Sequence[dict[str, Any]], failed: Sequence[tuple[str, BaseException]], *,
                  max_receive_count: int | None = None) -> int:  # fmt: skip
    """``note`` for each failed record of a batch (``(SQS messageId, error)``; a message repeated in the batch once)."""
    by_id = {r["messageId"]: r for r in records}
    noted = 0
    for message_id, error in dict(failed).items():
        if message_id in by_id:
            noted += note(queue, by_id[message_id], error, max_receive_count=max_receive_count)
    return noted


@contextmanager
def noting(queue: str, record: Any) -> Iterator[None]:
    """Around one record's processing (a powertools ``SQSRecord`` or the raw record): an exception is noted, then raised."""
    raw = getattr(record, "raw_event", record)
    try:
        yield
    except Exception as err:
        note(queue, raw, err)
        raise


# ───────────── the operator's side ─────────────
@dataclass
class Letter:
    """One message waiting in a DLQ, as the operator sees it."""

    queue: str
    raw: dict[str, Any]  # as ReceiveMessage returned it (body, attributes, message attributes, receipt handle)
    reason: dict[str, Any] | None = None
    job: SendJob | None = None  # a send job's
    message: Message | None = None  # its message, as stored now
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.raw["MessageId"])

    @property
    def body(self) -> str:
        return str(self.raw.get("Body") or "")

    def why(self) -> str:
        """The recorded reason, else what the message itself says, else why nothing is known."""
        if self.reason:
            return str(self.reason["reason"])
        attrs = self.raw.get("MessageAttributes") or {}
        if "ERROR_CODE" in attrs or "ERROR_MESSAGE" in attrs:  # EventBridge Scheduler's dead letters
            code, text = (attrs.get(k, {}).get("StringValue", "") for k in ("ERROR_CODE", "ERROR_MESSAGE"))
            return f"EventBridge Scheduler could not deliver the schedule: {code} {text}".strip()
        if self.queue == "tally":
            try:
                record = json.loads(self.body)
                condition = record["requestContext"]["condition"]
                error = (record.get("responseContext") or {}).get("functionError") or ""
                return f"TallyFunction: {condition}" + (f" ({error})" if error else "")
            except (ValueError, KeyError, TypeError):
                pass
        return ("no reason recorded: the consumer did not finish its last attempt (a timeout or a crash: see its log "
                "group), or the reason expired")  # fmt: skip

    def summary(self, *, body_chars: int = 300) -> dict[str, Any]:
        attrs = self.raw.get("Attributes") or {}
        sent = attrs.get("SentTimestamp")
        out: dict[str, Any] = {
            "queue": self.queue,
            "id": self.id,
            "enqueuedAt": clock.iso(datetime.fromtimestamp(int(sent) / 1000, UTC)) if sent else None,
            "reason": self.why(),
            "failedAt": (self.reason or {}).get("failed_at"),
            "receives": (self.reason or {}).get("receive_count"),
        }
        if self.job is not None:
            out["job"] = {"tenantId": self.job.tenant_id, "messageId": self.job.message_id, "receipt": self.job.receipt is not None}
            msg = self.message
            out["message"] = None if msg is None else {
                "status": msg.status.value, "deadLettered": msg.dead_letter_at is not None, "error": msg.error,
                "attempts": msg.attempts, "channel": msg.channel, "recipient": msg.recipient,
            }  # fmt: skip
        else:
            out["body"] = self.body[:body_chars] + ("…" if len(self.body) > body_chars else "")
        if self.notes:
            out["notes"] = self.notes
        return out

    def detail(self) -> dict[str, Any]:
        out = self.summary(body_chars=len(self.body))
        out["body"] = self.body
        out["attributes"] = self.raw.get("Attributes") or {}
        if self.raw.get("MessageAttributes"):
            out["messageAttributes"] = {k: v.get("StringValue") for k, v in self.raw["MessageAttributes"].items()}
        return out


def queue(name: str) -> DeadLetterQueue:
    if name not in QUEUES:
        raise DeadLetterError(f"no dead-letter queue {name!r}: one of {', '.join(QUEUES)}")
    q = QUEUES[name]
    if not q.url():
        raise DeadLetterError(f"the {name} DLQ's URL is not set ({q.setting.upper()}; the stack's outputs name it)")
    return q


def configured() -> list[DeadLetterQueue]:
    """The DLQs whose URL this process knows."""
    return [q for q in QUEUES.values() if q.url()]


def _letters(q: DeadLetterQueue, raws: list[dict[str, Any]]) -> list[Letter]:
    """Letters with their reasons and, for send jobs, their messages (batched reads)."""
    found = store.reasons(q.name, [r["MessageId"] for r in raws]) if raws else {}
    letters = [Letter(q.name, raw, found.get(raw["MessageId"])) for raw in raws]
    if q.name == SEND:
        for letter in letters:
            try:
                letter.job = SendJob.model_validate_json(letter.body)
            except ValueError:
                letter.notes.append("not a send job: the dispatcher can never take it")
        wanted = {(keys.message_pk(le.job.tenant_id, le.job.message_id), keys.MESSAGE_SK) for le in letters if le.job}
        items = table.batch_get(wanted) if wanted else {}
        for letter in letters:
            if letter.job is not None:
                item = items.get((keys.message_pk(letter.job.tenant_id, letter.job.message_id), keys.MESSAGE_SK))
                letter.message = messages.from_item(item, load_body=False) if item else None
    return letters


def depth(name: str) -> dict[str, int]:
    return store.depth(queue(name).url())


def letters(name: str, *, limit: int) -> list[Letter]:
    """Up to ``limit`` messages waiting in a DLQ (read, then made visible again), with why each failed."""
    q = queue(name)
    raws = store.peek(q.url(), limit=limit, hide_seconds=PEEK_HIDE_SECONDS)
    try:
        return _letters(q, raws)
    finally:
        store.release(q.url(), raws)


@contextmanager
def _held(q: DeadLetterQueue, ids: Sequence[str] | None) -> Iterator[list[dict[str, Any]]]:
    """The messages of ``ids`` (every message when None) read from the queue and hidden while the caller acts on
    them; what the caller did not delete (``_act`` pops what it deleted) is made visible again at the end."""
    wanted = None if ids is None else set(ids)
    held: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    url = q.url()
    try:
        read = 0
        while read < MAX_SCAN and (wanted is None or len(held) < len(wanted)):
            batch = store.peek(url, limit=10, hide_seconds=PEEK_HIDE_SECONDS)
            if not batch:
                break
            read += len(batch)
            for raw in batch:
                (held if wanted is None or raw["MessageId"] in wanted else others).append(raw)
        store.release(url, others)
        others = []
        yield held
    finally:
        store.release(url, [*others, *held])


@dataclass(frozen=True)
class Done:
    queue: str
    id: str
    result: str  # redriven | discarded | refused | not found
    detail: str = ""
    new_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"queue": self.queue, "id": self.id, "result": self.result, "detail": self.detail}
        if self.new_id:
            out["newId"] = self.new_id
        return out


def show(ids: Sequence[str], names: Sequence[str]) -> list[Letter]:
    """The letters of ``ids``, looked for in the DLQs ``names`` (left visible)."""
    out: list[Letter] = []
    for name in names:
        q = queue(name)
        with _held(q, [i for i in ids if i not in {le.id for le in out}]) as held:
            out.extend(_letters(q, held))
    return out


def _revive(letter: Letter) -> str | None:
    """Get a send job's message ready for its redriven job; why it must not be redriven (None: go ahead)."""
    if letter.job is None:
        return "not a send job: it can never succeed (discard it)"
    if letter.job.receipt is not None:
        return None  # a receipt job writes the SENT it carries if the message still waits for it; never sends
    msg = letter.message
    if msg is None:
        return f"message {letter.job.message_id} no longer exists: nothing to send (discard it)"
    if msg.status in (MessageStatus.QUEUED, MessageStatus.SCHEDULED, MessageStatus.SENDING):
        return None  # waiting (its job was lost) or claimed: the dispatcher decides, sending it at most once
    if msg.status != MessageStatus.FAILED or msg.dead_letter_at is None:
        return f"message {msg.id} is {msg.status.value}" + (" for good" if msg.status == MessageStatus.FAILED else "") + (
            ": nothing to redrive (discard it)")  # fmt: skip
    resent = [t.description for t in msg.timeline if t.type == "RESEND"]
    if resent:
        return f"message {msg.id} was resent by a user meanwhile ({resent[-1]}): redriving it would deliver it twice (discard it)"
    event = ActivityEvent(message_id=msg.id, event_id=new_id(), event="requeued", email=msg.recipient,
                          created_ms=clock.epoch_ms(clock.now()), response=REDRIVE_NOTE)  # fmt: skip
    if not messages.revive(msg, event=event, note=REDRIVE_NOTE):
        return f"message {msg.id} changed meanwhile: run the command again"
    if messages.is_record(msg):
        # its "failed" was counted when it was dead-lettered; it is not failed after all (or not yet)
        try:
            counters.bump(msg.tenant_id, clock.iso(msg.dead_letter_at)[:10], "failed", category=msg.category,
                          template_id=msg.template_id, by=-1)  # fmt: skip
        except Exception:
            logger.exception("analytics: the dead-lettered message's failed count was not taken back", extra={"message_id": msg.id})
    letter.notes.append(f"message {msg.id} is QUEUED again")
    return None


def redrive(name: str, ids: Sequence[str] | None) -> list[Done]:
    """Send each message (``ids``, or every one when None) back to the queue it was dead-lettered from, then delete
    it from the DLQ and forget its reason. A send job's message is made sendable first (``_revive``)."""
    q = queue(name)
    if not q.redrivable:
        raise DeadLetterError(f"the {name} DLQ holds {q.holds}: it cannot be redriven; discard its messages once handled "
                              "(docs/operations.md \"Dead letters\")")  # fmt: skip
    url = q.url()
    sources = store.sources(url)
    if len(sources) != 1:
        raise DeadLetterError(f"the {name} DLQ is the dead-letter queue of {len(sources)} queues ({', '.join(sources) or 'none'}): "
                              "cannot tell where to send its messages back")  # fmt: skip
    (source,) = sources
    out: list[Done] = []
    with _held(q, ids) as held:
        for letter in _letters(q, list(held)):
            if q.name == SEND:
                refused = _revive(letter)
                if refused:
                    out.append(Done(name, letter.id, "refused", refused))
                    continue
            try:
                new = store.resend(source, letter.raw)
            except Exception as err:
                hint = " (its message is QUEUED on the pending index: the sweeper re-queues it)" if letter.notes else ""
                out.append(Done(name, letter.id, "refused", f"could not be sent back: {err}{hint}"))
                continue
            # sent back: only now taken off the DLQ (a failure here leaves a copy there; redriving it again is harmless)
            store.delete(url, letter.raw)
            held.remove(letter.raw)
            _forget(name, letter.id)
            out.append(Done(name, letter.id, "redriven", "; ".join(letter.notes), new_id=new))
    out.extend(_missing(name, ids, out))
    return out


def discard(name: str, ids: Sequence[str] | None) -> list[Done]:
    """Delete each message (``ids``, or every one when None) from the DLQ and forget its reason. A dead-lettered
    send job's message stays FAILED, now for good."""
    q = queue(name)
    url = q.url()
    out: list[Done] = []
    with _held(q, ids) as held:
        for letter in _letters(q, list(held)):
            detail = ""
            msg = letter.message
            dead = letter.job is not None and letter.job.receipt is None and msg is not None and msg.dead_letter_at is not None
            if dead and msg is not None and messages.settle_dead_letter(msg.tenant_id, msg.id):
                detail = f"message {msg.id} stays FAILED"
            store.delete(url, letter.raw)
            held.remove(letter.raw)
            _forget(name, letter.id)
            out.append(Done(name, letter.id, "discarded", detail))
    out.extend(_missing(name, ids, out))
    return out


def _forget(name: str, sqs_message_id: str) -> None:
    try:
        store.forget(name, sqs_message_id)
    except Exception:
        logger.exception("a dead letter's reason was not deleted (it expires by itself)", extra={"id": sqs_message_id})


def _missing(name: str, ids: Sequence[str] | None, done: list[Done]) -> list[Done]:
    seen = {d.id for d in done}
    return [Done(name, i, "not found", "not in this DLQ (or read by someone else just now)") for i in ids or () if i not in seen]
