"""The courier's bulk messages in the single table (docs/data-model.md §6.25). Tenant-scoped keys; every read is a
GetItem, a BatchGetItem or a Query, never a Scan.

- the bulk message: ``PK = TENANT#<t>#BULK#<id>``, ``SK = BULK``, ``type = bulk_message``: the seed's attributes
  (``organization_id``, ``created_by`` (individual), ``created_by_user``, ``draft``, ``message``, ``message_js``,
  ``individual_ids``, ``individual_group_ids``, ``sender_individual_id``, ``sender_individual_group_id``,
  ``posted_time``), ours (``auto_create_channel``, ``auto_ack``, ``poster`` — the individual the messages are posted
  as —, ``status`` draft|queued|posting|posted|partially-failed, ``planned``, ``batches``, and the counters
  ``total``, ``posted``, ``skipped``, ``failed``);
- every bulk message of the tenant on GSI3: ``GSI3PK = TENANT#<t>#BULKS#ALL``, ``GSI3SK = <created_at>#<id>``;
- the drafts only, on GSI6 (sparse: removed when posting starts): ``GSI6PK = TENANT#<t>#BULKS#DRAFT``, same SK;
- a recipient: ``PK`` the bulk's, ``SK = RCPT#<batch, 5 digits>#<individual>``, ``type = bulk_recipient``:
  ``individual_id``, ``batch``, ``state`` pending|posted|skipped|failed, ``reason``, ``channel_id``, ``message_id``,
  ``settled_at``. A batch's recipients are one Query (``begins_with(SK, RCPT#<batch>#)``).

A recipient leaves ``pending`` once, in one transaction with the ADD of 1 to its bulk's counter of that state
(condition ``state = pending``): the counters are exact whatever is redelivered or re-run.
No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "bulk_message"
RECIPIENT_TYPE = "bulk_recipient"
SK = "BULK"
RCPT = "RCPT#"
COUNTERS = ("posted", "skipped", "failed")


def pk(tenant_id: str, bulk_id: str) -> str:
    return f"TENANT#{tenant_id}#BULK#{bulk_id}"


def all_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#BULKS#ALL"


def drafts_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#BULKS#DRAFT"


def recipient_sk(batch: int, individual_id: str) -> str:
    return f"{RCPT}{batch:05d}#{individual_id}"


def item(tenant_id: str, bulk_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    sort = f"{fields['created_at']}#{bulk_id}"
    out = {"PK": pk(tenant_id, bulk_id), "SK": SK, "type": ITEM_TYPE, "tenant_id": tenant_id, "id": bulk_id,
           "GSI3PK": all_pk(tenant_id), "GSI3SK": sort, **{k: v for k, v in fields.items() if v is not None}}  # fmt: skip
    if fields.get("draft"):
        out |= {"GSI6PK": drafts_pk(tenant_id), "GSI6SK": sort}
    return out


def get(tenant_id: str, bulk_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, bulk_id), SK, consistent=consistent)


def create(stored: dict[str, Any]) -> None:
    table.put_item(stored, condition="attribute_not_exists(PK)")


def page(tenant_id: str, *, include_posted: bool, created_by: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The tenant's bulk messages (drafts only unless ``include_posted``), newest first, and how many match: GSI6 (the
    drafts) or GSI3 (all), ``created_by`` a filter on the partition (``table.offset_page``)."""
    index = "GSI3" if include_posted else "GSI6"
    params: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{index}PK = :pk",
        "ExpressionAttributeValues": table.values(pk=all_pk(tenant_id) if include_posted else drafts_pk(tenant_id)),
        "ScanIndexForward": False,
    }
    if created_by:
        params["FilterExpression"] = "created_by = :by"
        params["ExpressionAttributeValues"].update(table.values(by=created_by))
    return table.offset_page(offset, limit, **params)


def edit_draft(tenant_id: str, bulk_id: str, fields: dict[str, Any]) -> bool:
    """SET ``fields`` on the bulk message while it is a draft; False when it is not (any more)."""
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    vals = {f"v{i}": v for i, v in enumerate(fields.values())}
    return table.try_update(pk(tenant_id, bulk_id), SK, update, condition="attribute_exists(PK) AND draft = :t",
                            values=table.values(t=True, **vals), names=names)  # fmt: skip


def start_posting(tenant_id: str, bulk_id: str, fields: dict[str, Any]) -> bool:
    """The draft becomes ``queued`` (with ``fields``), off the drafts index; once only (condition ``draft = true``)."""
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    vals = {f"v{i}": v for i, v in enumerate(fields.values())}
    return table.try_update(pk(tenant_id, bulk_id), SK,
                            f"SET draft = :f, #st = :queued{', ' + sets if sets else ''} REMOVE GSI6PK, GSI6SK",
                            condition="attribute_exists(PK) AND draft = :t",
                            values=table.values(t=True, f=False, queued="queued", **vals), names={"#st": "status", **names})  # fmt: skip


def put_recipients(items: list[dict[str, Any]]) -> None:
    table.batch_put(items)


def recipient_item(
    tenant_id: str, bulk_id: str, batch: int, individual_id: str, state: str, reason: str | None, now: str
) -> dict[str, Any]:
    out = {"PK": pk(tenant_id, bulk_id), "SK": recipient_sk(batch, individual_id), "type": RECIPIENT_TYPE, "tenant_id": tenant_id,
           "bulk_id": bulk_id, "individual_id": individual_id, "batch": batch, "state": state, "created_at": now}  # fmt: skip
    if reason:
        out |= {"reason": reason, "settled_at": now}
    return out


def planned(tenant_id: str, bulk_id: str, *, total: int, batches: int, failed: int) -> bool:
    """The recipients are stored: ``total``, ``batches`` and the ``failed`` found while planning (unknown individuals)
    are set, ``status`` posting; once only (condition ``attribute_not_exists(planned)``)."""
    return table.try_update(pk(tenant_id, bulk_id), SK,
                            "SET planned = :t, #tot = :total, batches = :b, failed = :failed, posted = :z, skipped = :z, #st = :posting",
                            condition="attribute_exists(PK) AND attribute_not_exists(planned)",
                            values=table.values(t=True, total=total, b=batches, failed=failed, z=0, posting="posting"),
                            names={"#tot": "total", "#st": "status"})  # fmt: skip


def batch_recipients(tenant_id: str, bulk_id: str, batch: int) -> list[dict[str, Any]]:
    return table.query_raw(KeyConditionExpression="PK = :pk AND begins_with(SK, :p)", ConsistentRead=True,
                           ExpressionAttributeValues=table.values(pk=pk(tenant_id, bulk_id), p=f"{RCPT}{batch:05d}#"))  # fmt: skip


def recipients(tenant_id: str, bulk_id: str) -> list[dict[str, Any]]:
    return table.query_raw(KeyConditionExpression="PK = :pk AND begins_with(SK, :p)", ConsistentRead=True,
                           ExpressionAttributeValues=table.values(pk=pk(tenant_id, bulk_id), p=RCPT))  # fmt: skip


def settle(tenant_id: str, bulk_id: str, recipient: dict[str, Any], state: str, fields: dict[str, Any]) -> bool:
    """The recipient leaves ``pending`` for ``state`` with ``fields``, and its bulk's counter of that state grows by
    one, in one transaction; False (nothing written) when it had left ``pending`` already."""
    assert state in COUNTERS
    data = {k: v for k, v in {**fields, "state": state}.items() if v is not None}
    names = {f"#f{i}": k for i, k in enumerate(data)}
    vals = {f":v{i}": table.attribute(v) for i, v in enumerate(data.values())}
    ops = [
        {
            "Update": {
                "Key": table.key(recipient["PK"], recipient["SK"]),
                "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(data))),
                "ConditionExpression": "#f_state_was = :pending",
                "ExpressionAttributeNames": {**names, "#f_state_was": "state"},
                "ExpressionAttributeValues": {**vals, ":pending": table.attribute("pending")},
            }
        },
        {
            "Update": {
                "Key": table.key(pk(tenant_id, bulk_id), SK),
                "UpdateExpression": "ADD #c :one",
                "ExpressionAttributeNames": {"#c": state},
                "ExpressionAttributeValues": {":one": table.attribute(1)},
            }
        },
    ]
    return table.try_transact(ops, decisive=[0])


def finish(tenant_id: str, bulk_id: str, status: str, now: str, *, counts: dict[str, int]) -> bool:
    """Every recipient settled (``counts`` — posted, skipped, failed as read — add up to its total): the final ``status``
    and ``posted_time``, once (condition: not finished yet and the counters still as read)."""
    return table.try_update(pk(tenant_id, bulk_id), SK, "SET #st = :s, posted_time = :now, finished_at = :now",
                            condition="attribute_not_exists(finished_at) AND posted = :p AND skipped = :k AND failed = :x",
                            values=table.values(s=status, now=now, p=counts["posted"], k=counts["skipped"], x=counts["failed"]),
                            names={"#st": "status"})  # fmt: skip
