"""``moto_patches.patch_queries`` answers an index Query from maps of the index's partitions, kept up to date item by
item as writes happen (puts, updates that move an item between partitions, deletes, batch writes, transactions and
their rollbacks). A randomized workload is run against moto as released and against moto with the patches, each in its
own interpreter; after every write, the same index Queries must return the same items in the same order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WORKLOAD = r"""
import json, os, random, sys
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
from moto import mock_aws
import boto3
from botocore.exceptions import ClientError

if sys.argv[1] == "patched":
    from parley_local import moto_patches
    moto_patches.patch_transactions()
    moto_patches.patch_queries()

rnd = random.Random(1207)
out = []
with mock_aws():
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    gsi = lambda n: {"IndexName": n, "KeySchema": [{"AttributeName": n + "PK", "KeyType": "HASH"},
                     {"AttributeName": n + "SK", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}
    attrs = [{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")]
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attrs,
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                     GlobalSecondaryIndexes=[gsi("GSI1"), gsi("GSI2")])
    parts = ["a", "b", "c", "d"]

    def item(pk, sk):
        it = {"PK": {"S": pk}, "SK": {"S": sk}, "n": {"N": str(rnd.randint(0, 9))}}
        if rnd.random() < 0.8:
            it["GSI1PK"] = {"S": rnd.choice(parts)}
            it["GSI1SK"] = {"S": f"{rnd.randint(0, 5):02d}"}
        if rnd.random() < 0.5:
            it["GSI2PK"] = {"S": rnd.choice(parts)}
            it["GSI2SK"] = {"S": f"{rnd.randint(0, 50):03d}"}
        return it

    def queries():
        seen = []
        for index in ("GSI1", "GSI2"):
            for p in parts:
                pages, start = [], None
                while True:
                    kw = {"ExclusiveStartKey": start} if start else {}
                    r = ddb.query(TableName="t", IndexName=index, KeyConditionExpression="#p = :p",
                                  ExpressionAttributeNames={"#p": index + "PK"}, ExpressionAttributeValues={":p": {"S": p}},
                                  Limit=7, ScanIndexForward=rnd.random() < 0.5, **kw)
                    pages.append([(i["PK"]["S"], i["SK"]["S"], i.get("n", {}).get("N")) for i in r["Items"]])
                    start = r.get("LastEvaluatedKey")
                    if not start:
                        break
                seen.append(pages)
        return seen

    keys = [(f"pk{i % 7}", f"sk{i}") for i in range(40)]
    for step in range(int(sys.argv[2])):
        op = rnd.choice(["put", "put", "update", "update", "delete", "batch", "transact", "transact-fail"])
        pk, sk = rnd.choice(keys)
        key = {"PK": {"S": pk}, "SK": {"S": sk}}
        try:
            if op == "put":
                ddb.put_item(TableName="t", Item=item(pk, sk))
            elif op == "update":
                which = rnd.choice(["GSI1", "GSI2"])
                if rnd.random() < 0.3:
                    ddb.update_item(TableName="t", Key=key, UpdateExpression="REMOVE #p, #s",
                                    ExpressionAttributeNames={"#p": which + "PK", "#s": which + "SK"})
                else:
                    ddb.update_item(TableName="t", Key=key, UpdateExpression="SET #p = :p, #s = :s ADD n :one",
                                    ExpressionAttributeNames={"#p": which + "PK", "#s": which + "SK"},
                                    ExpressionAttributeValues={":p": {"S": rnd.choice(parts)}, ":s": {"S": f"{rnd.randint(0, 5):02d}"},
                                                               ":one": {"N": "1"}})
            elif op == "delete":
                ddb.delete_item(TableName="t", Key=key)
            elif op == "batch":
                chosen = rnd.sample(keys, 4)
                reqs = [{"PutRequest": {"Item": item(p, s)}} if rnd.random() < 0.6 else
                        {"DeleteRequest": {"Key": {"PK": {"S": p}, "SK": {"S": s}}}} for p, s in chosen]
                ddb.batch_write_item(RequestItems={"t": reqs})
            else:
                chosen = rnd.sample(keys, 3)
                tx = [{"Put": {"TableName": "t", "Item": item(p, s)}} for p, s in chosen[:2]]
                p, s = chosen[2]
                if op == "transact-fail":  # the last one's condition fails: the puts before it are rolled back
                    tx.append({"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": p}, "SK": {"S": s}},
                                                  "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(PK)"}})
                else:
                    tx.append({"Update": {"TableName": "t", "Key": {"PK": {"S": p}, "SK": {"S": s}},
                                          "UpdateExpression": "SET GSI1PK = :p, GSI1SK = :s",
                                          "ExpressionAttributeValues": {":p": {"S": rnd.choice(parts)}, ":s": {"S": "03"}}}})
                ddb.transact_write_items(TransactItems=tx)
            result = "ok"
        except ClientError as err:
            result = err.response["Error"]["Code"]
        out.append([step, op, result, queries()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def results() -> tuple[list, list]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/common"), str(ROOT / "local")])}
    runs = []
    for mode in ("released", "patched"):
        done = subprocess.run([sys.executable, "-c", WORKLOAD, mode, "300"], capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(json.loads(done.stdout))
    return runs[0], runs[1]


def test_every_index_query_after_every_write_is_moto_s_own_answer(results: tuple[list, list]) -> None:
    released, patched = results
    assert len(released) == len(patched) == 300
    for before, after in zip(released, patched, strict=True):
        assert after == before, f"step {before[0]} ({before[1]}, {before[2]})"


def test_the_workload_moves_items_between_partitions_and_rolls_back(results: tuple[list, list]) -> None:
    released, _ = results
    outcomes = {(op, result) for _, op, result, _ in released}
    expected = {("transact-fail", "TransactionCanceledException"), ("transact", "ok"), ("update", "ok"), ("delete", "ok"), ("batch", "ok")}
    assert expected <= outcomes
    # the partitions' contents change over the run (the queries are not answering from a stale map by luck)
    assert len({json.dumps(q) for *_, q in released}) > 100
