"""Tallies: how many items a time-sorted list holds per year, day, hour and minute — so a total, or the
position of the n-th item, costs a handful of small reads instead of counting the list.

A *list* is one partition of the table or of an index, optionally narrowed to a sort-key prefix, whose
sort keys start (after the prefix) with a time: ISO-8601 ms ``Z`` (the message indexes) or 13-digit epoch
ms (opt-in history, forward activity). Each list has a tally partition ``PK = TALLY#<index>#<pk>#<prefix>``:

- ``SK = Y#<YYYY>``: ``n`` (the year's items) and ``dMMDD`` (each day's);
- ``SK = D#<YYYY-MM-DD>``: ``n`` and ``hHH`` (each hour's);
- ``SK = H#<YYYY-MM-DDTHH>``: ``n`` and ``mMM`` (each minute's).

They are kept by ``TallyFunction`` from the table's stream (``apply``): every INSERT, MODIFY and REMOVE of
an item that belongs to a list — a send, a status change moving a record between status partitions, a
delete, a TTL expiry — adds its ±1 to the three items of its minute, exactly once (``SEEN#`` markers in the
same transaction). A window's total is then: the years' items (one Query), and the edge days' and hours'
items (one BatchGetItem); the few items of a partial edge minute are counted. The position of the n-th item
adds the day and hour items of the minute it falls in (two GetItems), and the page's Query skips at most
that minute's items before it. Tallies follow the writes by the stream's delay: a total read right after a
write may not show it yet (as the indexes themselves, which are eventually consistent).

The consumer also keeps a *directory* of each tenant's tallied lists (``PK = TALLY#LISTS#<tenant>``, ``SK`` = the
list's tally PK; a ``Put`` in the same transaction as its counts, once per list and process), so every list a tenant has had — opt-in and
forward lists are partitions no Query finds otherwise — can be found by one Query: ``dal/tally_rebuild.py`` rebuilds
a tenant's tallies from it (``python -m parley.admin rebuild-tallies``).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import aws, table

TALLY_TTL_SEEN = 2 * 24 * 3600  # a SEEN# marker outlives the stream's 24 h retention (and Lambda's retries)
MAX_TX_ITEMS = 100
_sleep = time.sleep  # the backoff between contended attempts (a test makes it instant)
EARLIEST = "0001-01-01T00:00:00.000Z"
LATEST = "9999-12-31T23:59:59.999Z"


# ───────────── lists ─────────────
@dataclass(frozen=True)
class TimeList:
    """One time-sorted list: ``index`` ("" = the table), its partition key value, and the sort-key prefix."""

    index: str
    pk: str
    prefix: str = ""
    epoch_ms: bool = False  # sort keys carry 13-digit epoch ms instead of ISO-8601

    @property
    def tally_pk(self) -> str:
        return f"TALLY#{self.index or 'TABLE'}#{self.pk}#{self.prefix}"

    @property
    def tenant_id(self) -> str:
        """The tenant whose list this is (every tallied partition is ``TENANT#<t>#…``)."""
        parts = self.pk.split("#")
        return parts[1] if len(parts) > 2 and parts[0] == "TENANT" else ""

    def entry(self) -> dict[str, Any]:
        """The list's item in its tenant's directory (``TALLY#LISTS#<tenant>``)."""
        return {"PK": lists_pk(self.tenant_id), "SK": self.tally_pk, "index": self.index, "pk": self.pk, "prefix": self.prefix,
                "epoch_ms": self.epoch_ms}  # fmt: skip

    @classmethod
    def from_entry(cls, item: dict[str, Any]) -> TimeList:
        return cls(str(item["index"]), str(item["pk"]), str(item.get("prefix", "")), bool(item.get("epoch_ms", False)))

    def encode(self, iso: str) -> str:
        """A time as this list's sort keys spell it (after the prefix)."""
        if not self.epoch_ms:
            return iso
        if iso <= "1970-01-01T00:00:00.000Z":
            return "0" * 13
        if iso >= "2286-11-20T17:46:39.999Z":  # 13 digits' end
            return "9" * 13
        return f"{clock.epoch_ms(clock.parse_iso(iso)):013d}"

    def lower(self, iso: str) -> str:
        """The smallest sort key at ``iso`` or later."""
        return self.prefix + self.encode(iso)

    def upper(self, iso: str) -> str:
        """The largest sort key at ``iso`` or earlier (sort keys go on with ``#<id>``)."""
        return self.prefix + self.encode(iso) + "#\uffff"

    def query(self, lo: str, hi: str, *, forward: bool) -> dict[str, Any]:
        """The Query parameters of the list's items in [lo, hi] (ISO times, inclusive)."""
        pk_attr, sk_attr = (f"{self.index}PK", f"{self.index}SK") if self.index else ("PK", "SK")
        params: dict[str, Any] = {
            "KeyConditionExpression": f"{pk_attr} = :pk AND {sk_attr} BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": table.values(pk=self.pk, lo=self.lower(lo), hi=self.upper(hi)),
            "ScanIndexForward": forward,
        }
        if self.index:
            params["IndexName"] = self.index
        return params


def lists_pk(tenant_id: str) -> str:
    """The partition of a tenant's directory of tallied lists (one item per list, ``SK`` = its tally PK)."""
    return f"TALLY#LISTS#{tenant_id}"


def _iso_of_ms(ms: int) -> str:
    return clock.iso(datetime.fromtimestamp(ms / 1000, UTC))


def _iso_sk(index: str, pk_attr: str, sk_attr: str, channel_prefix: bool) -> Any:
    def member(item: dict[str, Any]) -> tuple[TimeList, str] | None:
        pk, sk = item.get(pk_attr), item.get(sk_attr)
        if not isinstance(pk, str) or not isinstance(sk, str):
            return None
        prefix = ""
        if channel_prefix:
            cut = sk.find("#")
            if cut < 0:
                return None
            prefix = sk[: cut + 1]
        stamp = sk[len(prefix) : len(prefix) + 24]
        return (TimeList(index, pk, prefix), stamp) if len(stamp) == 24 and stamp.endswith("Z") else None

    return member


def _ms_sk(prefix: str, item_type: str) -> Any:
    def member(item: dict[str, Any]) -> tuple[TimeList, str] | None:
        sk = item.get("SK")
        if item.get("type") != item_type or not isinstance(sk, str) or not sk.startswith(prefix):
            return None
        digits = sk[len(prefix) : len(prefix) + 13]
        return (TimeList("", item["PK"], prefix, epoch_ms=True), _iso_of_ms(int(digits))) if digits.isdigit() else None

    return member


# Every tallied list an item can belong to (docs/data-model.md §6.7). GSI3 (conversations) and GSI6 (entities)
# are read whole, GSI8 is the sweeper's: they are not tallied.
RULES = (
    _iso_sk("GSI1", "GSI1PK", "GSI1SK", False),  # a tenant's channel timeline
    _iso_sk("GSI2", "GSI2PK", "GSI2SK", True),  # one address, per channel
    _iso_sk("GSI4", "GSI4PK", "GSI4SK", True),  # one candidate, per channel
    _iso_sk("GSI5", "GSI5PK", "GSI5SK", False),  # a tenant's records
    _iso_sk("GSI7", "GSI7PK", "GSI7SK", False),  # a tenant's records in one status
    _ms_sk("HIST#", "optin_history"),  # one address's opt-in history
    _ms_sk("FWD#", "forward"),  # one candidate's forward-profile activity
)


def memberships(item: dict[str, Any] | None) -> list[tuple[TimeList, str]]:
    """The tallied lists a (plain) item belongs to, each with the item's time in it."""
    if not item or str(item.get("PK", "")).startswith("TALLY#"):
        return []
    return [m for rule in RULES if (m := rule(item))]


# ───────────── writing (the stream consumer) ─────────────
def _cells(lst: TimeList, stamp: str) -> Iterator[tuple[str, str]]:
    """The (SK, attribute) of the three counters an item at ``stamp`` adds to."""
    yield f"Y#{stamp[:4]}", f"d{stamp[5:7]}{stamp[8:10]}"
    yield f"D#{stamp[:10]}", f"h{stamp[11:13]}"
    yield f"H#{stamp[:13]}", f"m{stamp[14:16]}"


def deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, int]]:
    """What one change of an item does to the tallies: ``{(tally PK, SK): {attribute: ±n}}`` (moves within
    one minute of one list cancel out)."""
    per_minute: dict[tuple[TimeList, str], int] = defaultdict(int)
    for lst, stamp in memberships(old):
        per_minute[(lst, stamp[:16])] -= 1
    for lst, stamp in memberships(new):
        per_minute[(lst, stamp[:16])] += 1
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (lst, minute), n in per_minute.items():
        if not n:
            continue
        for sk, attr in _cells(lst, minute):
            cell = out[(lst.tally_pk, sk)]
            cell["n"] += n
            cell[attr] += n
    return {k: dict(v) for k, v in out.items()}


@dataclass
class Change:
    """One stream record, reduced to what the tallies need."""

    seq: str
    changes: dict[tuple[str, str], dict[str, int]]
    lists: frozenset[TimeList] = frozenset()  # the lists it changes (their directory entries are put with it)


def seen_pk(seq: str) -> str:
    return f"TALLY#SEEN#{seq}"


def _update(pk: str, sk: str, attrs: dict[str, int]) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(attrs)}
    vals = {f":v{i}": n for i, n in enumerate(attrs.values())}
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.key(pk, sk),
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(attrs))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.marshal(vals),
        }
    }


def _chunks(changes: list[Change]) -> Iterator[list[Change]]:
    """Consecutive changes whose markers, tally items and directory entries fit one transaction (a change alone
    always fits: at most 7 lists, 3 items each, twice for a move, and their 14 entries)."""
    chunk: list[Change] = []
    cells: set[tuple[str, str]] = set()
    lists: set[TimeList] = set()
    for change in changes:
        more, more_lists = cells | set(change.changes), lists | _listed(change)
        if chunk and len(more) + len(more_lists) + len(chunk) + 1 > MAX_TX_ITEMS:
            yield chunk
            chunk, more, more_lists = [], set(change.changes), _listed(change)
        chunk.append(change)
        cells, lists = more, more_lists
    if chunk:
        yield chunk


# The lists this process has put in their directory (a transaction that did commit): later changes to them
# leave the entry out, so the directory costs a write per list and process, not per change.
_in_directory: set[str] = set()
aws.on_reset(_in_directory.clear)


def _listed(change: Change) -> set[TimeList]:
    """The lists of a change whose directory entries are put with it (those of a tenant, not yet put here)."""
    return {lst for lst in change.lists if lst.tenant_id and lst.tally_pk not in _in_directory}


def _transaction(chunk: list[Change], now_s: int) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table.table_name(),
                "Item": table.marshal({"PK": seen_pk(c.seq), "SK": "SEEN", "ttl": now_s + TALLY_TTL_SEEN}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for c in chunk
    ]
    total: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in chunk:
        for cell, attrs in c.changes.items():
            for attr, n in attrs.items():
                total[cell][attr] += n
    for (pk, sk), attrs in total.items():
        kept = {a: n for a, n in attrs.items() if n}
        if kept:
            ops.append(_update(pk, sk, kept))
    listed = {lst.tally_pk: lst for c in chunk for lst in _listed(c)}
    ops += [{"Put": {"TableName": table.table_name(), "Item": table.marshal(lst.entry())}} for lst in listed.values()]
    return ops


class TallyConflict(Exception):
    """Another writer held a tally item each time this chunk was tried: the batch is retried from it."""


class Unapplied(Exception):
    """Applying stopped at the change ``seq`` (it and every later change of the batch are not applied)."""

    def __init__(self, seq: str, cause: BaseException) -> None:
        super().__init__(f"tallies not applied from {seq} on: {cause!r}")
        self.seq = seq
        self.cause = cause


def apply(changes: list[Change], *, attempts: int = 8) -> int:
    """Add the changes (in stream order) to the tallies, each exactly once: a change's ``SEEN#<seq>`` marker is
    put in the transaction of its counts, conditioned on not existing, so a redelivered record (Lambda retries
    a batch; a batch overlaps an earlier one) is recognised and left out. Returns how many were applied.
    Raises ``Unapplied`` with the first change not applied (tally items stayed contended, or a write failed):
    the stream's consumer reports it, and Lambda delivers the batch again from there."""
    applied = 0
    pending = [c for c in changes if c.changes]
    for chunk in _chunks(pending):
        try:
            applied += _apply_chunk(chunk, attempts)
        except Exception as err:
            raise Unapplied(chunk[0].seq, err) from err
    return applied


def _apply_chunk(chunk: list[Change], attempts: int) -> int:
    todo = chunk
    for attempt in range(attempts):
        try:
            table.ddb().transact_write_items(TransactItems=_transaction(todo, int(time.time())))
            _in_directory.update(lst.tally_pk for c in todo for lst in _listed(c))
            return len(chunk)
        except ClientError as err:
            reasons = table.cancel_reasons(err)
            if any(r == "ConditionalCheckFailed" for r in reasons[: len(todo)]):
                # some of these were applied before (a redelivery): apply only the others
                todo = [c for c, r in zip(todo, reasons, strict=False) if r != "ConditionalCheckFailed"]
                if not todo:
                    return len(chunk)
                continue
            if "TransactionConflict" not in reasons and not table.is_transient(err):
                raise
            _sleep(min(0.05 * 2**attempt, 1.0) * random.random())
    raise TallyConflict(f"{len(todo)} changes from {todo[0].seq} on stayed contended")


# ───────────── reading ─────────────
@dataclass
class Window:
    """A list's tallies around a window [lo, hi] (ISO, inclusive): enough to count it, and to find a position."""

    lst: TimeList
    lo: str
    hi: str
    years: dict[str, dict[str, int]]
    days: dict[str, dict[str, int]]
    hours: dict[str, dict[str, int]]
    positions: dict[str, int] = field(default_factory=dict)

    def _day(self, day: str) -> dict[str, int]:
        if day not in self.days:
            self.days[day] = _get(self.lst, f"D#{day}")
        return self.days[day]

    def _hour(self, hour: str) -> dict[str, int]:
        if hour not in self.hours:
            self.hours[hour] = _get(self.lst, f"H#{hour}")
        return self.hours[hour]

    def _minute_count(self, stamp: str) -> int:
        day = self.years.get(stamp[:4], {}).get(f"d{stamp[5:7]}{stamp[8:10]}", 0)
        if not day:
            return 0
        if not self._day(stamp[:10]).get(f"h{stamp[11:13]}", 0):
            return 0
        return self._hour(stamp[:13]).get(f"m{stamp[14:16]}", 0)

    def before(self, stamp: str) -> int:
        """How many of the list's items (from the window's first year on) are earlier than ``stamp``."""
        if stamp not in self.positions:
            self.positions[stamp] = self._before(stamp)
        return self.positions[stamp]

    def _before(self, stamp: str) -> int:
        y, mmdd, hh, mm = stamp[:4], f"d{stamp[5:7]}{stamp[8:10]}", f"h{stamp[11:13]}", f"m{stamp[14:16]}"
        n = sum(v.get("n", 0) for year, v in self.years.items() if year < y)
        year = self.years.get(y, {})
        n += sum(v for a, v in year.items() if a.startswith("d") and a < mmdd)
        if not year.get(mmdd, 0):
            return n
        day = self._day(stamp[:10])
        n += sum(v for a, v in day.items() if a.startswith("h") and a < hh)
        if not day.get(hh, 0):
            return n
        hour = self._hour(stamp[:13])
        n += sum(v for a, v in hour.items() if a.startswith("m") and a < mm)
        if hour.get(mm, 0) and stamp[16:] != ":00.000Z":
            n += _count(self.lst, stamp[:16] + ":00.000Z", stamp, upper_exclusive=True)
        return n

    def total(self) -> int:
        return max(0, self.before(_next_ms(self.hi)) - self.before(self.lo))

    def locate(self, position: int) -> tuple[str, int]:
        """The minute (ISO ``YYYY-MM-DDTHH:MM``) of the list's item at ``position`` (0 = the window's first,
        counted from the first year's start), and how many of the list's items come before that minute."""
        n = 0
        for y in sorted(self.years):
            if n + self.years[y].get("n", 0) > position:
                break
            n += self.years[y].get("n", 0)
        else:
            raise IndexError(position)
        attr, n = _walk(self.years[y], "d", position, n)
        day_stamp = f"{y}-{attr[1:3]}-{attr[3:5]}"
        attr, n = _walk(self._day(day_stamp), "h", position, n)
        hour_stamp = f"{day_stamp}T{attr[1:]}"
        attr, n = _walk(self._hour(hour_stamp), "m", position, n)
        return f"{hour_stamp}:{attr[1:]}", n


def _walk(counts: dict[str, int], kind: str, position: int, n: int) -> tuple[str, int]:
    """The ``kind`` attribute (``d``/``h``/``m``) of ``counts`` whose span holds ``position``, given ``n`` items
    before the first, and how many come before it (the last attribute when the tallies lag the list)."""
    attr = ""
    for attr in sorted(a for a in counts if a.startswith(kind)):
        if n + counts[attr] > position:
            break
        n += counts[attr]
    return attr, n


def _next_ms(stamp: str) -> str:
    return clock.iso(clock.parse_iso(stamp) + timedelta(milliseconds=1)) if stamp < LATEST else "9999-12-31T23:59:59.999Z~"


def _get(lst: TimeList, sk: str) -> dict[str, int]:
    item = table.get(lst.tally_pk, sk) or {}
    return {k: int(v) for k, v in item.items() if k not in ("PK", "SK")}


def _count(lst: TimeList, lo: str, hi: str, *, upper_exclusive: bool = False) -> int:
    """The list's items in [lo, hi] (or [lo, hi)), counted (a partial minute: a few items at most)."""
    params = lst.query(lo, hi, forward=True)
    if upper_exclusive:
        # [lo, hi): the sort keys at ``hi`` itself go on with "#<id>", so they sort after the bare prefix + hi
        params["ExpressionAttributeValues"] |= table.values(hi=lst.prefix + lst.encode(hi))
    return table.count(**params)


def window(lst: TimeList, lo: str = EARLIEST, hi: str = LATEST) -> Window:
    """The tallies of ``lst`` that a window [lo, hi] needs: its years (one Query), and the days and hours of its
    two edges (one BatchGetItem, only those the years say hold items)."""
    items = table.query_all(
        key_condition="PK = :pk AND SK BETWEEN :lo AND :hi",
        expr_values=table.values(pk=lst.tally_pk, lo=f"Y#{lo[:4]}", hi=f"Y#{_next_ms(hi)[:4]}"),
    )
    years = {i["SK"][2:]: {k: int(v) for k, v in i.items() if k not in ("PK", "SK")} for i in items}
    win = Window(lst, lo, hi, years, {}, {})
    wanted: list[str] = []
    for stamp in (lo, _next_ms(hi)):
        if years.get(stamp[:4], {}).get(f"d{stamp[5:7]}{stamp[8:10]}"):
            wanted += [f"D#{stamp[:10]}", f"H#{stamp[:13]}"]
    if wanted:
        got = table.batch_get([(lst.tally_pk, sk) for sk in wanted])
        for item in got.values():
            attrs = {k: int(v) for k, v in item.items() if k not in ("PK", "SK")}
            sk = item["SK"]
            (win.days if sk.startswith("D#") else win.hours)[sk[2:]] = attrs
        for sk in wanted:
            (win.days if sk.startswith("D#") else win.hours).setdefault(sk[2:], {})
    return win


def page(
    lst: TimeList, *, offset: int, limit: int, forward: bool, lo: str = EARLIEST, hi: str = LATEST, extra: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the list's window [lo, hi] (oldest first when ``forward``), and the
    window's total, from the tallies: the page's Query starts in the minute of its first item and skips (counts)
    only that minute's earlier items. ``extra``: more Query parameters (a projection)."""
    win = window(lst, lo, hi)
    first = win.before(lo)
    end = win.before(_next_ms(hi))
    total = max(0, end - first)
    if limit <= 0 or offset >= total:
        return [], total
    position = first + offset if forward else end - 1 - offset
    minute, before_minute = win.locate(position)
    m_lo, m_hi = minute + ":00.000Z", minute + ":59.999Z"
    if forward:
        start = max(lo, m_lo)
        skip = position - max(before_minute, first)
        params = lst.query(start, hi, forward=True)
    else:
        stop = min(hi, m_hi)
        in_minute_upto_stop = win.before(_next_ms(stop)) - before_minute
        skip = before_minute + in_minute_upto_stop - 1 - position
        params = lst.query(lo, stop, forward=False)
    params |= extra or {}
    start_key = None
    if skip > 0:
        start_key = table.skip(skip, **params)
        if start_key is None:
            return [], total
    items, _ = table.query_page(limit=limit, start_key=start_key, **params)
    return items, total


# ───────────── rebuilding ─────────────
def count_list(lst: TimeList) -> int:
    """The list's size by counting it (tests and the rebuild check: reads every item)."""
    return table.count(**lst.query(EARLIEST, LATEST, forward=True))


def tallied_total(lst: TimeList) -> int:
    return window(lst).total()


def stream_changes(records: Iterable[dict[str, Any]]) -> list[Change]:
    """Lambda's DynamoDB stream records → changes (images in DynamoDB JSON)."""
    out = []
    for rec in records:
        ddb = rec.get("dynamodb") or {}
        old = table.unmarshal(ddb["OldImage"]) if ddb.get("OldImage") else None
        new = table.unmarshal(ddb["NewImage"]) if ddb.get("NewImage") else None
        changes = deltas(old, new)
        lists = frozenset(lst for lst, _ in memberships(old) + memberships(new)) if changes else frozenset()
        out.append(Change(seq=str(ddb.get("SequenceNumber", "")), changes=changes, lists=lists))
    return out
