"""The courier's texts (seed 003, docs/courier.md "Texts, replies and consents"): an outbound SMS from one of an
account's numbers, through the existing send pipeline, whose replies and status changes are routed back to the caller.

- **create**: the target is read as E.164 (400 naming ``target``); the sender is ``number-id`` (one of the account's
  numbers, 422 otherwise) or the account's stable sender for the target (``text_numbers.sender_for``: the
  text-user-number-maps). A target that opted out (STOP, through this API or the candidate API: one consent store) is
  refused (422) before anything is stored. The text and its send-pipeline message are written in one transaction
  (``emails.submit``); the message carries the account (the dispatcher sends with that account's Twilio credentials)
  and the text's status callback URL. Quiet hours, the tenant's send rate and idempotency are the pipeline's.
- **status**: Twilio's, moved only forward by ``POST /v1/texts/{id}/callback/`` (signed with the account's token over
  the exact URL we gave Twilio); before Twilio's first word, read from the message (``accepted`` while queued,
  ``queued`` once Twilio took it, ``failed`` if the pipeline gave up).
- **replies** (``parley.domain.text_inbound``): the newest open text from a number to a sender takes the sender's reply
  when it is one of ``expected-responses`` (case- and space-insensitive) or when the text has no expected responses
  but a ``callback-url``; ``callback-one-off`` texts take only the first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from parley import clock
from parley.dal import texts as store
from parley.dal import user_emails as message_reads
from parley.domain import emails, limits, quiet_hours
from parley.domain.context import Caller
from parley.domain.idempotency import run_once
from parley.domain.ids import new_id
from parley.errors import BadRequest, NotFound, Unprocessable
from parley.models.domain import Message, MessageStatus
from parley.models.texts import MAX_CALLBACK_JSON, TextAttributes, TextCreate

SOURCE_API = "courier"
KIND_TEXT = "text"
KIND_CONSENT = "consent_request"  # a consent flow's initial (or invalid-response) text: may go to a number without consent
KIND_REPLY = "text_auto_reply"

# Twilio's message states in the order they can happen (the final ones share a rank: one never replaces another).
STATUS_RANK: dict[str, int] = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}  # fmt: skip
_SPACE = re.compile(r"\s+")


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def normalized(response: str) -> str:
    """How a reply is compared with an expected response: no spaces at all, upper case ("Yes " = "YES" = "y e s")."""
    return _SPACE.sub("", response or "").upper()


def numbers() -> Any:
    """Helper D's number registry (``parley.domain.text_numbers``), imported when first needed."""
    from parley.domain import text_numbers

    return text_numbers


def setting(number: Any, name: str, default: Any = None) -> Any:
    """One of a number's settings (``forward_to``, ``alert``, ``logging``, ``events``: ``text_numbers.TextNumber``)."""
    settings = getattr(number, "settings", None) or {}
    value = settings.get(name) if isinstance(settings, dict) else getattr(settings, name, None)
    return default if value is None else value


def phone(value: str, region: str, *, member: str | None = None, parameter: str | None = None) -> str:
    """``value`` in E.164 (read in the tenant's ``region``), or a 400 naming the member (``source.pointer``) or the
    query parameter, before anything is stored."""
    from parley.models.phones import e164

    try:
        return e164(value, region or "US")
    except ValueError as err:
        where = {"pointer": pointer(member)} if member else {"parameter": parameter}
        raise BadRequest(f"{member or parameter}: {err}", code="invalid-phone-number", **where) from None


def check_url(value: str | None, member: str) -> str | None:
    """A callback URL must be absolute http(s) with a host (the SSRF rules are applied at each delivery)."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{member} must be an absolute http(s) URL", pointer=pointer(member), code="invalid-url")
    return value


def check_complete(attrs: TextCreate) -> None:
    for name, member in (("account_id", "account-id"), ("target", "target"), ("message", "message")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=pointer(member), code="missing-member")
    if attrs.callback_json is not None and len(json.dumps(attrs.callback_json)) > MAX_CALLBACK_JSON:
        raise BadRequest(f"callback-json must be at most {MAX_CALLBACK_JSON} bytes as JSON", pointer=pointer("callback-json"))
    check_url(attrs.callback_url, "callback-url")
    check_url(attrs.callback_status_url, "callback-status-url")


def sender_number(tenant_id: str, account_id: str, number_id: str | None, user_id: str | None, target: str, member: str) -> Any:
    """The number a text goes out from: ``number_id`` (one of the account's), else the account's stable sender."""
    registry = numbers()
    if number_id:
        try:
            found = registry.number_for(registry.stored_number(tenant_id, number_id)["phone_number"])
        except NotFound:
            found = None
        if found is None or found.tenant_id != tenant_id or found.account_id != account_id:
            raise Unprocessable(f"no number {number_id!r} in account {account_id!r}", pointer=pointer(member), code="unknown-number")
        return found
    try:
        return registry.sender_for(tenant_id, account_id, user_id, target)
    except NotFound as err:
        raise Unprocessable(str(err), pointer=pointer("account-id"), code="unknown-account") from err


def refuse_opted_out(tenant_id: str, target: str, member: str = "target") -> None:
    """422 when the target said STOP (the one consent store of the tenant, shared with the candidate API)."""
    from parley.dal import optins

    state = optins.get_state(tenant_id, target)
    if state is not None and not state.get("opted_in"):
        raise Unprocessable(f"{target} has opted out of SMS (STOP)", pointer=pointer(member), code="opted-out")


def outbound(caller: Caller, number: Any, *, target: str, body: str, kind: str, status_callback: str | None, created_by: str | None,
             message_id: str | None = None) -> Message:  # fmt: skip
    """The send pipeline's message of a text: from the number, through Twilio, with the number's account credentials."""
    msg = emails.new_outbound(caller, "sms", source_api=SOURCE_API, recipient=target, body=body, message_id=message_id, kind=kind,
                              created_by=created_by)  # fmt: skip
    return msg.model_copy(
        update={
            "sender": number.phone_number,
            "provider": "twilio",
            "provider_account": number.account_id,
            "status_callback": status_callback,
        }
    )


def submit(caller: Caller, msg: Message, *, extra_ops: list[dict[str, Any]] | None = None) -> None:
    """Queue a texting message (with ``extra_ops`` in its create transaction): held for quiet hours when the tenant
    keeps them, as the candidate API's SMS are."""
    until = None
    if caller.quiet_hours:
        tz_name, tz = quiet_hours.zone(None, caller.timezone)
        until = quiet_hours.next_allowed(msg.created_at, tz)
    if until is None:
        emails.submit(msg, extra_ops=extra_ops or [])
    else:
        from parley.domain import sms

        sms.hold_for_quiet_hours(msg, until, tz_name, extra_ops=extra_ops or [])


def create(caller: Caller, user_id: str | None, attrs: TextCreate, *, base_url: str, idempotency_key: str | None = None,
           lambda_context: Any = None) -> tuple[str, TextAttributes]:  # fmt: skip
    """A new text, queued. The caller checked ``check_complete``."""
    target = phone(attrs.target or "", caller.default_country, member="target")
    number = sender_number(caller.tenant_id, attrs.account_id or "", attrs.number_id, user_id, target, "number-id")
    refuse_opted_out(caller.tenant_id, target)

    def accept() -> dict[str, Any]:
        text_id, now = new_id(), clock.iso(clock.now())
        callback = f"{base_url.rstrip('/')}/v1/texts/{text_id}/callback/?tenant={caller.tenant_id}"
        fields = {
            "account_id": number.account_id,
            "number_id": number.id,
            "organization_id": attrs.organization_id or getattr(number, "organization_id", None),
            "from": number.phone_number,
            "target": target,
            "message": attrs.message,
            "callback_url": attrs.callback_url,
            "callback_status_url": attrs.callback_status_url,
            "callback_json": json.dumps(attrs.callback_json) if attrs.callback_json is not None else None,
            "callback_one_off": attrs.callback_one_off,
            "expected_responses": list(dict.fromkeys(normalized(r) for r in attrs.expected_responses or [] if normalized(r))) or None,
            "created_by": user_id,
            "status_callback_url": callback,
            "created_at": now,
            "last_modified_at": now,
        }
        stored = store.text_item(caller.tenant_id, text_id, fields)
        msg = outbound(caller, number, target=target, body=attrs.message or "", kind=KIND_TEXT, status_callback=callback,
                       created_by=user_id)  # fmt: skip
        stored["message_id"] = msg.id
        with limits.sending(caller):
            submit(caller, msg, extra_ops=store.text_create_ops(stored))
        return {"id": text_id}

    payload = {"user": user_id, **attrs.model_dump(mode="json", by_alias=True)}
    done = run_once(tenant_id=caller.tenant_id, scope="courier.texts.create", key=idempotency_key, payload=payload, fn=accept,
                    lambda_context=lambda_context)  # fmt: skip
    return get(caller.tenant_id, done["id"], consistent=True)


def get(tenant_id: str, text_id: str, *, consistent: bool = False) -> tuple[str, TextAttributes]:
    stored = store.get_text(tenant_id, text_id, consistent=consistent)
    if stored is None:
        raise NotFound(f"no text {text_id!r}", code="not-found")
    return answer(tenant_id, stored)


def answer(tenant_id: str, stored: dict[str, Any]) -> tuple[str, TextAttributes]:
    found = message_reads.messages_of(tenant_id, [stored["message_id"]]) if stored.get("message_id") else {}
    return stored["id"], view(stored, found.get(stored.get("message_id", "")))


def page(tenant_id: str, account_id: str, *, number_id: str | None, target: str | None, offset: int, limit: int):
    items, total = store.texts_page(tenant_id, account_id, number_id=number_id, target=target, offset=offset, limit=limit)
    found = message_reads.messages_of(tenant_id, [i["message_id"] for i in items if i.get("message_id")])
    return [(i["id"], view(i, found.get(i.get("message_id", "")))) for i in items], total


def status_of(stored: dict[str, Any], message: dict[str, Any] | None) -> tuple[str, str | None, str | None]:
    """``(status, error, twilio sid)``: Twilio's word when it spoke, else the send pipeline's."""
    sid = stored.get("twilio_sid") or (message or {}).get("provider_message_id")
    if stored.get("twilio_status"):
        return stored["twilio_status"], stored.get("error"), sid
    status = (message or {}).get("status")
    if status in (MessageStatus.SENT.value, MessageStatus.UNCONFIRMED.value):
        return "queued", None, sid
    if status in (MessageStatus.FAILED.value, MessageStatus.CANCELLED.value):
        return "failed", (message or {}).get("error") or status.lower(), sid
    if status == MessageStatus.SCHEDULED.value:
        return "scheduled", None, sid
    return "accepted", None, sid


def view(stored: dict[str, Any], message: dict[str, Any] | None) -> TextAttributes:
    status, error, sid = status_of(stored, message)
    modified = stored["last_modified_at"]
    for field in ("updated_at", "sent_at"):
        if message and message.get(field):
            modified = max(modified, clock.iso(clock.parse_iso(message[field])))
    return TextAttributes.model_validate(
        {
            "account-id": stored["account_id"],
            "number-id": stored.get("number_id"),
            "organization-id": stored.get("organization_id"),
            "callback-status-url": stored.get("callback_status_url"),
            "callback-url": stored.get("callback_url"),
            "callback-json": json.loads(stored["callback_json"]) if stored.get("callback_json") else None,
            "callback-one-off": bool(stored.get("callback_one_off")),
            "expected-responses": stored.get("expected_responses") or [],
            "created-at": stored["created_at"],
            "created-by": stored.get("created_by"),
            "error": error,
            "from": stored["from"],
            "last-modified-at": modified,
            "message": stored["message"],
            "status": status,
            "target": stored["target"],
            "twilio-sid": sid,
        }
    )


def purge(tenant_id: str, *, user_ids: set[str], addresses: set[str]) -> dict[str, int]:
    """Erase what the texts keep about a person (``parley.domain.purge``): the texts to their phones (with their reply
    pointers and callback deliveries), the SMS received from them, and their consents (with their open flows). Their
    send-pipeline messages go with the purge's messages step; the opt-in state with its own items."""
    from parley.dal import tenants
    from parley.domain import phones as numbers_

    tenant = tenants.get(tenant_id)
    region = tenant.default_country if tenant else "US"
    phones = {numbers_.best_effort(a, region) for a in addresses if "@" not in a}  # a directory phone may be national
    phones = {p for p in phones if p.startswith("+")}
    done = {"texts": 0, "text_callbacks": 0, "text_receive_logs": 0, "user_consents": 0}
    for phone in sorted(phones):
        for item in store.items_about(tenant_id, phone):
            if item.get("type") == "text":
                for delivery in store.callbacks_of_text(tenant_id, item["id"]):
                    store.delete(delivery["PK"], delivery["SK"])
                    done["text_callbacks"] += 1
                store.delete(store.open_pk(tenant_id, item["from"], item["target"]), f"{item['created_at']}#{item['id']}")
                done["texts"] += 1
            else:
                done["text_receive_logs"] += 1
            store.delete(item["PK"], item["SK"])
    for consent in store.consents_about(tenant_id, user_ids=user_ids, phones=phones):
        store.delete(store.consent_open_pk(tenant_id, consent["from"], consent["target_id"]), f"{consent['created_at']}#{consent['id']}")
        store.delete(consent["PK"], consent["SK"])
        done["user_consents"] += 1
    return done
