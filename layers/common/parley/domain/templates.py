"""The CRM's email templates: validation, storage rules and sandboxed rendering.

A template is a name, a one-line subject, an HTML body and/or a text body, and an optional ``type``.
Its subject and bodies may hold placeholders ``{{name}}`` (whitespace inside the braces allowed):
a name is ``[A-Za-z_][A-Za-z0-9_]*``, optionally dotted (``{{candidate.firstName}}``) to reach into
nested objects of the variables. Every ``{{`` opens a placeholder; a malformed one is refused when the
template is saved, so a stored template always renders or names what is missing.

Rendering is a plain substitution, nothing more: each placeholder is replaced by its value looked up
in the variables (dotted paths only through JSON objects), in one pass, so a value containing
``{{x}}`` stays literal text. No eval, no ``str.format``, no attribute access, no template language.
Values are HTML-escaped in the HTML body, inserted as they are in the text body, and refused in the
subject when they hold a line break or other control character (header injection).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from parley import clock
from parley.dal import templates as store
from parley.domain import ids
from parley.errors import BadRequest, NotFound
from parley.models.crm import MAX_BODY, EmailTemplate, EmailTemplateSummary, TemplateRequest

MAX_TEMPLATES = 500  # per tenant
MAX_PLACEHOLDERS = 200  # distinct names per template (a send takes at most 200 variables)
MAX_PLACEHOLDER_NAME = 128  # characters, as a send's variable names
MAX_STORED_BYTES = 320 * 1024  # UTF-8 bytes of bodyHtml + bodyText: the item must stay under DynamoDB's 400 KB
MAX_SUBJECT = 998  # characters of a rendered subject (RFC 5322 line length)
MAX_ID = 128  # longer ids are unknown without a read (and would not fit a key)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_MISSING = object()


@dataclass(frozen=True)
class RenderedTemplate:
    """A template rendered with a send's variables: what the send stores and delivers."""

    template_id: str
    template_name: str
    category: str | None  # the template's CRM ``type``
    subject: str
    html: str | None
    text: str | None


@dataclass(frozen=True)
class _Slot:
    start: int
    end: int
    name: str


# ───────────── placeholders ─────────────
def _where(field: str, text: str, at: int) -> str:
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    return f"{field} (line {line}, character {column})"


def _slots(field: str, text: str) -> list[_Slot]:
    """The placeholders of ``text`` in order; BadRequest naming the first malformed one."""
    slots: list[_Slot] = []
    pos = 0
    while (start := text.find("{{", pos)) != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            raise BadRequest(f"unclosed placeholder '{{{{' in {_where(field, text, start)}")
        name = text[start + 2 : end].strip()
        if not name:
            raise BadRequest(f"empty placeholder '{{{{}}}}' in {_where(field, text, start)}")
        if not _NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise BadRequest(
                f"invalid placeholder '{{{{{shown}}}}}' in {_where(field, text, start)}: a placeholder name is letters, digits "
                "and '_', not starting with a digit, with '.' between the parts of a nested name"
            )
        if len(name) > MAX_PLACEHOLDER_NAME:
            raise BadRequest(f"placeholder name longer than {MAX_PLACEHOLDER_NAME} characters in {_where(field, text, start)}")
        slots.append(_Slot(start, end + 2, name))
        pos = end + 2
    return slots


def _parts(subject: str, body_html: str | None, body_text: str | None) -> list[tuple[str, str]]:
    return [(f, t) for f, t in (("subject", subject), ("bodyHtml", body_html), ("bodyText", body_text)) if t is not None]


def placeholders(subject: str, body_html: str | None, body_text: str | None) -> list[str]:
    """The sorted placeholder names a template uses; BadRequest for malformed syntax or too many names."""
    names = sorted({slot.name for field, text in _parts(subject, body_html, body_text) for slot in _slots(field, text)})
    if len(names) > MAX_PLACEHOLDERS:
        raise BadRequest(f"a template uses at most {MAX_PLACEHOLDERS} distinct placeholders (this one uses {len(names)})")
    return names


# ───────────── rendering ─────────────
def _lookup(variables: dict[str, Any], name: str) -> Any:
    # An exact key wins: clients that flatten nested names ({"candidate.firstName": …}) work too.
    if name in variables:
        return variables[name]
    node: Any = variables
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _as_text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as the JSON the caller sent, not Python's True
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise BadRequest(f"template variable '{name}' is not a finite number")
        return str(value)
    kind = "a list" if isinstance(value, list | tuple) else "an object" if isinstance(value, dict) else type(value).__name__
    raise BadRequest(f"template variable '{name}' must be a string, number, boolean or null, not {kind}")


def _header_safe(name: str, value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise BadRequest(f"template variable '{name}' cannot be used in the subject: it contains a line break or control character")
    return value


def _fill(field: str, text: str, slots: list[_Slot], values: dict[str, str], limit: int) -> str:
    """``text`` with each slot replaced by its value: one pass over the template, never over a value."""
    out: list[str] = []
    size, pos = 0, 0
    for slot in slots:
        for piece in (text[pos : slot.start], values[slot.name]):
            out.append(piece)
            size += len(piece)
        pos = slot.end
        if size > limit:
            break
    out.append(text[pos:])
    size += len(text) - pos
    if size > limit:
        raise BadRequest(f"the rendered {field} is longer than {limit} characters")
    return "".join(out)


def render(template: EmailTemplate, variables: dict[str, Any]) -> RenderedTemplate:
    """Render ``template`` with ``variables``; BadRequest naming every missing variable, or a value
    that cannot be used (a list or object, a control character in the subject, a result too long)."""
    parsed = [(field, text, _slots(field, text)) for field, text in _parts(template.subject, template.bodyHtml, template.bodyText)]
    used = {slot.name for _, _, slots in parsed for slot in slots}
    raw = {name: _lookup(variables, name) for name in used}
    missing = sorted(name for name, value in raw.items() if value is _MISSING)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise BadRequest(f"missing template variable{plural}: {', '.join(missing)}")
    plain = {name: _as_text(name, raw[name]) for name in sorted(used)}
    encoders: dict[str, Callable[[str, str], str]] = {
        "subject": _header_safe,
        "bodyHtml": lambda _name, value: html.escape(value, quote=True),
        "bodyText": lambda _name, value: value,
    }
    rendered: dict[str, str] = {}
    for field, text, slots in parsed:
        encode = encoders[field]
        values = {name: encode(name, plain[name]) for name in {s.name for s in slots}}
        rendered[field] = _fill(field, text, slots, values, MAX_SUBJECT if field == "subject" else MAX_BODY)
    if not rendered["subject"].strip():
        raise BadRequest("the rendered subject is empty")
    return RenderedTemplate(
        template_id=template.id,
        template_name=template.name,
        category=template.type,
        subject=rendered["subject"],
        html=rendered.get("bodyHtml"),
        text=rendered.get("bodyText"),
    )


def render_for_send(tenant_id: str, template_id: str, variables: dict[str, Any]) -> RenderedTemplate:
    """The tenant's template ``template_id`` rendered with ``variables``. NotFound (404) for an unknown
    template of this tenant; BadRequest (400) naming a missing variable."""
    return render(get(tenant_id, template_id), variables)


# ───────────── storage ─────────────
def _template(item: dict[str, Any]) -> EmailTemplate:
    return EmailTemplate(
        **_summary_fields(item), bodyHtml=item.get("body_html"), bodyText=item.get("body_text"), variables=item.get("variables") or []
    )


def _summary(item: dict[str, Any]) -> EmailTemplateSummary:
    return EmailTemplateSummary(**_summary_fields(item))


def _summary_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A stored template's fields that its summary shows (all but the bodies and variables)."""
    return {
        "id": item["id"],
        "tenantId": item["tenant_id"],
        "name": item["name"],
        "subject": item["subject"],
        "type": item.get("category"),
        "created": clock.parse_iso(item["created_at"]),
        "createdBy": item.get("created_by"),
        "updated": clock.parse_iso(item["updated_at"]) if item.get("updated_at") else None,
        "updatedBy": item.get("updated_by"),
    }


def _fields(request: TemplateRequest) -> dict[str, Any]:
    """The stored fields of a create or full update, validated: a body, well-formed placeholders, a size
    that fits one item. An empty body counts as no body."""
    body_html, body_text = request.bodyHtml or None, request.bodyText or None
    if body_html is None and body_text is None:
        raise BadRequest("a template needs bodyHtml, bodyText or both")
    stored = sum(len(b.encode()) for b in (body_html, body_text) if b is not None)
    if stored > MAX_STORED_BYTES:
        raise BadRequest(f"bodyHtml and bodyText together must be at most {MAX_STORED_BYTES} bytes of UTF-8 (these are {stored})")
    return {
        "name": request.name,
        "subject": request.subject,
        "body_html": body_html,
        "body_text": body_text,
        "category": request.type,
        "variables": placeholders(request.subject, body_html, body_text),
    }


def _not_found(template_id: str) -> NotFound:
    return NotFound(f"template {template_id} not found")


def create(tenant_id: str, request: TemplateRequest, *, user_id: str | None) -> EmailTemplate:
    item = {
        "id": ids.new_id(),
        "tenant_id": tenant_id,
        **{k: v for k, v in _fields(request).items() if v is not None},
        "created_at": clock.iso(clock.now()),
        "created_by": user_id,
    }
    if not store.create(item, limit=MAX_TEMPLATES):
        raise BadRequest(f"a tenant has at most {MAX_TEMPLATES} templates: delete one before creating another")
    return _template(item)


def get(tenant_id: str, template_id: str) -> EmailTemplate:
    item = store.get(tenant_id, template_id) if 0 < len(template_id) <= MAX_ID else None
    if item is None:
        raise _not_found(template_id)
    return _template(item)


def list_all(tenant_id: str) -> list[EmailTemplateSummary]:
    """Every template of the tenant (at most MAX_TEMPLATES), by name (case-insensitive), then creation."""
    items = store.summaries(tenant_id)
    return [_summary(i) for i in sorted(items, key=lambda i: (i["name"].casefold(), i["name"], i["created_at"], i["id"]))]


def update(tenant_id: str, template_id: str, request: TemplateRequest, *, user_id: str | None) -> EmailTemplate:
    """Replace every field of the template (PUT): an omitted bodyHtml, bodyText or type is removed."""
    fields = _fields(request)  # a bad body is 400 even for an unknown id: nothing is read or written
    if not 0 < len(template_id) <= MAX_ID:
        raise _not_found(template_id)
    item = store.replace(tenant_id, template_id, {**fields, "updated_at": clock.iso(clock.now()), "updated_by": user_id})
    if item is None:
        raise _not_found(template_id)
    return _template(item)


def delete(tenant_id: str, template_id: str) -> None:
    """Delete the template. Records sent with it keep its id and name; sending it again is a 404."""
    if not (0 < len(template_id) <= MAX_ID and store.delete(tenant_id, template_id)):
        raise _not_found(template_id)
