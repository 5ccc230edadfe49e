"""Live updates (docs/courier.md "Live updates"): the WebSocket API's connections, and the hook of
``parley.domain.channel_events`` that posts each channel event to every open connection of every member.

``connected(tenant, individual)`` tells whether an individual has an open connection now (the offline pushes,
``parley.domain.channel_push``, skip those who have).
"""

from __future__ import annotations

import time

from parley import clock
from parley.dal import live as store


def connected(tenant_id: str, individual_id: str) -> bool:
    """Whether the individual has at least one open WebSocket connection (its items exist and have not expired)."""
    return bool(store.connections(tenant_id, individual_id, now_epoch=int(time.time()), limit=1))


def connect(tenant_id: str, individual_id: str, connection_id: str, *, user_id: str | None = None) -> None:
    """Keep a new connection (``$connect``, after the caller was authorized and the individual checked)."""
    store.put(tenant_id, individual_id, connection_id, connected_at=clock.iso(clock.now()), now_epoch=int(time.time()), user_id=user_id)


def disconnect(connection_id: str) -> bool:
    """Forget a connection (``$disconnect``, or a post that found it gone); False when it was not known."""
    pointer = store.pointer(connection_id)
    if pointer is None:
        return False
    store.delete(pointer["tenant_id"], pointer["individual_id"], connection_id)
    return True
