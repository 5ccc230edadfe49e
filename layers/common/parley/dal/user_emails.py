"""The courier's user-emails in the single table (docs/data-model.md §6.11). Tenant-scoped keys; every read is a
GetItem, a BatchGetItem or a Query, never a Scan.

- the email: ``PK = TENANT#<t>#UEMAIL#<id>``, ``SK = UEMAIL``, ``type = user_email``: the seed's attributes
  (``to`` a list, ``subject``, ``message``, ``message_html``, ``sender_organization_id``, ``individual_id``,
  ``user_id``, ``created_by``, ``created_at``, ``last_modified_at``), ``state`` (``draft`` | ``queued``: the part of
  the status that is the email's own; the rest is its message's) and, once sent, ``message_id`` (the send pipeline's
  message, whose status and delivery status the SES events move);
- the list by individual: on the non-tallied generic index GSI3 (``dal/tallies.RULES`` reads GSI1/2/4/5/7 only),
  ``GSI3PK = TENANT#<t>#UEMAIL#IND#<individual>``, ``GSI3SK = <created_at>#<id>`` (newest first when read backwards);
- the individual's count: ``PK = TENANT#<t>#UEMAIL#IND#<individual>``, ``SK = COUNT``, ``n``, added to in the email's
  own create transaction (so ``page[total]`` is one GetItem, not a count of the items).

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import keys, table

ITEM_TYPE = "user_email"
SK = "UEMAIL"
COUNT_SK = "COUNT"
INDEX = "GSI3"
# What a list or a get reads of each sent email's message: its status, delivery status and outcome.
MESSAGE_FIELDS = ("status", "delivery_status", "error", "provider", "provider_message_id", "updated_at", "sent_at")


def pk(tenant_id: str, email_id: str) -> str:
    return f"TENANT#{tenant_id}#UEMAIL#{email_id}"


def individual_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#UEMAIL#IND#{individual_id}"


def item(tenant_id: str, email_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The email's item: its keys, its index keys and ``fields`` (the stored attributes, ``None`` left out)."""
    return {
        "PK": pk(tenant_id, email_id),
        "SK": SK,
        "type": ITEM_TYPE,
        "tenant_id": tenant_id,
        "id": email_id,
        "GSI3PK": individual_pk(tenant_id, fields["individual_id"]),
        "GSI3SK": f"{fields['created_at']}#{email_id}",
        **{k: v for k, v in fields.items() if v is not None},
    }


def create_ops(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The writes that store a new email, for a transaction: the item (never over an existing id) and one more in
    its individual's count."""
    return [
        {"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}},
        {
            "Update": {
                "Key": table.key(individual_pk(stored["tenant_id"], stored["individual_id"]), COUNT_SK),
                "UpdateExpression": "ADD #n :one SET #t = :type",
                "ExpressionAttributeNames": {"#n": "n", "#t": "type"},
                "ExpressionAttributeValues": table.values(one=1, type="user_email_count"),
            }
        },
    ]


def create(stored: dict[str, Any]) -> None:
    table.transact(create_ops(stored))


def queue_op(tenant_id: str, email_id: str, message_id: str, now: str) -> dict[str, Any]:
    """The write that moves a draft to ``queued`` with its message, for the message's create transaction: only from
    ``draft`` (a second send of the same email fails this condition, so at most one message is ever made for it)."""
    return {
        "Update": {
            "Key": table.key(pk(tenant_id, email_id), SK),
            "UpdateExpression": "SET #s = :queued, message_id = :m, last_modified_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND #s = :draft",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": table.values(queued="queued", m=message_id, now=now, draft="draft"),
        }
    }


def get(tenant_id: str, email_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, email_id), SK, consistent=consistent)


def page(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The individual's emails ``offset``..``offset+limit``, newest first, and how many it has (its count item).

    One Query of the page after COUNT queries over the ``offset`` skipped (keys only travel); the total is the count
    item's ``n``, so a page never evaluates the emails after it."""
    params: dict[str, Any] = {
        "IndexName": INDEX,
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=individual_pk(tenant_id, individual_id)),
        "ScanIndexForward": False,
    }
    counted = table.get(individual_pk(tenant_id, individual_id), COUNT_SK)
    total = int(counted["n"]) if counted else 0
    start = None
    if offset:
        start = table.skip(offset, **params)
        if start is None:
            return [], total
    items, _ = table.query_page(limit=limit, start_key=start, **params)
    return items, total


def messages_of(tenant_id: str, message_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The send pipeline's state of these messages (``MESSAGE_FIELDS``), by message id: one BatchGetItem per 100."""
    wanted = {m: (keys.message_pk(tenant_id, m), keys.MESSAGE_SK) for m in message_ids}
    found = table.batch_get(wanted.values(), attributes=MESSAGE_FIELDS)
    return {m: found[key] for m, key in wanted.items() if key in found}


def lost_race(err: BaseException) -> bool:
    """Whether a write failed because a condition did not hold (a draft that another request sent meanwhile)."""
    return isinstance(err, ClientError) and table.is_condition_failure(err)
