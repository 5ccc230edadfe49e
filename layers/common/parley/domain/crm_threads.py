"""The CRM's conversation reads: one record's thread (GET /{id}/thread) and an entity's timeline (GET /by-entity).

Both are single key reads: a conversation is GSI3, an entity is GSI6 (sparse, either direction; a reply
joins it by copying its parent's related entity). Each reads at most ``MAX_ROWS`` messages, newest
first, and stops before the answer would pass ``RESPONSE_BUDGET`` bytes of JSON (a Lambda response
ends at 6 MB; bodies may be 256 KB each), so the oldest messages are the ones left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel

from parley.dal import messages, records
from parley.domain.crm_records import to_entity_row, to_inbound, to_record
from parley.errors import BadRequest, NotFound
from parley.models.crm import ConversationThread, EntityCommunication
from parley.models.domain import Message

MAX_ROWS = 1000  # messages read per thread or entity timeline
RESPONSE_BUDGET = 5 * 1024 * 1024  # bytes of JSON per answer (under Lambda's 6 MB response limit)
MAX_ENTITY_REF = 128  # as the send bodies accept relatedEntityType / relatedEntityId


def _within_budget[Row: BaseModel](newest_first: Iterable[Message], shape: Callable[[Message], Row]) -> list[tuple[Message, Row]]:
    """Shape messages (bodies loaded one by one) until the next would pass the budget."""
    out: list[tuple[Message, Row]] = []
    used = 0
    for msg in newest_first:
        row = shape(messages.load_body(msg))
        used += len(row.model_dump_json()) + 1
        if used > RESPONSE_BUDGET and out:
            break
        out.append((msg, row))
    return out


def thread(tenant_id: str, message_id: str) -> ConversationThread:
    """The conversation an email of the tenant belongs to: its outbound emails (as records, by send time)
    and its inbound replies (by receipt), each oldest first. Unknown, foreign or SMS ids: 404."""
    msg = messages.get(tenant_id, message_id, load_body=False)
    if msg is None or msg.channel != "email":
        raise NotFound(f"communication {message_id} not found")
    found = [m for m in records.conversation(tenant_id, msg.conversation_id, limit=MAX_ROWS) if m.channel == "email"]
    rows = _within_budget(found, lambda m: to_record(m) if m.direction == "outbound" else to_inbound(m))
    outbound = [(m, r) for m, r in rows if m.direction == "outbound"]
    inbound = [(m, r) for m, r in rows if m.direction == "inbound"]
    outbound.sort(key=lambda pair: (pair[0].sent_at or pair[0].created_at, pair[0].created_at, pair[0].id))
    inbound.sort(key=lambda pair: (pair[0].created_at, pair[0].id))
    return ConversationThread(inbound=[r for _, r in inbound], outbound=[r for _, r in outbound])


def _entity_ref(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise BadRequest(f"{name} is required")
    if len(value) > MAX_ENTITY_REF or "\r" in value or "\n" in value:
        raise BadRequest(f"{name} must be one line of at most {MAX_ENTITY_REF} characters")
    return value


def by_entity(tenant_id: str, entity_type: str | None, entity_id: str | None) -> list[EntityCommunication]:
    """Every email (either direction) linked to one CRM entity, newest first by its ``date`` (outbound:
    sent, else scheduled, else created; inbound: received). Nothing linked: an empty list."""
    entity_type = _entity_ref("entityType", entity_type)
    entity_id = _entity_ref("entityId", entity_id)
    found = [m for m in records.by_entity(tenant_id, entity_type, entity_id, limit=MAX_ROWS) if m.channel == "email"]
    rows = [row for _, row in _within_budget(found, to_entity_row)]
    rows.sort(key=lambda r: r.date, reverse=True)  # stable: equal dates keep creation order
    return rows
