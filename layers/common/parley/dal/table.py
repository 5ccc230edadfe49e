"""Thin helpers over the single DynamoDB table (low-level client; no boto3 resource layer)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from parley.dal.aws import client
from parley.settings import get_settings

# DynamoDB's number limits (38 significant digits, exponent -130…+125), trapped as boto3's TypeSerializer traps them.
_DDB_NUMBERS = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _number(value: int | float | Decimal) -> str:
    """A number as DynamoDB's ``N`` string. A float is taken as written (``12.5``, e.g. in CRM variables)."""
    number = _DDB_NUMBERS.create_decimal(Decimal(repr(value)) if isinstance(value, float) else value)
    if not number.is_finite():
        raise TypeError(f"DynamoDB has no number {value!r}")
    return str(number)


def _plain_number(text: str) -> int | float:
    number = _DDB_NUMBERS.create_decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def attribute(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (what boto3's ``TypeSerializer`` does, with floats taken
    as numbers; the DAL imports botocore only, not boto3 and its transfer manager — see ``parley.dal.aws``)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, AbstractSet):
        if all(isinstance(v, str) for v in value) and value:
            return {"SS": list(value)}
        if all(isinstance(v, bytes | bytearray) for v in value) and value:
            return {"BS": [bytes(v) for v in value]}
        if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value):
            return {"NS": [_number(v) for v in value]}
        raise TypeError(f"a set of mixed types cannot be stored: {value!r}")
    if isinstance(value, Mapping):
        return {"M": {k: attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [attribute(v) for v in value]}
    raise TypeError(f"{type(value).__name__} cannot be stored: {value!r}")


def plain(attr: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as plain Python: numbers as int (integral) or float, sets as sets."""
    ((kind, value),) = attr.items()
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "N":
        return _plain_number(value)
    if kind == "M":
        return {k: plain(v) for k, v in value.items()}
    if kind == "L":
        return [plain(v) for v in value]
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_plain_number(v) for v in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(v) for v in value}
    raise TypeError(f"unknown DynamoDB attribute type {kind}")


def marshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: attribute(v) for k, v in item.items() if v is not None}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in item.items()}


def values(**kwargs: Any) -> dict[str, Any]:
    """``ExpressionAttributeValues`` from keyword arguments: ``values(s="SENT")`` → ``{":s": …}``."""
    return {f":{k}": attribute(v) for k, v in kwargs.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def ddb() -> Any:
    return client("dynamodb")


def table_name() -> str:
    return get_settings().table_name


def is_condition_failure(err: ClientError) -> bool:
    code = err.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = err.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


# Errors after which the same request may succeed: throttling, service-side 5xx, transaction conflicts.
# DynamoDB refusing a call for its rate (a hot key or partition, the table's or the account's throughput).
THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "RequestLimitExceeded"})
_TRANSIENT_CODES = THROTTLE_CODES | {
    "InternalServerError", "InternalFailure", "ServiceUnavailable", "TransactionConflictException",
    "TransactionInProgressException", "LimitExceededException",
}  # fmt: skip
_TRANSIENT_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded"})


def is_throttled(err: BaseException) -> bool:
    """DynamoDB refused the call for its rate (not for its content, nor a transaction's conflict)."""
    return isinstance(err, ClientError) and err.response.get("Error", {}).get("Code") in THROTTLE_CODES


def is_transient(err: BaseException) -> bool:
    """A DynamoDB call that failed in a way worth repeating (after a backoff): throttling, a 5xx (the
    local emulator answers 500 under load), a transaction cancelled for a conflict or a throttle (not for a
    failed condition), a connection or read timeout. Conditional writes repeated after such an error stay
    correct: the repeat finds the condition already spent if the first one landed."""
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = error.get("Code")
        if code == "TransactionCanceledException":
            reasons = {r.get("Code") for r in err.response.get("CancellationReasons") or []}
            return bool(reasons & _TRANSIENT_REASONS) and "ConditionalCheckFailed" not in reasons
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in _TRANSIENT_CODES or status >= 500
    return isinstance(err, (HTTPClientError, BotocoreConnectionError, ConnectionError, TimeoutError))


def get(pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """One item by key (``consistent``: a strongly consistent read, as every write before it left the item)."""
    extra: dict[str, Any] = {"ConsistentRead": True} if consistent else {}
    out = ddb().get_item(TableName=table_name(), Key=key(pk, sk), **extra)
    return unmarshal(out["Item"]) if "Item" in out else None


def batch_get(
    keys: Iterable[tuple[str, str]], *, consistent: bool = False, attributes: Iterable[str] = ()
) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by key in BatchGetItem calls of up to 100 keys (unprocessed keys are asked again):
    ``{(PK, SK): item}``, absent keys left out. Duplicate keys are asked once. ``consistent``: strongly
    consistent reads (items as a write just made them). ``attributes``: read only these (PK and SK
    always come back)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    extra: dict[str, Any] = {"ConsistentRead": True} if consistent else {}
    names = list(dict.fromkeys(["PK", "SK", *attributes]))
    if len(names) > 2:
        extra["ProjectionExpression"] = ", ".join(f"#p{n}" for n in range(len(names)))
        extra["ExpressionAttributeNames"] = {f"#p{n}": name for n, name in enumerate(names)}
    for i in range(0, len(wanted), 100):
        chunk = [key(pk, sk) for pk, sk in wanted[i : i + 100]]
        request: dict[str, Any] = {table_name(): {"Keys": chunk, **extra}}
        while request:
            out = ddb().batch_get_item(RequestItems=request)
            for raw in out.get("Responses", {}).get(table_name(), []):
                item = unmarshal(raw)
                found[(item["PK"], item["SK"])] = item
            request = out.get("UnprocessedKeys") or {}
    return found


def query(
    *,
    key_condition: str,
    expr_values: dict[str, Any],
    index: str | None = None,
    limit: int | None = None,
    forward: bool = True,
    start_key: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": expr_values,
        "ScanIndexForward": forward,
    }
    if index:
        params["IndexName"] = index
    if limit:
        params["Limit"] = limit
    if start_key:
        params["ExclusiveStartKey"] = start_key
    out = ddb().query(**params)
    return [unmarshal(i) for i in out.get("Items", [])], out.get("LastEvaluatedKey")


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start = None
    while True:
        page, start = query(start_key=start, **kwargs)
        items.extend(page)
        if not start:
            return items


def query_raw(**params: Any) -> list[dict[str, Any]]:
    """Every item of one Query (all pages), unmarshalled; ``params`` as DynamoDB's own (a ``FilterExpression`` or a
    ``ProjectionExpression`` allowed; ``TableName`` added)."""
    params = {"TableName": table_name(), **params}
    items: list[dict[str, Any]] = []
    while True:
        out = ddb().query(**params)
        items.extend(unmarshal(i) for i in out.get("Items", []))
        if "LastEvaluatedKey" not in out:
            return items
        params["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def count(*, start_key: dict[str, Any] | None = None, **params: Any) -> int:
    """How many items a query matches (``Select=COUNT``: no items travel), from ``start_key`` on if given."""
    total, start = 0, start_key
    while True:
        out = ddb().query(TableName=table_name(), Select="COUNT", **params, **({"ExclusiveStartKey": start} if start else {}))
        total += out["Count"]
        start = out.get("LastEvaluatedKey")
        if not start:
            return total


def advance(n: int, **params: Any) -> tuple[int, dict[str, Any] | None]:
    """Count (not transfer) the first ``n`` matches: ``(how many were counted, the key to go on after
    them)``. Fewer than ``n`` counted means the range ended; the key is then None. Each COUNT query asks
    ``Limit`` = what is still missing, so it never evaluates an item past the ``n``-th match."""
    skipped, start = 0, None
    while skipped < n:
        extra = {"ExclusiveStartKey": start} if start else {}
        out = ddb().query(TableName=table_name(), Select="COUNT", Limit=n - skipped, **params, **extra)
        skipped += out["Count"]
        start = out.get("LastEvaluatedKey")
        if not start:
            return skipped, None
    return skipped, start


def skip(n: int, **params: Any) -> dict[str, Any] | None:
    """The key to start reading after the first ``n`` matches (counted, not transferred)."""
    skipped, start = advance(n, **params)
    return start if skipped >= n else None


def query_page(*, limit: int, start_key: dict[str, Any] | None = None, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` matching items (following pages when a filter leaves a page short)."""
    items: list[dict[str, Any]] = []
    start = start_key
    while len(items) < limit:
        extra = {"ExclusiveStartKey": start} if start else {}
        out = ddb().query(TableName=table_name(), Limit=limit - len(items), **params, **extra)
        items.extend(unmarshal(i) for i in out.get("Items", []))
        start = out.get("LastEvaluatedKey")
        if not start:
            break
    return items, start


def offset_page(offset: int, limit: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of a query, and how many it matches in all (no Scan).

    Every matching item is evaluated exactly once, whatever the page: COUNT queries over the first
    ``offset`` (``Limit`` = what is still missing), one Query for the page, and a COUNT of what follows
    the page, from the page's ``LastEvaluatedKey``. The total is the sum of the three: items read =
    the range's size (not size + offset + page, as a separate COUNT of the whole range would cost)."""
    skipped, start = advance(offset, **params) if offset else (0, None)
    if skipped < offset or (offset and start is None):
        return [], skipped
    if limit <= 0:
        return [], skipped + count(start_key=start, **params)
    items, last = query_page(limit=limit, start_key=start, **params)
    rest = count(start_key=last, **params) if last else 0
    return items, skipped + len(items) + rest


def scan_all(**params: Any) -> Iterator[dict[str, Any]]:
    """Every item a filtered Scan of the table returns, unmarshalled, page by page. Only for the offline one-off
    migrations and backfills of ``python -m parley.admin`` (docs/data-model.md, "one-off migrations"): no request
    path scans."""
    for page in ddb().get_paginator("scan").paginate(TableName=table_name(), **params):
        yield from (unmarshal(i) for i in page.get("Items", []))


def try_update(
    pk: str, sk: str, update: str, *, condition: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> bool:
    """``UpdateItem`` under ``condition``; False (nothing written) when the condition does not hold."""
    params: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk), "UpdateExpression": update, "ConditionExpression": condition}
    if values:
        params["ExpressionAttributeValues"] = values
    if names:
        params["ExpressionAttributeNames"] = names
    try:
        ddb().update_item(**params)
    except ClientError as err:
        if is_condition_failure(err):
            return False
        raise
    return True


def put_item(item: dict[str, Any], *, condition: str | None = None) -> None:
    params: dict[str, Any] = {"TableName": table_name(), "Item": marshal(item)}
    if condition:
        params["ConditionExpression"] = condition
    ddb().put_item(**params)


def batch_put(items: Iterable[dict[str, Any]]) -> int:
    """Unconditional puts in BatchWriteItem calls of up to 25 items; unprocessed items are written again
    (with a short backoff, at most 8 times, then RuntimeError). Items with the same key are written once (the last).
    Returns how many items were written."""
    unique = list({(i["PK"], i["SK"]): i for i in items}.values())
    for n in range(0, len(unique), 25):
        request: dict[str, Any] = {table_name(): [{"PutRequest": {"Item": marshal(i)}} for i in unique[n : n + 25]]}
        attempt = 0
        while request:
            out = ddb().batch_write_item(RequestItems=request)
            request = out.get("UnprocessedItems") or {}
            if request:
                attempt += 1
                if attempt > 8:  # still throttled after ~5 s: let the caller's retry (SQS redelivery) take over
                    raise RuntimeError("BatchWriteItem left items unprocessed after 8 retries")
                time.sleep(min(0.05 * 2**attempt, 1.0))
    return len(unique)


def transact(ops: Iterable[dict[str, Any]]) -> None:
    """``TransactWriteItems``; each op is ``{"Put"|"Update"|…: {...}}`` without ``TableName``."""
    items = []
    for op in ops:
        ((kind, body),) = op.items()
        items.append({kind: {"TableName": table_name(), **body}})
    ddb().transact_write_items(TransactItems=items)


def cancel_reasons(err: ClientError) -> list[str]:
    """The per-op codes of a cancelled transaction (``"None"`` for an op that did not fail), in op order."""
    return [r.get("Code") or "None" for r in err.response.get("CancellationReasons") or []]


def try_transact(ops: Iterable[dict[str, Any]], *, decisive: Iterable[int] | None = None) -> bool:
    """``transact``, for conditional writes: False (nothing written) when the transaction was cancelled
    because a condition failed; any other error is raised. ``decisive``: the indexes of the ops whose
    failed condition means "no" (a failed condition on another op is raised as an error); every op's by
    default."""
    try:
        transact(ops)
    except ClientError as err:
        if not is_condition_failure(err):
            raise
        if decisive is not None:
            reasons = cancel_reasons(err)
            if not any(i < len(reasons) and reasons[i] == "ConditionalCheckFailed" for i in decisive):
                raise
        return False
    return True
