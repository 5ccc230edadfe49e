"""Voice lines (docs/courier.md "Voice (issue 20)" → "Voice lines"): an organization's phone line and call queue on
a number of one of its text-accounts (issue 17's Twilio subaccounts), the TwiML answered to Twilio's voice webhook,
the queue's entries, and the line's maintenance tasks.

- **voice-settings**: creating one makes a Twilio queue in the account (``Queues.json``) and points the number's
  ``VoiceUrl`` at ``/v1/voice-ivrs/{id}/twiml/?tenant=<t>`` (the REST API, public, signature-checked) and its
  ``StatusCallback`` at ``VOICE_CALLBACK_URL`` ``/status`` (the ``VoiceCallbackFunction`` Function URL). Both URLs
  are stored with the setting: a webhook is verified against the URL we gave Twilio, never one rebuilt from headers.
- **twiml** (``voice-ivrs/{id}/twiml``): the recording notice when recording is on, then either a ``<Dial>`` of the
  forward number (recorded from answer when recording is on) or an ``<Enqueue>`` into the line's queue, whose wait
  URL says the wait message and whose action URL records how the caller left the queue (and, recording on, takes a
  voicemail with transcription from a caller nobody answered).
- **queue entries**: one per call (id derived from its CallSid), fed by the queue callbacks (``apply_queue``) and
  reconciled with Twilio's ``Members.json`` by the ``refresh_queue_entries`` task; states only move forward.

Callback URLs (``callback_url``) carry ``tenant``, ``account`` and, for a line, ``setting``: the signature (the
account's auth token over the exact URL and form) authenticates them, so a forged query names nothing.
"""

from __future__ import annotations

import os
import uuid
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import voice_lines as store
from parley.domain.ids import new_id
from parley.errors import BadRequest, Conflict, NotFound, ParleyError, Unprocessable
from parley.models.voice_lines import (
    QueueEntryAttributes,
    RunTask,
    SettingRef,
    VoiceSettingAttributes,
    VoiceSettingCreate,
    VoiceSettingUpdate,
    VoiceTaskAttributes,
)

logger = Logger(child=True)

CALLBACK_KINDS = ("queue", "status", "recording", "survey")
# A queue entry's states in their forward-only order (Twilio's QueueResult values are the final ones; ``left``: the
# refresh found the call no longer in Twilio's queue without having been told how it left).
ENTRY_RANK = {"waiting": 0, "bridging-in-process": 1}
FINAL_STATES = ("bridged", "queue-full", "redirected", "hangup", "leave", "error", "system-error", "left")
VOICEMAIL_AFTER = ("leave", "queue-full", "error", "system-error")  # queue results that still have a caller on the line
ENTRY_NAMESPACE = uuid.UUID("8f0d2c5e-6c1b-4d3e-9a51-5f1f3a0c7b20")
MAX_VOICEMAIL_SECONDS = 120


class Unavailable(ParleyError):
    """The deployment lacks what the request needs (the voice callback Function URL): 503."""

    status = 503


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


# ── URLs ──


# Inside VoiceCallbackFunction itself the base is the URL the (verified) request came in at: the function cannot be
# given its own Function URL in its environment (a circular reference in the template).
REQUEST_BASE: ContextVar[str | None] = ContextVar("voice_callback_base", default=None)


def callback_base() -> str:
    url = (REQUEST_BASE.get() or os.environ.get("VOICE_CALLBACK_URL", "")).rstrip("/")
    if not url:
        raise Unavailable("voice lines need VOICE_CALLBACK_URL (the voice callback Function URL), which this deployment lacks",
                          code="not-configured")  # fmt: skip
    return url


def callback_url(kind: str, tenant_id: str, account_id: str, *, setting_id: str | None = None, conference_id: str | None = None,
                 sub: str = "", extra: dict[str, str] | None = None) -> str:  # fmt: skip
    """Where Twilio posts a voice callback of ``kind`` (``queue``, ``status``, ``recording``, ``survey``; ``sub`` a
    further path, e.g. a survey's id) for a call of ``account_id``: ``VOICE_CALLBACK_URL/<kind>[/<sub>]?tenant=…&
    account=…[&setting=…][&conference=…][&<extra>]``. Areas B and C use it for the calls they place (``/status``
    with ``conference_id``: ``voice_calls.apply_status`` gets the conference as the owner; a survey's Gather action
    with ``extra={"question": "<n>"}``)."""
    if kind not in CALLBACK_KINDS:
        raise ValueError(f"unknown voice callback kind {kind!r}")
    query = {"tenant": tenant_id, "account": account_id, **({"setting": setting_id} if setting_id else {}),
             **({"conference": conference_id} if conference_id else {}), **(extra or {})}  # fmt: skip
    path = f"/{kind}" + (f"/{sub.strip('/')}" if sub else "")
    return f"{callback_base()}{path}?{urlencode(query)}"


def twiml_url(base_url: str, tenant_id: str, setting_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/voice-ivrs/{setting_id}/twiml/?{urlencode({'tenant': tenant_id})}"


# ── settings ──


def view(stored: dict[str, Any]) -> VoiceSettingAttributes:
    return VoiceSettingAttributes(
        account_id=stored["account_id"],
        created_at=stored["created_at"],
        forward_number=stored.get("forward_number"),
        last_modified_at=stored["last_modified_at"],
        organization_id=stored["organization_id"],
        phone_number=stored["phone_number"],
        recording_enabled=bool(stored.get("recording_enabled")),
        recording_message=stored.get("recording_message"),
        wait_message=stored.get("wait_message"),
    )


def require_setting(tenant_id: str, setting_id: str, *, pointer: str | None = None, parameter: str | None = None,
                    consistent: bool = False) -> dict[str, Any]:  # fmt: skip
    """The stored line, or 404 (another tenant's included) naming the member or parameter when given."""
    found = store.get_setting(tenant_id, setting_id, consistent=consistent)
    if found is None:
        raise NotFound(f"no voice-setting {setting_id!r}", pointer=pointer, parameter=parameter, code="not-found")
    return found


def _e164(value: str, region: str, member: str) -> str:
    from parley.domain.text_numbers import e164

    return e164(value, region, pointer=pointer(member))


def _account_number(tenant_id: str, account_id: str, phone: str) -> dict[str, Any]:
    """The text-account's number ``phone`` (E.164), else 422 naming ``phone-number``."""
    from parley.dal import text_numbers as numbers

    routed = numbers.route(phone)
    stored = numbers.get_number(tenant_id, routed["number_id"]) if routed and routed.get("tenant_id") == tenant_id else None
    if stored is None or stored.get("account_id") != account_id:
        raise Unprocessable(f"phone-number {phone} is not a number of text-account {account_id}", pointer=pointer("phone-number"),
                            code="not-an-account-number")  # fmt: skip
    if not stored.get("twilio_id"):
        raise Unprocessable(f"phone-number {phone} has no Twilio number sid", pointer=pointer("phone-number"), code="not-an-account-number")
    return stored


def _auth(tenant_id: str, account_id: str) -> tuple[str, str]:
    from parley.domain.text_numbers import account_auth

    return account_auth(tenant_id, account_id)


def _twilio_failure(err: Any, doing: str) -> ParleyError:
    from parley.domain.text_numbers import twilio_failure

    return twilio_failure(err, doing)


def _point_number(tenant_id: str, account_id: str, number: dict[str, Any], *, voice_url: str, status_url: str) -> None:
    from parley.providers import twilio_rest

    sid, token = _auth(tenant_id, account_id)
    try:
        twilio_rest.set_voice_webhooks(sid, token, number["twilio_id"], voice_url=voice_url, status_url=status_url)
    except twilio_rest.TwilioError as err:
        raise _twilio_failure(err, "point the number's voice webhook") from None


def create(tenant_id: str, region: str, attrs: VoiceSettingCreate, *, base_url: str) -> tuple[str, VoiceSettingAttributes]:
    """A new line: the account's number, a Twilio queue, the number's voice webhooks pointed at Parley. 404 for an
    unknown account, 422 for a number not of the account, 502 when Twilio fails (nothing stored)."""
    from parley.domain import text_accounts
    from parley.providers import twilio_rest

    if not attrs.account_id:
        raise BadRequest("account-id is required", pointer=pointer("account-id"), code="required")
    if not attrs.phone_number:
        raise BadRequest("phone-number is required", pointer=pointer("phone-number"), code="required")
    try:
        account = text_accounts.stored(tenant_id, attrs.account_id)
    except NotFound:
        raise NotFound(f"no text-account {attrs.account_id!r}", pointer=pointer("account-id"), code="not-found") from None
    phone = _e164(attrs.phone_number, region, "phone-number")
    forward = _e164(attrs.forward_number, region, "forward-number") if attrs.forward_number else None
    number = _account_number(tenant_id, attrs.account_id, phone)
    _refuse_taken(tenant_id, number)
    setting_id = new_id()
    voice_url = twiml_url(base_url, tenant_id, setting_id)
    status_url = callback_url("status", tenant_id, attrs.account_id, setting_id=setting_id)
    sid, token = _auth(tenant_id, attrs.account_id)
    queue_name = f"parley-voice-{setting_id}"
    try:
        queue = twilio_rest.create_queue(sid, token, queue_name)
    except twilio_rest.TwilioError as err:
        raise _twilio_failure(err, "create the line's queue") from None
    try:
        _point_number(tenant_id, attrs.account_id, number, voice_url=voice_url, status_url=status_url)
    except ParleyError:
        _give_back(sid, token, queue["sid"])
        raise
    now = clock.iso(clock.now())
    fields = {
        "account_id": attrs.account_id, "organization_id": account["organization_id"], "phone_number": phone,
        "number_id": number["id"], "forward_number": forward, "recording_enabled": attrs.recording_enabled,
        "recording_message": attrs.recording_message, "wait_message": attrs.wait_message, "queue_sid": queue["sid"],
        "queue_name": queue_name, "voice_url": voice_url, "status_url": status_url, "created_at": now, "last_modified_at": now,
    }  # fmt: skip
    item = store.setting_item(tenant_id, setting_id, fields)
    if not store.put_setting(item):  # another line took the number meanwhile: ours is given back
        _give_back(sid, token, queue["sid"])
        raise _taken(phone)
    return setting_id, view(item)


def _taken(phone: str) -> Conflict:
    return Conflict(f"phone-number {phone} is the number of another voice-setting", pointer=pointer("phone-number"), code="number-taken")


def _refuse_taken(tenant_id: str, number: dict[str, Any], setting_id: str | None = None) -> None:
    claim = store.number_claim(tenant_id, number["id"])
    if claim is not None and claim.get("setting_id") != setting_id:
        raise _taken(number["phone_number"])


def _give_back(sid: str, token: str, queue_sid: str) -> None:
    from parley.providers import twilio_rest

    try:
        twilio_rest.delete_queue(sid, token, queue_sid)
    except twilio_rest.TwilioError:
        logger.warning("could not delete the queue of a line not created", extra={"queue_sid": queue_sid})


def get(tenant_id: str, setting_id: str) -> tuple[str, VoiceSettingAttributes]:
    return setting_id, view(require_setting(tenant_id, setting_id))


def page(tenant_id: str, organization_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, VoiceSettingAttributes]], int]:
    from parley.domain.channels import require_organization

    require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.settings(tenant_id, organization_id, offset=offset, limit=limit)
    return [(i["id"], view(i)) for i in items], total


def update(tenant_id: str, region: str, setting_id: str, attrs: VoiceSettingUpdate) -> tuple[str, VoiceSettingAttributes]:
    """Change a line; a new ``phone-number`` (another number of the same account) gets the voice webhooks and the old
    one's are cleared. ``recording-enabled`` cannot be null."""
    stored = require_setting(tenant_id, setting_id, consistent=True)
    given = attrs.model_fields_set
    changes: dict[str, Any] = {}
    remove: list[str] = []
    if "recording_enabled" in given:
        if attrs.recording_enabled is None:
            raise BadRequest("recording-enabled cannot be null", pointer=pointer("recording-enabled"), code="invalid")
        changes["recording_enabled"] = attrs.recording_enabled
    for name in ("recording_message", "wait_message"):
        if name in given:
            value = getattr(attrs, name)
            if value is not None:
                changes[name] = value
            else:
                remove.append(name)
    if "forward_number" in given:
        if attrs.forward_number is None:
            remove.append("forward_number")
        else:
            changes["forward_number"] = _e164(attrs.forward_number, region, "forward-number")
    old_number: dict[str, Any] | None = None
    moving = False
    if "phone_number" in given:
        if attrs.phone_number is None:
            raise BadRequest("phone-number cannot be null", pointer=pointer("phone-number"), code="invalid")
        phone = _e164(attrs.phone_number, region, "phone-number")
        if phone != stored["phone_number"]:
            number = _account_number(tenant_id, stored["account_id"], phone)
            _refuse_taken(tenant_id, number, setting_id)
            _point_number(tenant_id, stored["account_id"], number, voice_url=stored["voice_url"], status_url=stored["status_url"])
            from parley.dal import text_numbers as numbers

            old_number = numbers.get_number(tenant_id, stored["number_id"])
            changes.update(phone_number=phone, number_id=number["id"])
            moving = True
    changes["last_modified_at"] = clock.iso(clock.now())
    if moving:
        if not store.move_setting(tenant_id, setting_id, stored["number_id"], changes["number_id"], changes, remove):
            raise _taken(changes["phone_number"])
        updated = store.get_setting(tenant_id, setting_id, consistent=True)
    else:
        updated = store.update_setting(tenant_id, setting_id, changes, remove)
    if updated is None:
        raise NotFound(f"no voice-setting {setting_id!r}", code="not-found")
    if old_number is not None and old_number.get("twilio_id"):
        try:  # the old number no longer answers for this line
            _point_number(tenant_id, stored["account_id"], old_number, voice_url="", status_url="")
        except ParleyError:
            logger.warning("could not clear the old number's voice webhook", extra={"tenant_id": tenant_id, "setting_id": setting_id})
    return setting_id, view(updated)


# ── TwiML (voice-ivrs/{id}/twiml) ──


class Forbidden(ParleyError):
    status = 403


FORBIDDEN_MESSAGE = "invalid Twilio signature"


def _verify_rest(event: dict[str, Any], setting_id: str, tenant_id: str | None, method: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The line and the request's parameters when the request is signed by the line's account over the URL we gave
    Twilio (POST: that URL and the form; GET: that URL with Twilio's parameters appended, in the order received);
    else 403 — an unknown line or tenant included."""
    from parley.domain import sms_webhooks

    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    signature = headers.get("x-twilio-signature", "").strip()
    stored = store.get_setting(tenant_id, setting_id) if tenant_id else None
    if stored is None or not signature:
        raise Forbidden(FORBIDDEN_MESSAGE)
    if method == "POST":
        form = sms_webhooks.parse_form(event)
        url = stored["voice_url"]
    else:
        multi = event.get("multiValueQueryStringParameters") or {k: [v] for k, v in (event.get("queryStringParameters") or {}).items()}
        pairs = [(k, v) for k, values in multi.items() if k != "tenant" for v in values]
        form = sms_webhooks.Form()
        url = stored["voice_url"] + (f"&{urlencode(pairs)}" if pairs else "")
    try:
        _, token = _auth(stored["tenant_id"], stored["account_id"])
    except NotFound:
        token = ""
    if not token or not sms_webhooks.signature_valid(token, url, form, signature, headers.get("x-twilio-webhooks-signature-settings")):
        logger.warning("voice webhook with an invalid signature", extra={"tenant_id": tenant_id, "setting_id": setting_id})
        raise Forbidden(FORBIDDEN_MESSAGE)
    params = {k: v[-1] for k, v in form.items()} if method == "POST" else {k: v for k, v in pairs}
    return stored, params


def twiml_for(stored: dict[str, Any]) -> str:
    """The line's TwiML for an incoming call (``twilio.twiml.voice_response.VoiceResponse``)."""
    from twilio.twiml.voice_response import VoiceResponse

    t, account, setting_id = stored["tenant_id"], stored["account_id"], stored["id"]
    recording = bool(stored.get("recording_enabled"))
    response = VoiceResponse()
    if recording and stored.get("recording_message"):
        response.say(stored["recording_message"])
    if stored.get("forward_number"):
        extra: dict[str, Any] = {}
        if recording:
            recording_url = callback_url("recording", t, account, setting_id=setting_id)
            extra = {
                "record": "record-from-answer-dual",
                "recording_status_callback": recording_url,
                "recording_status_callback_method": "POST",
            }
        dial = response.dial(caller_id=stored["phone_number"], **extra)
        dial.number(stored["forward_number"], status_callback=callback_url("status", t, account, setting_id=setting_id),
                    status_callback_event="initiated ringing answered completed", status_callback_method="POST")  # fmt: skip
    else:
        queue_url = callback_url("queue", t, account, setting_id=setting_id)
        response.enqueue(stored["queue_name"], wait_url=queue_url, wait_url_method="POST", action=queue_url, method="POST")
    return str(response)


def answer_webhook(event: dict[str, Any], setting_id: str, tenant_id: str | None, method: str) -> str:
    stored, params = _verify_rest(event, setting_id, tenant_id, method)
    logger.info(
        "voice webhook", extra={"tenant_id": stored["tenant_id"], "setting_id": setting_id, "call_sid": params.get("CallSid", "")[:40]}
    )
    return twiml_for(stored)


# ── queue entries ──


def entry_id(tenant_id: str, call_sid: str) -> str:
    return str(uuid.uuid5(ENTRY_NAMESPACE, f"{tenant_id}:{call_sid}"))


def _rank(state: str) -> int:
    return ENTRY_RANK.get(state, 2)


def entry_view(stored: dict[str, Any]) -> QueueEntryAttributes:
    return QueueEntryAttributes(
        created_at=stored["created_at"],
        last_modified_at=stored["last_modified_at"],
        phone_number=stored.get("phone_number"),
        position=int(stored["position"]) if stored.get("position") is not None else None,
        queue_time=int(stored.get("queue_time") or 0),
        state=stored["state"],
    )


def _seconds(value: str | int | None) -> int:
    try:
        return max(0, min(int(str(value).strip()), 10**7))
    except (TypeError, ValueError):
        return 0


def record_entry(tenant_id: str, setting_id: str, call_sid: str, *, state: str, position: int | None, queue_time: int,
                 phone: str | None) -> dict[str, Any] | None:  # fmt: skip
    """Write or move forward the entry of ``call_sid``; the entry as it is (None when the change was stale)."""
    now = clock.iso(clock.now())
    eid = entry_id(tenant_id, call_sid)
    fields = {"setting_id": setting_id, "call_sid": call_sid, "state": state, "rank": _rank(state), "position": position,
              "queue_time": queue_time, "phone_number": phone, "created_at": now, "last_modified_at": now}  # fmt: skip
    if store.put_entry_if_absent(store.entry_item(tenant_id, eid, fields)):
        return store.get_entry(tenant_id, eid, consistent=True)
    changes = {"state": state, "queue_time": queue_time, "last_modified_at": now}
    if position is not None and state == "waiting":
        changes["position"] = position
    if phone:
        changes.update(phone_number=phone, **store.phone_index(tenant_id, eid, phone))
    final = state not in ENTRY_RANK
    # a final state has no position any more
    return store.advance_entry(tenant_id, eid, changes, rank=_rank(state), queue_time=None if final else queue_time,
                               remove=["position"] if final else None)  # fmt: skip


def apply_queue(tenant_id: str, stored: dict[str, Any], params: dict[str, str]) -> str:
    """A queue callback (the ``<Enqueue>`` wait URL: ``QueuePosition``/``QueueTime``; its action URL:
    ``QueueResult``) → the entry; the TwiML to answer (the wait message; after the queue, a voicemail when recording is
    on and the caller was not answered, else hang up)."""
    from twilio.twiml.voice_response import VoiceResponse

    call_sid = (params.get("CallSid") or "").strip()
    if not call_sid or len(call_sid) > 64:
        raise BadRequest("CallSid is required")
    result = (params.get("QueueResult") or "").strip().lower()
    if result and result not in FINAL_STATES and result != "bridging-in-process":
        raise BadRequest(f"QueueResult {result[:40]!r} is not a Twilio queue result")
    phone = (params.get("From") or params.get("Caller") or "").strip()[:64] or None
    position = _seconds(params.get("QueuePosition")) if params.get("QueuePosition") else None
    record_entry(tenant_id, stored["id"], call_sid, state=result or "waiting", position=position,
                 queue_time=_seconds(params.get("QueueTime")), phone=phone)  # fmt: skip
    response = VoiceResponse()
    if not result:
        if stored.get("wait_message"):
            response.say(stored["wait_message"])
        response.pause(length=10)
    elif result in VOICEMAIL_AFTER and stored.get("recording_enabled"):
        recording_url = callback_url("recording", tenant_id, stored["account_id"], setting_id=stored["id"])
        response.record(max_length=MAX_VOICEMAIL_SECONDS, transcribe=True, transcribe_callback=recording_url,
                        recording_status_callback=recording_url, recording_status_callback_method="POST")  # fmt: skip
    else:
        response.hangup()
    return str(response)


def get_entry(tenant_id: str, entry_id_: str) -> tuple[str, QueueEntryAttributes]:
    found = store.get_entry(tenant_id, entry_id_)
    if found is None:
        raise NotFound(f"no voice-queue-entry {entry_id_!r}", code="not-found")
    return entry_id_, entry_view(found)


def entry_page(tenant_id: str, setting_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, QueueEntryAttributes]], int]:
    require_setting(tenant_id, setting_id, parameter="setting-id")
    items, total = store.entries(tenant_id, setting_id, offset=offset, limit=limit)
    return [(i["id"], entry_view(i)) for i in items], total


# ── tasks ──


def task_view(stored: dict[str, Any]) -> VoiceTaskAttributes:
    return VoiceTaskAttributes(
        created_at=stored["created_at"],
        created_by=stored.get("created_by"),
        error_message=stored.get("error_message"),
        kwargs=stored.get("kwargs") or {},
        method=stored["method"],
        result=stored.get("result"),
        setting=SettingRef(id=stored["setting_id"]),
        state=stored["state"],
    )


def refresh_queue_entries(tenant_id: str, stored: dict[str, Any]) -> dict[str, int]:
    """Reconcile the line's entries with Twilio's queue members: each member waiting (position, queue-time), each
    entry still waiting that Twilio no longer holds → ``left``."""
    from parley.providers import twilio_rest

    sid, token = _auth(tenant_id, stored["account_id"])
    try:
        members = twilio_rest.queue_members(sid, token, stored["queue_sid"])
    except twilio_rest.TwilioError as err:
        raise _twilio_failure(err, "read the queue's members") from None
    seen: set[str] = set()
    updated = 0
    for member in members:
        call_sid = str(member.get("call_sid") or "")
        if not call_sid:
            continue
        seen.add(call_sid)
        position, waited = _seconds(member.get("position")), _seconds(member.get("wait_time"))
        if record_entry(tenant_id, stored["id"], call_sid, state="waiting", position=position, queue_time=waited, phone=None) is not None:
            updated += 1
    left = 0
    for entry in store.all_entries(tenant_id, stored["id"]):
        gone = entry.get("state") in ENTRY_RANK and entry.get("call_sid") not in seen
        waited = int(entry.get("queue_time") or 0)
        if gone and record_entry(tenant_id, stored["id"], entry["call_sid"], state="left", position=None, queue_time=waited, phone=None):
            left += 1
    return {"members": len(members), "updated": updated, "left": left}


def run_task(tenant_id: str, setting_id: str, body: RunTask, *, created_by: str | None) -> tuple[str, VoiceTaskAttributes]:
    """Run a task at once (synchronously) and keep its record: ``completed`` with its result, or ``failed`` with the
    error message (Twilio refused or was unreachable)."""
    stored = require_setting(tenant_id, setting_id)
    task_id = new_id()
    kwargs = body.kwargs.model_dump() if body.kwargs else {}
    store.put_task(tenant_id, task_id, {"setting_id": setting_id, "method": body.method, "kwargs": kwargs, "state": "running",
                                        "created_by": created_by, "created_at": clock.iso(clock.now())})  # fmt: skip
    try:
        result = refresh_queue_entries(tenant_id, stored)
        changes: dict[str, Any] = {"state": "completed", "result": result}
    except ParleyError as err:
        changes = {"state": "failed", "error_message": err.message[:1000]}
    changes["finished_at"] = clock.iso(clock.now())
    done = store.finish_task(tenant_id, task_id, changes)
    assert done is not None
    return task_id, task_view(done)


def purge(tenant_id: str, *, phones: set[str] | list[str]) -> dict[str, int]:
    """Erase what the voice lines keep about a person (``parley.domain.purge``): their number (E.164) in the queue
    entries of their calls (the entries stay, anonymous: a line's queue history)."""
    done = {"voice_queue_entries": 0}
    for phone in sorted({p for p in phones if p.startswith("+")}):
        for entry in store.entries_of_phone(tenant_id, phone):
            if store.forget_phone(tenant_id, entry["id"]):
                done["voice_queue_entries"] += 1
    return done


def get_task(tenant_id: str, task_id: str) -> tuple[str, VoiceTaskAttributes]:
    found = store.get_task(tenant_id, task_id)
    if found is None:
        raise NotFound(f"no voice-task {task_id!r}", code="not-found")
    return task_id, task_view(found)
