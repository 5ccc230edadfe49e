"""Make the embedded moto 5.2.5 safe under concurrency and bounded in time and memory.

The local stack (and ``bench/``) run moto as a threaded HTTP server: every request is served on its own
thread. These patches change how moto does its work, never what a call returns:

- ``serialise_dynamodb``: DynamoDB requests are handled one at a time (parse → backend → serialise). moto's
  DynamoDB backend is not thread-safe: a ``TransactWriteItems`` deep-copies tables that another thread is
  writing (HTTP 500 "dictionary changed size during iteration"), an ``UpdateItem`` mutates an item another
  thread is serialising, a condition check and its write are not one step. DynamoDB applies each call
  atomically; now the emulator does too.
- ``patch_transactions``: moto deep-copies the whole table for every item of a transaction (its rollback
  snapshot); the snapshot is now of the items the transaction touches, restored exactly on cancellation.
- ``patch_queries``: a Query walks the items of its partition only (not the whole table), and sorts them
  by the keys' plain values; moto's own query code still runs on those items.
- ``patch_sqs_retention``: ReceiveMessage checks each message it hands out against the queue's retention period,
  which moto read by computing every queue attribute (three walks of all the queue's messages) per message: a
  backlog made each receive quadratic. The period is now read from the queue directly.
- ``fast_dynamodb_results``: moto 5.2 writes every DynamoDB answer by walking the operation's botocore output
  shape (a sixth of the stack's CPU under load). An answer already in DynamoDB's wire form — strings, numbers,
  booleans, lists and maps, no bytes or datetimes, no nulls — is written with ``json.dumps``, which gives the same
  JSON; any other answer (errors, binary attributes, table descriptions) still takes moto's serialiser.
  The test suites run with ``VERIFY_FAST_RESULTS``: every answer taken by the fast path is compared with moto's.
- ``fast_dynamodb_parameters``: a DynamoDB request's parameters are its JSON body with the AttributeValues' blobs
  decoded (moto walked every value through the operation's input shape: a quarter of a ``GetItem``'s CPU). A body
  with a ``null`` or a member the operation does not have still takes moto's parser; the test suites compare the
  two on every call (``VERIFY_FAST_RESULTS``).
- ``linear_item_size``: an item's size is checked once when it is built (moto re-summed every attribute set so far
  at each attribute: quadratic, and most of a message record's ``PutItem``). Same limit, same error.
- ``cache_update_expressions``: an ``UpdateExpression`` is parsed once per distinct text (moto parsed each one twice
  per update, and a transaction holds dozens); moto's validator deep-copies the tree before it resolves it, so the
  cached tree is never changed.
- ``fast_update_validation``: moto's ten validation passes over each ``UpdateExpression`` (a deep copy of its tree,
  node-type tables rebuilt and ABC ``isinstance`` checks at every node) run on a node-by-node copy with their type
  checks remembered; the three passes that read only the expression are run once per expression, names and keys.
  ``tests/integration/test_moto_update_validation.py`` runs a corpus of updates with and without it: same items,
  same errors.
- ``cache_condition_lexing``: a condition (or filter, or key condition) expression is tokenised once per distinct
  text, and a response class's method names are listed once per class (moto did both on every request).
- ``keep_alive``: the server keeps HTTP/1.1 connections open (werkzeug closed every one after its answer), with
  ``TCP_NODELAY`` (``keepalive.py``), and hands DynamoDB calls to moto's ``DynamoHandler`` directly
  (``dynamodb_front.py``: no WSGI environ, Flask app or domain dispatcher per call).
  ``tests/integration/test_emulator_server.py`` makes a corpus of calls to moto's server as released and to this
  one: same statuses, same bodies.
- ``cache_service_lookup``: which service a request is for is worked out once per host, not per request.
- ``weak_instance_tracking``: moto keeps a strong reference to every model object it ever created (each
  item written, each deep copy of one, each SQS message, for ``/moto-api/data.json``), so its memory only
  grows. The tracking now holds weak references: data.json lists the objects that still exist.

``apply()`` applies them all (idempotent); call it before the server starts.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
import threading
import weakref
from collections.abc import Iterator
from typing import Any

_applied: set[str] = set()
DYNAMODB_LOCK = threading.RLock()  # one DynamoDB request at a time (all accounts and regions)


def apply() -> None:
    cheap_stream_records()
    keep_alive()
    cache_service_lookup()
    weak_instance_tracking()
    serialise_dynamodb()
    patch_transactions()
    patch_queries()
    patch_sqs_retention()
    fast_dynamodb_results()
    fast_dynamodb_parameters()
    linear_item_size()
    cache_update_expressions()
    fast_update_validation()
    cache_condition_lexing()


def cheap_stream_records() -> None:
    """moto serialises every stream record to JSON once, to fill in its ``SizeBytes`` (moto itself calls the result
    "a substantial overestimate"): a JSON dump of both images on every write of a table with a stream, in the
    emulator's one process. Here ``SizeBytes`` is the images' attribute count times a nominal size: nothing reads it
    (TallyFunction does not), and every other field is moto's own."""
    if not _once("stream_records"):
        return
    from moto.dynamodb.models import table as table_models

    def size_only(value: Any) -> str:  # moto's table module uses its dump for this one purpose (moto 5.2.5)
        images = [value.get("NewImage") or {}, value.get("OldImage") or {}]
        return " " * (64 * sum(len(i) for i in images) + 64)

    table_models.dynamo_json_dump = size_only  # type: ignore[assignment]


def _once(name: str) -> bool:
    if name in _applied:
        return False
    _applied.add(name)
    return True


# ── concurrency ──
def serialise_dynamodb() -> None:
    """Every DynamoDB request, from parsing to its serialised answer, under ``DYNAMODB_LOCK``."""
    if not _once("serialise"):
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler._dispatch

    def _dispatch(self: Any, *args: Any, **kwargs: Any) -> Any:
        with DYNAMODB_LOCK:
            return original(self, *args, **kwargs)

    DynamoHandler._dispatch = _dispatch  # type: ignore[method-assign]


def keep_alive() -> None:
    """moto's server (werkzeug's) closes the connection after every answer: each boto3 call of each function
    paid a TCP connect and a new server thread. Its request handler gets ``keepalive.KeepAliveMixin``."""
    if not _once("keepalive"):
        return
    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from parley_local.dynamodb_front import DynamoFrontMixin
    from parley_local.keepalive import KeepAliveMixin

    handler = type("KeepAliveMotoRequestHandler", (DynamoFrontMixin, KeepAliveMixin, MotoRequestHandler), {})
    threaded_moto_server.MotoRequestHandler = handler  # type: ignore[attr-defined, misc]


def cache_service_lookup() -> None:
    """moto's server finds the service of every request by listing its own package folder (``os.listdir``
    and an ``isdir`` per entry, ~200) and matching ~1,000 URL patterns, under one server-wide lock: a few
    ms of every call, serialised. The folder and the patterns never change while it runs, so the answer
    for a host is remembered (same answer, computed once)."""
    if not _once("lookup"):
        return
    import functools

    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = functools.cache(lambda: tuple(backends._list_of_moto_modules_uncached()))  # type: ignore[attr-defined]
    backends._list_of_moto_modules_uncached = backends.list_of_moto_modules  # type: ignore[attr-defined]
    backends.list_of_moto_modules = modules  # type: ignore[assignment]

    original = DomainDispatcherApplication.get_backend_for_host
    cache: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in cache:  # always called under the dispatcher's lock
            cache[host] = original(self, host)
        return cache[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


# ── memory ──
class _WeakList:
    """What ``instances_tracked`` needs of a list (append, iterate, len), holding weak references."""

    __slots__ = ("_refs",)

    def __init__(self) -> None:
        self._refs: weakref.WeakSet[Any] = weakref.WeakSet()

    def append(self, obj: Any) -> None:
        with contextlib.suppress(TypeError):  # not weak-referenceable (or unhashable): not tracked
            self._refs.add(obj)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._refs))

    def __len__(self) -> int:
        return len(self._refs)

    def clear(self) -> None:
        self._refs.clear()


def weak_instance_tracking() -> None:
    """``BaseModel.instances_tracked`` per class becomes a ``_WeakList`` (re-made after a moto reset)."""
    if not _once("tracking"):
        return
    from moto.core.common_models import BaseModel

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)  # type: ignore[misc]
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, _WeakList):
            tracked = _WeakList()
            cls.instances_tracked = tracked  # type: ignore[attr-defined]
        tracked.append(instance)
        return instance

    BaseModel.__new__ = __new__  # type: ignore[method-assign, assignment]


# ── time: transactions and queries whose cost does not grow with the table ──
_tx = threading.local()


def patch_transactions() -> None:
    """moto 5.2.5 makes ``TransactWriteItems`` deep-copy the whole table once per item of the transaction
    (its rollback snapshot): its cost grows with the table, which DynamoDB's does not, and over a few
    thousand items it runs into the SDK's read timeout. Here the snapshot is of the items the transaction
    touches only; the rollback restores exactly those, so a cancelled transaction still leaves the table as
    it was. Runs under ``DYNAMODB_LOCK`` when the request came over HTTP."""
    if not _once("transactions"):
        return
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from parley_local.streams import forget_rolled_back

    class _CopyShim:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) and getattr(_tx, "active", False):
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
        streamed = {id(t): (t, len(t.stream_shard.items)) for t, *_ in snapshot if t.stream_shard is not None}
        _tx.active = True
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
            for table, length in streamed.values():
                forget_rolled_back(table, length)
            _writes["version"] += 1
            raise
        finally:
            _tx.active = False

    ddb_models.copy = _CopyShim()  # type: ignore[assignment]
    ddb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_writes = {"version": 0}


def table_changed() -> None:
    """Items were written behind moto's API (the bench's bulk seeding): forget the partition maps."""
    _writes["version"] += 1


def patch_queries() -> None:
    """moto 5.2.5 answers every Query by walking every item of the table and sorting the matches with
    Python-level comparisons, once per 1 MB page: with 100,000+ items one Query costs seconds, which
    DynamoDB's does not. Here a Query walks only the items of its partition (a map from key value to
    items, kept up to date item by item as writes happen) and sorts them by the same keys' plain values. What a Query returns
    — items, order, pages, ``Count``/``ScannedCount``, ``LastEvaluatedKey`` — is moto's own: its code
    still runs, on the partition's items instead of all of them."""
    if not _once("queries"):
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    local = threading.local()
    lock = threading.Lock()

    def key_of(table: Any, attrs: dict[str, Any]) -> tuple[Any, Any]:
        """(hash, range) of an item given by its DynamoDB-JSON attributes (or its key alone)."""
        rng = table.range_key_attr
        return DynamoType(attrs[table.hash_key_attr]), (DynamoType(attrs[rng]) if rng and rng in attrs else None)

    def mark(table: Any, key: tuple[Any, Any] | None) -> None:
        """The item at ``key`` may have changed: its index entries are brought up to date by the next index Query.
        ``None`` (a key that could not be read): the table's maps are rebuilt."""
        with lock:
            if key is None:
                _writes["version"] += 1
            else:
                dirty = table.__dict__.setdefault("_local_dirty", set())
                dirty.add(key)

    def marking(fn: Any, key: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                try:
                    table, k = key(*args, **kwargs)
                except Exception:  # an unusual call: forget the maps rather than guess
                    table, k = (args[0] if isinstance(args[0], Table) else None), None
                if table is not None:
                    mark(table, k)
                else:
                    _writes["version"] += 1

        return wrapper

    def put_key(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return self, key_of(self, item_attrs)

    def delete_key(self: Any, hash_key: Any, range_key: Any = None, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return self, (hash_key, range_key if self.range_key_attr else None)

    def update_key(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        table = self.get_table(table_name)
        return table, key_of(table, key)

    Table.put_item = marking(Table.put_item, put_key)  # type: ignore[method-assign]
    Table.delete_item = marking(Table.delete_item, delete_key)  # type: ignore[method-assign]
    DynamoDBBackend.update_item = marking(DynamoDBBackend.update_item, update_key)  # type: ignore[method-assign]

    original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        only = getattr(local, "items", None)
        return only if only is not None else original_all_items(self)

    def current(self: Any, key: tuple[Any, Any]) -> Any:
        if self.range_key_attr:
            return self.items.get(key[0], {}).get(key[1])
        return self.items.get(key[0])

    def partition(self: Any, attr: str, value: Any) -> list[Any]:
        """The items whose ``attr`` is ``value``. The maps (attribute → value → items) are built once per attribute by
        walking the table, then kept up to date item by item: each write marks its item, and the next call moves
        the marked items' entries (their old values are kept beside the maps). A write behind moto's API (a
        transaction's rollback, the bench's seeding) rebuilds them."""
        with lock:
            index = self.__dict__.get("_local_partitions")
            if index is None or index["version"] != _writes["version"]:
                index = {"version": _writes["version"], "maps": {}, "values": {}}
                self._local_partitions = index
                self.__dict__.pop("_local_dirty", None)
            maps, values = index["maps"], index["values"]
            dirty = self.__dict__.pop("_local_dirty", None)
            for key in dirty or ():
                for a, v in (values.pop(key, None) or {}).items():
                    bucket = maps[a].get(v)
                    if bucket is not None:
                        bucket.pop(key, None)
                        if not bucket:
                            del maps[a][v]
                item = current(self, key)
                if item is not None:
                    found = {a: item.attrs[a] for a in maps if item.attrs.get(a) is not None}
                    for a, v in found.items():
                        maps[a].setdefault(v, {})[key] = item
                    if found:
                        values[key] = found
            by_value = maps.get(attr)
            if by_value is None:
                by_value = maps[attr] = {}
                for item in original_all_items(self):
                    v = item.attrs.get(attr)
                    if v is not None:
                        key = (item.hash_key, item.range_key if self.range_key_attr else None)
                        by_value.setdefault(v, {})[key] = item
                        values.setdefault(key, {})[attr] = v
            return list(by_value.get(value, {}).values())

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


def patch_sqs_retention() -> None:
    """``is_message_valid_based_on_retention_period`` reads ``queue.message_retention_period`` (what the attribute is)."""
    if not _once("sqs_retention"):
        return
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


# The test suites set it (in-process, or PARLEY_VERIFY_EMULATOR=1 for a local stack): every fast answer is also
# written by moto's serialiser and compared; a difference fails the call.
VERIFY_FAST_RESULTS = os.environ.get("PARLEY_VERIFY_EMULATOR") == "1"


class FastResultMismatch(AssertionError):
    pass


_FAST_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_JSON_TYPES = (str, int, float, bool)


def wire_json(value: Any) -> bool:
    """True when ``json.dumps(value)`` is the answer's wire form: only str/int/float/bool, lists and str-keyed maps."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and v is not None and wire_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(v is not None and wire_json(v) for v in value)
    return isinstance(value, _JSON_TYPES)


def fast_dynamodb_results() -> None:
    """``DynamoResult.execute_result``: ``json.dumps`` for the item operations' plain answers (see the module doc)."""
    if not _once("fast_results"):
        return
    import json

    from moto.dynamodb.responses import DynamoResult

    generic = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model.name
        if operation in _FAST_OPERATIONS and isinstance(self.result, dict) and wire_json(self.result):
            version = context.service_model.metadata.get("jsonVersion", "1.0")
            members = context.operation_model.output_shape.members  # moto adds a few keys the API has not (dropped)
            answer = {k: v for k, v in self.result.items() if k in members}
            fast = 200, {"Content-Type": f"application/x-amz-json-{version}"}, json.dumps(answer)
            if VERIFY_FAST_RESULTS:
                status, headers, body = generic(self, context)
                if (status, headers.get("Content-Type"), json.loads(body)) != (fast[0], fast[1]["Content-Type"], answer):
                    raise FastResultMismatch(f"{operation}: moto wrote {body!r}, the fast path {fast[2]!r}")
            return fast
        return generic(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def _decode_blobs(value: Any) -> Any:
    """Base64 blobs of the AttributeValues in a parsed DynamoDB request (``{"B": str}``, ``{"BS": [str]}``) as bytes,
    in place: what moto's shape parser does to them. No other member of DynamoDB's requests is named ``B``/``BS``
    (attribute names are map keys whose values are AttributeValues, never strings)."""
    if isinstance(value, dict):
        if len(value) == 1:
            if isinstance(value.get("B"), str):
                value["B"] = base64.b64decode(value["B"])
                return value
            blobs = value.get("BS")
            if isinstance(blobs, list) and all(isinstance(b, str) for b in blobs):
                value["BS"] = [base64.b64decode(b) for b in blobs]
                return value
        for v in value.values():
            if isinstance(v, dict | list):
                _decode_blobs(v)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict | list):
                _decode_blobs(v)
    return value


def fast_dynamodb_parameters() -> None:
    """A DynamoDB request's parameters are its JSON body with the AttributeValues' blobs decoded: moto walked every
    value of every request through the service model's shapes to get the same (a quarter of a ``GetItem``'s CPU).

    The shape parser also drops members the API does not have, ``null`` members, and casts numbers given as strings:
    a botocore client sends none of those, and a body with a ``null`` or an unknown top-level member still goes through
    moto's parser. Checked against moto's parser on every call of the integration suite (``VERIFY_FAST_RESULTS``)."""
    if not _once("fast_parameters"):
        return
    import json

    from moto.dynamodb.responses import DynamoHandler

    generic = DynamoHandler.parse_parameters

    def parse_parameters(self: Any, request: Any) -> None:
        try:
            params = json.loads(request.data or b"{}")
        except ValueError:
            params = None
        action = self._get_action()
        if not isinstance(params, dict) or not wire_json(params) or not _known_members(action, params):  # no null anywhere
            generic(self, request)
            return
        self.params = _decode_blobs(params)
        if VERIFY_FAST_RESULTS:
            generic(self, request)
            if self.params != params:
                raise FastResultMismatch(f"{action}: moto parsed {self.params!r}, the fast path {params!r}")
            self.params = params

    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]


_members: dict[str, frozenset[str]] = {}


def _known_members(action: str, params: dict[str, Any]) -> bool:
    """Whether every top-level member of ``params`` is one of ``action``'s input members (moto's model)."""
    known = _members.get(action)
    if known is None:
        from moto.core.utils import get_service_model

        try:
            shape = get_service_model("dynamodb").operation_model(action).input_shape
        except Exception:
            return False
        known = _members[action] = frozenset(shape.members) if shape is not None else frozenset()
    return all(k in known for k in params)


def linear_item_size() -> None:
    """An item is built with its size checked once: moto's ``LimitedSizeDict`` summed the sizes of every attribute
    already set each time it set one (quadratic in the attributes, recursive into maps: a message record's ``PutItem``
    spent most of its time there). Same limit (405,000 bytes, names included), same ``ItemSizeTooLarge``; updates
    still check through ``LimitedSizeDict`` as before."""
    if not _once("item_size"):
        return
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    item_cls, dynamo, limited = dynamo_type.Item, dynamo_type.DynamoType, dynamo_type.LimitedSizeDict
    assert item_cls.__init__.__code__.co_varnames[:4] == ("self", "hash_key", "range_key", "attrs"), "moto's Item changed"

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: dynamo(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = limited()
        dict.update(self.attrs, values)  # dict's own update: no per-attribute re-check

    item_cls.__init__ = __init__  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405000  # moto's LimitedSizeDict (DynamoDB's 400 KB, measured between 409 and 410 KB)


def cache_update_expressions() -> None:
    """``UpdateExpressionParser.make`` memoised by the expression's text (bounded; a parse error is not cached)."""
    if not _once("update_expressions"):
        return
    import functools

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    cached = functools.lru_cache(maxsize=4096)(lambda expression: make(UpdateExpressionParser, expression))
    UpdateExpressionParser.make = classmethod(
        lambda cls, expression: cached(expression) if cls is UpdateExpressionParser else make(cls, expression)
    )  # type: ignore[method-assign, assignment]


def fast_update_validation() -> None:
    """moto validates an ``UpdateExpression`` with ten depth-first passes over a deep copy of its tree: the copy is
    made with ``copy.deepcopy``, and every pass rebuilds its node-type table and runs ABC ``isinstance`` checks at
    every node (a third of the stack's CPU under load, most of it on three-attribute updates). Same passes, same
    order, same answers; done cheaper:

    - the tree is copied node by node (its nodes hold only ``type``, ``children`` and ``parent``);
    - each pass builds its node-type table once, and whether a node class is one it processes is remembered per
      (pass, class): what ``isinstance`` answers for classes that are never registered as virtual subclasses;
    - the three passes that read only the expression, the attribute names and the table's key names (one clause of
      each kind, no overlapping paths, no key attribute updated) are run once per distinct expression, names and
      keys: they change nothing and raise or pass the same way each time.
    """
    if not _once("update_validation"):
        return
    from moto.dynamodb.parsing import ast_nodes, validators

    node_base = ast_nodes.Node
    is_node: dict[type, bool] = {}
    handles: dict[tuple[type, type], bool] = {}

    def node_class(cls: type) -> bool:
        known = is_node.get(cls)
        if known is None:
            known = is_node[cls] = issubclass(cls, node_base)
        return known

    def clone(node: Any, parent: Any = None) -> Any:
        new = object.__new__(type(node))
        new.__dict__.update(node.__dict__)
        new.parent = parent
        if node.children is not None:
            new.children = [clone(c, new) if node_class(type(c)) else copy.deepcopy(c) for c in node.children]
        return new

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        try:
            return self._parley_types
        except AttributeError:
            self._parley_types = tuple(self._processing_map().keys())
            return self._parley_types

    def process(self: Any, node: Any) -> Any:
        try:
            table = self._parley_map
        except AttributeError:
            table = self._parley_map = self._processing_map()
        for class_key, processor in table.items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        cls = type(node)
        if node_class(cls):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            key = (type(self), cls)
            hit = handles.get(key)
            if hit is None:
                hit = handles[key] = issubclass(cls, self.nodes_to_be_processed())
            if hit:
                node = self.process(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    traverser = ast_nodes.DepthFirstTraverser
    traverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    traverser.process = process  # type: ignore[method-assign]
    traverser.traverse_node_recursively = traverse_node_recursively  # type: ignore[method-assign]

    expression_only = (validators.ActionCountValidator, validators.OverlappingPathsValidator, validators.UpdateHashRangeKeyValidator)
    passed: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()  # the parsed tree → what passed
    original_init = validators.Validator.__init__

    def __init__(
        self: Any, expression: Any, expression_attribute_names: Any, expression_attribute_values: Any, item: Any, table: Any
    ) -> None:
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        self.node_to_validate = clone(expression)
        self._parley_source = expression

    def validate(self: Any) -> Any:
        n = self.node_to_validate
        names = self.expression_attribute_names
        key = (None if names is None else tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
        known = passed.get(self._parley_source)
        skip = known is not None and key in known
        for processor in self.processors:
            if skip and isinstance(processor, expression_only):
                continue
            n = processor.traverse(n)
        passed.setdefault(self._parley_source, set()).add(key)
        return n

    assert original_init.__code__.co_varnames[:6] == (
        "self",
        "expression",
        "expression_attribute_names",
        "expression_attribute_values",
        "item",
        "table",
    ), "moto's Validator changed: review fast_update_validation"
    validators.Validator.__init__ = __init__  # type: ignore[method-assign]
    validators.Validator.validate = validate  # type: ignore[method-assign]


def cache_condition_lexing() -> None:
    """A ``ConditionExpression`` (and a filter or key condition) is split into tokens once per distinct text: moto
    lexed each one with a dozen regular expressions on every call. The tokens are immutable and each call gets a
    fresh queue of them; a text that does not lex still raises every time. Also, which methods a response class
    has is worked out once per class (moto listed them with ``inspect.getmembers`` on every request)."""
    if not _once("condition_lexing"):
        return
    import functools
    from collections import deque

    from moto.core import responses as core_responses
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression
    lexed: dict[str, tuple[Any, ...]] = {}

    def _lex_condition_expression(self: Any) -> Any:
        text = self.condition_expression
        nodes = lexed.get(text)
        if nodes is None:
            nodes = tuple(lex(self))
            if len(lexed) < 4096:
                lexed[text] = nodes
        return deque(nodes)

    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression  # type: ignore[method-assign]
    core_responses.method_names_from_class = functools.cache(core_responses.method_names_from_class)  # type: ignore[assignment]
