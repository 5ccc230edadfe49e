"""Sending SMS to candidates: consent check, quiet hours, queue or schedule; history and activity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from parley import clock
from parley.dal import messages
from parley.dal import optins as optin_state
from parley.domain import candidates, emails, limits, phones, quiet_hours
from parley.domain.context import Caller, Sender
from parley.domain.idempotency import send_once
from parley.domain.ids import new_id
from parley.errors import BadRequest, NotFound
from parley.models.domain import ActivityEvent, Message, MessageStatus


def new_outbound_sms(
    caller: Caller,
    *,
    source_api: str,
    recipient: str,
    body: str,
    recruiter_id: str | None = None,
    candidate_id: str | None = None,
) -> Message:
    return emails.new_outbound(
        caller, "sms", source_api=source_api, recipient=recipient, body=body, recruiter_id=recruiter_id, candidate_id=candidate_id
    )


def require_opt_in(tenant_id: str, phone: str) -> None:
    """400 unless the number's consent state is OPTED_IN (no record = not opted in)."""
    state = optin_state.get_state(tenant_id, phone)
    if state is None:
        raise BadRequest(f"phoneNumber {phone} has not opted in to SMS; opt it in with PUT /communications/sms/v1/optIn first")
    if not state.get("opted_in"):
        raise BadRequest(f"phoneNumber {phone} has opted out of SMS")


def hold_for_quiet_hours(msg: Message, until: datetime, tz_name: str, *, extra_ops: Sequence[dict[str, Any]] = ()) -> Message:
    """Schedule ``msg`` for the start of the recipient's next sending window, noting why in its activity."""
    now = clock.now()
    # emails.schedule refuses a time closer than its minimum lead; 07:59:58 is held until just after 08:00.
    at = max(until, now + emails.MIN_SCHEDULE_LEAD + timedelta(seconds=2))
    local = at.astimezone(quiet_hours.zone(tz_name)[1])
    note = f"held for quiet hours (08:00-21:00 {tz_name}): scheduled for {local:%Y-%m-%d %H:%M} {tz_name} ({clock.iso(at)})"
    # The event goes first: if scheduling then fails, it is an orphan nobody can read (no message item).
    event = ActivityEvent(
        message_id=msg.id, event_id=new_id(), event="scheduled", email=msg.recipient, created_ms=clock.epoch_ms(now), response=note
    )
    messages.add_event(msg.tenant_id, event)
    return emails.schedule(msg, at, tz_name, extra_ops=extra_ops)


def send_candidate_sms(sender: Sender, *, phone: str, text: str) -> str:
    """POST /communications/sms/v1/send: returns the messageSID (= our message id = the activityId). The number is
    kept, checked for consent and sent to in E.164, read in the tenant's default country. The sender's user is the
    recruiter."""
    caller, recruiter_id = sender.caller, sender.user_id
    phone = phones.require(phone, caller.default_country)

    @limits.sending(caller)  # the tenant's send rate and daily quota (429 beyond), counted once per accepted send
    def accept() -> dict[str, Any]:
        require_opt_in(caller.tenant_id, phone)
        candidate = candidates.find(caller.tenant_id, phone=phone)
        candidate_id = candidate.id if candidate else candidates.resolve(caller.tenant_id, phone=phone)
        msg = new_outbound_sms(
            caller, source_api="candidate", recipient=phone, body=text, recruiter_id=recruiter_id, candidate_id=candidate_id
        )
        until = None
        if caller.quiet_hours:
            tz_name, tz = quiet_hours.zone(candidate.timezone if candidate else None, caller.timezone)
            until = quiet_hours.next_allowed(msg.created_at, tz)
        if until is None:
            emails.submit(msg)
        else:
            hold_for_quiet_hours(msg, until, tz_name)
        return {"message_id": msg.id}

    payload = {"to": phone, "message": text, "recruiter": recruiter_id}
    return send_once(sender, "sms.send", payload, accept)["message_id"]


def _digits(phone: str) -> str:
    return phone.lstrip("+")


_DELIVERY = {
    "DELIVERED": "SMS to {phone} was delivered",
    "UNDELIVERED": "SMS to {phone} could not be delivered",
    "READ": "SMS to {phone} was read",
    "FAILED": "SMS to {phone} failed",
    "SENT": "SMS to {phone} was sent by the carrier",
    "QUEUED": "SMS to {phone} is queued at the provider",
    "ACCEPTED": "SMS to {phone} was accepted by the provider",
}


def _describe(msg: Message, events: list[ActivityEvent]) -> tuple[str, str]:
    """(status, readable message) of an SMS's latest state."""
    phone = msg.recipient if msg.direction == "outbound" else msg.sender
    if msg.delivery_status:
        state = msg.delivery_status.upper()
        text = _DELIVERY.get(state, "SMS to {phone}: " + state.lower()).format(phone=phone)
        if msg.error and state in ("UNDELIVERED", "FAILED"):
            text += f": {msg.error}"
        return state, text
    status = msg.status.value
    if msg.status == MessageStatus.SCHEDULED:
        held = [e.response for e in events if e.event == "scheduled" and e.response]
        when = held[-1] if held else f"scheduled for {clock.iso(msg.scheduled_at)}" if msg.scheduled_at else "scheduled"
        return status, f"SMS to {phone} is {when}"
    texts = {
        MessageStatus.QUEUED: f"SMS to {phone} is queued for sending",
        MessageStatus.SENDING: f"SMS to {phone} is being handed to {msg.provider}",
        MessageStatus.SENT: f"SMS to {phone} was accepted by {msg.provider}"
        + (f" at {clock.iso(msg.sent_at)}" if msg.sent_at else "")
        + "; no delivery report yet",
        MessageStatus.FAILED: f"SMS to {phone} could not be sent" + (f": {msg.error}" if msg.error else ""),
        MessageStatus.UNCONFIRMED: f"SMS to {phone} was handed to {msg.provider}; whether it accepted it is not known (not resent)",
        MessageStatus.CANCELLED: f"SMS to {phone} was cancelled before it was sent",
        MessageStatus.RECEIVED: f"SMS received from {phone}",
    }
    return status, texts.get(msg.status, f"SMS to {phone}: {status.lower()}")


def sms_activity(tenant_id: str, activity_id: str, phone: str, region: str = phones.DEFAULT_REGION) -> tuple[str, str]:
    """GET /communications/sms/v1/activity: (latest state, readable message). 404 unless the id is one
    of this tenant's SMS exchanged with ``phone`` (both read as E.164 in the tenant's default country; a
    record stored before numbers were E.164 also matches on its digits without a leading +)."""
    wanted = phones.require(phone, region)
    msg, events = messages.get_with_events(tenant_id, activity_id)
    if msg is None or msg.channel != "sms":
        raise NotFound(f"activityId {activity_id} not found")
    counterpart = msg.recipient if msg.direction == "outbound" else msg.sender
    if phones.best_effort(counterpart, region) != wanted and _digits(counterpart) != _digits(phone):
        raise NotFound(f"activityId {activity_id} not found for phoneNumber {phone}")
    return _describe(msg, events)
