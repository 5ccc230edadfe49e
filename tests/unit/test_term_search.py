"""The intersection of domain/term_search.py against brute force, on random lists: record partitions (merged, some read
through a filter that leaves items out, as GSI3/GSI6 do) and token lists, in either direction, with any ``want``.
The data layer's two reads are replaced by in-memory lists that behave like a DynamoDB Query with ``Limit``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from parley.domain import term_search
from parley.models.domain import Message, MessageStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def message(n: int) -> Message:
    return Message(
        tenant_id="t", id=f"m{n:05d}", channel="email", direction="outbound", status=MessageStatus.SENT, source_api="crm",
        sender="a@b.example", recipient="c@d.example", conversation_id="c", provider="ses",
        created_at=T0 + timedelta(seconds=n * random.Random(n).choice([1, 1, 60, 3600])),
    )  # fmt: skip


def key(msg: Message) -> str:
    return f"{msg.created_at.strftime('%Y-%m-%dT%H:%M:%S.')}{msg.created_at.microsecond // 1000:03d}Z#{msg.id}"


class World:
    """Partitions (disjoint; each item kept or left out by its filter) and token lists over one universe."""

    def __init__(self, rng: random.Random) -> None:
        self.msgs = [message(n) for n in range(rng.randint(0, 160))]
        self.by_key = {key(m): m for m in self.msgs}
        keys = sorted(self.by_key)
        self.parts: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        weights = [rng.choice([1, 2, 10]) for _ in range(4)]  # partitions of unequal density; the last owns no partition
        owner = {k: rng.choices(range(4), weights)[0] for k in keys}
        for p in range(rng.randint(1, 3)):
            keep = rng.choice([1.0, 1.0, 0.6, 0.2])  # < 1: read through a filter that leaves items out
            self.parts[("GSI7" if keep == 1.0 else "GSI6", f"P{p}")] = [(k, rng.random() < keep) for k in keys if owner[k] == p]
        self.terms = {f"T{i}": {k for k in keys if rng.random() < rng.choice([0.05, 0.3, 0.9, 1.0])} for i in range(rng.randint(1, 3))}
        self.reads = 0

    def read_after(self, part, *, after, limit, forward):
        items = self.parts[part] if forward else list(reversed(self.parts[part]))
        rest = [(k, keep) for k, keep in items if after is None or (k > after if forward else k < after)]
        examined = rest[:limit]
        self.reads += len(examined)
        more = len(rest) > limit or (len(rest) == limit and limit > 0)  # DynamoDB may say "more" at an exact end
        stop = examined[-1][0] if more and examined else None
        return [self.by_key[k] for k, keep in examined if keep], stop, len(examined)

    def term_sort_keys(self, tenant_id, term, *, after, limit, forward):
        keys = sorted(self.terms[term], reverse=not forward)
        rest = [k for k in keys if after is None or (k > after if forward else k < after)]
        self.reads += min(limit, len(rest))
        return rest[:limit], len(rest) >= limit

    def matches(self, forward: bool) -> list[str]:
        kept = {k for items in self.parts.values() for k, keep in items if keep}
        both = kept.intersection(*self.terms.values())
        return sorted(both, reverse=not forward)


@pytest.mark.parametrize("seed", range(300))
def test_the_intersection_finds_what_brute_force_finds(seed, monkeypatch):
    rng = random.Random(seed)
    world = World(rng)
    monkeypatch.setattr(term_search.records, "read_after", world.read_after)
    monkeypatch.setattr(term_search.search_index, "term_sort_keys", world.term_sort_keys)
    forward = rng.random() < 0.5
    want = rng.choice([None, 1, 2, 5, 11, 21, 60])
    parts = list(world.parts)
    kept = {k for items in world.parts.values() for k, keep in items if keep}

    def decide(msgs):
        return [m for m in msgs if key(m) in kept and all(key(m) in t for t in world.terms.values())], 0

    def fetch(keys):
        return [world.by_key[k] for k in keys]

    found: list[str] = []
    out = term_search.find(
        term_search.RecordLane(parts, forward=forward),
        [term_search.TermLane("t", t, forward=forward) for t in world.terms],
        decide=decide, fetch=fetch, on_match=lambda m: found.append(key(m)),
        want=want, narrow=rng.random() < 0.5, budget=10_000,
    )  # fmt: skip
    truth = world.matches(forward)
    assert found == truth[: len(found)], "every match in order, none skipped, none twice"
    assert out.found == len(found)
    if out.exhausted:
        assert found == truth
    else:
        assert want is not None and len(found) >= want
    if want is None:
        assert out.exhausted


def test_over_budget_is_refused(monkeypatch):
    rng = random.Random(7)
    world = World(rng)
    while len(world.msgs) < 50:
        world = World(rng)
    world.parts = {("GSI7", "P0"): [(k, True) for k in sorted(world.by_key)]}  # nothing matches: it would read them all
    monkeypatch.setattr(term_search.records, "read_after", world.read_after)
    monkeypatch.setattr(term_search.search_index, "term_sort_keys", world.term_sort_keys)
    with pytest.raises(term_search.TooMany):
        term_search.find(
            term_search.RecordLane(list(world.parts), forward=False), [], decide=lambda msgs: ([], 0), fetch=lambda keys: [],
            on_match=lambda m: None, want=None, narrow=True, budget=10,
        )  # fmt: skip
