"""The capacity arithmetic of ``bench/cost.py`` (the inputs of docs/operations.md's cost section): DynamoDB item sizes,
write request units of a write as DynamoDB bills them on demand, and the extra writes of the indexes an item is in."""

from __future__ import annotations

import sys

from helpers import ROOT

sys.path.insert(0, str(ROOT))
from bench.cost import item_size, transact_keys, write_capacity

INDEXES = [("GSI1PK", "GSI1SK"), ("GSI7PK", "GSI7SK")]


def s(v: str) -> dict:
    return {"S": v}


def record(old: dict | None, new: dict | None, pk: str = "T#1#MSG#m", sk: str = "MSG") -> dict:
    ddb = {"Keys": {"PK": s(pk), "SK": s(sk)}}
    if old is not None:
        ddb["OldImage"] = old
    if new is not None:
        ddb["NewImage"] = new
    return {"dynamodb": ddb}


def test_item_size_counts_names_and_values():
    assert item_size({"PK": s("abc")}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits → 3 bytes + 1
    assert item_size({"flag": {"BOOL": True}}) == 4 + 1
    assert item_size({"m": {"M": {"a": s("xy")}}}) == 1 + 3 + 1 + 1 + 2
    assert item_size({"l": {"L": [s("x"), s("yz")]}}) == 1 + 3 + (1 + 1) + (1 + 2)


def test_a_small_put_outside_indexes_is_one_unit_and_twice_in_a_transaction():
    rec = record(None, {"PK": s("T#1#MSG#m"), "SK": s("MSG"), "body": s("x" * 100)})
    assert write_capacity([rec], set(), INDEXES).table_wru == 1
    assert write_capacity([rec], {("T#1#MSG#m", "MSG")}, INDEXES).table_wru == 2


def test_the_larger_image_decides_and_every_index_the_item_is_in_adds_a_write():
    old = {"PK": s("p"), "SK": s("MSG"), "GSI1PK": s("a"), "GSI1SK": s("1"), "GSI7PK": s("QUEUED"), "GSI7SK": s("1"), "b": s("x" * 1500)}
    new = {**old, "b": s("x" * 100), "GSI7PK": s("SENT")}
    cap = write_capacity([record(old, new)], set(), INDEXES)
    assert cap.table_wru == 2  # the item was over 1 KB before the update
    # GSI1: key unchanged, attributes changed → 1 write of the new item (1 unit); GSI7: key moved → delete (2) + put (1)
    assert (cap.index_writes, cap.index_wru) == (3, 1 + 2 + 1)


def test_an_item_leaving_an_index_is_one_delete_there():
    old = {"PK": s("p"), "SK": s("MSG"), "GSI7PK": s("SCHEDULED"), "GSI7SK": s("1")}
    cap = write_capacity([record(old, {"PK": s("p"), "SK": s("MSG")})], set(), INDEXES)
    assert (cap.index_writes, cap.index_wru) == (1, 1)
    assert (
        write_capacity([record(None, {"PK": s("p"), "SK": s("MSG"), "GSI1PK": s("a")})], set(), INDEXES).index_writes == 0
    )  # no sort key: not in GSI1


def test_transact_keys_finds_written_items_and_counts_condition_checks():
    calls = [{"op": "TransactWriteItems", "service": "dynamodb", "params": {"TransactItems": [
        {"Put": {"Item": {"PK": s("a"), "SK": s("1")}}},
        {"Update": {"Key": {"PK": s("b"), "SK": s("2")}}},
        {"ConditionCheck": {"Key": {"PK": s("c"), "SK": s("3")}}},
    ]}}, {"op": "PutItem", "service": "dynamodb", "params": {"Item": {"PK": s("d"), "SK": s("4")}}}]  # fmt: skip
    assert transact_keys(calls) == ({("a", "1"), ("b", "2")}, 1)
