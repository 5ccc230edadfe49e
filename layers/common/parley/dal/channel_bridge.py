"""The SMS bridge of courier channels and the offline pushes (docs/courier.md "Messaging" → "SMS bridge and offline
pushes", docs/data-model.md §6.20).

- the channel item (``TENANT#<t>#CHAN#<id>`` / ``CHAN``, helper A's) holds ``sms``: the bridge's settings
  {active, text_number_id, text_number (E.164), account_id, activation, initial_message, initial_message_js,
  changed_at, changed_by};
- a member item (``…#CHAN#<id>`` / ``MEMBER#<individual>``, helper A's) holds ``sms`` (bool: bridged), ``sms_phone``
  (E.164), ``sms_since``; and the offline pushes' ``push_at`` / ``push_event`` (the collapse window);
- a **route** per bridged (text number, phone, channel): ``PK = TENANT#<t>#CHANSMS#<number e164>#<phone e164>``,
  ``SK = CHAN#<channel>`` → channel_id, individual_id, bridged_at, last_sent_at. A reply from the phone to the number
  is one Query on that key (the channel that texted the phone last takes it); STOP deletes them all.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table
from parley.dal.channels import CHANNEL_SK, channel_pk, member_sk

ROUTE_TYPE = "channel_sms_route"
__all__ = ["CHANNEL_SK", "channel_pk", "member_sk"]


def route_pk(tenant_id: str, number_e164: str, phone_e164: str) -> str:
    return f"TENANT#{tenant_id}#CHANSMS#{number_e164}#{phone_e164}"


def route_sk(channel_id: str) -> str:
    return f"CHAN#{channel_id}"


# ───────────── the channel's settings ─────────────
def set_channel_sms(tenant_id: str, channel_id: str, sms: dict[str, Any], now: str) -> bool:
    """Replace the channel's ``sms`` settings; a bridge switched on also names its number as the channel's
    ``text_number_id`` (the channel's ``text-number``). False: the channel is gone."""
    update, vals = "SET sms = :sms, last_modified_at = :now", {"sms": {k: v for k, v in sms.items() if v is not None}, "now": now}
    update_add = " ADD cv :one"  # last_modified_at is in the members' channel copies
    if sms.get("active") and sms.get("text_number_id"):
        update, vals["n"] = update + ", text_number_id = :n", sms["text_number_id"]
    return table.try_update(channel_pk(tenant_id, channel_id), CHANNEL_SK, update + update_add, condition="attribute_exists(PK)",
                            values=table.values(**vals, one=1))  # fmt: skip


# ───────────── a member's bridge ─────────────
def bridge_member(tenant_id: str, channel_id: str, individual_id: str, phone: str, now: str) -> bool:
    """Flag the member bridged (False: not a member any more)."""
    return table.try_update(
        channel_pk(tenant_id, channel_id), member_sk(individual_id), "SET sms = :t, sms_phone = :p, sms_since = :now",
        condition="attribute_exists(PK)", values=table.values(t=True, p=phone, now=now),
    )  # fmt: skip


def unbridge_member(tenant_id: str, channel_id: str, individual_id: str, reason: str, now: str) -> bool:
    """Clear the member's bridge flag (False: it was not bridged, or is no member)."""
    return table.try_update(
        channel_pk(tenant_id, channel_id), member_sk(individual_id), "SET sms = :f, sms_ended = :now, sms_end_reason = :r",
        condition="attribute_exists(PK) AND sms = :t", values=table.values(f=False, t=True, now=now, r=reason),
    )  # fmt: skip


def put_route(tenant_id: str, number: str, phone: str, channel_id: str, individual_id: str, now: str) -> None:
    table.put_item(
        {
            "PK": route_pk(tenant_id, number, phone),
            "SK": route_sk(channel_id),
            "type": ROUTE_TYPE,
            "tenant_id": tenant_id,
            "channel_id": channel_id,
            "individual_id": individual_id,
            "number": number,
            "phone": phone,
            "bridged_at": now,
            "last_sent_at": now,
        }
    )


def touch_route(tenant_id: str, number: str, phone: str, channel_id: str, now: str) -> None:
    """The channel texted the phone now (its replies go to the channel that texted it last)."""
    table.try_update(
        route_pk(tenant_id, number, phone), route_sk(channel_id), "SET last_sent_at = :now",
        condition="attribute_exists(PK)", values=table.values(now=now),
    )  # fmt: skip


def routes(tenant_id: str, number: str, phone: str) -> list[dict[str, Any]]:
    """The channels bridging ``phone`` through ``number`` (one Query on the key)."""
    return table.query_all(
        key_condition="PK = :pk AND begins_with(SK, :sk)", expr_values=table.values(pk=route_pk(tenant_id, number, phone), sk="CHAN#")
    )


def delete_route(tenant_id: str, number: str, phone: str, channel_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(route_pk(tenant_id, number, phone), route_sk(channel_id)))


# ───────────── offline pushes ─────────────
def claim_push(tenant_id: str, channel_id: str, individual_id: str, event_id: str, now: str, cutoff: str) -> bool:
    """The member's push for ``event_id`` may go: no push of this channel to the member since ``cutoff`` (the collapse
    window), or they read the channel since (``ack_time``, the messages area's), or this very event claimed it before
    (a redelivery)."""
    return table.try_update(
        channel_pk(tenant_id, channel_id), member_sk(individual_id), "SET push_at = :now, push_event = :e",
        condition="attribute_exists(PK) AND (attribute_not_exists(push_at) OR push_at < :cutoff OR push_event = :e OR ack_time > push_at)",
        values=table.values(now=now, e=event_id, cutoff=cutoff),
    )  # fmt: skip


def unread_counts(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """The individual's member items with unread messages, only ``unread``: one Query on the messages area's unread
    index (GSI7: ``TENANT#<t>#INBOXU#<individual>``, ``GSI7SK = <unread, 10 digits>#…``), from unread 1 up: reads in
    proportion to the channels with unread messages, not to all the individual's channels."""
    from parley.dal import channel_messages

    return table.query_raw(
        IndexName="GSI7",
        KeyConditionExpression="GSI7PK = :pk AND GSI7SK >= :one",
        ProjectionExpression="unread",
        ExpressionAttributeValues=table.values(pk=channel_messages.unread_pk(tenant_id, individual_id), one=f"{1:010d}"),
    )


def forget_member_phone(tenant_id: str, channel_id: str, individual_id: str) -> bool:
    """The purge: the member is no longer bridged and its phone is gone (False: it had none)."""
    return table.try_update(
        channel_pk(tenant_id, channel_id), member_sk(individual_id), "SET sms = :f REMOVE sms_phone",
        condition="attribute_exists(sms_phone)", values=table.values(f=False),
    )  # fmt: skip
