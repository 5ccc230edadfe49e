"""Rebuild a tenant's tallies from its lists (``python -m parley.admin rebuild-tallies``; docs/data-model.md §6.7,
docs/operations.md "Rebuilding tallies").

The tallies (``dal/tallies.py``) are kept from the table's stream, so nothing puts back a tally that lost its way:
a list written before the stream existed, or a tally item an operator deleted or overwrote. This counts each list
(Query, never Scan) and corrects its ``Y#``/``D#``/``H#`` items, while the stream consumer goes on adding its ±1s.

**Every correction is an ``ADD``** of an offset that concurrent consumer writes do not change, so it composes with
them in any order (no condition, nothing to lose to a race). The consumer adds each change's δ to the minute cell
``H.mMM`` and to every level above it (``H.n``, ``D.hHH``, ``D.n``, ``Y.dMMDD``, ``Y.n``) in one transaction, so:

- the *structural* errors — ``H.n - Σ H.m*``, ``D.hHH - H(hour).n``, ``D.n - Σ D.h*``, ``Y.dMMDD - D(day).n``,
  ``Y.n - Σ Y.d*`` — are invariant under its writes; each day's ``Y``, ``D`` and ``H`` items are read in one
  ``TransactGetItems`` (a serializable snapshot: never half of a consumer transaction), so they are measured exactly;
- the *minute* error (``H.mMM`` - the minute's items) is invariant once every change to the minute's items has
  reached the tallies. A minute whose tally and count differ is read again (count and cell) after ``settle``
  seconds; if neither moved, the error is taken as measured, else it is read again (``rounds`` times at most, then
  left alone and reported as *unsettled*). This is exact when ``settle`` exceeds the stream's delay (the consumer's
  iterator age) and the index's propagation: a change made before the first reading has reached the tally by the
  second, and one made between the readings moves the count.

The corrections of one day (its hours, the day, its share of the year) are one transaction (``ClientRequestToken``:
a retried request is not applied twice), so readers never see the levels disagree more than before. A bucket
without items ends at 0 (zeroed, as the consumer leaves it after deletes; readers treat 0 as empty). Idempotent: a
second run measures every error as 0 and writes nothing. Two rebuilds of one list at once would both correct the
same errors: run one at a time.

Finding the lists (``tenant_lists``): the tenant's directory (``TALLY#LISTS#<t>``, kept by the consumer and by this
rebuild), the two channel timelines, the records and every status partition, and the address and candidate lists of
every message on the timelines (one paged Query per channel, keys only). An opt-in or forward list is only in the
directory: one whose items were all written before the directory existed (and never changed since) must be named.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import keys, table, tallies
from parley.dal.tallies import TimeList
from parley.models.domain import MessageStatus

CHANNELS = ("email", "sms")
_KEY_ATTRIBUTES = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI4PK", "GSI4SK", "GSI5PK", "GSI5SK", "GSI7PK", "GSI7SK")
_sleep = time.sleep  # the settle wait (tests make it run the stream, or write, instead)
_before_write: Callable[[TimeList, list[Any]], None] = lambda lst, fixes: None  # noqa: E731 (a test's hook: read → write)


# ───────────── finding the lists ─────────────
def _pages(params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    start = None
    while True:
        out = table.ddb().query(TableName=table.table_name(), **params, **({"ExclusiveStartKey": start} if start else {}))
        yield from (table.unmarshal(i) for i in out.get("Items", []))
        start = out.get("LastEvaluatedKey")
        if not start:
            return


def _projection(names: Iterable[str]) -> dict[str, Any]:
    aliases = {f"#p{i}": name for i, name in enumerate(names)}
    return {"ProjectionExpression": ", ".join(aliases), "ExpressionAttributeNames": aliases}


def directory(tenant_id: str) -> list[TimeList]:
    """The tenant's lists as the consumer (and earlier rebuilds) registered them."""
    params = {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": table.values(pk=tallies.lists_pk(tenant_id))}
    return [TimeList.from_entry(item) for item in _pages(params)]


def tenant_lists(tenant_id: str) -> list[TimeList]:
    """Every tallied list of the tenant that a Query finds (module doc), each once, in a stable order."""
    found: set[TimeList] = set(directory(tenant_id))
    found |= {TimeList("GSI1", keys.timeline_pk(tenant_id, ch)) for ch in CHANNELS}
    found.add(TimeList("GSI5", keys.records_pk(tenant_id)))
    found |= {TimeList("GSI7", keys.status_pk(tenant_id, s.value)) for s in MessageStatus}
    for ch in CHANNELS:
        pk = keys.timeline_pk(tenant_id, ch)
        params = {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk", "ExpressionAttributeValues": table.values(pk=pk)}
        params |= _projection(_KEY_ATTRIBUTES)
        for item in _pages(params):
            found |= {lst for lst, _ in tallies.memberships(item)}
    return sorted((lst for lst in found if lst.tenant_id == tenant_id), key=lambda lst: lst.tally_pk)


def register(lists: Iterable[TimeList]) -> None:
    """Put the lists in their tenants' directories (idempotent)."""
    table.batch_put(lst.entry() for lst in lists if lst.tenant_id)


# ───────────── counting ─────────────
def _minute(lst: TimeList, sk: str) -> str | None:
    """The minute (``YYYY-MM-DDTHH:MM``) of a sort key of the list."""
    rest = sk[len(lst.prefix) :]
    if lst.epoch_ms:
        digits = rest[:13]
        return tallies._iso_of_ms(int(digits))[:16] if digits.isdigit() else None
    return rest[:16] if len(rest) >= 24 and rest[23] == "Z" else None


def minute_counts(lst: TimeList, lo: str = tallies.EARLIEST, hi: str = tallies.LATEST) -> Counter[str]:
    """How many of the list's items fall in each minute of [lo, hi] (one paged Query, sort keys only)."""
    params = lst.query(lo, hi, forward=True)
    sk_attr = f"{lst.index}SK" if lst.index else "SK"
    params |= {"ProjectionExpression": "#sk", "ExpressionAttributeNames": {"#sk": sk_attr}}
    out: Counter[str] = Counter()
    for item in _pages(params):
        minute = _minute(lst, item.get(sk_attr, ""))
        if minute:
            out[minute] += 1
    return out


def _cells(item: dict[str, Any] | None) -> dict[str, int]:
    """A tally item's counters (its number attributes)."""
    return {k: int(v) for k, v in (item or {}).items() if k not in ("PK", "SK") and isinstance(v, Decimal | int)}


def tally_items(lst: TimeList) -> dict[str, dict[str, int]]:
    """Every tally item of the list, ``{SK: counters}`` (one paged Query, strongly consistent)."""
    params = {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": table.values(pk=lst.tally_pk), "ConsistentRead": True}
    return {item["SK"]: _cells(item) for item in _pages(params)}


def tallied_minutes(items: dict[str, dict[str, int]]) -> dict[str, int]:
    """The minute cells of a list's ``H#`` items, ``{minute: n}``."""
    return {f"{sk[2:]}:{a[1:]}": v for sk, cells in items.items() if sk.startswith("H#") for a, v in cells.items() if a.startswith("m")}


def _hour_cells(lst: TimeList, hours: Iterable[str]) -> dict[str, dict[str, int]]:
    found = table.batch_get([(lst.tally_pk, f"H#{h}") for h in hours], consistent=True)
    return {h: _cells(found.get((lst.tally_pk, f"H#{h}"))) for h in hours}


def _reading(lst: TimeList, minutes: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``{minute: (its items counted, its tally cell)}``."""
    minutes = list(minutes)
    hours = _hour_cells(lst, {m[:13] for m in minutes})
    out = {}
    for m in minutes:
        n = table.count(**lst.query(f"{m}:00.000Z", f"{m}:59.999Z", forward=True))
        out[m] = (n, hours[m[:13]].get(f"m{m[14:]}", 0))
    return out


@dataclass
class MinuteErrors:
    """What the tally's minute cells miss (``count - cell``), for the minutes that settled; the others."""

    errors: dict[str, int] = field(default_factory=dict)
    unsettled: list[str] = field(default_factory=list)


def minute_errors(lst: TimeList, items: dict[str, dict[str, int]], *, settle: float, rounds: int) -> MinuteErrors:
    """Count the list per minute and compare with its minute cells; a minute that differs is read again after
    ``settle`` seconds until its count and its cell stay put across one wait (module doc)."""
    counts = minute_counts(lst)
    cells = tallied_minutes(items)
    waiting = {m: (counts.get(m, 0), cells.get(m, 0)) for m in set(counts) | set(cells) if counts.get(m, 0) != cells.get(m, 0)}
    out = MinuteErrors()
    for _ in range(rounds):
        if not waiting:
            break
        _sleep(settle)
        again = _reading(lst, waiting)
        for m, (n, cell) in again.items():
            if (n, cell) == waiting[m]:
                if n != cell:
                    out.errors[m] = n - cell
                del waiting[m]
            else:
                waiting[m] = (n, cell)
    out.unsettled = sorted(waiting)
    return out


# ───────────── correcting ─────────────
def _sum(cells: dict[str, int], kind: str) -> int:
    return sum(v for a, v in cells.items() if a.startswith(kind))


@dataclass
class Fix:
    """One tally item's correction: what it held when measured, and what to add to each counter."""

    sk: str
    held: dict[str, int]
    add: dict[str, int]

    def expected(self) -> dict[str, int]:
        return {a: self.held.get(a, 0) + n for a, n in self.add.items()}


def _retrying(call: Callable[[], Any], attempts: int) -> Any:
    """``call()``, again after a jittered backoff while a transaction is contended or the service is busy."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as err:
            contended = "TransactionConflict" in table.cancel_reasons(err) or table.is_transient(err)
            if not contended or attempt == attempts - 1:
                raise
            tallies._sleep(min(0.05 * 2**attempt, 1.0) * random.random())
    raise AssertionError("unreachable")


def _snapshot(lst: TimeList, sks: list[str], attempts: int = 8) -> dict[str, dict[str, int]]:
    """The list's tally items ``sks`` in one ``TransactGetItems`` (a serializable snapshot), ``{SK: counters}``."""
    request = [{"Get": {"TableName": table.table_name(), "Key": table.key(lst.tally_pk, sk)}} for sk in sks]
    out = _retrying(lambda: table.ddb().transact_get_items(TransactItems=request), attempts)
    return {sk: _cells(table.unmarshal(r["Item"]) if r.get("Item") else None) for sk, r in zip(sks, out["Responses"], strict=True)}


def _day_fixes(lst: TimeList, day: str, hours: set[str], errors: dict[str, int]) -> tuple[list[Fix], list[str]]:
    """The corrections of one day's ``H#`` and ``D#`` items and its ``Y#`` cell (``Y.n`` gets the day's share),
    from one snapshot of them; and the items the snapshot read."""
    y_sk, d_sk = f"Y#{day[:4]}", f"D#{day}"
    while True:
        hour_sks = [f"H#{h}" for h in sorted(hours)]
        snap = _snapshot(lst, [y_sk, d_sk, *hour_sks])
        more = {f"{day}T{a[1:]}" for a in snap[d_sk] if a.startswith("h")} - hours
        if not more:
            break
        hours |= more  # the day names an hour the first read had not seen: read it with the others
    fixes: list[Fix] = []
    y, d = snap[y_sk], snap[d_sk]
    d_add: dict[str, int] = defaultdict(int)
    for h in sorted(hours):
        hour = snap[f"H#{h}"]
        add = {f"m{m[14:]}": e for m, e in errors.items() if m[:13] == h and e}
        add["n"] = sum(add.values()) - (hour.get("n", 0) - _sum(hour, "m"))
        fixes.append(Fix(f"H#{h}", hour, add))
        d_add[f"h{h[11:]}"] = add["n"] - (d.get(f"h{h[11:]}", 0) - hour.get("n", 0))
    d_add["n"] = sum(v for a, v in d_add.items() if a.startswith("h")) - (d.get("n", 0) - _sum(d, "h"))
    fixes.append(Fix(d_sk, d, dict(d_add)))
    cell = f"d{day[5:7]}{day[8:10]}"
    y_day = d_add["n"] - (y.get(cell, 0) - d.get("n", 0))
    fixes.append(Fix(y_sk, y, {cell: y_day, "n": y_day}))
    return fixes, list(snap)


def _update(lst: TimeList, fix: Fix) -> dict[str, Any]:
    add = {a: n for a, n in fix.add.items() if n}
    names = {f"#a{i}": a for i, a in enumerate(add)}
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.key(lst.tally_pk, fix.sk),
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(add))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.marshal({f":v{i}": n for i, n in enumerate(add.values())}),
        }
    }


def _write(lst: TimeList, fixes: list[Fix], attempts: int = 8) -> None:
    """The corrections in one transaction, retried on contention with the same token (applied once)."""
    ops = [_update(lst, f) for f in fixes if any(f.add.values())]
    if not ops:
        return
    token = str(uuid.uuid4())
    _retrying(lambda: table.ddb().transact_write_items(TransactItems=ops, ClientRequestToken=token), attempts)


@dataclass
class ListResult:
    lst: TimeList
    buckets: int = 0  # tally items checked
    fixes: list[Fix] = field(default_factory=list)  # the items that differed (and were corrected unless a dry run)
    unsettled: list[str] = field(default_factory=list)  # minutes whose count kept moving: left as they are


def _named(items: dict[str, dict[str, int]], errors: Iterable[str]) -> dict[str, dict[str, set[str]]]:
    """``{year: {day: {hour}}}``: every bucket a tally item, one of its counters or a minute's error names."""
    days: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for sk, cells in items.items():
        kind, stamp = sk[:1], sk[2:]
        if kind == "Y":
            days.setdefault(stamp, {})  # a year item without days is still checked
            for a in cells:
                if a.startswith("d"):
                    days[stamp].setdefault(f"{stamp}-{a[1:3]}-{a[3:5]}", set())
        elif kind == "D":
            days[stamp[:4]].setdefault(stamp, set()).update(f"{stamp}T{a[1:]}" for a in cells if a.startswith("h"))
        elif kind == "H":
            days[stamp[:4]].setdefault(stamp[:10], set()).add(stamp)
    for m in errors:
        days[m[:4]].setdefault(m[:10], set()).add(m[:13])
    return days


def rebuild_list(lst: TimeList, *, dry_run: bool = False, settle: float = 5.0, rounds: int = 5) -> ListResult:
    """Make the list's tally items equal to its items, per minute (module doc)."""
    items = tally_items(lst)
    errors = minute_errors(lst, items, settle=settle, rounds=rounds)
    result = ListResult(lst, unsettled=errors.unsettled)
    checked: set[str] = set()
    for year, days in sorted(_named(items, errors.errors).items()):
        fixes: list[Fix] = []
        for day, hours in sorted(days.items()):
            day_fixes, read = _day_fixes(lst, day, set(hours), errors.errors)
            checked.update(read)
            changed = [f for f in day_fixes if any(f.add.values())]
            if changed:
                _before_write(lst, changed)
                if not dry_run:
                    _write(lst, changed)
            fixes += changed
        # the year's own count, Y.n - Σ Y.d* (the days' shares of Y.n were in their transactions)
        y_sk = f"Y#{year}"
        y = _snapshot(lst, [y_sk])[y_sk]
        checked.add(y_sk)
        off = y.get("n", 0) - _sum(y, "d")
        if off:
            fix = Fix(y_sk, y, {"n": -off})
            _before_write(lst, [fix])
            if not dry_run:
                _write(lst, [fix])
            fixes.append(fix)
        result.fixes += _merge(fixes)
    result.buckets = len(checked)
    return result


def _merge(fixes: list[Fix]) -> list[Fix]:
    """One fix per item (a year item is corrected by several days' transactions)."""
    out: dict[str, Fix] = {}
    for f in fixes:
        if f.sk in out:
            prev = out[f.sk]
            added = dict(prev.add)
            for a, n in f.add.items():
                added[a] = added.get(a, 0) + n
            out[f.sk] = Fix(f.sk, prev.held, added)
        else:
            out[f.sk] = Fix(f.sk, dict(f.held), dict(f.add))
    return [f for f in out.values() if any(f.add.values())]
