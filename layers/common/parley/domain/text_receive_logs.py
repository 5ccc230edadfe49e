"""The inbound-SMS receive logs as answered (``GET /v1/text-receive-logs/{id}/``): one GetItem, kept apart from
``text_inbound`` so that the read route imports only what it needs (cold start)."""

from __future__ import annotations

from parley.dal import texts as store
from parley.errors import NotFound
from parley.models.texts import ReceiveLogAttributes


def get(tenant_id: str, sid: str) -> tuple[str, ReceiveLogAttributes]:
    stored = store.get_log(tenant_id, sid)
    if stored is None:
        raise NotFound(f"no text-receive-log {sid!r}", code="not-found")
    return sid, ReceiveLogAttributes(
        created_at=stored["created_at"], message=stored.get("message", ""), sender=stored["sender"], sid=sid, to=stored["to"]
    )
