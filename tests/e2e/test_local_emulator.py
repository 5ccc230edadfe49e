"""The local stack's emulator under concurrency: what each DynamoDB call does is atomic, as on AWS."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
from botocore.config import Config


def _ddb(local: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=local.emulator,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=20),  # every error counts
    )


def test_concurrent_transactions_and_queries_never_fail(local):
    """12 threads: TransactWriteItems (puts, conditional updates) beside Query on the table and its GSI,
    on a table of a few hundred items — before the DynamoDB lock, moto answered HTTP 500 "dictionary
    changed size during iteration" (its rollback snapshot deep-copies the table another thread writes)."""
    table = local.resources["TABLE_NAME"]
    ddb = _ddb(local)
    run = uuid.uuid4().hex[:8]
    for n in range(0, 300, 25):  # enough items that a whole-table copy takes a while
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"PK": {"S": f"conc#{run}#{i % 10}"}, "SK": {"S": f"seed#{i:04d}"},
                                             "GSI1PK": {"S": f"conc#{run}"}, "GSI1SK": {"S": f"{i:04d}"}, "n": {"N": "0"}}}}
                    for i in range(n, n + 25)
                ]
            }
        )  # fmt: skip
    errors: list[str] = []
    counts = {"tx": 0, "query": 0}
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(25):
            pk = {"S": f"conc#{run}#{(w + i) % 10}"}
            seed = (w * 25 + i) % 300  # each seed item once over all writers
            try:
                ddb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": {"PK": pk, "SK": {"S": f"w{w}#{i}"}, "GSI1PK": {"S": f"conc#{run}"},
                                                               "GSI1SK": {"S": f"w{w}#{i}"}}}},
                        {"Update": {"TableName": table, "Key": {"PK": {"S": f"conc#{run}#{seed % 10}"}, "SK": {"S": f"seed#{seed:04d}"}},
                                    "UpdateExpression": "ADD n :one", "ConditionExpression": "attribute_exists(PK)",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    ]
                )  # fmt: skip
                with lock:
                    counts["tx"] += 1
            except Exception as err:
                with lock:
                    errors.append(f"transact: {err}")

    def reader(r: int) -> None:
        for i in range(25):
            try:
                if i % 2:
                    ddb.query(
                        TableName=table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": f"conc#{run}#{i % 10}"}}
                    )
                else:
                    ddb.query(
                        TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
                        ExpressionAttributeValues={":pk": {"S": f"conc#{run}"}},
                    )  # fmt: skip
                with lock:
                    counts["query"] += 1
            except Exception as err:
                with lock:
                    errors.append(f"query: {err}")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)] + [
        threading.Thread(target=reader, args=(r,)) for r in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [], f"{len(errors)} errors, e.g. {errors[:3]}"
    assert counts == {"tx": 200, "query": 100}
    # Every conditional ADD landed exactly once: 200 increments over the 300 seed items.
    total = 0
    for p in range(10):
        items = ddb.query(TableName=table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": f"conc#{run}#{p}"}})[
            "Items"
        ]
        total += sum(int(it["n"]["N"]) for it in items if "n" in it)
    assert total == 200
