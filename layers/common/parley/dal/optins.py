"""SMS consent: one state item per address and an append-only history in the same partition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from parley.dal import keys, table, tallies


def state_key(tenant_id: str, address: str) -> tuple[str, str]:
    """The (PK, SK) of an address's state item, for a caller reading several in one BatchGetItem."""
    return keys.optin_pk(tenant_id, address), keys.OPTIN_STATE_SK


def get_state(tenant_id: str, address: str) -> dict[str, Any] | None:
    return table.get(*state_key(tenant_id, address))


def get_states(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The state items of several ``(tenant_id, address)`` in BatchGetItem calls of 100: ``{(tenant, address): item}``."""
    wanted = {state_key(t, a): (t, a) for t, a in pairs}
    found = table.batch_get(wanted) if wanted else {}
    return {wanted[k]: item for k, item in found.items()}


def record(tenant_id: str, address: str, *, opted_in: bool, entry: dict[str, Any]) -> None:
    """Set the state and append the history entry, atomically."""
    table.transact(record_ops(tenant_id, address, opted_in=opted_in, entry=entry))


def record_ops(tenant_id: str, address: str, *, opted_in: bool, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The writes of ``record``, for a caller that makes them part of a larger transaction (an inbound STOP)."""
    pk = keys.optin_pk(tenant_id, address)
    state = {"PK": pk, "SK": keys.OPTIN_STATE_SK, "type": "optin", "address": address.lower(), "opted_in": opted_in,
             "updated_ms": entry["created_ms"]}  # fmt: skip
    history = {"PK": pk, "SK": keys.optin_history_sk(entry["created_ms"], entry["id"]), "type": "optin_history", **entry}
    return [{"Put": {"Item": table.marshal(state)}}, {"Put": {"Item": table.marshal(history)}}]


def history_page(tenant_id: str, address: str, *, page: int, size: int, communication_id: str | None) -> tuple[list[dict[str, Any]], int]:
    """A page of an address's changes, newest first, and the total: key range only (no Scan); without a
    ``communication_id`` from the history's tallies (reads ≈ the page, docs/data-model.md §6.7)."""
    lst = tallies.TimeList("", keys.optin_pk(tenant_id, address), "HIST#", epoch_ms=True)
    if not communication_id:
        return tallies.page(lst, offset=page * size, limit=size, forward=False)
    params = lst.query(tallies.EARLIEST, tallies.LATEST, forward=False)
    params["FilterExpression"] = "communication_id = :c"
    params["ExpressionAttributeValues"] |= table.values(c=communication_id)
    return table.offset_page(page * size, size, **params)
