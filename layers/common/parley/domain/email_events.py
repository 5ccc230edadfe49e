"""Email delivery and engagement events from the providers, and the suppression list they feed.

Two ways in, one way of recording:
- SendGrid's Event Webhook (POST /communications/email/v1/events): ``verified_sendgrid``, with the
  tenant's signed-webhook verification (``verify_sendgrid_signature``) when it has a key configured; the
  webhook queues the batch and the provider events function applies it (``domain.provider_events``);
- SES configuration-set events (SES → SNS → SQS → the ses_events function): ``receive_ses_batch``.

Each event is normalised to a ``models.email_events.EmailEvent`` and handed to ``apply_many``: find the
tenant's message it is about, put the address on the suppression list if the event says so, move
``Message.delivery_status`` forward, and append an activity event exactly once (deduplicated on the
provider's event id).

Any event of a provider about a message proves the provider accepted it. A message whose outcome is
unknown (UNCONFIRMED, or still SENDING: the dispatcher could not record the provider's answer) is found by
the Parley message id the event carries (SES tag, SendGrid custom arg) and confirmed SENT, with the
provider's message id and its lookup item, before the event itself is applied (``_confirm_sent``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from parley import clock
from parley.dal import counters, email_events, messages, suppressions, tenants
from parley.domain.ids import new_id
from parley.errors import BadRequest, Suppressed, Unauthorized
from parley.models.domain import ActivityEvent, Message
from parley.models.email_events import EmailEvent, Suppression

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_SIGNATURE_AGE_SECONDS = 300  # a signed batch older (or further in the future) than this is refused
MAX_EVENT_ID = 100  # seed 000: eventId maxLength 100
MAX_EMAIL = 320
MAX_EVENT_NAME = 64

# SendGrid event → Message.delivery_status (events not listed leave it unchanged).
SENDGRID_DELIVERY = {
    "processed": "PROCESSED",
    "deferred": "DEFERRED",
    "delivered": "DELIVERED",
    "open": "OPENED",
    "click": "CLICKED",
    "bounce": "BOUNCED",
    "dropped": "DROPPED",
    "spamreport": "COMPLAINED",
}

# SES eventType → (activity event name, delivery_status). Names follow SendGrid's vocabulary so the
# activity endpoint speaks one language whichever provider sent the email.
SES_EVENT_NAMES: dict[str, tuple[str, str | None]] = {
    "Send": ("processed", "PROCESSED"),
    "Delivery": ("delivered", "DELIVERED"),
    "DeliveryDelay": ("deferred", "DEFERRED"),
    "Bounce": ("bounce", "BOUNCED"),
    "Complaint": ("spamreport", "COMPLAINED"),
    "Reject": ("dropped", "DROPPED"),
    "Rendering Failure": ("dropped", "DROPPED"),
    "Open": ("open", "OPENED"),
    "Click": ("click", "CLICKED"),
    "Subscription": ("subscription", None),
}


# ───────────── suppression ─────────────
def ensure_sendable(tenant_id: str, addresses: Iterable[str]) -> None:
    """Raise ``Suppressed`` (400), naming the first of ``addresses`` the tenant's suppression list holds.
    One BatchGetItem for all of them (per 100 addresses)."""
    wanted = list(dict.fromkeys(a.strip().lower() for a in addresses))
    found = suppressions.get_many(tenant_id, wanted)
    for address in wanted:
        entry = found.get(address)
        if entry is not None:
            detail = f": {entry.detail}" if entry.detail else ""
            raise Suppressed(f"cannot send to {entry.address}: the address is on the suppression list ({entry.reason}{detail})")


def suppression_list(tenant_id: str) -> list[Suppression]:
    return suppressions.list_all(tenant_id)


# ───────────── SendGrid Event Webhook ─────────────
def verify_sendgrid_signature(
    public_key: str, signature: str | None, timestamp: str | None, body: bytes, *, now_s: float | None = None
) -> None:
    """SendGrid's signed Event Webhook: ECDSA P-256 / SHA-256 over ``timestamp + body`` (exact bytes).

    ``public_key`` is the verification key as SendGrid shows it (base64 DER SubjectPublicKeyInfo;
    a PEM block is accepted too). Raises ``Unauthorized`` when the signature is absent, forged, or
    its timestamp is more than 5 minutes away from now (replay window).
    """
    if not signature or not timestamp:
        raise Unauthorized("missing event webhook signature")
    try:
        ts = int(timestamp.strip())
    except ValueError:
        raise Unauthorized("invalid event webhook timestamp") from None
    now_s = time.time() if now_s is None else now_s
    if abs(now_s - ts) > MAX_SIGNATURE_AGE_SECONDS:
        raise Unauthorized("event webhook timestamp is outside the 5 minute window")

    # Only this path needs cryptography: imported here so other handlers never load it.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

    try:
        text = public_key.strip()
        key = load_pem_public_key(text.encode()) if text.startswith("-----BEGIN") else load_der_public_key(base64.b64decode(text))
    except ValueError:
        log.error("tenant webhook_public_key is not a valid public key")
        raise Unauthorized("event webhook verification key is not valid") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Unauthorized("event webhook verification key is not an EC key")
    try:
        raw_sig = base64.b64decode(signature.strip(), validate=True)
        key.verify(raw_sig, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        raise Unauthorized("invalid event webhook signature") from None


def _first(item: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = item.get(name)
        if value not in (None, ""):
            return value
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _digest(item: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(item, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _created_ms(where: str, item: dict[str, Any], received_ms: int) -> int:
    ts = item.get("timestamp")
    if ts is None or ts == "":
        return received_ms
    if isinstance(ts, bool):
        raise BadRequest(f"{where}: timestamp must be a Unix time in seconds")
    try:
        seconds = float(ts)
    except (TypeError, ValueError):
        raise BadRequest(f"{where}: timestamp must be a Unix time in seconds") from None
    if not 0 <= seconds < 10**11:
        raise BadRequest(f"{where}: timestamp must be a Unix time in seconds")
    return int(seconds * 1000)


def _sendgrid_suppression(name: str, item: dict[str, Any]) -> str | None:
    """Which events put the address on the suppression list (see docs/decisions.md)."""
    if name == "bounce":
        # type "bounce" = hard bounce; "blocked" = the receiver refused this message (reputation,
        # content): not a property of the address. Old payloads without a type were hard bounces.
        return None if _text(item.get("type")).lower() == "blocked" else "bounce"
    if name == "dropped":
        reason = _text(item.get("reason")).lower()
        if "bounce" in reason:
            return "bounce"
        if "spam" in reason:
            return "spamreport"
        if "unsubscribe" in reason:
            return "unsubscribe"
        return None
    if name in ("spamreport", "unsubscribe"):
        return name
    return None


def parse_sendgrid(raw: bytes, *, received_ms: int | None = None) -> list[EmailEvent]:
    """A webhook body (a JSON array of events, or one event object) → events; ``BadRequest`` if any is malformed.

    Only ``event`` and ``email`` are required per event. Both SendGrid's snake_case names
    (sg_event_id, sg_message_id, smtp-id, url_offset, sg_machine_open) and the seed's camelCase ones
    (sgEventId, sgMessageId, eventId, messageId, urlOffset, machineOpen) are read.
    """
    received_ms = clock.epoch_ms(clock.now()) if received_ms is None else received_ms
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body is not valid JSON") from None
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise BadRequest("request body must hold at least one event")
    out = []
    for n, item in enumerate(items):
        where = f"events[{n}]" if isinstance(payload, list) else "event"
        if not isinstance(item, dict):
            raise BadRequest(f"{where}: each event must be a JSON object")
        name, email = item.get("event"), item.get("email")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest(f"{where}: event is required")
        if not isinstance(email, str) or not email.strip():
            raise BadRequest(f"{where}: email is required")
        name, email = name.strip(), email.strip()
        if len(name) > MAX_EVENT_NAME:
            raise BadRequest(f"{where}: event must be at most {MAX_EVENT_NAME} characters")
        if len(email) > MAX_EMAIL:
            raise BadRequest(f"{where}: email must be at most {MAX_EMAIL} characters")
        created_ms = _created_ms(where, item, received_ms)
        event_id = _first(item, "sg_event_id", "sgEventId", "eventId")
        if event_id is not None:
            event_id = _text(event_id)
            if len(event_id) > MAX_EVENT_ID:
                raise BadRequest(f"{where}: eventId must be at most {MAX_EVENT_ID} characters")
        elif item.get("timestamp") not in (None, ""):
            event_id = _digest(item)  # no id, but a timestamped event: identical JSON is the same event
        provider_id = _first(item, "sg_message_id", "sgMessageId", "messageId")
        categories = item.get("category")
        if isinstance(categories, str):
            categories = [categories]
        custom = {}
        for nested in ("custom_args", "unique_args"):
            if isinstance(item.get(nested), dict):
                custom.update(item[nested])
        parley_id = _first(item, "parley_message_id") or _first(custom, "parley_message_id")
        status = SENDGRID_DELIVERY.get(name)
        if name == "bounce" and _text(item.get("type")).lower() == "blocked":
            status = "BLOCKED"
        out.append(
            EmailEvent(
                provider="sendgrid",
                event=name,
                email=email,
                created_ms=created_ms,
                dedupe_key=event_id,
                ip=_text(item.get("ip")),
                response=_text(_first(item, "reason", "response", "url")),
                parley_message_id=_text(parley_id) or None,
                provider_message_id=_text(provider_id).split(".", 1)[0] or None,
                categories=tuple(str(c) for c in categories if isinstance(c, (str, int))) if isinstance(categories, list) else (),
                delivery_status=status,
                suppress_reason=_sendgrid_suppression(name, item),
            )
        )
    return out


def verified_sendgrid(tenant_id: str, body: bytes, *, signature: str | None, timestamp: str | None) -> list[EmailEvent]:
    """POST /communications/email/v1/events for the calling tenant: verify the signature (when the tenant has
    a key), then validate the whole batch; nothing is written. The events are applied later, from the
    provider events queue (``domain.provider_events``).

    Every event gets a dedupe key: the provider's id, else a digest of a timestamped event, else (an
    event without either, which SendGrid does not send but the seed shows) the body's digest and the
    event's position in it, so a redelivered or retried batch applies it once.
    """
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise Unauthorized("missing or invalid API key")
    if tenant.webhook_public_key:
        verify_sendgrid_signature(tenant.webhook_public_key, signature, timestamp, body)
    events = parse_sendgrid(body)  # the whole batch is validated before anything is queued
    if any(ev.dedupe_key is None for ev in events):
        digest = "body:" + hashlib.sha256(body).hexdigest()
        events = [ev if ev.dedupe_key else replace(ev, dedupe_key=f"{digest}#{n}") for n, ev in enumerate(events)]
    return events


# ───────────── SES (configuration set → SNS → SQS) ─────────────
def _tag(tags: dict[str, Any], name: str) -> str | None:
    value = tags.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _ms(iso_ts: Any, fallback: int) -> int:
    try:
        return clock.epoch_ms(clock.parse_iso(str(iso_ts)))
    except (TypeError, ValueError):
        return fallback


def parse_ses(body: str) -> tuple[str | None, EmailEvent] | None:
    """An SQS record body (an SNS notification whose Message is an SES event, or the raw event) →
    (tenant id from the tags, event). None for SNS control messages (nothing to record)."""
    envelope = json.loads(body)
    if not isinstance(envelope, dict):
        raise ValueError("not an SNS notification or SES event")
    sns_id = None
    if "Type" in envelope and "Message" in envelope:
        if envelope["Type"] != "Notification":
            return None
        sns_id = envelope.get("MessageId")
        ses = json.loads(envelope["Message"])
    else:
        ses = envelope
    if not isinstance(ses, dict):
        raise ValueError("SES event is not an object")
    etype = ses.get("eventType") or ses.get("notificationType")
    if not etype:
        raise ValueError("SES event without eventType")
    mail = ses.get("mail") or {}
    tags = mail.get("tags") or {}
    destination = list(mail.get("destination") or [])
    now_ms = clock.epoch_ms(clock.now())
    name, status = SES_EVENT_NAMES.get(etype, (etype.lower().replace(" ", "_"), None))
    detail: dict[str, Any] = {}
    recipients: list[str] = []
    ip = response = ""
    suppress = None
    if etype == "Bounce":
        detail = ses.get("bounce") or {}
        recipients = [r.get("emailAddress", "") for r in detail.get("bouncedRecipients") or []]
        first = (detail.get("bouncedRecipients") or [{}])[0]
        response = f"{detail.get('bounceType', '')}/{detail.get('bounceSubType', '')}: {first.get('diagnosticCode', '')}".rstrip(": ")
        if detail.get("bounceType") == "Permanent":
            suppress = "bounce"
    elif etype == "Complaint":
        detail = ses.get("complaint") or {}
        recipients = [r.get("emailAddress", "") for r in detail.get("complainedRecipients") or []]
        response = detail.get("complaintFeedbackType") or "complaint"
        suppress = "complaint"
    elif etype == "Delivery":
        detail = ses.get("delivery") or {}
        recipients = list(detail.get("recipients") or [])
        response = detail.get("smtpResponse", "")
    elif etype == "DeliveryDelay":
        detail = ses.get("deliveryDelay") or {}
        recipients = [r.get("emailAddress", "") for r in detail.get("delayedRecipients") or []]
        response = detail.get("delayType", "")
    elif etype == "Open":
        detail = ses.get("open") or {}
        ip = detail.get("ipAddress", "")
    elif etype == "Click":
        detail = ses.get("click") or {}
        ip, response = detail.get("ipAddress", ""), detail.get("link", "")
    elif etype == "Reject":
        detail = ses.get("reject") or {}
        response = detail.get("reason", "")
    elif etype == "Rendering Failure":
        detail = ses.get("failure") or {}
        response = detail.get("errorMessage", "")
    recipients = [r for r in recipients if r] or destination
    created_ms = _ms(detail.get("timestamp") or mail.get("timestamp"), now_ms)
    if mail.get("messageId"):
        when = detail.get("timestamp") or mail.get("timestamp")
        dedupe = _digest([mail["messageId"], etype, when, detail.get("feedbackId"), detail.get("link")])
    else:
        dedupe = sns_id or _digest(ses)
    event = EmailEvent(
        provider="ses",
        event=name,
        email=recipients[0] if recipients else "",
        created_ms=created_ms,
        dedupe_key=dedupe,
        ip=str(ip or ""),
        response=str(response or ""),
        parley_message_id=_tag(tags, "parley_message_id"),
        provider_message_id=mail.get("messageId"),
        delivery_status=status,
        suppress_reason=suppress,
        suppress_addresses=tuple(recipients) if suppress else (),
    )
    return _tag(tags, "parley_tenant_id"), event


def receive_ses(body: str) -> str:
    """One SQS record of the SES events queue → recorded | duplicate | unmatched | skipped."""
    (result,) = receive_ses_batch([body])
    if isinstance(result, Exception):
        raise result
    return result


def receive_ses_batch(bodies: Sequence[str]) -> list[str | Exception]:
    """An SQS batch of the SES events queue, applied per tenant with batched reads and writes
    (``apply_many``): per record recorded | duplicate | unmatched | skipped, or the exception that
    record raised (a batch item failure: parse errors only that record, a storage error its tenant's)."""
    results: list[str | Exception] = ["skipped"] * len(bodies)
    by_tenant: dict[str, list[tuple[int, EmailEvent]]] = {}
    for n, body in enumerate(bodies):
        try:
            parsed = parse_ses(body)
        except Exception as err:  # a poisoned record fails alone
            results[n] = err
            continue
        if parsed is None:
            continue
        tenant_id, event = parsed
        by_tenant.setdefault(tenant_id or "", []).append((n, event))
    for tenant_id, items in by_tenant.items():
        if not tenant_id or tenants.get(tenant_id) is None:
            # Not sent by Parley (no tenant tag): there is no tenant to attribute it to.
            log.warning("SES events without a known parley_tenant_id tag; ignored", extra={"count": len(items)})
            continue
        try:
            outcomes: list[str | Exception] = list(apply_many(tenant_id, [ev for _, ev in items]))
        except Exception as err:  # retried by SQS; applying again is idempotent
            outcomes = [err] * len(items)
        for (n, _), outcome in zip(items, outcomes, strict=True):
            results[n] = outcome
    return results


# ───────────── recording ─────────────
def correlate(tenant_id: str, ev: EmailEvent) -> str | None:
    """The id of the tenant's email this event is about (None if none): our id (custom arg / tag),
    then the provider's message id, then a category entry naming one of the tenant's messages."""
    return _correlate_many(tenant_id, [ev])[0][0]


def _candidate_id(value: str | None, limit: int = 64) -> bool:
    """Worth looking up: our ids are at most 64 characters; a provider id longer than ``limit`` is no
    provider's (and would make the batched key lookup fail for the whole batch)."""
    return isinstance(value, str) and 0 < len(value) <= limit


def correlate_many(tenant_id: str, events: Sequence[EmailEvent]) -> list[str | None]:
    """``correlate`` for a batch, in three batched lookups (each only for the events still unmatched):
    our message ids, the provider ids, then the categories."""
    return _correlate_many(tenant_id, events)[0]


def _correlate_many(tenant_id: str, events: Sequence[EmailEvent]) -> tuple[list[str | None], set[str]]:
    """``correlate_many``, and which of the messages it read (by our id or a category) have an unknown
    delivery outcome (SENDING or UNCONFIRMED): those an event about them confirms. A message found
    through the provider-id lookup is not among them: that item is written only together with SENT."""
    out: list[str | None] = [None] * len(events)
    unknown: set[str] = set()
    wanted = {ev.parley_message_id for ev in events if _candidate_id(ev.parley_message_id)}
    ours = email_events.email_message_states(tenant_id, wanted) if wanted else {}
    for n, ev in enumerate(events):
        if ev.parley_message_id in ours:
            out[n] = ev.parley_message_id
    left = [n for n in range(len(events)) if out[n] is None and _candidate_id(events[n].provider_message_id, 256)]
    if left:
        refs = email_events.provider_refs(tenant_id, {(events[n].provider, events[n].provider_message_id or "") for n in left})
        for n in left:
            out[n] = refs.get((events[n].provider, events[n].provider_message_id or ""))
    left = [n for n in range(len(events)) if out[n] is None and events[n].categories]
    if left:
        named = {c for n in left for c in events[n].categories[:10] if _candidate_id(c)}
        found = email_events.email_message_states(tenant_id, named) if named else {}
        ours.update(found)
        for n in left:
            out[n] = next((c for c in events[n].categories[:10] if c in found), None)
    unknown = {m for m in out if m is not None and ours.get(m) in messages.UNCONFIRMED_STATES}
    return out, unknown


def _confirm_sent(msg: Message, ev: EmailEvent) -> bool:
    """An outbound email whose outcome is unknown (UNCONFIRMED, or SENDING) that the provider reports on was
    accepted by it: SENT, with the provider's message id and lookup item, a ``sent`` activity event, and
    the record's day counter. Conditional on the unknown state, so a replay or a race writes it once.
    True when this call confirmed it."""
    if msg.direction != "outbound" or msg.status not in messages.UNCONFIRMED_STATES or msg.provider != ev.provider:
        return False
    at_ms = max(ev.created_ms - 1, 0)  # just before the event that revealed it, so the activity reads in order
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    pid = ev.provider_message_id
    event = ActivityEvent(message_id=msg.id, event_id=new_id(), event="sent", email=msg.recipient, created_ms=at_ms,
                          response=f"accepted by {ev.provider}: {pid or '(no id)'} (confirmed by its '{ev.event}' event)")  # fmt: skip
    made = messages.mark_sent(msg, provider=ev.provider, provider_message_id=pid, sent_at=at, event=event,
                              expect=messages.UNCONFIRMED_STATES)  # fmt: skip
    if made:
        log.info("unknown delivery outcome confirmed SENT by a provider event", extra={"message_id": msg.id, "event": ev.event})
        if messages.is_record(msg):
            bumps = counters.DayBumps()
            bumps.add(msg.tenant_id, clock.iso(at)[:10], "sent", category=msg.category, template_id=msg.template_id,
                      template_name=msg.template_name)  # fmt: skip
            try:
                bumps.apply()
            except Exception:
                log.exception("analytics counters not bumped")  # at-most-once counters: the outcome stands
    return made


def apply(tenant_id: str, ev: EmailEvent) -> str:
    """Record one event for the tenant: recorded | duplicate | unmatched (recorded, but about no known message)."""
    return apply_many(tenant_id, [ev])[0]


def _suppress(tenant_id: str, ev: EmailEvent, message_id: str | None) -> None:
    for address in ev.suppress_addresses or (ev.email,):
        suppressions.add(
            Suppression(
                tenant_id=tenant_id,
                address=address.strip().lower(),
                reason=ev.suppress_reason or "",
                detail=ev.response[:500],
                provider=ev.provider,
                message_id=message_id,
                created_at=clock.now(),
            )
        )


def _later(current: str | None, status: str) -> str:
    rank = email_events.DELIVERY_RANK
    return status if current is None or rank.get(status, 0) > rank.get(current, 0) else current


def apply_many(tenant_id: str, events: Sequence[EmailEvent]) -> list[str]:
    """Record a batch of one tenant's events, each once: per event recorded | duplicate | unmatched.

    Reads are batched (the dedupe items, the correlation lookups) and so are writes: one conditional
    ``UpdateItem`` per message for its delivery state (the latest state the batch reports), and
    ``BatchWriteItem`` for the activity events and then the dedupe items (``dal.email_events.record_many``).
    A replay (same dedupe key, in this batch or recorded before) changes nothing. Every write is
    idempotent (suppression: the first reason is kept; delivery state: forward only; activity: keyed by
    the event), so a crash part-way is repaired by applying the batch again (SQS redelivery).
    """
    results = ["duplicate"] * len(events)
    known = email_events.seen_many(tenant_id, {(ev.provider, ev.dedupe_key) for ev in events if ev.dedupe_key})
    fresh: list[int] = []
    for n, ev in enumerate(events):
        key = (ev.provider, ev.dedupe_key or "")
        if ev.dedupe_key and key in known:
            continue
        if ev.dedupe_key:
            known.add(key)  # a second copy in this batch is a duplicate
        fresh.append(n)
    message_ids, unknown = _correlate_many(tenant_id, [events[n] for n in fresh])
    for n, message_id in zip(fresh, message_ids, strict=True):
        if message_id in unknown:  # rare: the dispatcher could not record the provider's acceptance
            msg = messages.get(tenant_id, message_id, load_body=False)
            if msg is not None and _confirm_sent(msg, events[n]):
                unknown.discard(message_id)
    latest: dict[str, str] = {}
    recorded = []
    for n, message_id in zip(fresh, message_ids, strict=True):
        ev = events[n]
        if ev.suppress_reason:
            _suppress(tenant_id, ev, message_id)
        if message_id and ev.delivery_status:
            latest[message_id] = _later(latest.get(message_id), ev.delivery_status)
        activity = None
        if message_id:
            activity = ActivityEvent(
                message_id=message_id,
                event_id=ev.dedupe_key or new_id(),
                event=ev.event,
                email=ev.email,
                ip=ev.ip,
                created_ms=ev.created_ms,
                response=ev.response,
            )
        summary = {"event": ev.event, "email": ev.email, "created_ms": ev.created_ms, "message_id": message_id}
        recorded.append((ev.provider, ev.dedupe_key, summary, activity))
        results[n] = "recorded" if message_id else "unmatched"
    for message_id, status in latest.items():
        email_events.set_delivery_status(tenant_id, message_id, status)
    email_events.record_many(tenant_id, recorded)
    return results
