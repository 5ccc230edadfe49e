"""Live updates (docs/courier.md "Live updates"): the WebSocket API's connections, and the hook of
``parley.domain.channel_events`` that posts each channel event to every open connection of every member.

- ``open_connection`` (``$connect``): the credential (the REST API's: an API key or a user bearer token, checked by
  the shared authorizer's own code, ``parley.domain.auth.authorize``) and the individual the connection listens for
  (``individual-id``, the acting user's own or, omitted, the user's primary one; with an API key and no user, any
  individual of the tenant's directory) → the connection's two items (``parley.dal.live``).
- ``close_connection`` (``$disconnect``, or a post that found the connection gone): both items deleted.
- ``apply(event)`` (the hook): ``{"type": kind, "id", "at", "channel-id", "message-id", "actor-individual-id",
  "data"}`` to every connection of every member of the channel (a ``members-removed`` event also reaches the
  removed individuals: they learn they left). A connection API Gateway says is gone (410) is deleted. Posting is best
  effort: any other failure is logged and the other connections still get the event (a retried event would post
  everything again; clients tell a repeat by ``id``).
- ``connected(tenant, individual)``: whether the individual has an open connection now (the offline pushes,
  ``parley.domain.channel_push``, skip those who have).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from parley import clock
from parley.dal import live as store
from parley.errors import BadRequest, Forbidden, Unauthorized
from parley.models.channel_events import ChannelEvent

log = logging.getLogger(__name__)
MAX_ID = 128


@dataclass(frozen=True)
class Listener:
    """Who a new connection listens for: the tenant, the individual, the acting user (None: an API key without one)."""

    tenant_id: str
    individual_id: str
    user_id: str | None


def connected(tenant_id: str, individual_id: str) -> bool:
    """Whether the individual has at least one open WebSocket connection (its items exist and have not expired)."""
    return bool(store.connections(tenant_id, individual_id, now_epoch=int(time.time()), limit=1))


def _bounded(value: str | None, name: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_ID:
        raise BadRequest(f"{name} must be at most {MAX_ID} characters", parameter=name, code="invalid-parameter")
    return value


def listener(authorization: str | None, *, user_id: str | None, individual_id: str | None) -> Listener:
    """The listener of a ``$connect``: 401 for a missing or refused credential, 403 for an individual that is not the
    acting user's or a user that is not the token's, 404 for an individual the tenant does not have, 400/422 when no
    individual can be told (the REST API's rules: docs/courier.md "The acting user and individual-id")."""
    from parley.domain import auth

    grant = auth.authorize(authorization) if authorization else None
    if grant is None:
        raise Unauthorized("missing or invalid API key", code="unauthorized")
    tenant_id = grant.caller.tenant_id
    user = _bounded(user_id, "user-id")
    individual = _bounded(individual_id, "individual-id")
    if grant.caller.credential == "user_token":
        if user is not None and user != grant.caller.user_id:
            raise Forbidden("user-id names another user than the bearer token's", parameter="user-id", code="user-mismatch")
        user = grant.caller.user_id or None
    if user is not None:
        from parley.domain import ownership

        individual = ownership.individual_for(tenant_id, user, individual, parameter="individual-id")
    elif individual is None:
        raise BadRequest("individual-id (or user-id) is required: name whom this connection listens for", parameter="individual-id",
                         code="missing-individual")  # fmt: skip
    else:
        from parley.domain import directory

        directory.get(tenant_id, "individuals", individual)  # 404 when the tenant has no such individual
    return Listener(tenant_id=tenant_id, individual_id=individual, user_id=user)


def open_connection(who: Listener, connection_id: str) -> None:
    """Keep a new connection (``$connect``, once ``listener`` accepted it)."""
    store.put(who.tenant_id, who.individual_id, connection_id, connected_at=clock.iso(clock.now()), now_epoch=int(time.time()),
              user_id=who.user_id)  # fmt: skip


def close_connection(connection_id: str) -> bool:
    """Forget a connection (``$disconnect``); False when it was not known (already forgotten, or expired)."""
    pointer = store.pointer(connection_id)
    if pointer is None:
        return False
    store.delete(pointer["tenant_id"], pointer["individual_id"], connection_id)
    return True


def message(event: ChannelEvent) -> dict[str, Any]:
    """What a client receives for an event (docs/courier.md "Live updates")."""
    return {
        "type": event.kind,
        "id": event.id,
        "at": event.at,
        "channel-id": event.channel_id,
        "message-id": event.message_id,
        "actor-individual-id": event.actor_individual_id,
        "data": event.data,
    }


def recipients(event: ChannelEvent) -> list[str]:
    """The individuals an event goes to: the event's member batch if it has one, else every member of the channel;
    plus, for ``members-removed``, the removed ones."""
    if event.member_ids is not None:
        members = list(event.member_ids)
    else:
        from parley.domain import channels

        members = channels.member_ids(event.tenant_id, event.channel_id)
    if event.kind == "members-removed":
        members += [str(i) for i in event.data.get("individual_ids") or []]
    return list(dict.fromkeys(members))


FAN_OUT_THREADS = 16  # recipients served at once (each: one Query, then a post per connection)


def _deliver(event: ChannelEvent, endpoint: str, data: bytes, now: int, individual_id: str) -> int:
    """Post ``data`` to each open connection of one recipient; how many got it. Best effort: a failure is logged."""
    sent = 0
    try:
        connections = store.connections(event.tenant_id, individual_id, now_epoch=now)
    except Exception:  # the others still get the event; a retry of the whole event would repeat every frame
        log.exception("live update: connections not read", extra={"individual_id": individual_id, "event_id": event.id})
        return 0
    for conn in connections:
        connection_id = conn["connection_id"]
        try:
            if store.post(endpoint, connection_id, data):
                sent += 1
            else:
                store.delete(event.tenant_id, individual_id, connection_id)  # gone: its $disconnect never came
        except Exception:  # one connection's failure does not hold back the others or the later hooks
            log.exception("live update not posted", extra={"connection_id": connection_id, "event_id": event.id})
    return sent


def apply(event: ChannelEvent) -> None:
    """The hook: post the event to every open connection of its recipients (nothing when no WebSocket API is
    configured: ``WEBSOCKET_MANAGEMENT_URL`` empty). Recipients are served ``FAN_OUT_THREADS`` at a time (botocore's
    clients are thread-safe), so a large channel's event reaches its members in about members ÷ 16 round trips."""
    from parley.settings import get_settings

    endpoint = get_settings().websocket_management_url
    if not endpoint or event.kind == "channel-changed":  # internal: the members' channel copies (channel_inbox)
        return
    data = json.dumps(message(event), separators=(",", ":")).encode()
    now = int(time.time())
    people = recipients(event)
    if len(people) <= 1:
        for individual_id in people:
            _deliver(event, endpoint, data, now, individual_id)
        return
    from concurrent.futures import ThreadPoolExecutor

    store.prepare(endpoint)  # the clients exist before the threads share them
    with ThreadPoolExecutor(max_workers=min(FAN_OUT_THREADS, len(people)), thread_name_prefix="live") as pool:
        list(pool.map(lambda individual_id: _deliver(event, endpoint, data, now, individual_id), people))


def purge(tenant_id: str, individual_ids: set[str] | list[str]) -> dict[str, int]:
    """Erase the individuals' connection items (the purge, ``parley.domain.purge``): every connection of theirs, expired
    or not, with its pointer. An open WebSocket stays open until the client or API Gateway ends it (2 h at most), but
    nothing is posted to it any more: posting reads the items."""
    removed = 0
    for individual_id in sorted(individual_ids):
        for conn in store.connections(tenant_id, individual_id, now_epoch=0):
            store.delete(tenant_id, individual_id, conn["connection_id"])
            removed += 1
    return {"live_connections": removed}
