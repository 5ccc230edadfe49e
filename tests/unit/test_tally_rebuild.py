"""The pure parts of rebuilding tallies: naming lists, reading a sort key's minute, which buckets a tally names,
merging a year's corrections, and the consumer's directory entries (dal/tally_rebuild.py, dal/tallies.py)."""

from __future__ import annotations

import pytest

from parley.dal import tallies, tally_rebuild
from parley.dal.tallies import TimeList
from parley.domain import tally_rebuild as domain
from parley.errors import BadRequest


def test_list_names_map_to_the_tenants_tallied_lists():
    assert domain.named_lists("t", "email") == [TimeList("GSI1", "TENANT#t#EMAIL")]
    assert domain.named_lists("t", "records") == [TimeList("GSI5", "TENANT#t#REC")]
    assert domain.named_lists("t", "status:sent") == [TimeList("GSI7", "TENANT#t#STATUS#SENT")]
    assert domain.named_lists("t", "address:A@X.example") == [
        TimeList("GSI2", "TENANT#t#ADDR#a@x.example", "EMAIL#"),
        TimeList("GSI2", "TENANT#t#ADDR#a@x.example", "SMS#"),
    ]
    assert domain.named_lists("t", "optin:+15550001111") == [TimeList("", "TENANT#t#OPTIN#+15550001111", "HIST#", epoch_ms=True)]
    assert domain.named_lists("t", "forward:C@x.example") == [TimeList("", "TENANT#t#FWD#c@x.example", "FWD#", epoch_ms=True)]
    for bad in ("status:LOST", "address:", "email:x", "everything"):
        with pytest.raises(BadRequest):
            domain.named_lists("t", bad)


def test_a_sort_keys_minute():
    iso = TimeList("GSI2", "TENANT#t#ADDR#a", "EMAIL#")
    assert tally_rebuild._minute(iso, "EMAIL#2026-01-01T00:01:59.999Z#m1") == "2026-01-01T00:01"
    assert tally_rebuild._minute(iso, "EMAIL#garbage") is None
    ms = TimeList("", "TENANT#t#OPTIN#x", "HIST#", epoch_ms=True)
    assert tally_rebuild._minute(ms, "HIST#1767225660000#h1") == "2026-01-01T00:01"


def test_every_bucket_a_tally_names_is_checked():
    items = {
        "Y#2025": {"n": 3, "d1231": 3},
        "Y#2024": {"n": 5},  # a year with no day
        "D#2026-01-02": {"n": 1, "h07": 1},  # a day its year does not name
        "H#2026-01-03T05": {"n": 0},
    }
    named = tally_rebuild._named(items, ["2027-02-03T04:05"])
    assert {y: {d: sorted(h) for d, h in days.items()} for y, days in named.items()} == {
        "2025": {"2025-12-31": []},
        "2024": {},
        "2026": {"2026-01-02": ["2026-01-02T07"], "2026-01-03": ["2026-01-03T05"]},
        "2027": {"2027-02-03": ["2027-02-03T04"]},
    }


def test_a_years_corrections_merge_into_one_line_per_item():
    fixes = [
        tally_rebuild.Fix("Y#2025", {"n": 10, "d0101": 4}, {"d0101": -1, "n": -1}),
        tally_rebuild.Fix("Y#2025", {"n": 9}, {"d0102": 2, "n": 2}),
        tally_rebuild.Fix("D#2025-01-03", {"n": 1}, {"n": 0}),
    ]
    (merged,) = tally_rebuild._merge(fixes)
    assert merged.add == {"d0101": -1, "n": 1, "d0102": 2}
    assert merged.expected() == {"d0101": 3, "n": 11, "d0102": 2}


def test_the_consumer_puts_each_touched_list_in_its_tenants_directory():
    old = {"PK": "TENANT#t#MSG#1", "SK": "MSG", "GSI7PK": "TENANT#t#STATUS#QUEUED", "GSI7SK": "2026-01-01T00:00:00.000Z#1"}
    new = old | {"GSI7PK": "TENANT#t#STATUS#SENT"}
    record = {"dynamodb": {"SequenceNumber": "1", "OldImage": _ddb(old), "NewImage": _ddb(new)}}
    (change,) = tallies.stream_changes([record])
    assert {lst.pk for lst in change.lists} == {"TENANT#t#STATUS#QUEUED", "TENANT#t#STATUS#SENT"}
    ops = tallies._transaction([change], 0)
    entries = [op["Put"]["Item"] for op in ops if "Put" in op and op["Put"]["Item"]["PK"]["S"].startswith("TALLY#LISTS#")]
    assert sorted(e["SK"]["S"] for e in entries) == ["TALLY#GSI7#TENANT#t#STATUS#QUEUED#", "TALLY#GSI7#TENANT#t#STATUS#SENT#"]
    assert all(e["PK"]["S"] == "TALLY#LISTS#t" for e in entries)
    lst = TimeList("", "TENANT#t#FWD#c@x", "FWD#", epoch_ms=True)
    assert TimeList.from_entry(lst.entry()) == lst and lst.tenant_id == "t"
    assert TimeList("GSI1", "X#1").tenant_id == ""  # not a tenant's: no directory entry


def test_chunks_leave_room_for_the_directory_entries():
    changes = []
    for n in range(60):
        item = {"PK": f"TENANT#t#MSG#{n}", "SK": "MSG", "GSI1PK": f"TENANT#t#L{n}", "GSI1SK": f"2026-01-01T00:00:00.000Z#{n}"}
        lists = frozenset(lst for lst, _ in tallies.memberships(item))
        changes.append(tallies.Change(seq=str(n), changes=tallies.deltas(None, item), lists=lists))
    chunks = list(tallies._chunks(changes))
    assert sum(len(c) for c in chunks) == 60
    assert all(len(tallies._transaction(c, 0)) <= tallies.MAX_TX_ITEMS for c in chunks)
    assert len(chunks) == 3  # 20 changes a chunk: 20 markers + 60 cells + 20 entries


def test_a_process_puts_a_lists_directory_entry_once(monkeypatch):
    """Once a transaction with a list's entry committed, later changes to that list leave the entry out; a failed
    transaction does not count, and ``aws.reset`` (a new table) forgets what was put."""
    sent: list[list[dict]] = []
    fail = [True]

    class Ddb:
        def transact_write_items(self, TransactItems):
            sent.append(TransactItems)
            if fail.pop() if fail else False:
                raise RuntimeError("boom")

    monkeypatch.setattr(tallies.table, "ddb", lambda: Ddb())

    def change(n: int) -> tallies.Change:
        item = {"PK": f"TENANT#t#MSG#{n}", "SK": "MSG", "GSI1PK": "TENANT#t#L", "GSI1SK": f"2026-01-01T00:00:00.000Z#{n}"}
        lists = frozenset(lst for lst, _ in tallies.memberships(item))
        return tallies.Change(seq=str(n), changes=tallies.deltas(None, item), lists=lists)

    def entries(ops: list[dict]) -> list[str]:
        return [op["Put"]["Item"]["SK"]["S"] for op in ops if "Put" in op and op["Put"]["Item"]["PK"]["S"].startswith("TALLY#LISTS#")]

    with pytest.raises(tallies.Unapplied):
        tallies.apply([change(1)], attempts=1)
    tallies.apply([change(2)])
    tallies.apply([change(3)])
    assert [entries(ops) for ops in sent] == [["TALLY#GSI1#TENANT#t#L#"], ["TALLY#GSI1#TENANT#t#L#"], []]
    tallies.aws.reset()
    tallies.apply([change(4)])
    assert entries(sent[-1]) == ["TALLY#GSI1#TENANT#t#L#"]


@pytest.fixture(autouse=True)
def _table_name(monkeypatch):
    from parley.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "parley")
    get_settings.cache_clear()
    tallies._in_directory.clear()
    yield
    get_settings.cache_clear()
    tallies._in_directory.clear()


def _ddb(item: dict) -> dict:
    return tallies.table.marshal(item)
