"""Bulk messages (docs/courier.md "Messaging automation and scale", data-model §6.25): one message posted into one
direct channel per recipient, asynchronously (``bulk-post`` automation jobs)."""

from __future__ import annotations

from typing import Any

from parley.dal import bulk_messages as store
from parley.errors import NotFound


def require_bulk(tenant_id: str, bulk_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """The tenant's stored bulk message (``id``, ``draft``, ``created_by``, ``organization_id``, …); NotFound (404) for an
    unknown id or another tenant's (the same body)."""
    found = store.get(tenant_id, bulk_id, consistent=True) if bulk_id else None
    if not found:
        raise NotFound(f"no messaging-bulk-message {bulk_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    return found
