"""What a change of an item does to the tallies (docs/data-model.md §6.7): pure functions, no table."""

from __future__ import annotations

from parley.dal import tallies


def message(**extra: str) -> dict[str, str]:
    return {
        "PK": "TENANT#t#MSG#m1",
        "SK": "MSG",
        "type": "message",
        "GSI1PK": "TENANT#t#EMAIL",
        "GSI1SK": "2026-11-05T13:07:21.004Z#m1",
        "GSI2PK": "TENANT#t#ADDR#a@example.com",
        "GSI2SK": "EMAIL#2026-11-05T13:07:21.004Z#m1",
        "GSI3PK": "TENANT#t#CONV#m1",
        "GSI3SK": "2026-11-05T13:07:21.004Z#m1",
        **extra,
    }


def test_an_insert_adds_one_to_the_year_day_and_hour_of_each_list_it_is_in():
    out = tallies.deltas(None, message())
    timeline = "TALLY#GSI1#TENANT#t#EMAIL#"
    address = "TALLY#GSI2#TENANT#t#ADDR#a@example.com#EMAIL#"
    assert out == {
        (timeline, "Y#2026"): {"n": 1, "d1105": 1},
        (timeline, "D#2026-11-05"): {"n": 1, "h13": 1},
        (timeline, "H#2026-11-05T13"): {"n": 1, "m07": 1},
        (address, "Y#2026"): {"n": 1, "d1105": 1},
        (address, "D#2026-11-05"): {"n": 1, "h13": 1},
        (address, "H#2026-11-05T13"): {"n": 1, "m07": 1},
    }  # GSI3 (conversations) is not tallied


def test_a_remove_takes_it_away_and_an_unrelated_modify_changes_nothing():
    assert all(v == {k: -1 for k in v} for v in tallies.deltas(message(), None).values())
    assert tallies.deltas(message(), message(status="SENT", opened="yes")) == {}


def test_a_status_change_moves_the_record_between_status_lists():
    old = message(GSI7PK="TENANT#t#STATUS#QUEUED", GSI7SK="2026-11-05T13:07:21.004Z#m1")
    new = message(GSI7PK="TENANT#t#STATUS#SENT", GSI7SK="2026-11-05T13:07:21.004Z#m1")
    out = tallies.deltas(old, new)
    assert out[("TALLY#GSI7#TENANT#t#STATUS#QUEUED#", "H#2026-11-05T13")] == {"n": -1, "m07": -1}
    assert out[("TALLY#GSI7#TENANT#t#STATUS#SENT#", "H#2026-11-05T13")] == {"n": 1, "m07": 1}
    assert len(out) == 6


def test_epoch_ms_lists_and_what_is_not_listed():
    hist = {"PK": "TENANT#t#OPTIN#+15551230000", "SK": "HIST#1762348041004#x", "type": "optin_history"}
    out = tallies.deltas(None, hist)
    assert out[("TALLY#TABLE#TENANT#t#OPTIN#+15551230000#HIST#", "H#2025-11-05T13")] == {"n": 1, "m07": 1}
    # the state item of the same partition, a tally item itself, an item without a time: nothing
    assert tallies.deltas(None, {"PK": "TENANT#t#OPTIN#+15551230000", "SK": "STATE", "type": "optin"}) == {}
    assert tallies.deltas(None, {"PK": "TALLY#GSI1#TENANT#t#EMAIL#", "SK": "Y#2026", "n": 3}) == {}
    assert tallies.deltas(None, {"PK": "X", "SK": "Y", "GSI1PK": "p", "GSI1SK": "not-a-time"}) == {}


def test_chunks_keep_each_transaction_within_100_items(monkeypatch):
    from parley.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "parley")
    get_settings.cache_clear()
    changes = [tallies.Change(seq=str(i), changes=tallies.deltas(None, message(GSI2PK=f"TENANT#t#ADDR#{i}@x"))) for i in range(60)]
    chunks = list(tallies._chunks(changes))
    assert [c.seq for chunk in chunks for c in chunk] == [str(i) for i in range(60)]  # in order, each once
    for chunk in chunks:
        ops = tallies._transaction(chunk, 0)
        assert len(ops) <= tallies.MAX_TX_ITEMS
        assert {(o.get("Put") or o.get("Update"))["TableName"] for o in ops} == {"parley"}
        assert sum("Put" in o for o in ops) == len(chunk)  # one SEEN# marker per change
    get_settings.cache_clear()
