"""The bookmarks (pinned messages) of channels (messaging-bookmarks, seed 003; docs/data-model.md §6.20).

- item ``PK = TENANT#<t>#CHBM#<id>``, ``SK = CHBM``: ``{type: "channel_bookmark", tenant_id, id, channel_id,
  message_id, organization_id, created_at, created_by (individual), created_by_user?}``; by organization on GSI3
  (``GSI3PK = TENANT#<t>#CHBMS#ORG#<org>``, ``GSI3SK = <created_at>#<id>``), by channel on GSI6
  (``GSI6PK = TENANT#<t>#CHAN#<channel>#BM``, ``GSI6SK = <created_at>#<id>``), by creator on GSI9
  (``GSI9PK = TENANT#<t>#CHBMBY#<individual>``, ``GSI9SK = <created_at>#<id>``: the data-subject purge's).
- the channel item's ``bookmark`` map ``{id, message_id, created_at}``: the channel's newest bookmark (what the inbox
  and the channel answer), set only when newer than the one there; each set bumps the channel's version ``cv`` (the
  members' channel copies follow: ``channel_inbox.channel_changed``).
"""

from __future__ import annotations

from typing import Any

from parley.dal import channels, table

ITEM_TYPE = "channel_bookmark"
SK = "CHBM"


def pk(tenant_id: str, bookmark_id: str) -> str:
    return f"TENANT#{tenant_id}#CHBM#{bookmark_id}"


def org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#CHBMS#ORG#{organization_id}"


def channel_pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#CHAN#{channel_id}#BM"


def creator_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#CHBMBY#{individual_id}"


def _channel_key(tenant_id: str, channel_id: str) -> tuple[str, str]:
    """The channel item's key (``parley.dal.channels``)."""
    return channels.channel_pk(tenant_id, channel_id), channels.CHANNEL_SK


def create(item: dict[str, Any]) -> None:
    t, sort = item["tenant_id"], f"{item['created_at']}#{item['id']}"
    stored = {
        **item,
        "PK": pk(t, item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": org_pk(t, item["organization_id"]),
        "GSI3SK": sort,
        "GSI6PK": channel_pk(t, item["channel_id"]),
        "GSI6SK": sort,
        **({"GSI9PK": creator_pk(t, item["created_by"]), "GSI9SK": sort} if item.get("created_by") else {}),
    }
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, bookmark_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, bookmark_id), SK, consistent=consistent)


def of_channel(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    """The channel's bookmarks, oldest first (GSI6)."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=channel_pk(tenant_id, channel_id)), index="GSI6")


def page_of_channel(tenant_id: str, channel_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return table.offset_page(
        offset,
        limit,
        IndexName="GSI6",
        KeyConditionExpression="GSI6PK = :pk",
        ExpressionAttributeValues=table.values(pk=channel_pk(tenant_id, channel_id)),
    )


def of_organization(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """The organization's bookmarks, oldest first (GSI3)."""
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=org_pk(tenant_id, organization_id)), index="GSI3")


def of_creator(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """The bookmarks the individual made (GSI9)."""
    return table.query_all(key_condition="GSI9PK = :pk", expr_values=table.values(pk=creator_pk(tenant_id, individual_id)), index="GSI9")


def forget_creator(tenant_id: str, bookmark_id: str) -> bool:
    """The purge: the bookmark stays (the channel's pin), without its creator."""
    return table.try_update(pk(tenant_id, bookmark_id), SK, "REMOVE created_by, created_by_user, GSI9PK, GSI9SK",
                            condition="attribute_exists(PK)")  # fmt: skip


def delete(tenant_id: str, bookmark_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(pk(tenant_id, bookmark_id), SK))


def set_newest(tenant_id: str, channel_id: str, bookmark: dict[str, Any]) -> bool:
    """The channel item's ``bookmark`` := ``{id, message_id, created_at}`` when it has none or an older one (False:
    a newer one is there, or the channel is gone)."""
    key_pk, key_sk = _channel_key(tenant_id, channel_id)
    return table.try_update(
        key_pk,
        key_sk,
        "SET bookmark = :b ADD cv :one",
        condition="attribute_exists(PK) AND (attribute_not_exists(bookmark) OR bookmark.created_at <= :at)",
        values=table.values(b=bookmark, at=bookmark["created_at"], one=1),
    )


def put_newest(tenant_id: str, channel_id: str, bookmark: dict[str, Any]) -> bool:
    """The channel item's ``bookmark`` := ``bookmark`` unconditionally (after the others were deleted)."""
    key_pk, key_sk = _channel_key(tenant_id, channel_id)
    return table.try_update(key_pk, key_sk, "SET bookmark = :b ADD cv :one", condition="attribute_exists(PK)",
                           values=table.values(b=bookmark, one=1))  # fmt: skip
