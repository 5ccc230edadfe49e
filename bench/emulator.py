"""The emulator every benchmark runs against: moto as an HTTP server on 127.0.0.1, provisioned from the SAM
templates by the local stack's own ``Provisioner``.

The server runs in this (the bench's) process, on a thread, like ``parley_local`` runs it: benchmark
subprocesses reach it over HTTP (``AWS_ENDPOINT_URL``), and the bench can seed large data sets straight
into moto's in-memory DynamoDB backend (no HTTP, no serialisation) when the volume would otherwise
dominate the run.
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "common", ROOT / "local"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from moto.server import ThreadedMotoServer  # noqa: E402

from parley_local.app import free_port  # noqa: E402
from parley_local.stack import Provisioner, Stack  # noqa: E402
from parley_local.templates import ACCOUNT, REGION, FunctionSpec  # noqa: E402

SENDER_DOMAIN = "parley.example"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


_patched = False


def patch_moto_transactions() -> None:
    """moto 5.2.5 makes ``TransactWriteItems`` deep-copy the whole table once per item of the transaction
    (its rollback snapshot): its cost grows with the table, which DynamoDB's does not, and over a few
    thousand items it runs into the SDK's read timeout (whose retry then races the first attempt). Here
    the snapshot is of the items the transaction touches only; the rollback restores exactly those, so a
    cancelled transaction still leaves the table as it was. Nothing else in moto changes."""
    global _patched
    if _patched:
        return
    import copy
    import threading

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    local = threading.local()

    class _CopyShim:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) and getattr(local, "in_transaction", False):
                return value  # the rollback below restores the touched items instead
            return copy.deepcopy(value, memo)

    original = ddb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshot = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            key = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or not key or table.hash_key_attr not in key:
                continue
            h = DynamoType(key[table.hash_key_attr])
            r = DynamoType(key[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in key else None
            try:
                current = table.get_item(h, r)
            except Exception:  # noqa: S112 (an invalid key: moto's own validation reports it below)
                continue
            snapshot.append((table, h, r, copy.deepcopy(current)))
        local.in_transaction = True
        try:
            original(self, transact_items)
        except Exception:
            for table, h, r, old in reversed(snapshot):
                if r is None:
                    if old is None:
                        table.items.pop(h, None)
                    else:
                        table.items[h] = old
                elif old is None:
                    table.items[h].pop(r, None)
                else:
                    table.items[h][r] = old
            raise
        finally:
            local.in_transaction = False

    ddb_models.copy = _CopyShim()  # type: ignore[assignment]
    ddb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _patched = True


_writes = {"version": 0}


def table_changed() -> None:
    """Items were written behind moto's API (the bench's bulk seeding): forget the partition maps."""
    _writes["version"] += 1


def patch_moto_queries() -> None:
    """moto 5.2.5 answers every Query by walking every item of the table and sorting the matches with
    Python-level comparisons, once per 1 MB page: with 100,000+ items one Query costs seconds, which
    DynamoDB's does not. Here a Query walks only the items of its partition (a map from key value to
    items, rebuilt after any write) and sorts them by the same keys' plain values. What a Query returns
    — items, order, pages, ``Count``/``ScannedCount``, ``LastEvaluatedKey`` — is moto's own: its code
    still runs, on the partition's items instead of all of them."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_bench_patched", False):
        return
    local = threading.local()

    def bumping(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                _writes["version"] += 1

        return wrapper

    Table.put_item = bumping(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = bumping(Table.delete_item)  # type: ignore[method-assign]
    DynamoDBBackend.update_item = bumping(DynamoDBBackend.update_item)  # type: ignore[method-assign]

    original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        only = getattr(local, "items", None)
        return only if only is not None else original_all_items(self)

    def partition(self: Any, attr: str, value: Any) -> list[Any]:
        cache = getattr(self, "_bench_partitions", None)
        if cache is None or cache[0] != _writes["version"]:
            cache = (_writes["version"], {})
            self._bench_partitions = cache
        by_value = cache[1].get(attr)
        if by_value is None:
            by_value = {}
            for item in original_all_items(self):
                v = item.attrs.get(attr)
                if v is not None:
                    by_value.setdefault(v, []).append(item)
            cache[1][attr] = by_value
        return list(by_value.get(value, []))

    original_query = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        items = None
        if index_name and len(conditions) == 1:
            attr, value = conditions[0]
            items = partition(self, attr, value)
        elif not index_name and hash_key is not None and self.range_key_attr:
            items = list(self.items.get(hash_key, {}).values())
        local.items = items
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            local.items = None

    original_sorted = Table.sorted_items

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> list[Any]:
        attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        try:
            items.sort(key=lambda x: tuple(x.attrs[k].cast_value for k in attrs))  # what DynamoType.__lt__ compares
        except (TypeError, KeyError):
            return original_sorted(self, hash_key_attrs, range_key_attrs, items)
        return items

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]
    Table._bench_patched = True  # type: ignore[attr-defined]


@dataclass
class Emulator:
    url: str = ""
    stack: Stack | None = None
    prov: Provisioner | None = None
    _server: Any = None
    _base_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> Emulator:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        patch_moto_transactions()
        patch_moto_queries()
        port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.url = f"http://127.0.0.1:{port}"
        self.provision()
        return self

    def provision(self) -> Stack:
        """Create every declared resource (again, after a reset) and point this process at them."""
        for var in ("AWS_PROFILE",):
            os.environ.pop(var, None)
        os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": self.url})
        self.prov = Provisioner(self.url)
        self.stack = self.prov.build()
        self.prov.client("ses").verify_domain_identity(Domain=SENDER_DOMAIN)
        self.use_function_env(self.stack.function("root.DispatcherFunction"))  # TABLE_NAME, queues, bucket, …
        return self.stack

    def reset(self) -> Stack:
        """Drop everything moto holds (``POST /moto-api/reset``) and provision afresh."""
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")  # noqa: S310 (our own 127.0.0.1 server)
        urllib.request.urlopen(req, timeout=30).read()  # noqa: S310
        return self.provision()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def function(self, key: str) -> FunctionSpec:
        assert self.stack is not None
        return self.stack.function(key)

    def env_for(self, fn: FunctionSpec) -> dict[str, str]:
        """The environment a function's process gets: its declared variables, the emulator, Lambda's own."""
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ", "VIRTUAL_ENV") if k in os.environ}
        return {
            **base,
            **AWS_ENV,
            "AWS_ENDPOINT_URL": self.url,
            **fn.env,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        }

    def use_function_env(self, fn: FunctionSpec) -> None:
        """Give this process a function's environment (for handlers run in-process)."""
        os.environ.update({k: v for k, v in fn.env.items()})
        os.environ["AWS_ENDPOINT_URL"] = self.url
        from parley.dal import aws
        from parley.settings import get_settings

        get_settings.cache_clear()
        aws.reset()

    @property
    def table_name(self) -> str:
        assert self.stack is not None
        return self.stack.table_names[0]

    def send_queue(self) -> tuple[str, str]:
        """(ARN, URL) of the send queue."""
        assert self.stack is not None
        return next((arn, url) for arn, url in self.stack.queues.items() if arn.endswith("-SendQueue"))

    def ddb_backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION]
