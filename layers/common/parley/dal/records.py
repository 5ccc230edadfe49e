"""The tenant's communication records (outbound emails, any API) and the CRM's reads of messages.

Indexes (docs/data-model.md §6.6): GSI5 = every record of a tenant by creation time; GSI6 = every
message (either direction) linked to one CRM entity; GSI7 = the records in one status; GSI9 = the
SCHEDULED records by due time; GSI3 = a conversation. Every list here is a key read; nothing Scans.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import bodies, counters, keys, table, tallies
from parley.dal.messages import from_item as as_message
from parley.models.domain import TIMELINE_LIMIT, Message, TimelineEntry


def get_many(tenant_id: str, ids: list[str]) -> list[Message]:
    """The tenant's messages with these ids, in the order asked (unknown ids left out): BatchGetItem,
    100 keys per call. The tenant is part of every key, so another tenant's id is simply not found."""
    wanted = list(dict.fromkeys(ids))
    found = table.batch_get((keys.message_pk(tenant_id, m), keys.MESSAGE_SK) for m in wanted)
    by_id = {msg.id: msg for msg in (as_message(item) for item in found.values())}
    return [by_id[m] for m in wanted if m in by_id]


def by_status(tenant_id: str, status: str) -> list[Message]:
    """Every record of the tenant in one (Parley) status, oldest first: one GSI7 key read."""
    items = table.query_all(index="GSI7", key_condition="GSI7PK = :pk", expr_values=table.values(pk=keys.status_pk(tenant_id, status)))
    return [as_message(i) for i in items]


def scheduled_by_due(tenant_id: str, *, limit: int, start_key: dict[str, Any] | None = None) -> tuple[list[Message], dict[str, Any] | None]:
    """Up to ``limit`` of the tenant's SCHEDULED records, earliest due first (then created, id), going on from
    ``start_key``: one Query on the due index (GSI9), which holds nothing else, so it reads what it returns.
    Bodies kept in S3 are not loaded. Returns the records and the key to go on from (None: no more)."""
    items, last = table.query(
        index="GSI9", key_condition="GSI9PK = :pk", expr_values=table.values(pk=keys.due_pk(tenant_id)), limit=limit, start_key=start_key
    )
    return [as_message(i, load_body=False) for i in items], last


def append_timeline(tenant_id: str, message_id: str, entry: TimelineEntry, *, updated_by: str | None) -> bool:
    """Add an entry to a message's own audit trail and stamp ``updated``/``updatedBy``.

    False when the message does not exist (for this tenant). A message whose trail is full
    (``TIMELINE_LIMIT``) raises ``TimelineFull``.
    """
    sets = "#tl = list_append(if_not_exists(#tl, :empty), :entry), updated_at = :now"
    vals: dict[str, Any] = {"entry": [entry.model_dump(mode="json", exclude_none=True)], "empty": [], "max": TIMELINE_LIMIT}
    vals["now"] = clock.iso(clock.now())
    if updated_by:
        sets += ", updated_by = :by"
        vals["by"] = updated_by
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
            UpdateExpression="SET " + sets,
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#tl) OR size(#tl) < :max)",
            ExpressionAttributeNames={"#tl": "timeline"},
            ExpressionAttributeValues=table.values(**vals),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            if table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK) is None:
                return False
            raise TimelineFull(message_id) from err
        raise
    return True


class TimelineFull(Exception):
    """The message's audit trail holds ``TIMELINE_LIMIT`` entries already."""


# ───────────── the CRM's thread and entity reads, and deleting a record ─────────────


def _messages_newest_first(index: str, pk: str, *, limit: int) -> list[Message]:
    """Up to ``limit`` messages of one index partition, newest first. A body kept in S3 is not loaded
    (``messages.load_body``): a caller that stops early does not fetch the rest."""
    items, _ = table.query_page(
        limit=limit,
        IndexName=index,
        KeyConditionExpression=f"{index}PK = :pk",
        ExpressionAttributeValues=table.values(pk=pk),
        ScanIndexForward=False,
    )
    return [as_message(i, load_body=False) for i in items if i.get("type") == "message"]


def by_entity(tenant_id: str, entity_type: str, entity_id: str, *, limit: int) -> list[Message]:
    """The newest ``limit`` messages (either direction) linked to one CRM entity: one GSI6 key read."""
    return _messages_newest_first("GSI6", keys.entity_pk(tenant_id, entity_type, entity_id), limit=limit)


def conversation(tenant_id: str, conversation_id: str, *, limit: int) -> list[Message]:
    """The newest ``limit`` messages of one conversation, newest first: one GSI3 key read."""
    return _messages_newest_first("GSI3", keys.conversation_pk(tenant_id, conversation_id), limit=limit)


def delete_record(msg: Message) -> bool:
    """Delete a record and everything kept for it, if it is still in the state ``msg`` was read in.

    The message item goes first, conditionally (``status`` unchanged, and for a SENDING record the same
    claim), in one transaction with its tracking-token and provider-id lookup items: a dispatcher that
    claims it meanwhile makes this return False, and once it is gone a claim, ``mark_sent`` or event
    correlation finds nothing. Then the record total is decremented, the rest of its item collection
    (activity events) is deleted, and its S3 body. False when the record changed or is gone already.
    """
    cond = "#s = :s"
    vals: dict[str, Any] = {"s": msg.status.value}
    if msg.claimed_at is not None:
        cond += " AND claimed_at = :c"
        vals["c"] = clock.iso(msg.claimed_at)
    ops: list[dict[str, Any]] = [
        {
            "Delete": {
                "Key": table.key(keys.message_pk(msg.tenant_id, msg.id), keys.MESSAGE_SK),
                "ConditionExpression": cond,
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": table.values(**vals),
            }
        }
    ]
    if msg.track_token:
        ops.append({"Delete": {"Key": table.key(keys.track_pk(msg.track_token), keys.TRACK_SK)}})
    if msg.provider_message_id:
        ref = keys.provider_message_pk(msg.tenant_id, msg.provider, msg.provider_message_id)
        ops.append({"Delete": {"Key": table.key(ref, keys.PROVIDER_MESSAGE_SK)}})
    if not table.try_transact(ops):
        return False
    counters.add_records(msg.tenant_id, -1)
    _delete_collection(keys.message_pk(msg.tenant_id, msg.id))
    if msg.body_ref:
        bodies.delete(msg.body_ref)
    return True


def _delete_collection(pk: str) -> None:
    """Every item left under ``pk`` (a deleted message's activity events), 25 per BatchWriteItem."""
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=pk))
    for i in range(0, len(items), 25):
        request: dict[str, Any] = {
            table.table_name(): [{"DeleteRequest": {"Key": table.key(it["PK"], it["SK"])}} for it in items[i : i + 25]]
        }
        while request:
            out = table.ddb().batch_write_item(RequestItems=request)
            request = out.get("UnprocessedItems") or {}


# ───────────── the CRM's list and search reads (domain/crm_search.py) ─────────────
# A partition is ``(index, partition key)`` of GSI3, GSI5, GSI6 or GSI7. Every one of them sorts by
# ``<created ISO>#<id>``, so each reads in creation order and several merge into one ordered stream.

Partition = tuple[str, str]


def records_partition(tenant_id: str) -> Partition:
    """Every record of the tenant (GSI5)."""
    return "GSI5", keys.records_pk(tenant_id)


def status_partition(tenant_id: str, status: str) -> Partition:
    """The tenant's records in one Parley status (GSI7)."""
    return "GSI7", keys.status_pk(tenant_id, status)


def entity_partition(tenant_id: str, entity_type: str, entity_id: str) -> Partition:
    """The messages linked to one CRM entity (GSI6; both directions, records kept by the read)."""
    return "GSI6", keys.entity_pk(tenant_id, entity_type, entity_id)


def conversation_partition(tenant_id: str, conversation_id: str) -> Partition:
    """The messages of one conversation (GSI3; both directions, records kept by the read)."""
    return "GSI3", keys.conversation_pk(tenant_id, conversation_id)


def _partition_query(part: Partition, *, forward: bool) -> dict[str, Any]:
    index, pk = part
    params: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{index}PK = :pk",
        "ExpressionAttributeValues": table.values(pk=pk),
        "ScanIndexForward": forward,
    }
    if index in ("GSI3", "GSI6"):
        # these hold inbound mail too (and a conversation could hold SMS): only outbound email is a record
        params["FilterExpression"] = "#rc = :rc AND #rd = :rd"
        params["ExpressionAttributeNames"] = {"#rc": "channel", "#rd": "direction"}
        params["ExpressionAttributeValues"] |= table.values(rc="email", rd="outbound")
    return params


def count_records(part: Partition) -> int:
    """How many records a partition holds: from its tallies (GSI5, GSI7), else counted (``Select=COUNT``: read,
    but no item travels)."""
    if (lst := tallied(part)) is not None:
        return tallies.window(lst).total()
    return table.count(**_partition_query(part, forward=True))


def tallied(part: Partition) -> tallies.TimeList | None:
    """The tallied list a partition is (GSI5: the records; GSI7: one status): every item of theirs is a record.
    GSI3 and GSI6 also hold inbound mail, which a read filters out: they are not."""
    index, pk = part
    return tallies.TimeList(index, pk) if index in ("GSI5", "GSI7") else None


def read_records(part: Partition, *, offset: int, limit: int, forward: bool) -> list[Message]:
    """Records ``offset``..``offset+limit`` of a partition in creation order (bodies loaded): COUNT
    queries reach the start, then one Query with ``Limit=limit`` reads the page; on GSI5 and GSI7 (records
    only) that Query reads exactly the items it returns."""
    params = _partition_query(part, forward=forward)
    start = None
    if offset:
        start = table.skip(offset, **params)
        if start is None:
            return []
    items, _ = table.query_page(limit=limit, start_key=start, **params)
    return [as_message(i) for i in items]


def page_records(part: Partition, *, offset: int, limit: int, forward: bool) -> tuple[list[Message], int]:
    """Records ``offset``..``offset+limit`` of a partition in creation order (bodies loaded) and how many
    the partition holds, every record evaluated once (``table.offset_page``: COUNT up to the page, the
    page, COUNT after it) — the cost of counting the partition alone; on GSI5 and GSI7 from the tallies instead
    (reads ≈ the page, whatever its depth: docs/data-model.md §6.7)."""
    if (lst := tallied(part)) is not None:
        items, total = tallies.page(lst, offset=offset, limit=limit, forward=forward)
    else:
        items, total = table.offset_page(offset, limit, **_partition_query(part, forward=forward))
    return [as_message(i) for i in items], total


class RecordStream:
    """The records of one partition in creation order, read lazily (one Query per ``page_size``, at
    most ``limit`` in all), remembering how many it fetched and where it stopped: ``total()`` then
    counts only what it has not read (``Select=COUNT`` from the last key), so reading a prefix and
    counting the partition evaluates each item once."""

    def __init__(
        self,
        part: Partition,
        *,
        forward: bool,
        attributes: list[str] | None = None,
        page_size: int = 100,
        limit: int | None = None,
        load_body: bool | None = None,
    ) -> None:
        self.params = _partition_query(part, forward=forward)
        self.count_params = dict(self.params)
        if attributes:
            names = {f"#p{i}": name for i, name in enumerate(attributes)}
            self.params["ProjectionExpression"] = ", ".join(names)
            self.params["ExpressionAttributeNames"] = {**self.params.get("ExpressionAttributeNames", {}), **names}
        self.load_body = (not attributes) if load_body is None else load_body
        self.page_size = page_size
        self.limit = limit
        self.fetched = 0  # items that matched (and travelled) so far
        self.last: dict[str, Any] | None = None
        self.done = False

    def __iter__(self) -> Iterator[Message]:
        while not self.done:
            want = self.page_size if self.limit is None else min(self.page_size, self.limit - self.fetched)
            if want <= 0:
                return
            extra = {"ExclusiveStartKey": self.last} if self.last else {}
            out = table.ddb().query(TableName=table.table_name(), Limit=want, **self.params, **extra)
            items = out.get("Items", [])
            self.fetched += len(items)
            self.last = out.get("LastEvaluatedKey")
            self.done = not self.last
            for raw in items:
                yield as_message(table.unmarshal(raw), load_body=self.load_body)

    def total(self) -> int:
        """How many records the partition holds: those fetched plus a COUNT of the rest."""
        if self.done:
            return self.fetched
        return self.fetched + table.count(start_key=self.last, **self.count_params)


def stream_records(
    part: Partition, *, forward: bool, attributes: list[str] | None = None, page_size: int = 100, limit: int | None = None
) -> Iterator[Message]:
    """Every record of a partition (or the first ``limit``) in creation order, read lazily ``page_size``
    at a time: each Query asks for no more than is still wanted.

    With ``attributes`` only those attributes travel (``ProjectionExpression``) and bodies kept in S3 are
    not fetched: the read costs the same capacity, but a search holds thousands of small records in
    memory instead of thousands of bodies. Without, whole records with their bodies."""
    return iter(RecordStream(part, forward=forward, attributes=attributes, page_size=page_size, limit=limit))


def merge(streams: list[Iterator[Message]], *, forward: bool) -> Iterator[Message]:
    """Several streams of disjoint partitions as one in creation order (a k-way merge on the indexes'
    shared sort key ``<created>#<id>``)."""
    if len(streams) == 1:
        return iter(streams[0])
    return heapq.merge(*streams, key=lambda m: (clock.iso(m.created_at), m.id), reverse=not forward)


def merged_records(
    parts: list[Partition], *, forward: bool, attributes: list[str] | None = None, page_size: int = 100
) -> Iterator[Message]:
    """The records of several disjoint partitions as one stream in creation order."""
    return merge([stream_records(p, forward=forward, attributes=attributes, page_size=page_size) for p in parts], forward=forward)
