"""Courier channel messages and the members' inbox state in the single table (docs/data-model.md §6.20).
Tenant-scoped keys; every read is a GetItem or a Query, never a Scan.

- a message: ``PK = TENANT#<t>#CHMSG#<id>``, ``SK = CHMSG``, ``type = channel_message``; a channel's posted messages on
  GSI3 (``GSI3PK = TENANT#<t>#CHAN#<channel>#MSGS``, ``GSI3SK = <seq, 12 digits>``), drafts in the same partition
  under ``DRAFT#<created_at>#<id>``. ``reactions`` is a map ``"<type>#<individual>" → time`` (one per individual
  and type by construction). Its author's messages (posted and drafts) on GSI6 (``GSI6PK = TENANT#<t>#CHMSGBY#<individual>``,
  ``GSI6SK = <created_at>#<id>``: the data-subject purge finds them there; an anonymised message leaves it).
- a member's inbox state lives on the channel's member item (``PK = TENANT#<t>#CHAN#<channel>``,
  ``SK = MEMBER#<individual>``, helper A's): ``head_seq`` (the newest posted seq applied to this member), ``ack_seq``
  / ``ack_message_id`` / ``ack_time`` (the read marker), ``unread`` (= head_seq - ack_seq, kept with them),
  ``last_time``, ``iv`` (the inbox version: every change of these is a compare-and-set on it, so concurrent posts
  and acks never lose an update). The inbox indexes: GSI6 by last activity (``GSI6SK = <last_time>#<channel>``),
  GSI7 by unread count (``GSI7PK = TENANT#<t>#INBOXU#<individual>``, ``GSI7SK = <unread 10 digits>#<last_time>#<channel>``)
  and GSI5 by read-marker time (``GSI5PK = TENANT#<t>#INBOXA#<individual>``, ``GSI5SK = <ack_time or 0>#<channel>``).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table
from parley.dal.channels import CHANNEL_SK, MEMBER_PREFIX, channel_pk, inbox_pk, member_sk

MESSAGE_SK = "CHMSG"
SEQ_DIGITS = 12
DRAFT_PREFIX = "DRAFT#"
NO_ACK_TIME = "0000-00-00T00:00:00.000Z"


# ── keys ──
def message_pk(tenant_id: str, message_id: str) -> str:
    return f"TENANT#{tenant_id}#CHMSG#{message_id}"


def channel_messages_pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#CHAN#{channel_id}#MSGS"


def seq_sk(seq: int) -> str:
    return f"{seq:0{SEQ_DIGITS}d}"


def draft_sk(created_at: str, message_id: str) -> str:
    return f"{DRAFT_PREFIX}{created_at}#{message_id}"


def author_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#CHMSGBY#{individual_id}"


def unread_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#INBOXU#{individual_id}"


def acked_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#INBOXA#{individual_id}"


def unread_sk(unread: int, last_time: str, channel_id: str) -> str:
    return f"{max(unread, 0):010d}#{last_time}#{channel_id}"


# ── messages ──
def message_item(tenant_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    mid, channel = fields["id"], fields["channel_id"]
    sk = draft_sk(fields["created_at"], mid) if fields.get("draft") else seq_sk(fields["seq"])
    return {
        "PK": message_pk(tenant_id, mid),
        "SK": MESSAGE_SK,
        "type": "channel_message",
        "tenant_id": tenant_id,
        "GSI3PK": channel_messages_pk(tenant_id, channel),
        "GSI3SK": sk,
        "reactions": {},
        **_author_keys(tenant_id, fields),
        **{k: v for k, v in fields.items() if v is not None},
    }


def _author_keys(tenant_id: str, fields: dict[str, Any]) -> dict[str, str]:
    """The author index's keys (GSI6), when the message has an author."""
    if not fields.get("individual_id"):
        return {}
    return {"GSI6PK": author_pk(tenant_id, fields["individual_id"]), "GSI6SK": f"{fields['created_at']}#{fields['id']}"}


def get_message(tenant_id: str, message_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(message_pk(tenant_id, message_id), MESSAGE_SK, consistent=consistent)


def post_message(tenant_id: str, channel_id: str, expected_seq: int | None, item: dict[str, Any], last_message: dict[str, Any], *,
                 replace_draft: bool = False, expected_cv: int | None = None) -> bool:  # fmt: skip
    """In one transaction: the channel's ``seq`` moves from ``expected_seq`` (None: never posted) to ``item['seq']``
    with its ``last_message``/``last_time`` (its version ``cv`` + 1: the members' channel copies follow), and the
    message is stored. False when another post took that seq first (the caller reads the channel again and retries):
    a seq is never used twice and never skipped. ``expected_cv``: also only if the channel's version is still that
    one (0: none yet), so that the channel after is the one read with this post's changes (its copy needs no read)."""
    if expected_seq is None:
        cond, vals = "attribute_exists(PK) AND attribute_not_exists(seq)", {}
    else:
        cond, vals = "attribute_exists(PK) AND seq = :old", {":old": table.attribute(expected_seq)}
    if expected_cv is not None:
        cond += " AND (cv = :cv OR attribute_not_exists(cv))" if expected_cv == 0 else " AND cv = :cv"
        vals[":cv"] = table.attribute(expected_cv)
    ops = [
        {
            "Update": {
                "Key": table.key(channel_pk(tenant_id, channel_id), CHANNEL_SK),
                "UpdateExpression": "SET seq = :seq, last_message = :lm, last_time = :lt ADD cv :one",
                "ConditionExpression": cond,
                "ExpressionAttributeValues": {
                    ":seq": table.attribute(item["seq"]),
                    ":lm": table.attribute(last_message),
                    ":lt": table.attribute(item["posted_time"]),
                    ":one": table.attribute(1),
                    **vals,
                },
            }
        },
        {"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}},
    ]
    if replace_draft:  # publishing a draft: the stored draft becomes the posted message (if it still is a draft)
        ops[1]["Put"]["ConditionExpression"] = "draft = :t AND removed = :f"
        ops[1]["Put"]["ExpressionAttributeValues"] = {":t": {"BOOL": True}, ":f": {"BOOL": False}}
    return table.try_transact(ops, decisive=[0, 1])


def put_draft(item: dict[str, Any]) -> None:
    table.put_item(item, condition="attribute_not_exists(PK)")


def update_message(tenant_id: str, message_id: str, fields: dict[str, Any], *, expected_modified: str) -> bool:
    """SET ``fields`` on the message if it was not changed since it was read (its ``last_modified_time``)."""
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    vals = {f":v{i}": v for i, v in enumerate(fields.values())}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    return table.try_update(message_pk(tenant_id, message_id), MESSAGE_SK, update, condition="last_modified_time = :was",
                            values=table.values(was=expected_modified, **{k[1:]: v for k, v in vals.items()}), names=names)  # fmt: skip


def update_last_message(tenant_id: str, channel_id: str, seq: int, last_message: dict[str, Any]) -> bool:
    """The channel's ``last_message`` follows an edit or removal of the message it shows (only if it still shows it)."""
    return table.try_update(channel_pk(tenant_id, channel_id), CHANNEL_SK, "SET last_message = :lm ADD cv :one",
                            condition="seq = :seq AND last_message.id = :id",
                            values=table.values(lm=last_message, seq=seq, id=last_message["id"], one=1))  # fmt: skip


def set_reaction(tenant_id: str, message_id: str, key: str, at: str | None) -> None:
    """Add (``at``) or remove (None) one reaction; both idempotent."""
    if at is None:
        table.ddb().update_item(TableName=table.table_name(), Key=table.key(message_pk(tenant_id, message_id), MESSAGE_SK),
                                UpdateExpression="REMOVE reactions.#k", ExpressionAttributeNames={"#k": key},
                                ConditionExpression="attribute_exists(PK)")  # fmt: skip
    else:
        table.ddb().update_item(TableName=table.table_name(), Key=table.key(message_pk(tenant_id, message_id), MESSAGE_SK),
                                UpdateExpression="SET reactions.#k = if_not_exists(reactions.#k, :at)",
                                ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues=table.values(at=at),
                                ConditionExpression="attribute_exists(PK)")  # fmt: skip


def message_page(
    tenant_id: str, channel_id: str, *, offset: int, limit: int, low: int = 1, high: int = 10**SEQ_DIGITS - 1,
    filters: list[str] = (), values: dict[str, Any] | None = None, names: dict[str, str] | None = None, drafts: bool = False,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """A page of the channel's posted messages, newest first, with seq in ``low..high`` and the filter expressions
    (ANDed), and how many match (``table.offset_page``: every item of the seq range is evaluated once). ``drafts``:
    the channel's drafts instead (``DRAFT#<created_at>#<id>``, newest first; ``low``/``high`` unused)."""
    lo, hi = (DRAFT_PREFIX, DRAFT_PREFIX[:-1] + "$") if drafts else (seq_sk(low), seq_sk(high))  # "$" follows "#"
    params: dict[str, Any] = {
        "IndexName": "GSI3",
        "KeyConditionExpression": "GSI3PK = :pk AND GSI3SK BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": table.values(pk=channel_messages_pk(tenant_id, channel_id), lo=lo, hi=hi, **(values or {})),
        "ScanIndexForward": False,
    }
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    if names:
        params["ExpressionAttributeNames"] = names
    if not drafts and high < low:
        return [], 0
    return table.offset_page(offset, limit, **params)


def of_author(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """The individual's messages, posted and drafts, oldest first (GSI6, the author index)."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=author_pk(tenant_id, individual_id)), index="GSI6")


def anonymise(tenant_id: str, message_id: str, at: str) -> bool:
    """The purge's tombstone of a posted message: its seq, channel and times stay (the members' read markers and unread
    counts number the messages); its text, author, reactions and edit time go, and it is ``removed``."""
    return table.try_update(
        message_pk(tenant_id, message_id), MESSAGE_SK,
        "SET message = :e, message_lc = :e, removed = :t, removed_time = if_not_exists(removed_time, :at), purged_at = :at, "
        "reactions = :none REMOVE individual_id, user_id, edited_time, has_attachments, GSI6PK, GSI6SK",
        condition="attribute_exists(PK)", values=table.values(e="", t=True, at=at, none={}),
    )  # fmt: skip


def delete_message(tenant_id: str, message_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(message_pk(tenant_id, message_id), MESSAGE_SK))


def reacted_by(tenant_id: str, channel_id: str, individual_id: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """The channel's messages that carry a reaction of the individual (one Query of the channel's messages on GSI3,
    filtered on the reaction keys: the purge's, read ∝ the channel's messages)."""
    names = {f"#k{i}": f"{kind}#{individual_id}" for i, kind in enumerate(kinds)}
    return table.query_raw(
        IndexName="GSI3", KeyConditionExpression="GSI3PK = :pk", ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(pk=channel_messages_pk(tenant_id, channel_id)),
        FilterExpression=" OR ".join(f"attribute_exists(reactions.{n})" for n in names),
    )  # fmt: skip


def messages_by_ids(tenant_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    found = table.batch_get([(message_pk(tenant_id, i), MESSAGE_SK) for i in ids])
    return {item["id"]: item for item in found.values()}


# ── inbox state (on the member item) ──
def get_member(tenant_id: str, channel_id: str, individual_id: str) -> dict[str, Any] | None:
    return table.get(channel_pk(tenant_id, channel_id), member_sk(individual_id), consistent=True)


def write_inbox_state(tenant_id: str, channel_id: str, individual_id: str, state: dict[str, Any], *, version: int | None,
                      copy_read: int | None = None) -> bool:  # fmt: skip
    """Compare-and-set the member's inbox state (``version``: the ``iv`` read; None: never set). False: the member
    changed its inbox state meanwhile (read again and retry) or is no longer a member (nothing written either way).
    A state that carries the channel copy (``ch``/``ch_v``) is written only if the member's ``ch_v`` is still the one
    read (``copy_read``; None: none): a copy refreshed meanwhile is never undone."""
    fields = dict(state)
    fields["iv"] = (version or 0) + 1
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    vals = {f"v{i}": v for i, v in enumerate(fields.values())}
    cond = "attribute_exists(PK) AND " + ("attribute_not_exists(iv)" if version is None else "iv = :was")
    if version is not None:
        vals["was"] = version
    if "ch_v" in state:
        cond += " AND " + ("attribute_not_exists(ch_v)" if copy_read is None else "ch_v = :chwas")
        if copy_read is not None:
            vals["chwas"] = copy_read
    return table.try_update(channel_pk(tenant_id, channel_id), member_sk(individual_id), update, condition=cond,
                            values=table.values(**vals), names=names)  # fmt: skip


def inbox_page(
    tenant_id: str, individual_id: str, *, index: str, descending: bool, offset: int, limit: int,
    filters: list[str] = (), values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """A page of the individual's member items on one inbox index (GSI6 last activity, GSI7 unread, GSI5 read time)."""
    pk = {"GSI6": inbox_pk(tenant_id, individual_id), "GSI7": unread_pk(tenant_id, individual_id),
          "GSI5": acked_pk(tenant_id, individual_id)}[index]  # fmt: skip
    params: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{index}PK = :pk",
        "ExpressionAttributeValues": table.values(pk=pk, **(values or {})),
        "ScanIndexForward": not descending,
    }
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    if names:
        params["ExpressionAttributeNames"] = names
    return table.offset_page(offset, limit, **params)


def channels_by_ids(tenant_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    found = table.batch_get([(channel_pk(tenant_id, i), CHANNEL_SK) for i in ids])
    return {item["id"]: item for item in found.values()}


def member_ids_upto(tenant_id: str, channel_id: str, n: int) -> list[str] | None:
    """The channel's member ids if it has at most ``n`` members (one Query of at most n+1 keys), else None."""
    out = table.ddb().query(TableName=table.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :m)",
                            ExpressionAttributeValues=table.values(pk=channel_pk(tenant_id, channel_id), m=MEMBER_PREFIX),
                            ProjectionExpression="SK", Limit=n + 1, ConsistentRead=True)  # fmt: skip
    items = out.get("Items", [])
    if len(items) > n:
        return None
    return [i["SK"]["S"].removeprefix(MEMBER_PREFIX) for i in items]


def inbox_chunks(tenant_id: str, individual_id: str, *, index: str, descending: bool, filters: list[str], values: dict[str, Any]) -> Any:
    """The individual's member items on one inbox index, in order, 100 per Query (a generator: stop when done)."""
    pk = {
        "GSI6": inbox_pk(tenant_id, individual_id),
        "GSI7": unread_pk(tenant_id, individual_id),
        "GSI5": acked_pk(tenant_id, individual_id),
    }[index]
    params: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": f"{index}PK = :pk", "ScanIndexForward": not descending,
                              "ExpressionAttributeValues": table.values(pk=pk, **values), "Limit": 100}  # fmt: skip
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    start = None
    while True:
        out = table.ddb().query(TableName=table.table_name(), **params, **({"ExclusiveStartKey": start} if start else {}))
        items = [table.unmarshal(i) for i in out.get("Items", [])]
        if items:
            yield items
        start = out.get("LastEvaluatedKey")
        if not start:
            return


# ── the individual's channel count (the inbox's page[total] without counting) ──
def inbox_count_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#INBOXN#{individual_id}"


def get_inbox_count(tenant_id: str, individual_id: str) -> int | None:
    item = table.get(inbox_count_pk(tenant_id, individual_id), "INBOXN")
    return None if item is None else int(item["channels"])


def recount_inbox(tenant_id: str, individual_id: str, at: str) -> int:
    """Count the individual's member items on GSI6 (``Select=COUNT``) and store the count (newer count wins)."""
    n = table.count(
        IndexName="GSI6",
        KeyConditionExpression="GSI6PK = :pk",
        ExpressionAttributeValues=table.values(pk=inbox_pk(tenant_id, individual_id)),
    )
    table.put_item({"PK": inbox_count_pk(tenant_id, individual_id), "SK": "INBOXN", "type": "inbox_count", "tenant_id": tenant_id,
                    "individual_id": individual_id, "channels": n, "counted_at": at})  # fmt: skip
    return n


def inbox_window(tenant_id: str, individual_id: str, *, index: str, descending: bool, skip: int, limit: int) -> list[dict[str, Any]]:
    """Items ``skip``..``skip+limit`` of the individual's inbox index in one direction (COUNT queries over ``skip``)."""
    pk = {
        "GSI6": inbox_pk(tenant_id, individual_id),
        "GSI7": unread_pk(tenant_id, individual_id),
        "GSI5": acked_pk(tenant_id, individual_id),
    }[index]
    params: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": f"{index}PK = :pk", "ScanIndexForward": not descending,
                              "ExpressionAttributeValues": table.values(pk=pk)}  # fmt: skip
    start = None
    if skip:
        counted, start = table.advance(skip, **params)
        if counted < skip or start is None:
            return []
    items, _last = table.query_page(limit=limit, start_key=start, **params)
    return items
