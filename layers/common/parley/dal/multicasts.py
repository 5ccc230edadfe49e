"""Multicasts in the single table (docs/data-model.md §6.17). Tenant-scoped keys; every read is a GetItem, a
BatchGetItem or a Query, never a Scan.

- the multicast: ``PK = TENANT#<t>#MULTICAST#<id>``, ``SK = MULTICAST``, ``type = multicast``: ``kind``,
  ``template_id``, ``data`` (JSON text), ``filter_type``, ``filter_value`` (JSON text), ``organization_id``,
  ``individual_ids``, ``group_ids``, ``user_id`` (a users/{id}/multicast), ``individual_id``, ``segments`` (the
  audience's parts, JSON text), ``created_at``, ``created_by``, ``status`` (queued | running | done | failed),
  ``error``, ``finished_at``, the counters ``audience``, ``notified``, ``skipped``, ``failed``, ``batches_expected``,
  ``batches_done`` and ``paging_done``; on GSI3 ``GSI3PK = TENANT#<t>#MULTICAST``, ``GSI3SK = <created_at>#<id>``
  (the tenant's multicasts by creation time);
- a recipient: same PK, ``SK = MCRCPT#<individual id>`` (or ``MCRCPT#U#<user id>`` for a user named without an
  individual), ``type = multicast_recipient``: ``multicast_id``, ``individual_id``, ``user_id``, ``notification_id``,
  ``state`` (notified | skipped | failed), ``reason``, ``batch`` (the batch that wrote it), ``created_at`` (the
  multicast's); on GSI3 ``GSI3PK = TENANT#<t>#USERMC#<individual>`` (``…#USERMC#U#<user>`` for a recipient named by its
  user alone), ``GSI3SK = <created_at>#<multicast id>`` (what an individual received, newest first; the purge);
- a page or batch marker: same PK, ``SK = PAGE#<n>`` / ``BATCH#<n>.<i>``, ``type = multicast_step``: the step is done
  (its counts were added to the multicast in the same transaction as the marker's conditional put).

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``).
"""

from __future__ import annotations

import json
from typing import Any

from parley.dal import table
from parley.dal.aws import client
from parley.settings import get_settings

SK = "MULTICAST"
INDEX = "GSI3"
COUNTERS = ("audience", "notified", "skipped", "failed")


def pk(tenant_id: str, multicast_id: str) -> str:
    return f"TENANT#{tenant_id}#MULTICAST#{multicast_id}"


def list_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#MULTICAST"


def received_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#USERMC#{individual_id}"


def recipient_sk(individual_id: str | None, user_id: str | None) -> str:
    return f"MCRCPT#{individual_id}" if individual_id else f"MCRCPT#U#{user_id}"


# ───────────── the multicast ─────────────
def create(tenant_id: str, multicast_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = {
        "PK": pk(tenant_id, multicast_id),
        "SK": SK,
        "type": "multicast",
        "tenant_id": tenant_id,
        "id": multicast_id,
        "GSI3PK": list_pk(tenant_id),
        "GSI3SK": f"{fields['created_at']}#{multicast_id}",
        **{c: 0 for c in (*COUNTERS, "batches_expected", "batches_done")},
        **{
            k: (json.dumps(v, separators=(",", ":")) if k in ("data", "filter_value", "segments") else v)
            for k, v in fields.items()
            if v is not None
        },
    }
    table.put_item(item, condition="attribute_not_exists(PK)")
    return item


def decode(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    for k in ("data", "filter_value", "segments"):
        if isinstance(out.get(k), str):
            out[k] = json.loads(out[k])
    return out


def get(tenant_id: str, multicast_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    item = table.get(pk(tenant_id, multicast_id), SK, consistent=consistent)
    return decode(item) if item else None


def get_many(tenant_id: str, multicast_ids: list[str]) -> dict[str, dict[str, Any]]:
    found = table.batch_get([(pk(tenant_id, m), SK) for m in multicast_ids])
    return {i["id"]: decode(i) for i in found.values()}


def page(
    tenant_id: str, *, after: str, before: str, offset: int, limit: int, template_id: str | None, group_id: str | None
) -> tuple[list[dict[str, Any]], int]:
    """The tenant's multicasts whose ``GSI3SK`` (``<created_at>#<id>``) is in [after, before] (the key range), newest
    first; ``template_id`` and ``group_id`` narrow the range (a filter on that Query)."""
    params: dict[str, Any] = {
        "IndexName": INDEX,
        "KeyConditionExpression": "GSI3PK = :pk AND GSI3SK BETWEEN :a AND :b",
        "ScanIndexForward": False,
    }
    values: dict[str, Any] = {"pk": list_pk(tenant_id), "a": after, "b": before}
    filters = []
    if template_id is not None:
        filters.append("template_id = :tpl")
        values["tpl"] = template_id
    if group_id is not None:
        filters.append("contains(group_ids, :g)")
        values["g"] = group_id
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    items, total = table.offset_page(offset, limit, ExpressionAttributeValues=table.values(**values), **params)
    return [decode(i) for i in items], total


def set_status(tenant_id: str, multicast_id: str, status: str, *, when: tuple[str, ...], extra: dict[str, Any] | None = None) -> bool:
    """Move the multicast to ``status`` if it is in one of ``when``."""
    sets = {"status": status, **(extra or {})}
    names = {f"#s{i}": k for i, k in enumerate(sets)}
    expr = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
    vals = {f"s{i}": v for i, v in enumerate(sets.values())}
    conds = " OR ".join(f"#s0 = :w{i}" for i in range(len(when)))
    vals.update({f"w{i}": w for i, w in enumerate(when)})
    return table.try_update(pk(tenant_id, multicast_id), SK, expr, condition=f"attribute_exists(PK) AND ({conds})",
                            names=names, values=table.values(**vals))  # fmt: skip


# ───────────── steps (pages and batches): done once ─────────────
def step_done(tenant_id: str, multicast_id: str, step_sk: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, multicast_id), step_sk, consistent=True)


def finish_step(tenant_id: str, multicast_id: str, step_sk: str, counts: dict[str, int], *, last_page: bool = False) -> bool:
    """Mark a step done and add its counts to the multicast, in one transaction: False (nothing written) when the step
    was already done."""
    adds = {k: v for k, v in counts.items() if v}
    names = {f"#c{i}": k for i, k in enumerate(adds)}
    expr = ("ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(adds)))) if adds else ""
    vals: dict[str, Any] = {f"c{i}": v for i, v in enumerate(adds.values())}
    if last_page:
        expr = "SET paging_done = :t " + expr
        vals["t"] = True
    ops: list[dict[str, Any]] = [
        {
            "Put": {
                "Item": table.marshal({"PK": pk(tenant_id, multicast_id), "SK": step_sk, "type": "multicast_step", **counts}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
    ]
    if expr:
        update: dict[str, Any] = {"Key": table.key(pk(tenant_id, multicast_id), SK), "UpdateExpression": expr,
                                  "ExpressionAttributeValues": table.values(**vals)}  # fmt: skip
        if names:
            update["ExpressionAttributeNames"] = names
        ops.append({"Update": update})
    return table.try_transact(ops, decisive=(0,))


def mark_enqueued(tenant_id: str, multicast_id: str, step_sk: str) -> None:
    table.try_update(
        pk(tenant_id, multicast_id), step_sk, "SET enqueued = :t", condition="attribute_exists(PK)", values=table.values(t=True)
    )


# ───────────── recipients ─────────────
def recipients(tenant_id: str, multicast_id: str, sks: list[str]) -> dict[str, dict[str, Any]]:
    """The stored recipients among ``sks`` (consistent: what an earlier attempt of the batch wrote)."""
    found = table.batch_get([(pk(tenant_id, multicast_id), s) for s in sks], consistent=True)
    return {k[1]: v for k, v in found.items()}


def recipient_item(tenant_id: str, multicast_id: str, created_at: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = {
        "PK": pk(tenant_id, multicast_id),
        "SK": recipient_sk(fields.get("individual_id"), fields.get("user_id")),
        "type": "multicast_recipient",
        "tenant_id": tenant_id,
        "multicast_id": multicast_id,
        "created_at": created_at,
        **{k: v for k, v in fields.items() if v is not None},
    }
    # what an individual received (the user-multicasts list); a recipient named by its user alone, under "U#<user>"
    item["GSI3PK"] = received_pk(tenant_id, fields["individual_id"] if fields.get("individual_id") else f"U#{fields['user_id']}")
    item["GSI3SK"] = f"{created_at}#{multicast_id}"
    return item


def put_recipients(items: list[dict[str, Any]]) -> None:
    if items:
        table.batch_put(items)


def received(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """What an individual received (its recipient items, GSI3), newest first."""
    return table.offset_page(
        offset,
        limit,
        IndexName=INDEX,
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=received_pk(tenant_id, individual_id)),
        ScanIndexForward=False,
    )


def all_recipient_keys(tenant_id: str, multicast_id: str) -> list[dict[str, Any]]:
    """Every recipient of a multicast (a Query of its partition: tests and the operator)."""
    return table.query_raw(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :r)",
        ExpressionAttributeValues=table.values(pk=pk(tenant_id, multicast_id), r="MCRCPT#"),
    )


def received_keys(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every recipient item of an individual (or ``U#<user>``) (GSI3): the purge."""
    return table.query_raw(
        IndexName=INDEX,
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=received_pk(tenant_id, individual_id)),
        ProjectionExpression="PK, SK, multicast_id",
    )


def created_by(tenant_id: str, user_ids: set[str]) -> list[dict[str, Any]]:
    """The tenant's multicasts made by these users (the tenant's list on GSI3, filtered on ``created_by``): the purge."""
    if not user_ids:
        return []
    names = {f":u{i}": u for i, u in enumerate(sorted(user_ids))}
    return table.query_raw(
        IndexName=INDEX,
        KeyConditionExpression="GSI3PK = :pk",
        FilterExpression=f"created_by IN ({', '.join(names)})",
        ExpressionAttributeValues={**table.values(pk=list_pk(tenant_id)), **{k: table.attribute(v) for k, v in names.items()}},
        ProjectionExpression="PK, SK, id",
    )


def forget(tenant_id: str, multicast_id: str, *, user_ids: set[str], individual_ids: set[str]) -> bool:
    """Take a purged person out of a multicast: their ids from ``individual_ids``, ``user_id``, ``individual_id`` and
    ``created_by``. True when the item changed."""
    item = table.get(pk(tenant_id, multicast_id), SK, consistent=True)
    if item is None:
        return False
    removes = [k for k in ("user_id", "created_by") if item.get(k) in user_ids]
    removes += ["individual_id"] if item.get("individual_id") in individual_ids else []
    kept = [i for i in item.get("individual_ids") or [] if i not in individual_ids]
    sets = {"individual_ids": kept} if len(kept) != len(item.get("individual_ids") or []) else {}
    if not removes and not sets:
        return False
    expr = ("SET individual_ids = :ids " if sets else "") + ("REMOVE " + ", ".join(removes) if removes else "")
    table.ddb().update_item(TableName=table.table_name(), Key=table.key(pk(tenant_id, multicast_id), SK), UpdateExpression=expr.strip(),
                            **({"ExpressionAttributeValues": table.values(ids=kept)} if sets else {}))  # fmt: skip
    return True


def delete_keys(keys: list[tuple[str, str]]) -> int:
    ddb = table.ddb()
    for i in range(0, len(keys), 25):
        chunk = [{"DeleteRequest": {"Key": table.key(p, s)}} for p, s in keys[i : i + 25]]
        request = {table.table_name(): chunk}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return len(keys)


# ───────────── the queue ─────────────
def enqueue(jobs: list[dict[str, Any]]) -> None:
    """Jobs for MulticastFunction, 10 per SendMessageBatch; a refused one raises (the caller's step is retried)."""
    url = get_settings().multicast_queue_url
    sqs = client("sqs")
    for i in range(0, len(jobs), 10):
        chunk = jobs[i : i + 10]
        entries = [{"Id": str(n), "MessageBody": json.dumps(job, separators=(",", ":"))} for n, job in enumerate(chunk)]
        out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if out.get("Failed"):
            raise RuntimeError(f"SQS refused {len(out['Failed'])} multicast job(s): {out['Failed'][0].get('Message')}")
