"""The single-table helpers in ``parley.dal.table``: conditional transactions (``try_transact``)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def _put(pk: str, *, condition: str | None = "attribute_not_exists(PK)") -> dict[str, Any]:
    from parley.dal import table

    body: dict[str, Any] = {"Item": table.marshal({"PK": pk, "SK": "X", "type": "test"})}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def test_try_transact_writes_and_answers_true(aws: Any) -> None:
    from parley.dal import table

    assert table.try_transact([_put("T#a"), _put("T#b")]) is True
    assert table.get("T#a", "X") is not None and table.get("T#b", "X") is not None


def test_try_transact_is_false_and_writes_nothing_when_a_condition_fails(aws: Any) -> None:
    from parley.dal import table

    table.put_item({"PK": "T#taken", "SK": "X", "type": "test"})
    assert table.try_transact([_put("T#new"), _put("T#taken")]) is False
    assert table.get("T#new", "X") is None


def test_try_transact_raises_other_errors(aws: Any) -> None:
    from parley.dal import table

    bad = {"Update": {"Key": table.key("T#x", "X"), "UpdateExpression": "SET #a = :missing", "ExpressionAttributeNames": {"#a": "a"}}}
    with pytest.raises(ClientError):
        table.try_transact([bad])


def test_try_transact_decisive_ops_only(aws: Any) -> None:
    """With ``decisive``, a failed condition on another op is an error, not a "no"."""
    from parley.dal import table

    table.put_item({"PK": "T#taken", "SK": "X", "type": "test"})
    assert table.try_transact([_put("T#taken"), _put("T#new")], decisive=(0,)) is False
    with pytest.raises(ClientError) as err:
        table.try_transact([_put("T#new"), _put("T#taken")], decisive=(0,))
    assert table.cancel_reasons(err.value) == ["None", "ConditionalCheckFailed"]
    assert table.get("T#new", "X") is None
