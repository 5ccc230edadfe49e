"""Directory events (issue 15): the care platform puts one EventBridge event per directory change on the stack's
directory bus; a rule sends them to ``DirectoryEventsQueue`` and ``DirectoryEventsFunction`` applies each through
``directory.apply`` — the same ordered write as ``import-directory`` and the replicators (docs/courier.md
"Directory events").

An event (what ``PutEvents`` takes; the queue's message body is EventBridge's envelope of it)::

    Source: parley.directory
    DetailType: upsert | delete
    Detail: {"tenant-id": "<an existing tenant>", "entity": <one import-directory line, as a JSON object>}

``delete`` is the line with ``"deleted": true`` (either spelling works; an ``upsert`` whose entity says deleted is
refused as contradictory). A malformed event or an unknown tenant is a ``BadRequest``: the consumer reports it failed,
SQS retries it, and after the queue's ``maxReceiveCount`` it lands in the DLQ with its reason noted.
"""

from __future__ import annotations

import json
from typing import Any

from parley.dal import tenants
from parley.domain import directory
from parley.errors import BadRequest

SOURCE = "parley.directory"
UPSERT, DELETE = "upsert", "delete"
DETAIL_TYPES = (UPSERT, DELETE)
MAX_BODY = 262_144  # SQS's (and EventBridge's) message size limit


def parse(body: str) -> tuple[str, directory.Change]:
    """An SQS message body (EventBridge's envelope) → ``(tenant id, change)``; ``BadRequest`` naming what is wrong."""
    if len(body) > MAX_BODY:
        raise BadRequest(f"event longer than {MAX_BODY} characters")
    try:
        event = json.loads(body)
    except ValueError:
        raise BadRequest("the message is not JSON") from None
    if not isinstance(event, dict):
        raise BadRequest("the message is not an EventBridge event (a JSON object)")
    if event.get("source") != SOURCE:
        raise BadRequest(f"source: must be {SOURCE!r}")
    kind = event.get("detail-type")
    if kind not in DETAIL_TYPES:
        raise BadRequest(f"detail-type: must be one of {', '.join(DETAIL_TYPES)}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise BadRequest("detail: must be a JSON object")
    unknown = sorted(set(detail) - {"tenant-id", "entity"})
    if unknown:
        raise BadRequest(f"detail: unknown member(s) {', '.join(unknown)}")
    tenant_id = detail.get("tenant-id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise BadRequest("detail/tenant-id: required, a tenant's id")
    entity = detail.get("entity")
    if isinstance(entity, dict) and kind == DELETE:
        entity = {**entity, "deleted": True}
    change = directory.parse_record(entity)
    if kind == UPSERT and change.deleted:
        raise BadRequest('detail/entity: "deleted": true in an upsert event (send a delete)')
    return tenant_id, change


def apply(body: str) -> dict[str, Any]:
    """Parse and apply one event: what happened, for the log (``written`` False: the stored entity was as new)."""
    tenant_id, change = parse(body)
    if tenants.cached(tenant_id) is None:
        raise BadRequest(f"detail/tenant-id: no tenant {tenant_id!r}")
    written = directory.apply(tenant_id, change)
    return {
        "tenant_id": tenant_id,
        "entity_type": change.entity_type,
        "entity_id": change.entity_id,
        "sync_time": change.sync_time,
        "op": DELETE if change.deleted else UPSERT,
        "written": written,
    }
