"""The battery's emulator speed-up keeps DynamoDB's transaction semantics: a cancelled transaction
leaves every item it named exactly as it was (new items absent, changed items restored)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_cancelled_transaction_leaves_every_named_item_as_it_was(aws):
    from parley.dal import table

    table.put_item({"PK": "T#1", "SK": "A", "n": 1})
    table.put_item({"PK": "T#1", "SK": "B", "n": 1})
    before = [table.get("T#1", sk) for sk in ("A", "B", "C")]
    ops = [
        {"Update": {"Key": table.key("T#1", "A"), "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": table.values(two=2)}},
        {"Put": {"Item": table.marshal({"PK": "T#1", "SK": "C", "n": 3})}},
        {"Delete": {"Key": table.key("T#1", "B")}},
        {"ConditionCheck": {"Key": table.key("T#1", "D"), "ConditionExpression": "attribute_exists(PK)"}},
    ]
    with pytest.raises(ClientError) as err:
        table.transact(ops)
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (
        [table.get("T#1", sk) for sk in ("A", "B", "C")]
        == before
        == [{"PK": "T#1", "SK": "A", "n": 1}, {"PK": "T#1", "SK": "B", "n": 1}, None]
    )

    table.transact(ops[:3])  # without the failing check it commits
    assert [table.get("T#1", sk) for sk in ("A", "B", "C")] == [{"PK": "T#1", "SK": "A", "n": 2}, None, {"PK": "T#1", "SK": "C", "n": 3}]
