"""The local console (``http://127.0.0.1:3000/``): what the stack sent, what is scheduled, what webhooks came
in, the tenants and keys of this run, and buttons that play the outside world.

Server side:

- ``GET /`` (and ``/_local/console``): the page, plain HTML + vanilla JS (``console_static/``), no build step;
- ``GET /_local/console/state``: tenants and keys, outbox (email, SMS and mobile push, newest first), scheduled sends,
  recent webhooks — compact; ``GET /_local/console/email?id=<outbox id>`` one email in full;
- ``POST /_local/keys``: remember a key made outside the stack (the admin CLI with ``--local``): only the
  SHA-256 of a key is stored, so the console can show (and use) only the keys made in this run;
- ``POST /_local/simulate/{reply,sms,stop,bounce,text-reply}``: build the provider's payload, sign it as the provider
  does and send it over HTTP to the public webhook endpoint on this gateway, like the provider would:
  a reply is a SendGrid Inbound Parse post (raw mode, the API key as the Basic password); an SMS or STOP is
  Twilio's inbound webhook at the Function URL with ``X-Twilio-Signature`` (the tenant's Twilio auth token);
  a bounce is SendGrid's signed Event Webhook (ECDSA P-256 over timestamp + body); a text-reply is Twilio's inbound
  webhook of a courier texting number at TextInboundFunction, signed with that number's text-account token. When a tenant lacks what
  the provider needs (a Twilio auth token, an event webhook key), the console configures it and says so.

Webhook requests the gateway receives (Function URLs and the declared webhook routes) are kept in a bounded
ring buffer (``MAX_WEBHOOKS``, bodies cut at ``WEBHOOK_BODY_CHARS``) by a WSGI wrapper around the gateway.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from parley_local import ses_simulator

STATIC = Path(__file__).with_name("console_static")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# The page runs only its own script; an email's srcdoc frame inherits this policy, so nothing in an email loads.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'self'"
)
WEBHOOK_ROUTES = frozenset({"/communications/email/v1/reply", "/communications/email/v1/events"})
MAX_WEBHOOKS = 100
WEBHOOK_BODY_CHARS = 4000
MAX_RECORDED_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
LIST_LIMIT = 50
RETRY_S = 15.0
MAX_LOOKUPS = 50  # tenants tried per unknown provider id
STATE_LOOKUPS = 200  # provider-id lookups one state answer may make (the rest are tried on the page's next poll)
TWILIO_INBOUND = "TwilioInboundFunction"
TEXT_INBOUND = "TextInboundFunction"  # the courier texting numbers' inbound SMS (simulate/text-reply)
OUR_NUMBER = "+15555550100"  # the tenant's number a simulated SMS is sent to, unless it has an sms_sender
_SHOWN_HEADERS = ("content-type", "user-agent", "x-twilio-signature", "x-twilio-email-event-webhook-signature",
                  "x-twilio-email-event-webhook-timestamp")  # fmt: skip


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=2, default=str), status=status, content_type="application/json")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _state(api_key: str) -> str:
    """The key's state as the authorizer judges it: ``active``, ``revoked``, ``expired``, or ``unknown`` (no item)."""
    from parley.dal import api_keys
    from parley.domain.auth import hash_key

    found = api_keys.get(hash_key(api_key))
    return found.state(datetime.now(UTC)) if found is not None else "unknown"


def _usable(api_key: str) -> bool:
    return _state(api_key) == "active"


class Console:
    def __init__(self, stack: Any) -> None:
        self.stack = stack  # parley_local.app.LocalStack
        self._lock = threading.Lock()
        self._keys: list[dict[str, str]] = []
        self._webhooks: deque[dict[str, Any]] = deque(maxlen=MAX_WEBHOOKS)
        # (provider, provider message id) → ((tenant, message id) or None, when first looked up)
        self._owner: dict[tuple[str, str], tuple[tuple[str, str] | None, float]] = {}
        self._signer: Any = None  # the console's SendGrid event webhook key pair (one per run)
        self._lookups = STATE_LOOKUPS  # provider-id lookups left to the state answer being made

    # ── keys of this run ──
    def remember_key(self, tenant_id: str, api_key: str, name: str = "", sender_email: str = "", created_by: str = "") -> None:
        with self._lock:
            self._keys.append({"tenantId": tenant_id, "name": name, "apiKey": api_key, "senderEmail": sender_email,
                               "createdBy": created_by, "createdAt": datetime.now(UTC).isoformat(timespec="seconds")})  # fmt: skip

    def key_for(self, tenant_id: str) -> str:
        """The newest key of the tenant made in this run that still works (not revoked, not expired)."""
        with self._lock:
            mine = [k for k in reversed(self._keys) if k["tenantId"] == tenant_id]
        for k in mine:
            if _usable(k["apiKey"]):
                return k["apiKey"]
        raise Refused(409, f"no working API key of tenant {tenant_id} was made in this run (only its SHA-256 is stored)")

    def tenant_ids(self) -> list[str]:
        with self._lock:
            return list(dict.fromkeys(k["tenantId"] for k in self._keys))

    # ── the webhook ring buffer: a WSGI wrapper around the gateway ──
    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/":
                environ["PATH_INFO"] = "/_local/console"
                return app(environ, start_response)
            if not (path.startswith("/_url/") or path in WEBHOOK_ROUTES):
                return app(environ, start_response)
            if int(environ.get("CONTENT_LENGTH") or 0) > MAX_RECORDED_BYTES:
                return app(environ, start_response)  # not read here: the gateway refuses it (413) unread
            return self._record(app, environ, start_response)

        return wrapped

    def _record(self, app: Callable[..., Any], environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)  # werkzeug keeps it for the gateway's own Request (wsgi.input is replaced)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        started = time.monotonic()
        status: list[str] = []

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(status_line)
            return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

        chunks = list(app(environ, capture))
        answer = b"".join(chunks)
        headers = {k.lower(): v for k, v in request.headers.items()}
        auth = headers.get("authorization", "")
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "path": request.full_path.rstrip("?"),
            "status": int(status[0].split()[0]) if status else 0,
            "ms": round((time.monotonic() - started) * 1000),
            "headers": {k: headers[k] for k in _SHOWN_HEADERS if k in headers}
            | ({"authorization": auth.split(" ", 1)[0] + " …(redacted)"} if auth else {}),
            "size": len(body),
            "body": body[:WEBHOOK_BODY_CHARS].decode("utf-8", "replace"),
            "truncated": len(body) > WEBHOOK_BODY_CHARS,
            "response": answer[:1000].decode("utf-8", "replace"),
        }
        with self._lock:
            self._webhooks.appendleft(entry)
        return chunks

    # ── routes (registered as /_local tools) ──
    def routes(self) -> dict[str, Callable[[Request], Response]]:
        return {
            "/_local/console": self._page,
            "/_local/console/*": self._asset,
            "/_local/console/state": lambda _: _json(self.state()),
            "/_local/console/email": self._email,
            "/_local/keys": self._keys_tool,
            "/_local/simulate/*": self._simulate,
        }

    def _page(self, _: Request) -> Response:
        return Response(
            (STATIC / "index.html").read_bytes(),
            content_type=_TYPES[".html"],
            headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP},
        )

    def _asset(self, request: Request) -> Response:
        name = request.path.removeprefix("/_local/console/")
        files = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES}
        if name.startswith("assets/") and name.removeprefix("assets/") in files:
            path = files[name.removeprefix("assets/")]
            return Response(path.read_bytes(), content_type=_TYPES[path.suffix], headers={"Cache-Control": "no-store"})
        return _json({"message": f"no such console resource: {name}"}, 404)

    def _keys_tool(self, request: Request) -> Response:
        from parley.dal import tenants
        from parley.domain.auth import authenticate
        from parley_local.app import BadBody, json_object

        if request.method == "GET":
            return _json(self.keys())
        if request.method != "POST":
            return _json({"message": "GET the keys of this run, or POST {tenantId, apiKey, name?} to add one"}, 405)
        try:
            body = json_object(request)
        except BadBody as err:
            return _json({"status": 400, "message": str(err)}, 400)
        tenant_id, key = body.get("tenantId"), body.get("apiKey")
        if not isinstance(tenant_id, str) or not isinstance(key, str):
            return _json({"status": 400, "message": "body must be {tenantId: string, apiKey: string, name?: string}"}, 400)
        caller = authenticate("Bearer " + key)
        if caller is None or caller.tenant_id != tenant_id or caller.credential != "api_key":
            return _json({"status": 400, "message": "that is not an API key of that tenant"}, 400)
        tenant = tenants.get(tenant_id)
        self.remember_key(
            tenant_id, key, tenant.name if tenant else "", caller.sender_email, str(body.get("createdBy") or "POST /_local/keys")
        )
        return _json({"tenantId": tenant_id}, 201)

    # ── what the page shows ──
    def keys(self, *, working: bool = False) -> list[dict[str, Any]]:
        """The keys made in this run (the last ``LIST_LIMIT``), each with its ``state``; ``working``: only the active
        ones (the page's list: a key revoked or expired since, by ``admin revoke-key``/``rotate-key``, is not shown)."""
        from parley.dal import tenants

        with self._lock:
            keys = list(self._keys)[-LIST_LIMIT:]
        out = []
        for k in keys:
            state = _state(k["apiKey"])
            if working and state != "active":
                continue
            tenant = tenants.get(k["tenantId"])
            settings = {}
            if tenant is not None:
                shown = ("email_provider", "sms_provider", "sender_email", "reply_domain", "secret_name", "quiet_hours")
                settings = {name: getattr(tenant, name) for name in shown if getattr(tenant, name, None)}
                settings["webhook_public_key"] = bool(tenant.webhook_public_key)
            out.append({**k, "name": tenant.name if tenant else k["name"], "settings": settings, "state": state})
        return out

    def _owner_of(self, provider: str, provider_id: str, sender: str = "") -> tuple[str, str] | None:
        """(tenant, message id) of a provider message id, looked up in the tenants of this run, newest first (those
        sending from ``sender`` only, when given). Cached: found for good; not found, tried again for ``RETRY_S``
        (the provider-id lookup is written just after the provider accepted), then given up."""
        from parley.dal import messages

        key = (provider, provider_id)
        cached = self._owner.get(key)
        if cached is not None and (cached[0] or time.monotonic() - cached[1] > RETRY_S):
            return cached[0]
        if provider == "ses":  # the send's tags name its tenant and message (parley.providers.ses)
            tags = ses_simulator.sent_tags(provider_id)
            if tags.get("parley_tenant_id") and tags.get("parley_message_id"):
                found = (tags["parley_tenant_id"], tags["parley_message_id"])
                self._owner[key] = (found, time.monotonic())
                return found
        with self._lock:
            keys = list(reversed(self._keys))
        address = parseaddr(sender)[1].lower()
        candidates = [k["tenantId"] for k in keys if not address or k["senderEmail"].lower() == address]
        candidates = candidates or [k["tenantId"] for k in keys]
        found = None
        for tenant_id in list(dict.fromkeys(candidates))[:MAX_LOOKUPS]:
            if self._lookups <= 0:
                return None  # this answer's lookups are spent: not cached, tried again on the next poll
            self._lookups -= 1
            mid = messages.find_by_provider_id(tenant_id, provider, provider_id)
            if mid:
                found = (tenant_id, mid)
                break
        self._owner[key] = (found, cached[1] if cached else time.monotonic())
        return found

    def state(self) -> dict[str, Any]:
        self._lookups = STATE_LOOKUPS  # (concurrent polls share it: a bound, not an exact count)
        outbox = self.stack.outbox()
        emails = []
        for m in reversed(outbox["email"][-LIST_LIMIT:]):
            dest = m.get("destinations") or {}
            to = dest.get("ToAddresses", []) if isinstance(dest, dict) else list(dest)
            owner = self._owner_of("ses", m["id"], m["source"])
            emails.append({"id": m["id"], "from": m["source"], "to": to, "subject": m.get("subject") or "",
                           "tenantId": owner[0] if owner else None, "messageId": owner[1] if owner else None})  # fmt: skip
        sms = []
        for s in reversed(outbox["sms"][-LIST_LIMIT:]):
            owner = self._owner_of("sns", s["id"])
            sms.append({**s, "tenantId": owner[0] if owner else None, "messageId": owner[1] if owner else None})
        with self._lock:
            hooks = list(self._webhooks)
        return {
            "api": self.stack.api_url,
            "now": datetime.now(UTC).isoformat(timespec="seconds"),
            "tenants": self.keys(working=True),
            "emails": emails,
            "emailCount": len(outbox["email"]),
            "sms": sms,
            "smsCount": len(outbox["sms"]),
            "push": list(reversed(outbox["push"][-LIST_LIMIT:])),  # SNS mobile push: the platform JSON per device
            "pushCount": len(outbox["push"]),
            "scheduled": self.scheduled(),
            "webhooks": hooks,
        }

    def scheduled(self) -> list[dict[str, Any]]:
        """The one-time schedules of the declared schedule groups (EventBridge Scheduler, in the emulator), with their
        due times and the message each will send."""
        from parley.dal import messages

        scheduler = self.stack.prov.client("scheduler")
        out: list[dict[str, Any]] = []
        for group in self.stack.stack.schedule_groups:
            names = [s["Name"] for s in scheduler.list_schedules(GroupName=group).get("Schedules", [])]
            for name in names[:LIST_LIMIT]:
                try:
                    sched = scheduler.get_schedule(GroupName=group, Name=name)
                except scheduler.exceptions.ResourceNotFoundException:
                    continue  # fired meanwhile
                expression = sched.get("ScheduleExpression", "")
                if not expression.startswith("at("):
                    continue  # rate() schedules (the courier replicators'): no send behind them
                item: dict[str, Any] = {"name": name, "group": group, "due": expression[3:-1] + "Z", "state": sched.get("State")}
                try:
                    job = json.loads(sched.get("Target", {}).get("Input") or "{}")
                    msg = messages.get(job["tenant_id"], job["message_id"], load_body=False)
                except (ValueError, KeyError, TypeError):
                    msg = None
                if msg is not None:
                    item |= {"tenantId": msg.tenant_id, "messageId": msg.id, "channel": msg.channel, "to": msg.recipient,
                             "subject": msg.subject, "status": str(msg.status.value), "timezone": msg.scheduled_tz}  # fmt: skip
                out.append(item)
        return sorted(out, key=lambda i: i["due"])

    def _email(self, request: Request) -> Response:
        """One outbox email in full: what SES was asked to send, and Parley's record of it."""
        from parley.dal import messages

        wanted = request.args.get("id", "")
        found = next((m for m in self.stack.outbox()["email"] if m["id"] == wanted), None)
        if found is None:
            return _json({"message": f"no email {wanted!r} in the outbox"}, 404)
        owner = self._owner_of("ses", wanted, found["source"])
        record = messages.get(*owner) if owner else None
        conversation = []
        if record is not None:  # what came back: the replies threaded to this email's conversation, oldest first
            from parley.dal import records

            for m in reversed(records.conversation(record.tenant_id, record.conversation_id, limit=LIST_LIMIT)):
                if m.id != record.id and m.channel == "email":
                    text = m.body_text if m.body_text is not None else messages.load_body(m).body
                    conversation.append({"id": m.id, "direction": m.direction, "from": m.sender, "to": m.recipient,
                                         "subject": m.subject, "at": m.created_at, "text": (text or "")[:2000]})  # fmt: skip
        dest = found.get("destinations") or {}
        headers = {"From": found["source"], "Subject": found.get("subject") or ""}
        if isinstance(dest, dict):
            headers |= {k.removesuffix("Addresses"): ", ".join(v) for k, v in dest.items() if v}
        if record is not None:
            headers |= {k: v for k, v in {"Reply-To": record.reply_to, "Message-ID": record.internet_message_id,
                                          "In-Reply-To": record.in_reply_to}.items() if v}  # fmt: skip
        return _json({
            "id": wanted, "headers": headers, "body": found.get("body") or "", "raw": found.get("raw"), "conversation": conversation,
            "tenantId": owner[0] if owner else None,
            "record": None if record is None else {
                "id": record.id, "status": record.status.value, "deliveryStatus": record.delivery_status, "error": record.error,
                "sentAt": record.sent_at, "conversationId": record.conversation_id, "attachments": record.attachments,
                "sourceApi": record.source_api, "recipient": record.recipient,
            },
        })  # fmt: skip

    # ── the outside world ──
    def _simulate(self, request: Request) -> Response:
        from parley_local.app import BadBody, json_object

        kind = request.path.removeprefix("/_local/simulate/").strip("/")
        actions = {"reply": self.simulate_reply, "sms": self.simulate_sms, "stop": self.simulate_stop, "bounce": self.simulate_bounce,
                   "text-reply": self.simulate_text_reply}  # fmt: skip
        if kind not in actions:
            return _json({"message": f"no simulation {kind!r}: one of {', '.join(sorted(actions))}"}, 404)
        if request.method != "POST":
            return _json({"message": f"POST a JSON object to /_local/simulate/{kind}"}, 405)
        try:
            out = actions[kind](json_object(request))
        except BadBody as err:
            return _json({"status": 400, "message": str(err)}, 400)
        except Refused as err:
            return _json({"status": err.status, "message": str(err)}, err.status)
        return _json(out)

    def _outbox_email(self, body: dict[str, Any]) -> tuple[dict[str, Any], str, Any]:
        from parley.dal import messages

        email_id = body.get("emailId")
        found = next((m for m in self.stack.outbox()["email"] if m["id"] == email_id), None)
        if found is None:
            raise Refused(404, f"no email {email_id!r} in the outbox (emailId: the outbox id)")
        owner = self._owner_of("ses", found["id"], found["source"])
        deadline = time.monotonic() + 5  # SES took it, the dispatcher may not have recorded SES's id yet
        while owner is None and time.monotonic() < deadline:
            time.sleep(0.2)
            self._owner.pop(("ses", found["id"]), None)
            owner = self._owner_of("ses", found["id"], found["source"])
        if owner is None:
            raise Refused(409, "that email was not sent by a tenant whose key was made in this run")
        record = messages.get(*owner, load_body=False)
        if record is None:
            raise Refused(409, "Parley has no record of that email")
        return found, owner[0], record

    @staticmethod
    def _result(response: requests.Response, what: str, configured: list[str], **extra: Any) -> dict[str, Any]:
        return {"ok": response.ok, "what": what, "request": {"method": response.request.method, "url": response.request.url},
                "status": response.status_code, "response": response.text[:2000], "configured": configured, **extra}  # fmt: skip

    def simulate_reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The candidate answers an email: SendGrid Inbound Parse (raw mode) posts the MIME message to the reply webhook."""
        found, tenant_id, record = self._outbox_email(body)
        text = str(body.get("text") or "Thanks, Thursday at 10 works for me.")
        candidate = record.recipient
        to = record.reply_to or found["source"]
        mime = EmailMessage()
        mime["From"] = candidate
        mime["To"] = to
        mime["Subject"] = "Re: " + (record.subject or "")
        mime["Date"] = format_datetime(datetime.now(UTC))
        mime["Message-ID"] = make_msgid(domain=candidate.rsplit("@", 1)[-1] or "example.com")
        if record.internet_message_id:
            mime["In-Reply-To"] = record.internet_message_id
            mime["References"] = record.internet_message_id
        mime.set_content(text + "\n\nOn an earlier date, " + found["source"] + " wrote:\n> …\n")
        envelope = json.dumps({"to": [addr for _, addr in getaddresses([to])], "from": candidate})
        form = {
            "headers": "".join(f"{k}: {v}\n" for k, v in mime.items()),
            "dkim": "{@" + (candidate.rsplit("@", 1)[-1]) + " : pass}",
            "to": to,
            "from": candidate,
            "subject": mime["Subject"],
            "sender_ip": "203.0.113.7",
            "spam_report": "",
            "envelope": envelope,
            "spam_score": "0.0",
            "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "email": "UTF-8"}),
            "SPF": "pass",
        }
        key = self.key_for(tenant_id)
        files = {name: (None, value) for name, value in form.items()} | {"email": (None, mime.as_bytes())}
        out = requests.post(  # multipart/form-data, the API key as the Basic password (https://apikey:<key>@host/… in SendGrid)
            f"{self.stack.api_url}/communications/email/v1/reply", files=files, auth=("apikey", key),
            headers={"User-Agent": "Sendlib/1.0 (parley console simulation)"}, timeout=30,
        )  # fmt: skip
        return self._result(out, f"reply from {candidate} to {to}", [], tenantId=tenant_id, inReplyTo=record.internet_message_id)

    def _twilio_token(self, tenant_id: str, configured: list[str]) -> str:
        """The tenant's Twilio auth token; when it has none, the console gives it one (a new credentials secret)."""
        from parley.dal import secrets as secret_store
        from parley.dal import tenants
        from parley.domain.auth import configure_tenant

        tenant = tenants.get(tenant_id)
        if tenant is None:
            raise Refused(404, f"no tenant {tenant_id}")
        current = secret_store.tenant_secret(tenant_id)
        if current.get("twilio_auth_token"):
            return str(current["twilio_auth_token"])
        token = secrets.token_hex(16)
        name = f"parley/{tenant_id}-console-{uuid.uuid4().hex[:6]}"  # a new name: no function holds a stale cached copy
        secret_store.put_tenant_secret(name, {**current, "twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": token})
        configure_tenant(tenant_id, secret_name=name)
        configured.append(f"the tenant had no Twilio auth token: the console created one in secret {name} (secret_name)")
        return token

    def _inbound_sms(self, body: dict[str, Any], default_text: str) -> dict[str, Any]:
        from twilio.request_validator import RequestValidator

        from parley.dal import tenants

        tenant_id, phone = body.get("tenantId"), body.get("from")
        if body.get("smsId"):
            sms = next((s for s in self.stack.outbox()["sms"] if s["id"] == body["smsId"]), None)
            owner = self._owner_of("sns", body["smsId"]) if sms else None
            if owner is None:
                raise Refused(404, f"no SMS {body['smsId']!r} of a tenant of this run in the outbox")
            tenant_id, phone = owner[0], sms["to"]
        if not isinstance(tenant_id, str) or not isinstance(phone, str) or not phone.strip():
            raise Refused(400, "body must be {tenantId, from: phone number, text?} or {smsId}")
        tenant = tenants.get(tenant_id)
        if tenant is None:
            raise Refused(404, f"no tenant {tenant_id}")
        configured: list[str] = []
        token = self._twilio_token(tenant_id, configured)
        text = str(body.get("text") or default_text)
        sid = "SM" + secrets.token_hex(16)
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
                  "MessagingServiceSid": "", "From": phone.strip(), "To": tenant.sms_sender or OUR_NUMBER, "Body": text,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
                  "FromCountry": "US", "ToCountry": "US"}  # fmt: skip
        url = f"{self.stack.api_url}/_url/{TWILIO_INBOUND}/?tenant={tenant_id}"
        signature = RequestValidator(token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1 (parley console simulation)"}
        out = requests.post(url, data=params, headers=headers, timeout=30)
        return self._result(out, f"SMS {text!r} from {phone}", configured, tenantId=tenant_id, messageSid=sid)

    def simulate_text_reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The recipient of a courier text answers it (docs/courier.md "Texts, replies and consents"): Twilio posts the
        SMS to TextInboundFunction, signed with the receiving number's text-account token over the exact URL.
        ``{to: our texting number, from: the recipient's phone, text?}``, or ``{textId, tenantId, text?}``."""
        from twilio.request_validator import RequestValidator

        from parley.domain import text_numbers

        to, phone = body.get("to"), body.get("from")
        if body.get("textId"):
            from parley.dal import texts

            text = texts.get_text(str(body.get("tenantId") or ""), str(body["textId"]))
            if text is None:
                raise Refused(404, f"no text {body['textId']!r} of tenant {body.get('tenantId')!r}")
            to, phone = text["from"], text["target"]
        if not isinstance(to, str) or not isinstance(phone, str) or not phone.strip():
            raise Refused(400, "body must be {to: a texting number, from: phone number, text?} or {tenantId, textId, text?}")
        number = text_numbers.number_for(to.strip())
        if number is None:
            raise Refused(404, f"{to} is no texting number of this stack (buy one: POST /v1/text-account-numbers/)")
        account_sid, token = text_numbers.account_auth(number.tenant_id, number.account_id)
        text_ = str(body.get("text") or "YES")
        sid = "SM" + secrets.token_hex(16)
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": account_sid, "From": phone.strip(),
                  "To": number.phone_number, "Body": text_, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                  "ApiVersion": "2010-04-01", "FromCountry": "US", "ToCountry": "US"}  # fmt: skip
        url = f"{self.stack.api_url}/_url/{TEXT_INBOUND}/"
        headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
                   "User-Agent": "TwilioProxy/1.1 (parley console simulation)"}  # fmt: skip
        out = requests.post(url, data=params, headers=headers, timeout=30)
        return self._result(out, f"SMS {text_!r} from {phone} to {number.phone_number}", [], tenantId=number.tenant_id, messageSid=sid)

    def simulate_sms(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._inbound_sms(body, "Yes, I'm interested!")

    def simulate_stop(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._inbound_sms({**body, "text": "STOP"}, "STOP")

    def _sendgrid_signer(self, tenant_id: str, configured: list[str]) -> Any:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        from parley.dal import tenants
        from parley.domain.auth import configure_tenant

        with self._lock:
            if self._signer is None:
                self._signer = ec.generate_private_key(ec.SECP256R1())
            signer = self._signer
        der = signer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ours = base64.b64encode(der).decode()
        tenant = tenants.get(tenant_id)
        if tenant is None:
            raise Refused(404, f"no tenant {tenant_id}")
        if tenant.webhook_public_key and tenant.webhook_public_key != ours:
            raise Refused(409, "the tenant verifies SendGrid events with its own key (webhook_public_key): the console cannot sign for it")
        if not tenant.webhook_public_key:
            configure_tenant(tenant_id, webhook_public_key=ours)
            configured.append("the tenant had no event webhook key: the console set webhook_public_key to its own signing key")
        return signer

    def simulate_bounce(self, body: dict[str, Any]) -> dict[str, Any]:
        """The recipient's server refuses the email: SendGrid's signed Event Webhook posts a bounce event (default), or,
        with ``via: "ses"``, SES publishes a Bounce event to the configuration set's SNS topic (the SES events pipeline)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        found, tenant_id, record = self._outbox_email(body)
        if body.get("via", "sendgrid") not in ("sendgrid", "ses"):
            raise Refused(400, 'via is "sendgrid" (the signed Event Webhook, default) or "ses" (the SES events topic)')
        if body.get("via") == "ses":
            return self._ses_bounce(found, tenant_id, record)
        configured: list[str] = []
        signer = self._sendgrid_signer(tenant_id, configured)
        now = int(time.time())
        event_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        events = [{
            "email": record.recipient, "timestamp": now, "event": "bounce", "type": "bounce",
            "bounce_classification": "Invalid Address", "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
            "status": "5.1.1", "smtp-id": f"<{found['id']}@parley.local>", "sg_event_id": event_id,
            "sg_message_id": f"{found['id']}.filter0001", "category": [record.id], "parley_message_id": record.id,
        }]  # fmt: skip
        raw = json.dumps(events, separators=(",", ":")).encode()
        ts = str(now)
        signature = base64.b64encode(signer.sign(ts.encode() + raw, ec.ECDSA(hashes.SHA256()))).decode()
        out = requests.post(
            f"{self.stack.api_url}/communications/email/v1/events", data=raw, auth=("apikey", self.key_for(tenant_id)), timeout=30,
            headers={"Content-Type": "application/json", "User-Agent": "SendGrid Event API (parley console simulation)",
                     "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": ts},
        )  # fmt: skip
        return self._result(out, f"bounce of {record.recipient}", configured, tenantId=tenant_id, messageId=record.id)

    def _ses_bounce(self, found: dict[str, Any], tenant_id: str, record: Any) -> dict[str, Any]:
        """What SES's configuration set event destination publishes for a permanent bounce: to the SES events topic
        (then SNS → SQS → SesEventsFunction, as deployed). Not an HTTP webhook, so it is not in the webhook list."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event = {
            "eventType": "Bounce",
            "mail": {"timestamp": now, "messageId": found["id"], "source": found["source"], "destination": [record.recipient],
                     "tags": {"parley_message_id": [record.id], "parley_tenant_id": [tenant_id]}},
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": now, "feedbackId": str(uuid.uuid4()),
                       "bouncedRecipients": [{"emailAddress": record.recipient, "action": "failed", "status": "5.1.1",
                                              "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
        }  # fmt: skip
        topic = self.stack.stack.root.ref("SesEventsTopic")
        out = self.stack.prov.client("sns").publish(TopicArn=topic, Message=json.dumps(event))
        return {"ok": True, "what": f"SES bounce of {record.recipient}", "request": {"method": "sns:Publish", "url": topic},
                "status": 200, "response": json.dumps(out.get("MessageId")), "configured": [], "tenantId": tenant_id,
                "messageId": record.id}  # fmt: skip
