"""Twilio's voice callbacks at ``VoiceCallbackFunction`` (a Function URL; docs/courier.md "Voice (issue 20)" → "Voice
lines"), routed by path:

- ``/queue`` — a line's ``<Enqueue>`` wait URL and action URL → its voice-queue-entry (``voice_lines.apply_queue``);
  answers TwiML;
- ``/status`` — call status callbacks → ``voice_calls.apply_status(tenant_id, owner_id, params)`` (area B), the owner
  being the ``setting`` (or ``conference``) the URL names; answers empty TwiML;
- ``/recording`` — recording and transcription callbacks → ``voice_recordings.apply_recording(tenant_id, setting_id,
  params)`` (area C); answers empty TwiML;
- ``/survey/<id>`` — a survey call's TwiML: ``voice_surveys.twiml`` when the call is answered, ``apply_answer`` when
  the URL carries ``question=<index>`` (a Gather's action; ``question`` passed in ``params``) (area C);
  ``/survey/<id>/status`` — the survey call's status events → ``voice_surveys.call_ended`` (area C).

Every URL is ``callback_url(…)``'s: ``?tenant=<t>&account=<text-account>[&setting=<id>][&conference=<id>]``. The
request must be signed (``X-Twilio-Signature``) by that account's auth token over the exact URL and the form, and the
form's ``AccountSid`` must be that account's: otherwise 403 and nothing is written (whatever the reason — an unknown
tenant, account or line included). A setting named must be the tenant's and of that account.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger

from parley.domain import sms_webhooks
from parley.errors import NotFound

logger = Logger(child=True)

EMPTY_TWIML = sms_webhooks.EMPTY_TWIML
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


class Forbidden(sms_webhooks.Forbidden):
    pass


def _query(event: dict[str, Any]) -> dict[str, str]:
    parsed = parse_qs(event.get("rawQueryString") or "", keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items() if v and _ID.fullmatch(v[-1])}


def verify(event: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], sms_webhooks.Form]:
    """``(query, params, form)`` of a request signed by the account its URL names; else 403."""
    form = sms_webhooks.parse_form(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    signature = headers.get("x-twilio-signature", "").strip()
    query = _query(event)
    tenant_id, account_id = query.get("tenant"), query.get("account")
    if not signature or not tenant_id or not account_id:
        raise Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    from parley.domain.text_numbers import account_auth

    try:
        sid, token = account_auth(tenant_id, account_id)
    except (NotFound, LookupError):
        sid, token = "", ""
    url = sms_webhooks.public_url(event)
    if not token or not sms_webhooks.signature_valid(token, url, form, signature, headers.get("x-twilio-webhooks-signature-settings")):
        logger.warning("voice callback with an invalid signature", extra={"tenant_id": tenant_id, "url": url})
        raise Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    if form.one("AccountSid") and form.one("AccountSid") != sid:
        logger.warning("voice callback of another account", extra={"tenant_id": tenant_id})
        raise Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    params = {k: v[-1] for k, v in form.items() if v}
    return query, params, form


def _setting(query: dict[str, str]) -> dict[str, Any]:
    from parley.dal import voice_lines as store

    setting_id = query.get("setting")
    stored = store.get_setting(query["tenant"], setting_id) if setting_id else None
    if stored is None or stored.get("account_id") != query["account"]:
        raise Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    return stored


def handle(event: dict[str, Any]) -> str:
    """Route one callback by its path; the TwiML to answer. 404 for an unknown path (before any check)."""
    path = "/" + (event.get("rawPath") or "/").strip("/")
    parts = path.strip("/").split("/")
    kind = parts[0]
    survey_status = kind == "survey" and len(parts) == 3 and parts[2] == "status"
    if (
        kind not in ("queue", "status", "recording", "survey")
        or (kind == "survey") != (len(parts) >= 2)
        or (len(parts) > 2 and not survey_status)
    ):
        raise NotFound("no such voice callback", code="not-found")
    if kind == "survey" and not _ID.fullmatch(parts[1]):
        raise NotFound("no such survey", code="not-found")
    query, params, _ = verify(event)
    from parley.domain import voice_lines

    base, raw_path = sms_webhooks.public_url(event).split("?", 1)[0], event.get("rawPath") or "/"
    token = voice_lines.REQUEST_BASE.set(base[: len(base) - len(raw_path)] if base.endswith(raw_path) else None)
    try:
        return _route(kind, parts, query, params)
    finally:
        voice_lines.REQUEST_BASE.reset(token)


def _route(kind: str, parts: list[str], query: dict[str, str], params: dict[str, str]) -> str:
    tenant_id = query["tenant"]
    if kind == "queue":
        from parley.domain import voice_lines

        return voice_lines.apply_queue(tenant_id, _setting(query), params)
    if kind == "status":
        from parley.domain import voice_calls

        owner = query.get("setting") or query.get("conference")
        if owner is None:
            raise Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
        if query.get("setting"):
            _setting(query)
        voice_calls.apply_status(tenant_id, owner, params)
        return EMPTY_TWIML
    if kind == "recording":
        from parley.domain import voice_recordings

        voice_recordings.apply_recording(tenant_id, _setting(query)["id"], params)
        return EMPTY_TWIML
    from parley.domain import voice_surveys

    if len(parts) == 3:  # /survey/<id>/status: the survey call's status events
        voice_surveys.call_ended(tenant_id, parts[1], params)
        return EMPTY_TWIML
    if "question" in query:
        return voice_surveys.apply_answer(tenant_id, parts[1], {**params, "question": query["question"]})
    return voice_surveys.twiml(tenant_id, parts[1], params)
