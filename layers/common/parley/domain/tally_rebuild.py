"""Rebuilding a tenant's tallies (``python -m parley.admin rebuild-tallies``): which lists, in what order, and what
is reported. The counting and the writes are ``dal/tally_rebuild.py`` (its module doc: why the result is exact
while the stream consumer keeps writing, and its limits); docs/operations.md "Rebuilding tallies".

A list is named on the command line as one of:

- ``email`` / ``sms``: the channel timeline (GSI1); ``records``: every record (GSI5); ``status:<STATUS>`` (GSI7);
- ``address:<email or phone>`` / ``candidate:<id>``: both channels' lists of the address (GSI2) or candidate (GSI4);
- ``optin:<E.164 phone or email>``: the opt-in history; ``forward:<email>``: the forward-profile activity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from parley.dal import keys, tally_rebuild, tenants
from parley.dal.tallies import TimeList
from parley.errors import BadRequest, NotFound
from parley.models.domain import MessageStatus


def named_lists(tenant_id: str, spec: str) -> list[TimeList]:
    """The lists one ``--list`` value names (module doc); ``BadRequest`` for anything else."""
    kind, _, value = spec.partition(":")
    kind = kind.strip().lower()
    value = value.strip()
    if kind in ("email", "sms") and not value:
        return [TimeList("GSI1", keys.timeline_pk(tenant_id, kind))]
    if kind == "records" and not value:
        return [TimeList("GSI5", keys.records_pk(tenant_id))]
    if kind == "status" and value.upper() in MessageStatus.__members__:
        return [TimeList("GSI7", keys.status_pk(tenant_id, value.upper()))]
    if kind == "address" and value:
        return [TimeList("GSI2", keys.address_pk(tenant_id, value), f"{ch}#") for ch in ("EMAIL", "SMS")]
    if kind == "candidate" and value:
        return [TimeList("GSI4", keys.candidate_pk(tenant_id, value), f"{ch}#") for ch in ("EMAIL", "SMS")]
    if kind == "optin" and value:
        return [TimeList("", keys.optin_pk(tenant_id, value), "HIST#", epoch_ms=True)]
    if kind == "forward" and value:
        return [TimeList("", keys.forward_pk(tenant_id, value), "FWD#", epoch_ms=True)]
    statuses = ", ".join(MessageStatus.__members__)
    raise BadRequest(
        f"--list {spec!r}: expected email, sms, records, status:<{statuses}>, address:<address>, candidate:<id>, optin:<address> "
        "or forward:<email>"
    )


def rebuild(
    tenant_id: str,
    *,
    specs: Iterable[str] = (),
    dry_run: bool = False,
    settle: float = 5.0,
    rounds: int = 5,
    report: Callable[[dict[str, Any]], None] = lambda line: None,
) -> dict[str, Any]:
    """Rebuild the tallies of the named lists (every list of the tenant without ``specs``); ``report`` gets one
    line per tally item that differed. Returns the summary. ``NotFound`` for an unknown tenant."""
    if tenants.get(tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    specs = list(specs)
    lists = [lst for spec in specs for lst in named_lists(tenant_id, spec)] if specs else tally_rebuild.tenant_lists(tenant_id)
    lists = list(dict.fromkeys(lists))
    if not dry_run:
        tally_rebuild.register(lists)  # found by a Query from now on, whatever happens to their items
    summary: dict[str, Any] = {"tenantId": tenant_id, "dryRun": dry_run, "lists": len(lists), "buckets": 0, "fixed": 0, "unsettled": []}
    for lst in lists:
        result = tally_rebuild.rebuild_list(lst, dry_run=dry_run, settle=settle, rounds=rounds)
        summary["buckets"] += result.buckets
        summary["fixed"] += len(result.fixes)
        for fix in result.fixes:
            changed = sorted(a for a, n in fix.add.items() if n)
            expected = fix.expected()
            report({"list": lst.tally_pk, "bucket": fix.sk, "tallied": {a: fix.held.get(a, 0) for a in changed},
                    "counted": {a: expected[a] for a in changed}})  # fmt: skip
        if result.unsettled:
            summary["unsettled"].append({"list": lst.tally_pk, "minutes": result.unsettled})
    return summary
