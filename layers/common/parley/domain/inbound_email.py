"""Inbound email → one stored inbound message, threaded to what it answers.

Two sources, one parser and one threading (docs/architecture.md §8):
- SendGrid Inbound Parse (``POST /communications/email/v1/reply``): ``accept_reply`` validates the post
  quickly (the form split by its boundary, the mail's headers only), claims its Message-ID, keeps the raw
  post in the inbound bucket and queues a pointer; ``process_parse`` (``InboundMailFunction``) parses it
  fully and stores it under the claimed id.
- SES receiving (receipt rule → S3 ``ses/`` → S3 event → SQS → ``InboundMailFunction``): ``receive_ses``
  resolves the tenant from the recipient's reply domain and token, honours SES's spam/virus verdicts and
  stores it the same way.

Parsing uses only the standard library: the form body (multipart/form-data, urlencoded, or a JSON
object with the same fields) and the raw MIME message (``email`` field, SendGrid's "raw" mode) or
SendGrid's pre-parsed fields (text/html/headers/attachment-info, its default mode).

Threading, first match wins:
1. a reply address ``reply+<conversationId>@<domain>`` among the recipients (envelope, To, Cc): the
   conversation must be the caller's; its latest outbound message is the parent;
2. In-Reply-To, then References (newest first): an SES Message-ID ``<MessageId@…amazonses.com>`` via the
   provider-id lookup; any other id via the Message-ID lookup written for inbound messages;
3. none: a new conversation, filed under the candidate owning the sender's address.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from email.utils import getaddresses
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from parley import clock
from parley.dal import bodies, inbound_mail, messages, threads
from parley.domain import candidates
from parley.domain.context import Caller
from parley.domain.ids import new_id
from parley.domain.rendering import html_to_text
from parley.errors import BadRequest
from parley.models.domain import Message, MessageStatus
from parley.models.inbound import Address, AttachmentInfo, InboundEmail, ParsePointer

PROVIDER = "sendgrid-inbound"
SES_PROVIDER = "ses-inbound"
REQUIRED = ("to", "from", "envelope", "subject", "charsets")
MAX_REFERENCES = 20  # References ids looked up (newest first); long threads repeat older ids
MAX_ATTACHMENTS = 100  # metadata entries kept on the message

_TOKEN = re.compile(r"^reply\+([A-Za-z0-9][A-Za-z0-9._=-]{0,127})@[^@\s]+$", re.I)
_MSGID = re.compile(r"<([^<>\s]+)>")


# ── the form body ──


@dataclass(frozen=True)
class FormPart:
    name: str  # lower-cased field name
    data: bytes
    filename: str | None = None
    content_type: str = "text/plain"
    charset: str | None = None  # the part's own charset parameter, if any


def parse_form(content_type: str | None, body: bytes, *, quick: bool = False) -> list[FormPart]:
    """The fields of a multipart/form-data, urlencoded or JSON body, as raw bytes (decoded later, per ``charsets``).

    ``quick``: a multipart body is split at its boundary lines (``bytes.find``, no MIME parse of the
    parts' content), for answering a large post at once; the full parse runs later, asynchronously."""
    if not body:
        raise BadRequest("request body is required")
    mtype = (content_type or "").split(";")[0].strip().lower()
    if mtype == "multipart/form-data":
        return _multipart_split(content_type or "", body) if quick else _multipart(content_type or "", body)
    if mtype == "application/x-www-form-urlencoded":
        return _urlencoded(body)
    if mtype == "application/json" or (mtype.startswith("application/") and mtype.endswith("+json")):
        return _json_fields(body)
    raise BadRequest("Content-Type must be multipart/form-data (or application/x-www-form-urlencoded)")


def _multipart(content_type: str, body: bytes) -> list[FormPart]:
    if not re.search(r"boundary=", content_type, re.I):
        raise BadRequest("multipart/form-data Content-Type has no boundary")
    try:
        header = content_type.encode("ascii")
    except UnicodeEncodeError as err:
        raise BadRequest("Content-Type header is not ASCII") from err
    if b"\r" in header or b"\n" in header:
        raise BadRequest("invalid Content-Type header")
    form = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + header + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    broken = ("StartBoundaryNotFoundDefect", "CloseBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect")
    if not form.is_multipart() or any(type(d).__name__ in broken for d in form.defects):
        raise BadRequest("request body is not valid multipart/form-data (boundary not found)")
    parts: list[FormPart] = []
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue  # a part that is not a form field
        data = part.get_payload(decode=True)
        if data is None:  # the parser read it as a nested message/multipart: take its bytes back
            data = b"".join(p.as_bytes(policy=policy.HTTP) for p in part.iter_parts()) if part.is_multipart() else b""
        parts.append(
            FormPart(
                name=name.lower(),
                data=data,
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                charset=part.get_param("charset"),
            )
        )
    return parts


_NOT_FOUND = "request body is not valid multipart/form-data (boundary not found)"


def _multipart_split(content_type: str, body: bytes) -> list[FormPart]:
    """multipart/form-data split at ``--<boundary>`` lines: each part's headers parsed, its bytes taken as they are."""
    if not re.search(r"boundary=", content_type, re.I):
        raise BadRequest("multipart/form-data Content-Type has no boundary")
    if "\r" in content_type or "\n" in content_type:
        raise BadRequest("invalid Content-Type header")
    ctype = policy.HTTP.header_factory("content-type", content_type)
    boundary = ctype.params.get("boundary") if hasattr(ctype, "params") else None
    if not boundary:
        raise BadRequest("multipart/form-data Content-Type has no boundary")
    try:
        delim = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError as err:
        raise BadRequest("Content-Type header is not ASCII") from err
    pos = body.find(delim)
    if pos < 0 or (pos > 0 and body[pos - 1 : pos] != b"\n"):
        raise BadRequest(_NOT_FOUND)
    parts: list[FormPart] = []
    while True:
        pos += len(delim)
        if body[pos : pos + 2] == b"--":
            return parts
        eol = body.find(b"\n", pos)
        if eol < 0:
            raise BadRequest(_NOT_FOUND)
        start = eol + 1
        nxt = body.find(b"\n" + delim, start)
        if nxt < 0:
            raise BadRequest(_NOT_FOUND)
        end = nxt - 1 if body[nxt - 1 : nxt] == b"\r" else nxt
        part = _split_part(body[start : max(start, end)])
        if part is not None:
            parts.append(part)
        pos = nxt + 1


def _split_part(raw: bytes) -> FormPart | None:
    cut = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if raw.startswith((b"\r\n", b"\n")):  # no headers at all
        return None
    if not cut:
        head, data = raw, b""
    else:
        i = min(cut)
        head, data = raw[:i], raw[i + (4 if raw[i : i + 4] == b"\r\n\r\n" else 2) :]
    part = BytesParser(policy=policy.HTTP).parsebytes(head + b"\r\n\r\n", headersonly=True)
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        return None
    if (part.get("content-transfer-encoding") or "").strip().lower() in ("base64", "quoted-printable"):
        data = BytesParser(policy=policy.HTTP).parsebytes(head + b"\r\n\r\n" + data).get_payload(decode=True) or b""
    return FormPart(
        name=name.lower(), data=data, filename=part.get_filename(), content_type=part.get_content_type(), charset=part.get_param("charset")
    )


def _urlencoded(body: bytes) -> list[FormPart]:
    # latin-1 maps every byte to one code point, so the percent-decoded bytes come back exactly.
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, strict_parsing=False, encoding="latin-1", max_num_fields=1000)
    except ValueError as err:
        raise BadRequest(f"request body is not valid form data: {err}") from err
    return [FormPart(name=k.lower(), data=v.encode("latin-1")) for k, v in pairs]


def _json_fields(body: bytes) -> list[FormPart]:
    try:
        data = json.loads(body)
    except ValueError as err:
        raise BadRequest("request body is not valid JSON") from err
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    parts = []
    for key, value in data.items():
        if isinstance(value, (dict, list)) and key.lower() in ("envelope", "charsets", "attachment-info"):
            value = json.dumps(value)
        if not isinstance(value, str):
            raise BadRequest(f"{key} must be a string")
        parts.append(FormPart(name=key.lower(), data=value.encode("utf-8"), charset="utf-8"))
    return parts


def _charset_ok(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def _decode(part: FormPart, charsets: dict[str, str]) -> str:
    charset = _charset_ok(charsets.get(part.name)) or _charset_ok(part.charset) or "utf-8"
    return part.data.decode(charset, errors="replace")


def _json_object(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise BadRequest(f"{name} is not valid JSON") from err
    if not isinstance(value, dict):
        raise BadRequest(f"{name} must be a JSON object")
    return value


# ── addresses and ids ──


def parse_addresses(value: str) -> list[Address]:
    """``'A <a@x>, b@y'`` → addresses with an ``@`` (RFC 2047 display names decoded)."""
    if not value or not value.strip():
        return []
    try:
        parsed = policy.default.header_factory("to", value.replace("\r", " ").replace("\n", " "))
        found = [(a.display_name, a.addr_spec) for a in parsed.addresses]
    except Exception:
        found = getaddresses([value])
    return [Address(name=name or "", address=addr.strip()) for name, addr in found if addr and "@" in addr and not addr.startswith("<")]


def message_ids(value: str | None) -> list[str]:
    """The ``<…>`` ids in a Message-ID / In-Reply-To / References header, in order, without repeats."""
    if not value:
        return []
    ids = [f"<{m}>" for m in _MSGID.findall(str(value))]
    if not ids:  # some clients drop the angle brackets
        ids = [f"<{t.strip('<>,;')}>" for t in str(value).split() if "@" in t]
    return list(dict.fromkeys(ids))


def reply_token(address: str) -> str | None:
    """``reply+<token>@domain`` → the token (a conversation id); None for any other address."""
    m = _TOKEN.match(address.strip())
    return m.group(1) if m else None


# ── the MIME message ──


@dataclass
class ParsedMime:
    subject: str = ""
    text: str | None = None
    html: str | None = None
    message_id: str | None = None
    in_reply_to: list[str] | None = None
    references: list[str] | None = None
    attachments: list[AttachmentInfo] | None = None
    from_header: str = ""


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, ValueError):
        pass
    raw = part.get_payload(decode=True) or b""
    charset = _charset_ok(part.get_content_charset()) or "utf-8"
    return raw.decode(charset, errors="replace")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return str(value) if value is not None else ""


def _attachments(msg: EmailMessage, bodies_: tuple[Any, ...]) -> list[AttachmentInfo]:
    found: list[AttachmentInfo] = []

    def walk(part: EmailMessage) -> None:
        if len(found) >= MAX_ATTACHMENTS:
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":  # an attached email counts as one attachment
            size = sum(len(p.as_bytes()) for p in part.iter_parts()) if part.is_multipart() else len(part.get_payload(decode=True) or b"")
            found.append(AttachmentInfo(filename=part.get_filename() or "", contentType=ctype, size=size))
            return
        if part.is_multipart():
            for sub in part.iter_parts():
                walk(sub)
            return
        if any(part is b for b in bodies_):
            return
        disposition = part.get_content_disposition()
        if disposition == "attachment" or part.get_filename() or part.get_content_maintype() != "text":
            payload = part.get_payload(decode=True) or b""
            found.append(AttachmentInfo(filename=part.get_filename() or "", contentType=ctype, size=len(payload)))

    walk(msg)
    return found


def parse_mime(raw: bytes) -> ParsedMime:
    """Bodies (decoded with each part's charset), threading headers and attachment metadata of a raw email."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not list(msg.keys()):
        raise BadRequest("email is not a MIME message (no headers)")
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    return ParsedMime(
        subject=_header(msg, "Subject"),
        text=_text_of(text_part) if text_part is not None else None,
        html=_text_of(html_part) if html_part is not None else None,
        message_id=(message_ids(_header(msg, "Message-ID")) or [None])[0],
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        attachments=_attachments(msg, (text_part, html_part)),
        from_header=_header(msg, "From"),
    )


def _head(raw: bytes) -> bytes:
    """The header block of a raw email (up to its first empty line)."""
    cut = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(cut)] + b"\r\n\r\n" if cut else raw


def parse_mime_headers(raw: bytes) -> ParsedMime:
    """What ``parse_mime`` reads from the headers alone (no bodies, no attachments): cheap on a large email."""
    msg = BytesParser(policy=policy.default).parsebytes(_head(raw), headersonly=True)
    if not list(msg.keys()):
        raise BadRequest("email is not a MIME message (no headers)")
    return ParsedMime(
        subject=_header(msg, "Subject"),
        message_id=(message_ids(_header(msg, "Message-ID")) or [None])[0],
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        from_header=_header(msg, "From"),
    )


def _parsed_mode(fields: dict[str, str], parts: list[FormPart]) -> ParsedMime:
    """SendGrid's default (non-raw) mode: text, html, headers and attachment-info come as fields."""
    headers = Parser(policy=policy.default).parsestr((fields.get("headers") or "").strip() + "\n\n", headersonly=True)
    info = _json_object("attachment-info", fields["attachment-info"]) if fields.get("attachment-info") else {}
    files = {p.name: p for p in parts if p.filename is not None and re.fullmatch(r"attachment\d+", p.name)}
    attachments = []
    for name in sorted(set(files) | set(info), key=lambda n: (len(n), n))[:MAX_ATTACHMENTS]:
        meta = info.get(name) if isinstance(info.get(name), dict) else {}
        part = files.get(name)
        attachments.append(
            AttachmentInfo(
                filename=str(meta.get("filename") or (part.filename if part else "") or ""),
                contentType=str(meta.get("type") or (part.content_type if part else "") or "application/octet-stream"),
                size=len(part.data) if part else 0,
            )
        )
    return ParsedMime(
        subject=_header(headers, "Subject"),
        text=fields.get("text"),
        html=fields.get("html"),
        message_id=(message_ids(_header(headers, "Message-ID")) or [None])[0],
        in_reply_to=message_ids(_header(headers, "In-Reply-To")),
        references=message_ids(_header(headers, "References")),
        attachments=attachments,
        from_header=_header(headers, "From"),
    )


def parse_request(content_type: str | None, body: bytes, *, quick: bool = False) -> InboundEmail:
    """The whole request, validated: raises BadRequest naming the problem (nothing is stored before this).

    ``quick``: the same fields and validation, but a raw ``email`` is read for its headers only (no
    bodies, no attachments) and a multipart body is split rather than parsed (``parse_form``)."""
    parts = parse_form(content_type, body, quick=quick)
    first: dict[str, FormPart] = {}
    for part in parts:
        first.setdefault(part.name, part)
    charsets_part = first.get("charsets")
    charsets: dict[str, str] = {}
    if charsets_part is not None:
        raw = _json_object("charsets", charsets_part.data.decode("utf-8", errors="replace"))
        if not all(isinstance(v, str) for v in raw.values()):
            raise BadRequest("charsets must map field names to charset names")
        charsets = {k.lower(): v for k, v in raw.items()}
    raw_mode = "email" in first
    missing = [f for f in REQUIRED if f not in first]
    if not raw_mode and "text" not in first and "html" not in first:
        missing.append("email")
    if missing:
        raise BadRequest(f"missing required field(s): {', '.join(missing)}")
    fields = {name: _decode(part, charsets) for name, part in first.items() if part.filename is None and name != "email"}

    envelope = _json_object("envelope", fields["envelope"])
    env_to = envelope.get("to", [])
    if isinstance(env_to, str):
        env_to = [env_to]
    if not isinstance(env_to, list) or not all(isinstance(a, str) for a in env_to):
        raise BadRequest("envelope.to must be a list of addresses")
    env_from = envelope.get("from") or ""
    if not isinstance(env_from, str):
        raise BadRequest("envelope.from must be an address")

    if raw_mode:
        raw_email = first["email"].data
        if not raw_email.strip():
            raise BadRequest("email must not be empty")
        mime = parse_mime_headers(raw_email) if quick else parse_mime(raw_email)
        fingerprint_src = raw_email
    else:
        mime = _parsed_mode(fields, parts)
        keyed = ("headers", "from", "to", "subject", "text", "html")
        fingerprint_src = "\0".join(fields.get(k, "") for k in keyed).encode("utf-8", "replace")

    sender = (parse_addresses(fields["from"]) or parse_addresses(mime.from_header) or [None])[0]
    if sender is None:
        if env_from and "@" in env_from:
            sender = Address(address=env_from.strip())
        else:
            raise BadRequest("from must contain an email address")
    return InboundEmail(
        sender=sender,
        to=parse_addresses(fields["to"]),
        cc=parse_addresses(fields.get("cc", "")),
        envelope_to=[a.strip() for a in env_to if a.strip()],
        envelope_from=env_from.strip(),
        subject=fields["subject"] or mime.subject,
        text=mime.text,
        html=mime.html,
        message_id=mime.message_id,
        in_reply_to=mime.in_reply_to or [],
        references=mime.references or [],
        attachments=mime.attachments or [],
        sender_ip=fields.get("sender_ip", ""),
        spf=fields.get("spf", ""),
        dkim=fields.get("dkim", ""),
        spam_score=fields.get("spam_score", ""),
        fingerprint=hashlib.sha256(fingerprint_src).hexdigest(),
    )


# ── threading and storing ──


@dataclass(frozen=True)
class Thread:
    parent: Message | None
    via: str  # token | in-reply-to | references | none
    recipient: str | None = None  # the reply address that named the conversation


def find_parent(tenant_id: str, inbound: InboundEmail, *, exclude: str | None = None) -> Thread:
    """What this email answers, among the tenant's own messages only (a foreign token or id finds nothing)."""
    for address in inbound.recipients():
        token = reply_token(address)
        if token:
            parent = threads.conversation_parent(tenant_id, token)
            if parent is not None:
                return Thread(parent, "token", address)
    candidates_ = [("in-reply-to", mid) for mid in inbound.in_reply_to]
    candidates_ += [("references", mid) for mid in list(reversed(inbound.references))[:MAX_REFERENCES]]
    for via, mid in candidates_:
        found = _message_for(tenant_id, mid)
        if found and found != exclude:
            parent = messages.get(tenant_id, found, load_body=False)
            if parent is not None:
                return Thread(parent, via)
    return Thread(None, "none")


def _message_for(tenant_id: str, message_id: str) -> str | None:
    norm = threads.normalise_message_id(message_id)
    local, _, domain = norm.rpartition("@")
    domain = domain.lower()
    if local and (domain == "amazonses.com" or domain.endswith(".amazonses.com")):
        found = messages.find_by_provider_id(tenant_id, "ses", local)
        if found:
            return found
    return threads.find_by_message_id(tenant_id, norm)


def _body_text(inbound: InboundEmail) -> str | None:
    if inbound.text is not None:
        # When the body is the text itself, a copy too large to sit in the item is left out (body has it).
        return inbound.text if len(inbound.text.encode()) <= bodies.INLINE_LIMIT else None
    if inbound.html:
        text = html_to_text(inbound.html)
        return text if len(text.encode()) <= bodies.INLINE_LIMIT else None
    return None


def _ref(inbound: InboundEmail) -> str:
    """The dedupe key of a received email: its Message-ID, else a hash of its raw content."""
    return inbound.message_id or f"sha256:{inbound.fingerprint}"


def accept_reply(caller: Caller, *, content_type: str | None, body: bytes) -> str:
    """POST /communications/email/v1/reply: validate, claim, keep the raw post, queue it; returns its MessageSid.

    Answers at once whatever the attachments weigh: the post is validated from its form fields and the
    mail's headers (``parse_request(quick=True)``), its Message-ID (or content hash) is claimed for a new
    message id, the raw post goes to the inbound bucket and a pointer to the inbound queue;
    ``process_parse`` stores the message under that id. A retried post returns the same MessageSid and,
    once the message is stored, queues nothing more.
    """
    inbound = parse_request(content_type, body, quick=True)
    tenant_id = caller.tenant_id
    ref = _ref(inbound)
    message_id = threads.claim_ref(tenant_id, ref, new_id())
    if messages.get(tenant_id, message_id, load_body=False) is not None:
        return message_id  # a replay of a post already stored
    # Claimed now, or by an earlier post not stored yet: (re)queue it under that id (the consumer stores it once).
    key = inbound_mail.parse_key(tenant_id, message_id)
    inbound_mail.put_raw(key, body)
    pointer = ParsePointer(tenant_id=tenant_id, message_id=message_id, ref=ref, key=key, content_type=content_type or "")
    inbound_mail.enqueue(pointer.model_dump_json())
    return message_id


def process_parse(pointer: ParsePointer) -> str:
    """The queued half of ``accept_reply``: parse the kept post fully and store the message once.

    Returns ``stored``, ``duplicate`` (already stored: a redelivery or a retried post) or ``invalid``
    (the full parse refused what the quick one let through: recorded, not retried)."""
    tenant_id, message_id = pointer.tenant_id, pointer.message_id
    if messages.get(tenant_id, message_id, load_body=False) is not None:
        return "duplicate"
    raw = inbound_mail.get_raw(pointer.key)
    try:
        inbound = parse_request(pointer.content_type, raw)
    except BadRequest as err:
        inbound_mail.record_receipt(tenant_id, pointer.ref, "invalid", reason=str(err), object_key=pointer.key, message_id=message_id)
        return "invalid"
    store_reply(tenant_id, message_id, inbound, provider=PROVIDER, raw_ref=inbound_mail.uri(pointer.key))
    return "stored"


def store_reply(
    tenant_id: str, message_id: str, inbound: InboundEmail, *, provider: str, raw_ref: str | None = None, thread: Thread | None = None
) -> bool:
    """Store ``inbound`` as the inbound message ``message_id`` (claimed for it), threaded; False if it exists already."""
    thread = thread or find_parent(tenant_id, inbound, exclude=message_id)
    parent = thread.parent
    candidate_id = (parent.candidate_id if parent else None) or candidates.resolve(tenant_id, email=inbound.sender.address)
    recipient = thread.recipient or (inbound.envelope_to or [a.address for a in inbound.to] or [""])[0]
    msg = Message(
        tenant_id=tenant_id,
        id=message_id,
        channel="email",
        direction="inbound",
        status=MessageStatus.RECEIVED,
        source_api="candidate",
        kind="reply",
        sender=inbound.sender.address,
        sender_name=inbound.sender.name,
        recipient=recipient,
        recipients=[a.address for a in inbound.to],
        cc=[a.address for a in inbound.cc],
        subject=inbound.subject,
        body=inbound.text if inbound.text is not None else (inbound.html or ""),
        body_text=_body_text(inbound),
        recruiter_id=parent.recruiter_id if parent else None,
        candidate_id=candidate_id,
        conversation_id=parent.conversation_id if parent else message_id,
        # The CRM's view: the record it answers, and that record's entity (which files it in GSI6).
        parent_id=parent.id if parent else None,
        related_entity_type=parent.related_entity_type if parent else None,
        related_entity_id=parent.related_entity_id if parent else None,
        provider=provider,
        internet_message_id=inbound.message_id,
        in_reply_to=inbound.in_reply_to[0] if inbound.in_reply_to else None,
        references=inbound.references,
        attachments=[a.model_dump() for a in inbound.attachments],
        raw_ref=raw_ref,
        created_at=clock.now(),
    )
    return threads.create_if_absent(msg)


# ── SES receiving ──

_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^<>\s;]+@[^<>\s;]+)>?", re.I)
SES_PREFIX = "ses/"


def _verdicts(msg: EmailMessage) -> tuple[str, str]:
    """SES's spam and virus verdicts (headers it adds when the rule scans): FAIL wins over any other copy."""

    def one(name: str) -> str:
        values = [str(v).strip().upper() for v in (msg.get_all(name) or [])]
        return "FAIL" if "FAIL" in values else (values[0] if values else "")

    return one("X-SES-Spam-Verdict"), one("X-SES-Virus-Verdict")


def ses_envelope_recipients(msg: EmailMessage) -> list[str]:
    """The SMTP recipient SES names in the Received header it adds on top (``… for <rcpt>;``)."""
    received = msg.get_all("Received") or []
    if not received:
        return []
    m = _RECEIVED_FOR.search(str(received[0]))
    return [m.group(1)] if m else []


def _tenant_thread(inbound: InboundEmail) -> tuple[str | None, Thread, list[str]]:
    """Which tenant this mail is for, and what it answers: only tenants whose reply domain a recipient
    uses are asked, and only their own conversations and Message-IDs are looked up (a foreign token or id
    finds nothing). Returns (tenant, thread, the tenants of the recipients' domains)."""
    owners: list[str] = []
    for address in inbound.recipients():
        domain = address.rpartition("@")[2]
        for tenant_id in inbound_mail.tenants_for_domain(domain):
            if tenant_id not in owners:
                owners.append(tenant_id)
    for tenant_id in owners:
        thread = find_parent(tenant_id, inbound)
        if thread.parent is not None and thread.parent.tenant_id == tenant_id:
            return tenant_id, thread, owners
    return None, Thread(None, "none"), owners


def receive_ses(bucket: str, key: str) -> str:
    """One mail SES received and wrote to ``bucket``/``key`` → stored once as a reply, or refused.

    Returns ``stored``, ``duplicate``, ``rejected`` (a spam or virus verdict FAIL: recorded, not
    threaded), ``invalid`` (not a MIME message: dropped), ``unmatched`` (no conversation of the domain's
    tenant: recorded when the domain has one tenant) or ``unknown_domain`` (no tenant receives mail for any
    recipient: dropped)."""
    raw = inbound_mail.get_raw(key, bucket)
    head = BytesParser(policy=policy.default).parsebytes(_head(raw), headersonly=True)
    try:
        quick = parse_mime_headers(raw)
    except BadRequest:
        return "invalid"  # not a mail: no tenant can be told, nothing to retry
    sender = (parse_addresses(quick.from_header) or [None])[0]
    if sender is None:
        sender = Address(address=str(head.get("Return-Path") or "").strip("<> ") or "unknown@invalid")
    envelope_to = ses_envelope_recipients(head)
    fingerprint = hashlib.sha256(raw).hexdigest()
    inbound = InboundEmail(
        sender=sender,
        to=parse_addresses(_header(head, "To")),
        cc=parse_addresses(_header(head, "Cc")),
        envelope_to=envelope_to,
        subject=quick.subject,
        message_id=quick.message_id,
        in_reply_to=quick.in_reply_to or [],
        references=quick.references or [],
        fingerprint=fingerprint,
    )
    tenant_id, thread, owners = _tenant_thread(inbound)
    ref = _ref(inbound)
    spam, virus = _verdicts(head)
    details = {"object_key": key, "bucket": bucket, "sender": sender.address, "spam_verdict": spam, "virus_verdict": virus}
    if tenant_id is None:
        if len(owners) == 1:
            outcome = "rejected" if "FAIL" in (spam, virus) else "unmatched"
            inbound_mail.record_receipt(owners[0], ref, outcome, **details)
            return outcome
        return "unknown_domain" if not owners else "unmatched"
    if "FAIL" in (spam, virus):
        inbound_mail.record_receipt(tenant_id, ref, "rejected", **details)
        return "rejected"
    message_id = threads.claim_ref(tenant_id, ref, new_id())
    if messages.get(tenant_id, message_id, load_body=False) is not None:
        return "duplicate"
    mime = parse_mime(raw)
    full = inbound.model_copy(
        update={"text": mime.text, "html": mime.html, "attachments": mime.attachments or [], "subject": mime.subject or inbound.subject}
    )
    stored = store_reply(tenant_id, message_id, full, provider=SES_PROVIDER, raw_ref=inbound_mail.uri(key, bucket), thread=thread)
    return "stored" if stored else "duplicate"


# ── the inbound queue ──


def receive_queued(body: str) -> list[str]:
    """One inbound-queue message → the outcome of each mail it names.

    Either a ``ParsePointer`` (an Inbound Parse post kept by ``accept_reply``) or an S3 event notification
    of the inbound bucket (SES receiving wrote ``ses/…``; S3's ``s3:TestEvent`` when the notification is
    configured is acknowledged). An object of another bucket or prefix is ignored (``ignored``)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ["ignored"]
    if not isinstance(data, dict):
        return ["ignored"]
    if data.get("kind") == "inbound-parse":
        return [process_parse(ParsePointer.model_validate(data))]
    if data.get("Event") == "s3:TestEvent":
        return ["test"]
    out = []
    for record in data.get("Records") or []:
        s3 = (record or {}).get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name") or ""
        key = unquote_plus((s3.get("object") or {}).get("key") or "")
        created = str((record or {}).get("eventName") or "").startswith("ObjectCreated")
        if not created or not inbound_mail.is_inbound_bucket(bucket) or not key.startswith(SES_PREFIX):
            out.append("ignored")
            continue
        out.append(receive_ses(bucket, key))
    return out
