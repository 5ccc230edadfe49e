"""The records that match a free-text search, in creation order, found by intersecting sorted lists while reading
little more than the matches (docs/crm.md K-search-10, docs/data-model.md §6.8).

Two kinds of *lane* list the candidates, all sorted by the same key (``<created ISO>#<id>``):

- the **record lane**: the search's record partition(s) (a status, several merged, or every record), whole
  records: each is decided in memory (its own text, its fields), at a cost of one item read;
- a **term lane** per search key (the longest few): the key's token list; each entry is a candidate whose record
  must be fetched (BatchGetItem) to be decided, two items read in all.

Every match is in every lane, so whichever lane lists a stretch of the order decides that stretch completely. The
search walks the order in stretches, each read from the lane that covers the most of the order per item read:
measured as it goes (the time its items span, per item, weighed by the lane's cost). It starts on the record lane
(reading a page of it when the search has an indexed filter, a few records otherwise); only when that lane yields
fewer matches than a term lane could at best (one per two items read) are the term lanes measured, with a few
items each. What one lane read but another decided is wasted: at most those probes, and one stretch per switch.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from parley import clock
from parley.dal import records, search_index
from parley.models.domain import Message

PROBE = 5  # items a lane reads to measure how much of the order it covers
MAX_LANES = 4  # term lanes measured (the longest keys: the rarest, as a rule); every key is checked on the records
RECORD_CHUNK = 500
TERM_CHUNK = 100  # one BatchGetItem of the candidates' records
RECORD_COST, TERM_COST = 1, 2


class TooMany(Exception):
    """The search would read more than its budget."""


def _ms(sort_key: str) -> int:
    return clock.epoch_ms(clock.parse_iso(sort_key[:24]))


def _after(a: str, b: str | None, forward: bool) -> bool:
    """``a`` comes after ``b`` in the order read (None: before everything)."""
    return b is None or (a > b if forward else a < b)


def _later(a: str | None, b: str | None, forward: bool) -> str | None:
    """The later of two boundaries in the order read (None: before everything)."""
    if a is None or b is None:
        return a if b is None else b
    return a if _after(a, b, forward) else b


class Lane:
    """A sorted list read in stretches from a boundary, with what it cost and what it yielded (to choose the next)."""

    cost = RECORD_COST

    def __init__(self, forward: bool) -> None:
        self.forward = forward
        self.read = 0  # items read from DynamoDB
        self.fetched = 0  # … of which came back (a filtered partition reads some it leaves out)
        self.span = 0  # ms of the order those reads covered
        self.decided = 0  # items it decided
        self.matched = 0

    def _measure(self, start: str | None, keys: list[str]) -> None:
        if keys:
            self.span += abs(_ms(keys[-1]) - _ms(start if start is not None else keys[0]))

    def coverage(self) -> float:
        """ms of the order covered per item read, weighed by the cost of deciding an item (+1 ms: a burst of
        items in one millisecond still counts); infinite once its whole rest is buffered (it decides everything
        left), 0 before it was read."""
        if self.ended():
            return math.inf
        return (self.span + 1) / self.read / self.cost if self.read else 0.0

    def ended(self) -> bool:
        """Nothing of it is left unread."""
        raise NotImplementedError

    def rate(self) -> float:
        """Matches per decided item so far (1 before any: optimistic, so the first chunk is the page)."""
        return self.matched / self.decided if self.decided else 1.0

    def exhausted(self, cursor: str | None) -> bool:
        raise NotImplementedError


class RecordLane(Lane):
    """The plan's record partitions, merged in order, each read from a boundary into a buffer."""

    def __init__(self, parts: list[records.Partition], *, forward: bool) -> None:
        super().__init__(forward)
        self.parts = parts
        self.buf: dict[records.Partition, deque[tuple[str, Message]]] = {p: deque() for p in parts}
        self.more = dict.fromkeys(parts, True)
        self.frontier: dict[records.Partition, str | None] = dict.fromkeys(parts)

    def _drop(self, cursor: str | None) -> None:
        for buf in self.buf.values():
            while buf and not _after(buf[0][0], cursor, self.forward):
                buf.popleft()

    def exhausted(self, cursor: str | None) -> bool:
        self._drop(cursor)
        return not any(self.buf.values()) and self.ended()

    def ended(self) -> bool:
        return not any(self.more.values())

    def pull(self, cursor: str | None, n: int) -> list[Message]:
        """Up to ``n`` next records after ``cursor``, each partition read up to ``n`` beyond it. Only records up to
        the earliest point where a partition's read stopped are taken (what lies past it stays buffered), so the
        records taken are every record of the partitions up to the last one taken. May take none (a filtered
        partition read nothing but items its filter left out): the next pull reads on."""
        self._drop(cursor)
        for part in self.parts:
            buf = self.buf[part]
            if len(buf) >= n or not self.more[part]:
                continue
            start = self.frontier[part] if buf else _later(cursor, self.frontier[part], self.forward)
            msgs, stop, scanned = records.read_after(part, after=start, limit=n - len(buf), forward=self.forward)
            keys = [records.sort_key(m) for m in msgs]
            self.read += scanned
            self.fetched += len(msgs)
            self._measure(start, [*keys, *([stop] if stop else [])])
            buf.extend(zip(keys, msgs, strict=True))
            self.more[part] = stop is not None
            if stop is not None or keys:
                self.frontier[part] = stop or keys[-1]
        stops = [self.frontier[p] for p in self.parts if self.more[p]]
        limit = None
        for stop in stops:  # the earliest stop in the order read
            limit = stop if limit is None or _after(limit, stop, self.forward) else limit
        out: list[Message] = []
        while len(out) < n:
            heads = [buf for buf in self.buf.values() if buf and (limit is None or not _after(buf[0][0], limit, self.forward))]
            if not heads:
                break
            pick = (min if self.forward else max)(heads, key=lambda b: b[0][0])
            out.append(pick.popleft()[1])
        return out


class TermLane(Lane):
    """One key's token list, read from a boundary into a buffer of sort keys."""

    cost = TERM_COST

    def __init__(self, tenant_id: str, key: str, *, forward: bool) -> None:
        super().__init__(forward)
        self.tenant_id = tenant_id
        self.key = key
        self.buf: deque[str] = deque()
        self.more = True
        self.frontier: str | None = None

    def _drop(self, cursor: str | None) -> None:
        while self.buf and not _after(self.buf[0], cursor, self.forward):
            self.buf.popleft()

    def exhausted(self, cursor: str | None) -> bool:
        self._drop(cursor)
        return not self.buf and self.ended()

    def ended(self) -> bool:
        return not self.more

    def fill(self, cursor: str | None, n: int) -> None:
        """Have at least ``n`` sort keys after ``cursor`` buffered (or the whole rest of the list)."""
        self._drop(cursor)
        if len(self.buf) >= n or not self.more:
            return
        start = self.frontier if self.buf else _later(cursor, self.frontier, self.forward)
        keys, self.more = search_index.term_sort_keys(self.tenant_id, self.key, after=start, limit=n - len(self.buf), forward=self.forward)
        self.read += len(keys)
        self.fetched += len(keys)
        self._measure(start, keys)
        self.buf.extend(keys)
        if keys:
            self.frontier = keys[-1]

    def pull(self, cursor: str | None, n: int) -> list[str]:
        self.fill(cursor, n)
        return [self.buf.popleft() for _ in range(min(n, len(self.buf)))]


@dataclass
class Outcome:
    found: int  # matches handed to ``on_match``
    exhausted: bool  # every candidate was decided: ``found`` is every match
    cursor: str | None  # the sort key up to which the order is decided
    reads: int  # items fetched: records, token items, candidates' records, index probes (the budget's measure)
    records_decided: int  # records the record lane decided
    terms_decided: bool  # a term lane decided part of the order (the record lane did not see all of it)


def find(
    record_lane: RecordLane,
    term_lanes: list[TermLane],
    *,
    decide: Callable[[list[Message]], tuple[list[Message], int]],
    fetch: Callable[[list[str]], list[Message]],
    on_match: Callable[[Message], None],
    want: int | None,
    narrow: bool,
    budget: int,
) -> Outcome:
    """Hand the matches to ``on_match`` in order until ``want`` of them (None: all) were found.

    ``decide(records)`` → (the matches among them, items it read to decide: index probes); ``fetch(sort keys)`` →
    the records of a term lane's candidates (those that still exist). ``narrow``: the record lane is an indexed
    filter's partition (its first chunk is the page: most of it matches as a rule). Raises ``TooMany`` once more
    than ``budget`` records were examined (read from the record lane, or fetched for a term lane's candidates)."""
    cursor: str | None = None
    found = reads = examined = 0
    probed = not term_lanes
    lanes: list[Lane] = [record_lane, *term_lanes]

    def need() -> int:
        return (want - found) if want is not None else RECORD_CHUNK

    while want is None or found < want:
        if examined > budget:
            raise TooMany(examined)
        if any(lane.exhausted(cursor) for lane in lanes):
            return _outcome(found, True, cursor, reads, record_lane, term_lanes)
        if not probed and record_lane.decided and record_lane.rate() < 1 / TERM_COST:
            for lane in term_lanes:  # the record lane yields less than a term lane could: measure the term lanes
                before = lane.fetched
                lane.fill(cursor, PROBE)
                reads += lane.fetched - before
            probed = True
            continue
        lane: Lane = record_lane
        if probed and term_lanes:
            lane = max(lanes, key=lambda la: la.coverage())
        if isinstance(lane, TermLane):
            n = max(1, min(TERM_CHUNK, math.ceil(need() / max(lane.rate(), 1 / TERM_CHUNK))))
            before = lane.fetched
            keys = lane.pull(cursor, n)
            reads += lane.fetched - before
            if not keys:
                continue  # it is exhausted: the next round ends
            msgs = fetch(keys)
            reads += len(keys)
            candidates = len(keys)
            frontier = keys[-1]
        else:
            first = not record_lane.decided
            if first:
                n = min(need(), RECORD_CHUNK if narrow else PROBE)
            else:
                n = max(1, min(RECORD_CHUNK, math.ceil(need() / max(record_lane.rate(), 1 / RECORD_CHUNK))))
            before = record_lane.fetched
            msgs = record_lane.pull(cursor, n)
            reads += record_lane.fetched - before
            if not msgs:
                continue
            candidates = len(msgs)
            frontier = records.sort_key(msgs[-1])
        examined += candidates
        matches, probes = decide(msgs)
        reads += probes
        lane.decided += candidates
        lane.matched += len(matches)
        for msg in matches:
            on_match(msg)
        found += len(matches)
        cursor = frontier
    if examined > budget:
        raise TooMany(examined)
    exhausted = any(lane.exhausted(cursor) for lane in lanes)
    return _outcome(found, exhausted, cursor, reads, record_lane, term_lanes)


def _outcome(found: int, exhausted: bool, cursor: str | None, reads: int, record_lane: RecordLane, term_lanes: list[TermLane]) -> Outcome:
    return Outcome(found, exhausted, cursor, reads, record_lane.decided, any(t.decided for t in term_lanes))
