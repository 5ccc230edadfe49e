# ruff: noqa: RUF001, RUF002 (the multiplication sign, on purpose)
"""Counting AWS calls in this process: a botocore event hook on every client created after ``install()``.

``with CALLS.record() as calls:`` collects one entry per API call made by this thread — service,
operation, the parameters as the caller passed them, and DynamoDB's own counts from the response
(``Count``, ``ScannedCount``; for GetItem/BatchGetItem the items returned). DynamoDB reads are asked
for ``ReturnConsumedCapacity=TOTAL`` while recording. The same hook runs in benchmark subprocesses
(``child.py``'s Recorder).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DDB_CAPACITY_OPS = {
    "Query",
    "Scan",
    "GetItem",
    "BatchGetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
    "TransactGetItems",
}


class CallLog:
    def __init__(self) -> None:
        self._installed = False
        self._local = threading.local()
        self.totals: Counter[str] = Counter()  # every call made since install(), recorded or not: "dynamodb.Scan" → n

    def install(self) -> None:
        """Hook every botocore client created from now on (call before any client exists)."""
        if self._installed:
            return
        import botocore.session

        original = botocore.session.Session.create_client
        log = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", log._params)
            client.meta.events.register("after-call.*.*", log._after)
            client.meta.events.register("after-call-error.*.*", log._error)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._installed = True

    def _stack(self) -> list[list[dict[str, Any]]]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    @contextmanager
    def record(self, *, params: bool = False) -> Iterator[list[dict[str, Any]]]:
        calls: list[dict[str, Any]] = []
        previous = getattr(self._local, "params", False)
        self._stack().append(calls)
        self._local.params = params
        try:
            yield calls
        finally:
            self._stack().pop()
            self._local.params = previous

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service, op = model.service_model.service_name, model.name
        self.totals[f"{service}.{op}"] += 1
        stack = self._stack()
        if not stack:
            return
        if service == "dynamodb" and op in _DDB_CAPACITY_OPS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        entry: dict[str, Any] = {"service": service, "op": op}
        if getattr(self._local, "params", False):
            entry["params"] = copy.deepcopy(params)
        if service == "dynamodb" and op in ("Query", "Scan"):
            entry["select"] = params.get("Select", "ALL_ATTRIBUTES")
            entry["index"] = params.get("IndexName")
        entry["t0"] = time.perf_counter()
        for calls in stack:
            calls.append(entry)

    def _after(self, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        stack = self._stack()
        if not stack or not stack[-1]:
            return
        entry = stack[-1][-1]
        entry["ms"] = (time.perf_counter() - entry.pop("t0", time.perf_counter())) * 1000
        entry["status"] = getattr(http_response, "status_code", None)
        if isinstance(parsed, dict):
            for key in ("Count", "ScannedCount"):
                if key in parsed:
                    entry[key] = parsed[key]
            if model.name == "GetItem":
                entry["Count"] = entry["ScannedCount"] = 1 if "Item" in parsed else 0
            if model.name == "BatchGetItem":
                n = sum(len(v) for v in (parsed.get("Responses") or {}).values())
                entry["Count"] = entry["ScannedCount"] = n
            if "Error" in parsed:
                entry["error"] = parsed["Error"].get("Code")

    def _error(self, **_: Any) -> None:
        stack = self._stack()
        if stack and stack[-1]:
            stack[-1][-1]["error"] = "exception"


CALLS = CallLog()


def by_op(calls: list[dict[str, Any]]) -> Counter[str]:
    return Counter(c["op"] for c in calls)


def describe(calls: list[dict[str, Any]]) -> str:
    """``DynamoDB.GetItem×2, SQS.SendMessage×1`` in call order of first appearance."""
    names = {
        "dynamodb": "DynamoDB",
        "sqs": "SQS",
        "sesv2": "SESv2",
        "ses": "SES",
        "sns": "SNS",
        "s3": "S3",
        "scheduler": "Scheduler",
        "secretsmanager": "SecretsManager",
    }
    counts: Counter[str] = Counter()
    for c in calls:
        counts[f"{names.get(c['service'], c['service'])}.{c['op']}"] += 1
    return ", ".join(f"{k}×{v}" for k, v in counts.items())
