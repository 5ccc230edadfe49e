"""DynamoDB Streams as Lambda's event source mapping reads them, on the embedded emulator.

moto keeps a table's stream records in one in-memory shard (``table.stream_shard.items``). A ``StreamReader`` reads
them in-process — like Lambda's pollers, which are AWS's, not API calls of the account — hands them out in order,
and forgets (trims) the records a consumer has finished with, so the shard does not grow with every write.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from parley_local.moto_patches import DYNAMODB_LOCK
from parley_local.templates import ACCOUNT, REGION


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, the subset Parley's templates use: nested objects, and at a leaf a list of
    alternatives, each an exact value or ``{"prefix": …}``. Anything else is refused when the template is read."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    for alt in pattern:
        if isinstance(alt, dict):
            if isinstance(value, str) and value.startswith(alt["prefix"]):
                return True
        elif value == alt:
            return True
    return False


def check_pattern(pattern: Any) -> None:
    """Raise ValueError for a filter pattern ``matches`` does not implement."""
    if isinstance(pattern, dict):
        for sub in pattern.values():
            check_pattern(sub)
        return
    if not isinstance(pattern, list):
        raise ValueError(f"a filter pattern's leaf must be a list, not {pattern!r}")
    for alt in pattern:
        if isinstance(alt, dict) and set(alt) != {"prefix"}:
            raise ValueError(f"only exact values and prefix matching are supported locally, not {alt!r}")


def table_of(stream_arn: str) -> str:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`` → ``<name>``."""
    return stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]


def _table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].get_table(name)


_readers: dict[str, list[StreamReader]] = {}  # by table: records are dropped once every reader is done with them


class StreamReader:
    """The unread records of one table's stream, oldest first, for one consumer (one reader per event source
    mapping; not thread-safe). A stream's records stay until every reader of it is done with them."""

    def __init__(self, stream_arn: str) -> None:
        self.stream_arn = stream_arn
        self.table_name = table_of(stream_arn)
        self.done = threading.Condition()
        with DYNAMODB_LOCK:
            self.next_seq = self._shard().starting_sequence_number  # the first record not yet finished with
            _readers.setdefault(self.table_name, []).append(self)

    def close(self) -> None:
        with DYNAMODB_LOCK:
            readers = _readers.get(self.table_name, [])
            if self in readers:
                readers.remove(self)

    def _shard(self) -> Any:
        shard = _table(self.table_name).stream_shard
        if shard is None:
            raise RuntimeError(f"table {self.table_name} has no stream")
        return shard

    def written(self) -> int:
        """The sequence number the next write will get (every record below it exists)."""
        with DYNAMODB_LOCK:
            shard = self._shard()
            return shard.starting_sequence_number + len(shard.items)

    def read(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records from the first unfinished one on, as Lambda's event carries them."""
        with DYNAMODB_LOCK:
            shard = self._shard()
            start = max(0, self.next_seq - shard.starting_sequence_number)
            records = [r.to_json() for r in shard.items[start : start + limit]]
        out = []
        for rec in records:
            ddb = dict(rec["dynamodb"])
            created = ddb.get("ApproximateCreationDateTime")
            if isinstance(created, datetime):  # moto keeps a datetime; Lambda's event carries epoch seconds
                ddb["ApproximateCreationDateTime"] = int(created.replace(tzinfo=created.tzinfo or UTC).timestamp())
            out.append({**rec, "dynamodb": ddb, "eventSourceARN": self.stream_arn, "awsRegion": REGION})
        return out

    def finish(self, upto_seq: int) -> None:
        """Every record below ``upto_seq`` is done with: move on, and drop them from the shard (moto numbers the
        next record by the shard's length, so its starting number moves with what is dropped)."""
        with self.done:
            self.next_seq = upto_seq
            self.done.notify_all()
        with DYNAMODB_LOCK:
            shard = self._shard()
            upto = min(r.next_seq for r in _readers.get(self.table_name, [self]) if r._shard() is shard)
            drop = max(0, upto - shard.starting_sequence_number)
            if drop:
                del shard.items[:drop]
                shard.starting_sequence_number += drop

    def wait_until(self, seq: int, timeout: float) -> bool:
        """Block until every record below ``seq`` is done with (or ``timeout`` s passed)."""
        with self.done:
            return self.done.wait_for(lambda: self.next_seq >= seq, timeout)


def forget_rolled_back(table: Any, length: int) -> None:
    """A cancelled transaction's writes were undone: so are the stream records they added (DynamoDB streams
    only what a transaction committed)."""
    shard = getattr(table, "stream_shard", None)
    if shard is not None and len(shard.items) > length:
        del shard.items[length:]
