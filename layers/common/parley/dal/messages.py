"""Messages and their activity events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import bodies, body_intents, contacts, counters, keys, pending, table, tallies
from parley.models.domain import SENDABLE, ActivityEvent, Message, MessageStatus, TimelineEntry

# Status changes a reader of a record sees (QUEUED ↔ SENDING is the pipeline's own business).
_VISIBLE_CHANGES = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED, MessageStatus.UNCONFIRMED)
_FINAL = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)  # states a message never leaves
# States whose message may have been handed to the provider without its acceptance being recorded: a
# provider's event or the dispatcher's receipt job confirms them SENT (``confirm_sent_ops``).
UNCONFIRMED_STATES = (MessageStatus.SENDING, MessageStatus.UNCONFIRMED)
DUE_ATTRIBUTES = ("GSI9PK", "GSI9SK")  # the due index: removed by every change away from SCHEDULED


def is_record(msg: Message) -> bool:
    """An outbound email: one of the tenant's communication records (CRM), whichever API sent it."""
    return msg.channel == "email" and msg.direction == "outbound"


def _item(msg: Message, done: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The message's item. A body too large for it is written to S3 now, after an intent item saying so
    (``body_intents``): the write that deletes the intent is appended to ``done``, for the transaction that
    stores the item (the sweeper removes the body of an intent that outlives its message's write)."""
    data = msg.model_dump(mode="json", exclude_none=True)
    if len(msg.body.encode()) > bodies.INLINE_LIMIT:
        intent = body_intents.record(msg.tenant_id, msg.id, bodies.key_for(msg.tenant_id, msg.id))
        data["body_ref"] = bodies.put(msg.tenant_id, msg.id, data.pop("body"))
        if done is not None:
            done.append(body_intents.done_op(intent))
    created = clock.iso(msg.created_at)
    counterpart = msg.recipient if msg.direction == "outbound" else msg.sender
    return {
        "PK": keys.message_pk(msg.tenant_id, msg.id),
        "SK": keys.MESSAGE_SK,
        "type": "message",
        "GSI1PK": keys.timeline_pk(msg.tenant_id, msg.channel),
        "GSI1SK": keys.time_sk(created, msg.id),
        "GSI2PK": keys.address_pk(msg.tenant_id, counterpart),
        "GSI2SK": keys.channel_time_sk(msg.channel, created, msg.id),
        "GSI3PK": keys.conversation_pk(msg.tenant_id, msg.conversation_id),
        "GSI3SK": keys.time_sk(created, msg.id),
        **({"GSI4PK": keys.candidate_pk(msg.tenant_id, msg.candidate_id)} if msg.candidate_id else {}),
        **({"GSI4SK": keys.channel_time_sk(msg.channel, created, msg.id)} if msg.candidate_id else {}),
        **(_record_keys(msg, created) if is_record(msg) else {}),
        **(_due_keys(msg) if is_record(msg) and msg.status == MessageStatus.SCHEDULED else {}),
        **(_entity_keys(msg, created) if msg.related_entity_type and msg.related_entity_id else {}),
        **(_pending_keys(msg) if msg.direction == "outbound" and msg.status in SENDABLE else {}),
        **data,
    }


def item_of(msg: Message) -> dict[str, Any]:
    """The whole item of a message whose body fits in it (a rewrite: the indexes' keys follow its fields)."""
    if len(msg.body.encode()) > bodies.INLINE_LIMIT:
        raise ValueError("item_of: the body does not fit in the item")
    return _item(msg)


def _record_keys(msg: Message, created: str) -> dict[str, str]:
    return {
        "GSI5PK": keys.records_pk(msg.tenant_id),
        "GSI5SK": keys.time_sk(created, msg.id),
        "GSI7PK": keys.status_pk(msg.tenant_id, msg.status.value),
        "GSI7SK": keys.time_sk(created, msg.id),
    }


def due_keys(tenant_id: str, message_id: str, *, scheduled_at: datetime | None, created_at: datetime) -> dict[str, str]:
    """The due index (GSI9) attributes of a SCHEDULED record: ``GET /scheduled`` reads its earliest-due records
    as the first items of one partition instead of sorting the whole status partition."""
    due = scheduled_at or created_at
    return {"GSI9PK": keys.due_pk(tenant_id), "GSI9SK": keys.due_sk(clock.iso(due), clock.iso(created_at), message_id)}


def _due_keys(msg: Message) -> dict[str, str]:
    return due_keys(msg.tenant_id, msg.id, scheduled_at=msg.scheduled_at, created_at=msg.created_at)


def _pending_keys(msg: Message) -> dict[str, str]:
    """On the pending index until the dispatcher claims it (dal/pending.py): due when queued, or when scheduled."""
    due = msg.scheduled_at if msg.status == MessageStatus.SCHEDULED and msg.scheduled_at else msg.created_at
    return pending.keys_for(msg.tenant_id, msg.id, due)


def _entity_keys(msg: Message, created: str) -> dict[str, str]:
    return {
        "GSI6PK": keys.entity_pk(msg.tenant_id, msg.related_entity_type or "", msg.related_entity_id or ""),
        "GSI6SK": keys.time_sk(created, msg.id),
    }


def _message(item: dict[str, Any], *, load_body: bool = True) -> Message:
    """An item as a Message; a body kept in S3 is fetched only when ``load_body``."""
    if load_body and "body_ref" in item and "body" not in item:
        item = {**item, "body": bodies.get(item["body_ref"])}
    return Message.model_validate(item)


def from_item(item: dict[str, Any], *, load_body: bool = True) -> Message:
    """A message item (from the table or any index projecting it) as a Message."""
    return _message(item, load_body=load_body)


def _event_item(tenant_id: str, ev: ActivityEvent) -> dict[str, Any]:
    return {
        "PK": keys.message_pk(tenant_id, ev.message_id),
        "SK": keys.event_sk(ev.created_ms, ev.event_id),
        "type": "activity",
        **ev.model_dump(mode="json"),
    }


def create_ops(msg: Message) -> list[dict[str, Any]]:
    """The writes that store a new message, for a transaction: the message (never over an existing id),
    for a message filed under a candidate its contact in the transactional-archive index, and for a body kept
    in S3 (written by this call) the deletion of its write intent."""
    done: list[dict[str, Any]] = []
    put = {"Put": {"Item": table.marshal(_item(msg, done)), "ConditionExpression": "attribute_not_exists(PK)"}}
    contact = contacts.record_op(msg)
    return [put, *([] if contact is None else [contact]), *done]


def event_item(tenant_id: str, event: ActivityEvent) -> dict[str, Any]:
    """The item of an activity event (for batched writes)."""
    return _event_item(tenant_id, event)


def event_op(tenant_id: str, event: ActivityEvent) -> dict[str, Any]:
    """The write that appends an activity event, for a transaction."""
    return {"Put": {"Item": table.marshal(_event_item(tenant_id, event))}}


def create(msg: Message, *, extra_ops: Sequence[dict[str, Any]] = ()) -> None:
    """Store a new message and its contact item (and ``extra_ops``), in one transaction when there are several.

    A new record (outbound email) also counts in the tenant's record total, by a separate ADD once it
    is stored: a counter item written in every send's transaction would make concurrent sends of one
    tenant conflict (docs/data-model.md §6.6)."""
    ops = [*create_ops(msg), *extra_ops]
    if len(ops) == 1:
        table.ddb().put_item(TableName=table.table_name(), **ops[0]["Put"])
    else:
        table.transact(ops)
    if is_record(msg):
        counters.add_records(msg.tenant_id, 1)


def get(tenant_id: str, message_id: str, *, load_body: bool = True) -> Message | None:
    item = table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)
    return _message(item, load_body=load_body) if item else None


def load_body(msg: Message) -> Message:
    """The message with its body, fetched from S3 if it was kept there."""
    if msg.body_ref and not msg.body:
        return msg.model_copy(update={"body": bodies.get(msg.body_ref)})
    return msg


def get_with_events(tenant_id: str, message_id: str) -> tuple[Message | None, list[ActivityEvent]]:
    """One Query over the message's item collection: the record (body not loaded) and its events, oldest first."""
    items = table.query_all(
        key_condition="PK = :pk",
        expr_values=table.values(pk=keys.message_pk(tenant_id, message_id)),
    )
    msg = None
    events: list[ActivityEvent] = []
    for item in items:
        if item["SK"] == keys.MESSAGE_SK:
            msg = _message(item, load_body=False)
        elif item["SK"].startswith("EVT#"):
            events.append(ActivityEvent.model_validate(item))
    return msg, events


def history(
    tenant_id: str,
    *,
    channel: str,
    start: datetime,
    end: datetime,
    offset: int,
    limit: int,
    address: str | None = None,
    candidate_id: str | None = None,
) -> tuple[list[Message], int]:
    """Messages of one channel created in [start, end], oldest first: (page, total in the window).

    Served by a key range on one index — GSI1 (tenant timeline), GSI2 (an address) or GSI4 (a
    candidate) — never a Scan. With both an address and a candidate, the address index is read and
    the candidate is a filter.
    """
    lo, hi = clock.iso(start), clock.iso(end)
    if address:
        lst = tallies.TimeList("GSI2", keys.address_pk(tenant_id, address), f"{channel.upper()}#")
    elif candidate_id:
        lst = tallies.TimeList("GSI4", keys.candidate_pk(tenant_id, candidate_id), f"{channel.upper()}#")
    else:
        lst = tallies.TimeList("GSI1", keys.timeline_pk(tenant_id, channel))
    if not (address and candidate_id):
        # the page and the window's total from the list's tallies: reads ≈ the page (docs/data-model.md §6.7)
        items, total = tallies.page(lst, offset=offset, limit=limit, forward=True, lo=lo, hi=hi)
        return [_message(i) for i in items], total
    params = lst.query(lo, hi, forward=True)
    params["FilterExpression"] = "candidate_id = :cand"  # both: the address's messages of that candidate (counted)
    params["ExpressionAttributeValues"] |= table.values(cand=candidate_id)
    items, total = table.offset_page(offset, limit, **params)
    return [_message(i) for i in items], total


def _claim_update(tenant_id: str, message_id: str, now: datetime, token: str = "") -> dict[str, Any]:
    """The conditional QUEUED/SCHEDULED → SENDING update (``claimed_at``, ``claim_id`` = ``token``, ``attempts`` + 1),
    taking it off the pending and due indexes; without ``TableName``."""
    return {
        "Key": table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
        "UpdateExpression": "SET #s = :sending, claimed_at = :now, claim_id = :token, GSI7PK = :spk "
        "ADD attempts :one REMOVE GSI8PK, GSI8SK, GSI9PK, GSI9SK",
        "ConditionExpression": "#s IN (:q, :sch)",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": table.values(
            sending=MessageStatus.SENDING.value,
            spk=keys.status_pk(tenant_id, MessageStatus.SENDING.value),
            now=clock.iso(now),
            token=token or uuid.uuid4().hex,
            one=1,
            q=SENDABLE[0].value,
            sch=SENDABLE[1].value,
        ),
    }


def claim(tenant_id: str, message_id: str, now: datetime, token: str = "") -> Message | None:
    """QUEUED/SCHEDULED → SENDING. Returns the claimed message, or None if it was not sendable."""
    try:
        update = _claim_update(tenant_id, message_id, now, token)
        out = table.ddb().update_item(TableName=table.table_name(), **update, ReturnValues="ALL_NEW")
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return _message(table.unmarshal(out["Attributes"]), load_body=False)


def _set_expression(sets: dict[str, Any], entry: TimelineEntry | None = None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``(SET clause, attribute names, values)`` that set each of ``sets`` (attribute → value) as ``#a<i> = :v<i>``
    and, with an ``entry``, append it to the message's timeline (``#tl``, ``:tl``, ``:tl0``)."""
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    vals: dict[str, Any] = {f"v{i}": v for i, v in enumerate(sets.values())}
    expr = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets)))
    if entry is not None:
        names["#tl"] = "timeline"
        vals |= {"tl": [entry.model_dump(mode="json", exclude_none=True)], "tl0": []}
        expr += ", #tl = list_append(if_not_exists(#tl, :tl0), :tl)"
    return expr, names, vals


def _set_status(
    tenant_id: str,
    message_id: str,
    *,
    to: MessageStatus,
    expect: tuple[MessageStatus, ...],
    extra: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    author_id: str | None = None,
) -> dict[str, Any]:
    sets = {"status": to.value, **(extra or {}), "GSI7PK": keys.status_pk(tenant_id, to.value)}
    expect_vals = {f"e{i}": s.value for i, s in enumerate(expect)}
    entry: TimelineEntry | None = None
    if to in _VISIBLE_CHANGES:
        error = (extra or {}).get("error")
        entry = TimelineEntry(
            id=str(uuid.uuid4()),
            type="STATUS_CHANGE",
            date=clock.now(),
            author_id=author_id,
            description=f"Status changed to {to.value}" + (f": {error}" if error else ""),
        )
    expr, names, vals = _set_expression(sets, entry)
    if to in _VISIBLE_CHANGES:  # off the pending index (the claim removes it too; a cancel or failure may come first)
        remove = (*remove, *pending.ATTRIBUTES)
    if to != MessageStatus.SCHEDULED:  # off the due index (nothing moves a message back to SCHEDULED)
        remove = (*remove, *DUE_ATTRIBUTES)
    if remove:
        names.update({f"#r{i}": k for i, k in enumerate(remove)})
        expr += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    return {
        "Update": {
            "Key": table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
            "UpdateExpression": expr,
            "ConditionExpression": "#a0 IN (" + ", ".join(f":{k}" for k in expect_vals) + ")",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.values(**vals, **expect_vals),
        }
    }


def transition(
    tenant_id: str,
    message_id: str,
    *,
    to: MessageStatus,
    expect: tuple[MessageStatus, ...],
    extra: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    event: ActivityEvent | None = None,
    author_id: str | None = None,
) -> bool:
    """Move a message between states (conditionally), with an optional activity event, atomically.
    SENT, FAILED and CANCELLED also append a STATUS_CHANGE entry (by ``author_id``) to its timeline.

    Returns False when the message was not in one of ``expect`` (someone else moved it first).
    """
    update = _set_status(tenant_id, message_id, to=to, expect=expect, extra=extra, remove=remove, author_id=author_id)
    if event is not None:
        return table.try_transact([update, event_op(tenant_id, event)])
    try:
        table.ddb().update_item(TableName=table.table_name(), **update["Update"])
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def revive(msg: Message, *, event: ActivityEvent, note: str) -> bool:
    """A dead-lettered message (FAILED with ``dead_letter_at``) back to QUEUED for its redriven job: ``error`` and
    ``dead_letter_at`` removed, back on the pending index (due now: the sweeper re-queues it if its job is lost
    again) and, for a record, in the QUEUED status partition with a STATUS_CHANGE entry saying why; ``event``
    appended, atomically. False (nothing written) when it is no longer FAILED and dead-lettered."""
    now = clock.now()
    sets: dict[str, Any] = {"status": MessageStatus.QUEUED.value, "GSI7PK": keys.status_pk(msg.tenant_id, MessageStatus.QUEUED.value),
                            **pending.keys_for(msg.tenant_id, msg.id, now)}  # fmt: skip
    entry: TimelineEntry | None = None
    if is_record(msg):
        entry = TimelineEntry(id=str(uuid.uuid4()), type="STATUS_CHANGE", date=now, description=f"Status changed to QUEUED: {note}")
    expr, names, vals = _set_expression(sets, entry)
    names |= {"#s": "status", "#dl": "dead_letter_at", "#err": "error", "#claimed": "claimed_at"}
    update = {
        "Update": {
            "Key": table.key(keys.message_pk(msg.tenant_id, msg.id), keys.MESSAGE_SK),
            "UpdateExpression": expr + " REMOVE #dl, #err, #claimed",
            "ConditionExpression": "#s = :failed AND attribute_exists(#dl)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.values(**vals, failed=MessageStatus.FAILED.value),
        }
    }
    return table.try_transact([update, event_op(msg.tenant_id, event)])


def settle_dead_letter(tenant_id: str, message_id: str) -> bool:
    """A dead-lettered message whose job an operator discarded: FAILED for good (``dead_letter_at`` removed; its
    ``error`` stays). False when it was not FAILED and dead-lettered."""
    return table.try_update(
        keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK, "REMOVE #dl", condition="#s = :failed AND attribute_exists(#dl)",
        names={"#s": "status", "#dl": "dead_letter_at"}, values=table.values(failed=MessageStatus.FAILED.value),
    )  # fmt: skip


def transition_ops(
    tenant_id: str,
    message_id: str,
    *,
    to: MessageStatus,
    expect: tuple[MessageStatus, ...],
    extra: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    event: ActivityEvent | None = None,
) -> list[dict[str, Any]]:
    """The writes of ``transition``, for a caller that makes them part of a larger transaction."""
    update = _set_status(tenant_id, message_id, to=to, expect=expect, extra=extra, remove=remove)
    return [update] if event is None else [update, event_op(tenant_id, event)]


def mark_sent_ops(msg: Message, *, provider: str, provider_message_id: str | None, sent_at: datetime, event: ActivityEvent,
                  internet_message_id: str | None = None,
                  expect: tuple[MessageStatus, ...] = (MessageStatus.SENDING,)) -> list[dict[str, Any]]:  # fmt: skip
    """The writes of ``mark_sent``, for a caller that makes them part of a larger transaction: the
    conditional SENDING → SENT update first (from any of ``expect``), then the activity event and the
    provider-id lookup (when the provider's id is known)."""
    extra: dict[str, Any] = {"sent_at": clock.iso(sent_at)}
    if provider_message_id:
        extra["provider_message_id"] = provider_message_id
    if internet_message_id:
        extra["internet_message_id"] = internet_message_id
    update = _set_status(msg.tenant_id, msg.id, to=MessageStatus.SENT, expect=expect, extra=extra, remove=("error",))
    ops = [update, event_op(msg.tenant_id, event)]
    if provider_message_id:
        ref = {
            "PK": keys.provider_message_pk(msg.tenant_id, provider, provider_message_id),
            "SK": keys.PROVIDER_MESSAGE_SK,
            "type": "provider_ref",
            "message_id": msg.id,
        }
        ops.append({"Put": {"Item": table.marshal(ref)}})
    return ops


def mark_sent(msg: Message, *, provider: str, provider_message_id: str | None, sent_at: datetime, event: ActivityEvent,
              internet_message_id: str | None = None,
              expect: tuple[MessageStatus, ...] = (MessageStatus.SENDING,)) -> bool:  # fmt: skip
    """SENDING → SENT with the provider's ids, its event, and the provider-id → message lookup, atomically.

    Returns False when the message was in none of ``expect`` (nothing written). The write is conditional
    on the claim, so repeating it after an error whose outcome is unknown is safe: if the first one
    landed, the repeat finds the message SENT and writes nothing. ``expect=UNCONFIRMED_STATES`` confirms a
    message whose outcome was unknown (a provider's event, a receipt job)."""
    ops = mark_sent_ops(msg, provider=provider, provider_message_id=provider_message_id, sent_at=sent_at, event=event,
                        internet_message_id=internet_message_id, expect=expect)  # fmt: skip
    return table.try_transact(ops)


def write_ops(ops: list[dict[str, Any]]) -> None:
    """Several messages' ``transition_ops`` / ``mark_sent_ops`` in one transaction (all or nothing; raises
    if any condition fails or the transaction is cancelled: the caller then writes them one by one)."""
    table.transact(ops)


def _ours(item: dict[str, Any] | None, token: str) -> bool:
    """A claim this caller made already (same ``token``): an earlier try whose answer was lost landed."""
    return bool(token) and item is not None and item.get("status") == MessageStatus.SENDING.value and item.get("claim_id") == token


def claim_many(jobs: list[tuple[str, str]], now: datetime, token: str = "") -> tuple[dict[tuple[str, str], Message],
                                                                                   dict[tuple[str, str], Message | None]]:  # fmt: skip
    """QUEUED/SCHEDULED → SENDING for several ``(tenant_id, message_id)`` (distinct), as ``claim`` does for one.

    One ``TransactWriteItems`` of conditional updates (up to 100 per transaction; tenants may be mixed), each
    asking for the item when its condition fails (``ReturnValuesOnConditionCheckFailure=ALL_OLD``). A
    cancellation drops the messages whose condition failed and the rest are claimed again; then one
    strongly consistent ``BatchGetItem`` reads the claimed messages (bodies not loaded). A cancellation for
    any other reason (a conflict with a concurrent write) falls back to ``claim`` per message.

    Returns ``(claimed, refused)``: the claimed messages, and for each message that was not sendable
    the item as it was when the claim failed (None if it does not exist).

    ``token`` (the caller's, one per attempt at a batch) is stored as ``claim_id``: calling again with the
    same token after an error whose outcome is unknown (a 500 after the transaction landed) counts a
    message already SENDING under that token as claimed, so a lost answer never strands a message.
    """
    refused: dict[tuple[str, str], Message | None] = {}
    done: list[tuple[str, str]] = []
    fallback: list[tuple[str, str]] = []
    for i in range(0, len(jobs), 100):
        todo = list(jobs[i : i + 100])
        while todo:
            ops = [{"Update": {**_claim_update(t, m, now, token), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for t, m in todo]
            try:
                table.transact(ops)
            except ClientError as err:
                reasons = err.response.get("CancellationReasons") or []
                if err.response.get("Error", {}).get("Code") != "TransactionCanceledException" or len(reasons) != len(todo):
                    raise
                codes = [r.get("Code") or "None" for r in reasons]
                if any(c not in ("None", "ConditionalCheckFailed") for c in codes):
                    fallback.extend(todo)
                    break
                mine = []
                for job, reason in zip(todo, reasons, strict=True):
                    if reason.get("Code") == "ConditionalCheckFailed":
                        item = table.unmarshal(reason["Item"]) if reason.get("Item") else None
                        if _ours(item, token):
                            mine.append(job)
                        else:
                            refused[job] = _message(item, load_body=False) if item else None
                done.extend(mine)
                todo = [job for job in todo if job not in refused and job not in mine]
                continue
            done.extend(todo)
            break
    claimed: dict[tuple[str, str], Message] = {}
    if done:
        found = table.batch_get(((keys.message_pk(t, m), keys.MESSAGE_SK) for t, m in done), consistent=True)
        for t, m in done:
            item = found.get((keys.message_pk(t, m), keys.MESSAGE_SK))
            if item is None:
                refused[(t, m)] = None  # deleted between the claim and the read: nothing to send
            else:
                claimed[(t, m)] = _message(item, load_body=False)
    for t, m in fallback:
        msg = claim(t, m, now, token)
        if msg is not None:
            claimed[(t, m)] = msg
            continue
        item = table.get(keys.message_pk(t, m), keys.MESSAGE_SK)
        if _ours(item, token):
            claimed[(t, m)] = _message(item or {}, load_body=False)
        else:
            refused[(t, m)] = _message(item, load_body=False) if item else None
    return claimed, refused


def find_by_provider_id(tenant_id: str, provider: str, provider_message_id: str) -> str | None:
    """The id of the message a provider knows as ``provider_message_id`` (None if unknown)."""
    item = table.get(keys.provider_message_pk(tenant_id, provider, provider_message_id), keys.PROVIDER_MESSAGE_SK)
    return item["message_id"] if item else None


def add_event(tenant_id: str, event: ActivityEvent) -> None:
    table.put_item(_event_item(tenant_id, event), condition="attribute_not_exists(SK)")
