"""Messaging operations: asynchronous organization jobs (messaging-operations, seed 003; docs/courier.md
"Operations: move-group").

The one type, ``move-group`` (args ``from-individual-group-id``, ``to-individual-group-id``), re-homes every channel
bound to the first individual-group to the second: the channel's ``individual_group_id`` and its CHANGROUP pointer
move, its members follow the target group (the target's individuals who are not members join ``via: group``; members
the source group brought in who are not in the target leave; everyone else keeps their member item — unread counts,
read markers, admin, pinned, notify), and its messages are untouched.

An operation is created ``queued`` with one ``operation`` job on AutomationQueue; ``run(job)`` moves up to ``BATCH``
channels (each in one transaction: the members' changes, the channel's group, both pointers, and the operation's
counters, so a channel is counted exactly when it moved) and queues the next job while channels remain. It is
resumable: the channels still to move are the ones still bound to the source group (a Query of its pointers), so a
job killed halfway runs again from there. ``logs``: ``channels-total`` (bound when it started), ``channels-moved``,
``members-added``, ``members-removed``, ``started-at``, ``finished-at``, ``error`` (when ``failed``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from parley import clock
from parley.dal import messaging_operations as store
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.messaging_operations import OPERATION_TYPES, MoveGroupArgs, OperationAttributes, OperationCreateAttributes

POINTER = "/data/attributes/"
BATCH = 25  # channels per job
COUNTERS = ("channels-moved", "members-added", "members-removed")


def _attributes(item: dict[str, Any], *, include_args: bool) -> OperationAttributes:
    return OperationAttributes(
        args=(item.get("args") or {}) if include_args else None,
        created_at=item["created_at"],
        created_by=item.get("created_by"),
        last_modified_at=item["last_modified_at"],
        logs=item.get("logs") or {},
        organization_id=item["organization_id"],
        status=item["status"],
        type=item["kind"],
    )


def _check_groups(tenant_id: str, organization_id: str, args: MoveGroupArgs) -> None:
    from parley.domain import channels

    if args.from_individual_group_id == args.to_individual_group_id:
        raise Unprocessable("the groups must differ", pointer=POINTER + "args/to-individual-group-id", code="same-group")
    for member, group_id in (
        ("from-individual-group-id", args.from_individual_group_id),
        ("to-individual-group-id", args.to_individual_group_id),
    ):
        found = channels.group_members(tenant_id, group_id)
        if found is None:
            raise NotFound(f"no individual-group {group_id!r}", pointer=f"{POINTER}args/{member}", code="not-found")
        if found[0].get("organization-id") not in (None, organization_id):
            raise Unprocessable("the individual-group belongs to another organization", pointer=f"{POINTER}args/{member}",
                                code="organization-mismatch")  # fmt: skip


def create(tenant_id: str, attrs: OperationCreateAttributes, *, user_id: str | None) -> tuple[str, OperationAttributes]:
    """A queued operation and its first job (the caller sees ``queued``; the job makes it ``running``)."""
    from parley.domain import automation_jobs, channels

    channels.require_organization(tenant_id, attrs.organization_id, pointer=POINTER + "organization-id")
    if attrs.type not in OPERATION_TYPES:
        raise Unprocessable(f"type must be one of {', '.join(OPERATION_TYPES)}", pointer=POINTER + "type", code="invalid-type")
    try:
        args = MoveGroupArgs.model_validate(attrs.args)
    except ValidationError as err:
        problem = err.errors()[0]
        where = "/".join(str(p) for p in problem.get("loc", ()))
        msg = "unknown member" if problem.get("type") == "extra_forbidden" else problem.get("msg", "invalid")
        raise Unprocessable(
            f"args/{where}: {msg}", pointer=POINTER + "args" + (f"/{where}" if where else ""), code="invalid-args"
        ) from None
    _check_groups(tenant_id, attrs.organization_id, args)
    now = clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": new_id(), "organization_id": attrs.organization_id, "kind": attrs.type,
            "args": args.model_dump(mode="json", by_alias=True), "status": "queued", "logs": {c: 0 for c in COUNTERS},
            "created_at": now, "last_modified_at": now, **({"created_by": user_id} if user_id else {})}  # fmt: skip
    store.create(item)
    automation_jobs.queue(automation_jobs.new(tenant_id, "operation", {"operation-id": item["id"]}))
    return item["id"], _attributes(item, include_args=True)


def get(tenant_id: str, operation_id: str, *, include_args: bool) -> tuple[str, OperationAttributes]:
    item = store.get(tenant_id, operation_id)
    if item is None:
        raise NotFound(f"no messaging-operation {operation_id!r}", parameter="id", code="not-found")
    return operation_id, _attributes(item, include_args=include_args)


def page(tenant_id: str, organization_id: str, *, kind: str | None, include_args: bool, offset: int, limit: int
         ) -> tuple[list[tuple[str, OperationAttributes]], int]:  # fmt: skip
    from parley.domain import channels

    channels.require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.page(tenant_id, organization_id, kind=kind, offset=offset, limit=limit)
    return [(i["id"], _attributes(i, include_args=include_args)) for i in items], total


# ───────────── the operation job ─────────────
def _fail(tenant_id: str, operation_id: str, error: str) -> None:
    store.set_status(tenant_id, operation_id, "failed", clock.iso(clock.now()), only_from=("queued", "running"),
                     logs={"error": error, "finished-at": clock.iso(clock.now())})  # fmt: skip


def move_channel(tenant_id: str, operation_id: str, channel_id: str, from_group: str, to_group: str, target: set[str]) -> bool:
    """Re-home one channel in one transaction (False: it was not bound to ``from_group`` any more: nothing done)."""
    from parley.dal import channels as cstore
    from parley.domain import channels

    channel = channels.get_channel_item(tenant_id, channel_id)
    if channel is None or channel.get("individual_group_id") != from_group:  # a stale pointer: drop it
        cstore.write([cstore.delete_op(cstore.group_pk(tenant_id, from_group), cstore.group_sk(channel_id))])
        return False
    members = {m["individual_id"]: m for m in channels.member_items(tenant_id, channel_id)}
    add = sorted(target - set(members))
    remove = sorted(i for i, m in members.items() if m.get("via") == channels.VIA_GROUP and i not in target)
    now = clock.iso(clock.now())
    defaults = {"admin": False, "pinned": False, "notify": True, "joined_at": now, "via": channels.VIA_GROUP}
    ops = [cstore.put_op(cstore.member_item(tenant_id, channel, i, defaults)) for i in add]
    ops += [cstore.delete_op(cstore.channel_pk(tenant_id, channel_id), cstore.member_sk(i)) for i in remove]
    repoint = [
        {"Update": {"Key": cstore.table.key(cstore.channel_pk(tenant_id, channel_id), cstore.CHANNEL_SK),
                    "UpdateExpression": "SET individual_group_id = :to, last_modified_at = :now ADD cv :one",
                    "ConditionExpression": "individual_group_id = :from",
                    "ExpressionAttributeValues": cstore.table.values(to=to_group, now=now, one=1, **{"from": from_group})}},
        cstore.delete_op(cstore.group_pk(tenant_id, from_group), cstore.group_sk(channel_id)),
        cstore.put_op(cstore.group_item(tenant_id, to_group, channel_id), new=False),
        store.counts_op(tenant_id, operation_id, {"channels-moved": 1, "members-added": len(add), "members-removed": len(remove)}, now),
    ]  # fmt: skip
    if len(ops) + len(repoint) <= 100:
        if not cstore.transact(ops + repoint):
            raise RuntimeError(f"channel {channel_id} changed while it was moved: the job is retried")
    else:  # a large channel: its members first (a re-run finds them done), then the re-pointing with the counters
        for start in range(0, len(ops), 100):
            cstore.transact(ops[start : start + 100])
        if not cstore.transact(repoint):
            raise RuntimeError(f"channel {channel_id} changed while it was moved: the job is retried")
    channels._copies_follow(tenant_id, channel_id)  # individual_group_id and last_modified_at are in the members' copies
    if add:
        channels._publish(tenant_id, channel_id, "members-added", add, actor=None, at=now)
    if remove:
        channels._publish(tenant_id, channel_id, "members-removed", remove, actor=None, at=now)
    channels._publish(tenant_id, channel_id, "channel-updated", None, actor=None, at=now, data={"fields": ["individual-group-id"]})
    return True


def run(job: Any) -> None:
    """The ``operation`` job (data ``{"operation-id"}``): one batch of the operation's work, then the next job."""
    from parley.dal import channels as cstore
    from parley.domain import automation_jobs, channels

    tenant_id, operation_id = job.tenant_id, str((job.data or {}).get("operation-id") or "")
    op = store.get(tenant_id, operation_id)
    if op is None or op["status"] in ("completed", "failed"):
        return
    now = clock.iso(clock.now())
    args = op.get("args") or {}
    from_group, to_group = args["from-individual-group-id"], args["to-individual-group-id"]
    if op["status"] == "queued":
        store.set_status(tenant_id, operation_id, "running", now, only_from=("queued",), logs={"started-at": now})
        store.set_log(tenant_id, operation_id, "channels-total", len(cstore.group_channel_ids(tenant_id, from_group)), if_absent=True)
    found = channels.group_members(tenant_id, to_group)
    if found is None:
        _fail(tenant_id, operation_id, f"the individual-group {to_group} is gone")
        return
    target = set(found[1])
    remaining = sorted(cstore.group_channel_ids(tenant_id, from_group))
    for channel_id in remaining[:BATCH]:
        move_channel(tenant_id, operation_id, channel_id, from_group, to_group, target)
    if len(remaining) > BATCH:
        automation_jobs.queue(automation_jobs.new(tenant_id, "operation", {"operation-id": operation_id}))
        return
    store.set_status(tenant_id, operation_id, "completed", clock.iso(clock.now()), only_from=("running",),
                     logs={"finished-at": clock.iso(clock.now())})  # fmt: skip
