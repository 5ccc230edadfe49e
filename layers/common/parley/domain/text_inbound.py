"""Inbound SMS to the texting numbers (``TextInboundFunction``, a Function URL; docs/courier.md "Texts, replies and
consents").

Twilio posts each inbound SMS to the number's SmsUrl (set when the number is bought: ``TEXT_INBOUND_URL``). The
receiving number (``To``) names the tenant and the account (``text_numbers.number_for``); the request must carry
``X-Twilio-Signature`` made with that account's auth token over the exact URL and the form (403 otherwise, whatever
the reason: an unknown number, a wrong signature). Each MessageSid is handled once: its receive log is written first,
only if absent, so a replayed or retried webhook changes nothing. Then, first match wins:

0. a **channel bridge** of the sender through this number (``channel_bridge.route_reply``): the reply is posted into
   the courier channel as a message with source ``sms``; STOP ends the sender's bridges (and opts out, step 3);
1. a **reply** to the newest open text from this number to the sender whose ``expected-responses`` hold the reply
   (case- and space-insensitive; a text without expected responses but with a ``callback-url`` takes any reply):
   a signed callback to its ``callback-url`` with ``callback-json``; a ``callback-one-off`` text takes only the first;
2. a pending **consent** flow of the sender (``user_consents.answer_reply``);
3. **STOP/START** keywords: the sender's consent in the tenant's one consent store (shared with the candidate API);
4. the number's ``events.unknown-number`` rule: ``{"action": "reply", "message": …}`` answers the sender,
   ``{"action": "forward", "to": …}`` (or the number's ``forward-to``) forwards the text, ``ignore`` (default) keeps it
   only in the logs.

A STOP always opts the sender out, whichever step took the message (a carrier rule). Every inbound SMS is in
text-receive-logs, with the step that took it (``outcome``), and in the number's text-number-logs when its logging is on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import tenants
from parley.dal import texts as store
from parley.domain import channel_bridge, optins, phones, sms_webhooks, text_callbacks, texts, user_consents
from parley.domain.context import Caller
from parley.errors import NotFound

logger = Logger(child=True)


def is_status_report(form: sms_webhooks.Form) -> bool:
    """A delivery report (no ``Body``, a status other than ``received``) rather than an inbound SMS."""
    state = (form.one("MessageStatus") or form.one("SmsStatus")).strip().lower()
    return "Body" not in form and bool(state) and state != "received"


def verify(event: dict[str, Any]) -> tuple[Any, sms_webhooks.Form]:
    """The receiving number and the form of a request signed by its account; else 403 (400: not a form at all)."""
    form = sms_webhooks.parse_form(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    signature = headers.get("x-twilio-signature", "").strip()
    # an inbound SMS is routed by the number it was sent to; a delivery report by the number that sent the message
    to = (form.one("From") if is_status_report(form) else form.one("To")).strip()
    if not signature or not to or len(to) > 64:
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    number = texts.numbers().number_for(phones.best_effort(to))
    if number is None:
        logger.warning("inbound SMS to a number that is not a texting number", extra={"to": to[:20]})
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    try:
        _, token = texts.numbers().account_auth(number.tenant_id, number.account_id)
    except (LookupError, NotFound):
        token = ""
    url = sms_webhooks.public_url(event)
    if not token or not sms_webhooks.signature_valid(token, url, form, signature, headers.get("x-twilio-webhooks-signature-settings")):
        logger.warning("inbound SMS with an invalid signature", extra={"tenant_id": number.tenant_id, "url": url})
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    return number, form


def receive(event: dict[str, Any]) -> str:
    """Handle one inbound SMS webhook; the outcome (``replay`` when its MessageSid was handled before)."""
    number, form = verify(event)
    if is_status_report(form):
        # a delivery report of a message sent without a StatusCallback of its own (the number's webhook): no SMS
        logger.info("status report at the inbound webhook, ignored", extra={"tenant_id": number.tenant_id})
        return "status-report"
    sid, sender, recipient, body = sms_webhooks.check_inbound(form)
    tenant = tenants.get(number.tenant_id)
    if tenant is None:
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    caller = Caller.of(tenant)
    sender = phones.best_effort(sender, caller.default_country)
    now = clock.iso(clock.now())
    fields = {"sender": sender, "to": number.phone_number, "message": body, "created_at": now, "number_id": number.id,
              "account_id": number.account_id, "outcome": "received"}  # fmt: skip
    log = store.log_item(caller.tenant_id, sid, fields)
    if not store.put_log(log):
        return "replay"
    outcome = route(caller, number, sid=sid, sender=sender, body=body)
    store.update_log(caller.tenant_id, sid, outcome=outcome)
    try:
        texts.numbers().record_number_log(
            caller.tenant_id, number.id, {"sid": sid, "sender": sender, "to": number.phone_number, "message": body, "outcome": outcome}
        )
    except Exception:  # the number's debug log is not worth losing the message's handling over
        logger.exception("could not write the number's log", extra={"tenant_id": caller.tenant_id, "number_id": number.id})
    logger.info("inbound SMS", extra={"tenant_id": caller.tenant_id, "sid": sid, "outcome": outcome, "recipient": recipient[:20]})
    return outcome


def route(caller: Caller, number: Any, *, sid: str, sender: str, body: str) -> str:
    keyword = sms_webhooks.keyword(body)
    stop = keyword is not None and not keyword[0]
    outcome = channel_bridge.route_reply(number, sender, body) or _reply(caller, number, sid=sid, sender=sender, body=body)
    if outcome is None:
        for pointer_item in store.open_consents(caller.tenant_id, number.phone_number, sender):
            state = user_consents.answer_reply(caller, number, pointer_item, sender=sender, body=body, sid=sid)
            if state is not None:
                return f"consent:{pointer_item['consent_id']}:{state}"  # a STOP declined it and opted out
    if stop or (outcome is None and keyword is not None):
        opt_in, word = keyword  # type: ignore[misc]
        optins.update(caller.tenant_id, phone=sender, email=None, opt_in=opt_in, reason=f"keyword {word}", communication_id=sid)
        if outcome is None:
            return "opt-in" if opt_in else "opt-out"
    if outcome is not None:
        return outcome
    return _unknown(caller, number, sender=sender, body=body)


def _reply(caller: Caller, number: Any, *, sid: str, sender: str, body: str) -> str | None:
    """The newest open text from ``number`` to ``sender`` that takes this reply: its callback queued."""
    said = texts.normalized(body)
    for pointer_item in store.open_texts(caller.tenant_id, number.phone_number, sender):
        text = store.get_text(caller.tenant_id, pointer_item["text_id"], consistent=True)
        if text is None:
            continue
        expected = text.get("expected_responses") or []
        if expected and said not in expected:
            continue
        one_off = bool(text.get("callback_one_off"))
        if not store.claim_reply(caller.tenant_id, text["id"], sid, clock.iso(clock.now()), one_off=one_off):
            store.close_open_text(caller.tenant_id, number.phone_number, sender, pointer_item["SK"])
            continue  # a one-off text answered before: the reply may be another text's
        if one_off:
            store.close_open_text(caller.tenant_id, number.phone_number, sender, pointer_item["SK"])
        if text.get("callback_url"):
            import json

            payload = {
                "type": "text-reply",
                "text-id": text["id"],
                "sid": sid,
                "from": sender,
                "to": number.phone_number,
                "message": body,
                "matched-response": said if expected else None,
                "received-at": clock.iso(clock.now()),
                "callback-json": json.loads(text["callback_json"]) if text.get("callback_json") else None,
            }
            text_callbacks.schedule(caller.tenant_id, f"{text['id']}.reply.{sid}", text_id=text["id"], kind="reply",
                                    url=text["callback_url"], payload=payload)  # fmt: skip
        return f"reply:{text['id']}"
    return None


def _unknown(caller: Caller, number: Any, *, sender: str, body: str) -> str:
    events = texts.setting(number, "events") or {}
    rule = (events.get("unknown-number") if isinstance(events, dict) else getattr(events, "unknown_number", None)) or {}
    if not isinstance(rule, dict):
        rule = getattr(rule, "model_dump", lambda **_: {})(by_alias=True)
    action = str(rule.get("action") or ("forward" if texts.setting(number, "forward_to") else "ignore")).lower()
    if action == "reply" and rule.get("message"):
        msg = texts.outbound(caller, number, target=sender, body=str(rule["message"])[:1600], kind=texts.KIND_REPLY, status_callback=None,
                             created_by=None)  # fmt: skip
        texts.submit(caller, msg)
        return "unknown-number:reply"
    if action == "forward":
        to = rule.get("to") or texts.setting(number, "forward_to")
        try:
            target = phones.require(str(to or ""), caller.default_country, field="forward-to")
        except Exception:
            return "unknown-number:ignored (no valid forward-to)"
        forwarded = f"From {sender}: {body}"[:1600]
        msg = texts.outbound(caller, number, target=target, body=forwarded, kind=texts.KIND_REPLY, status_callback=None, created_by=None)
        texts.submit(caller, msg)
        return "unknown-number:forward"
    return "unknown-number:ignored"


def status_callback(event: dict[str, Any], text_id: str, tenant_id: str | None, form: sms_webhooks.Form, signature: str) -> str:
    """Twilio's status callback of a text (``POST /v1/texts/{id}/callback/``): verified with the text's account token
    over the URL we gave Twilio for it; the status moved forward only, and relayed to ``callback-status-url``."""
    from parley.errors import BadRequest

    text = store.get_text(tenant_id, text_id, consistent=True) if tenant_id else None
    if text is None or not signature:
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    try:
        _, token = texts.numbers().account_auth(tenant_id, text["account_id"])
    except (LookupError, NotFound):
        token = ""
    if not token or not sms_webhooks.signature_valid(token, text["status_callback_url"], form, signature):
        logger.warning("text status callback with an invalid signature", extra={"tenant_id": tenant_id, "text_id": text_id})
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    message_sid, status = sms_webhooks.check_status(form)
    rank = texts.STATUS_RANK.get(status)
    if rank is None:
        raise BadRequest(f"MessageStatus {status[:40]!r} is not a Twilio message status")
    known = text.get("twilio_sid")
    if known and known != message_sid:
        raise BadRequest("MessageSid is not this text's")
    error_code = form.one("ErrorCode").strip()[:32] or None
    error = f"twilio error {error_code}" if error_code else None
    now = clock.iso(clock.now())
    if not store.advance_status(tenant_id, text_id, status=status, rank=rank, error=error, sid=message_sid, now=now):  # type: ignore[arg-type]
        return "stale"
    if text.get("callback_status_url"):
        import json

        payload = {
            "type": "text-status",
            "text-id": text_id,
            "status": status,
            "error": error,
            "twilio-sid": message_sid,
            "changed-at": now,
            "callback-json": json.loads(text["callback_json"]) if text.get("callback_json") else None,
        }
        text_callbacks.schedule(tenant_id, f"{text_id}.status.{status}", text_id=text_id, kind="status",  # type: ignore[arg-type]
                                url=text["callback_status_url"], payload=payload)  # fmt: skip
    return "applied"
