"""Communication summaries (seed 003 ``GET /v1/communication-summaries/``,
``POST /v1/individuals/{id}/recalculate-communication-summary/``, ``POST /v1/aggregation-requests/``;
docs/courier.md "Communication summaries", docs/data-model.md §6.29): per-individual counters, maintained as things
happen and rebuildable from the stored records.

What is counted, for an individual X:

- ``messages``: the channel messages X *received*: posted by another member into a channel X is a member of, at or
  after the time X joined it (``posted_time >= joined_at``), and not removed. A channel X leaves stops counting (its
  items are dropped); rejoining starts a new membership (a new ``joined_at``: its epoch) that counts from then on;
  drafts never count.
- ``message-types``: those per channel kind: ``group-messages`` (a group-bound channel), ``direct-messages``,
  ``floating-messages`` (ours: the seed names only the first).
- ``message-senders`` (``include-senders``): those per author.
- ``notifications``: X's user-notifications (``parley.domain.notifications``: the notification's ``individual_id``).
- ``provider-messages``: the SMS and email messages queued through a provider for those notifications (their
  ``deliveries.sms/email.message_ids``) — what the directory ties to an individual; texts and emails sent to bare
  addresses are not an individual's.
- ``video-channels``: 0 until video channels exist (issue 20).

Maintained: ``apply`` (a hook of ChannelEventsFunction, after the inbox state) counts each ``message-posted`` (+1) and
``message-removed`` (-1) for every member it concerns, once per (event, member): a marker put in the same transaction
as the ADDs (``parley.dal.communication_summaries.apply_message``), into the items of the member's current membership
(its epoch, ``joined_at``); ``members-removed`` drops the leaver's items of that channel but the current membership's
(all when it is no member). Events may arrive in any order and more than once: ADDs commute, the markers make each
count once, and a late event counts only for the membership current when it is applied. The notifications' create
transaction adds 1 to ``notifications``; the write that records a notification's deliveries adds its SMS/email
message count to ``provider-messages`` (both in ``parley.dal.notifications``).

Rebuilt: ``rebuild`` recomputes from the stored records only (Queries: the individual's memberships, each channel's
posted messages, the individual's notifications) and replaces the stored counters. After any sequence of posts,
removals, notifications and redeliveries, the rebuild equals the maintained values (tests/integration/
test_courier_communication_summaries.py, a seeded random workload).
"""

from __future__ import annotations

import uuid
from typing import Any

from parley import clock
from parley.dal import communication_summaries as store
from parley.models.channel_events import ChannelEvent

COLUMNS = ("messages", "notifications", "provider-messages", "video-channels", "message-types", "message-senders")
CHANNEL_COLUMNS = {"messages", "message-types", "message-senders"}
NOTIFICATION_COLUMNS = {"notifications", "provider-messages"}
TYPE_NAMES = {"group": "group-messages", "direct": "direct-messages", "floating": "floating-messages"}
PROVIDER_TRANSPORTS = ("sms", "email")
FANOUT = 16  # member counters written at once for a large channel's event
REQUEST_NAMESPACE = uuid.UUID("5d7c1c3e-2b7e-4d39-9a0f-3f4c6e8b1a19")


def provider_message_count(deliveries: dict[str, Any] | None) -> int:
    """How many provider messages (SMS and email) a notification's deliveries queued."""
    return sum(len((deliveries or {}).get(t, {}).get("message_ids") or []) for t in PROVIDER_TRANSPORTS)


# ── the answer ──
def _summarize(stored: list[dict[str, Any]], *, include_senders: bool) -> dict[str, Any]:
    per_kind = dict.fromkeys(TYPE_NAMES, 0)
    senders: dict[str, int] = {}
    messages = notifications = provider = 0
    for item in stored:
        kind = item.get("type")
        if kind == "csum_channel":
            n = int(item.get("messages") or 0)
            messages += n
            k = item.get("channel_kind") or "group"
            per_kind[k] = per_kind.get(k, 0) + n
        elif kind == "csum_sender":
            senders[item["author_id"]] = senders.get(item["author_id"], 0) + int(item.get("n") or 0)
        elif kind == "csum_notifications":
            notifications += int(item.get("notifications") or 0)
            provider += int(item.get("provider_messages") or 0)
    out: dict[str, Any] = {
        "messages": messages,
        "notifications": notifications,
        "provider-messages": provider,
        "video-channels": 0,
        "message-types": [{"message-type": TYPE_NAMES.get(k, f"{k}-messages"), "count": n} for k, n in per_kind.items()],
    }
    if include_senders:
        ranked = sorted(((a, n) for a, n in senders.items() if n), key=lambda an: (-an[1], an[0]))
        out["message-senders"] = [{"individual-id": a, "count": n} for a, n in ranked]
    return out


def summary(tenant_id: str, individual_id: str, *, include_senders: bool = False) -> dict[str, Any]:
    """The maintained summary of the individual (one Query on its partition)."""
    return _summarize(store.items(tenant_id, individual_id, consistent=True), include_senders=include_senders)


# ── maintained: the channel events ──
def apply(event: ChannelEvent) -> None:
    """ChannelEventsFunction's hook (``channel_events.HOOKS``, after the inbox state)."""
    if event.kind in ("message-posted", "message-removed") and event.message_id:
        if event.data.get("source") != "system":  # a join/leave message is nobody's message to anyone
            _apply_message(event)
    elif event.kind == "members-removed":
        from parley.dal import channels

        for ind in event.data.get("individual_ids") or []:
            member = channels.get_member(event.tenant_id, event.channel_id, ind, consistent=True)
            store.drop_channel(event.tenant_id, ind, event.channel_id, keep_epoch=member.get("joined_at") if member else None)


def _apply_message(event: ChannelEvent) -> None:
    from parley.dal import channel_messages as messages
    from parley.dal import channels

    if event.kind == "message-posted":
        author, posted = event.data.get("individual_id") or event.actor_individual_id, event.data.get("posted_time") or event.at
        delta = 1
    else:
        item = messages.get_message(event.tenant_id, event.message_id or "")
        if item is None or item.get("draft") or not item.get("posted_time"):
            return
        author, posted, delta = item["individual_id"], item["posted_time"], -1
    channel = channels.get_channel(event.tenant_id, event.channel_id)
    if channel is None or not author:
        return
    members = channels.members(event.tenant_id, event.channel_id, consistent=True)
    wanted = set(event.member_ids) if event.member_ids is not None else None
    kind = channel.get("kind") or "group"
    concerned = [
        m for m in members if m["individual_id"] != author and (wanted is None or m["individual_id"] in wanted) and counts_for(m, posted)
    ]

    def count(m: dict[str, Any]) -> bool:
        return store.apply_message(
            event.tenant_id, event.id, m["individual_id"], event.channel_id, m.get("joined_at") or "", kind, author, delta
        )

    if len(concerned) <= FANOUT:
        for m in concerned:
            count(m)
        return
    from concurrent.futures import ThreadPoolExecutor

    # members are independent items: up to FANOUT at once (a failure is raised: the event is retried, and what was
    # counted already is not counted twice: the markers)
    with ThreadPoolExecutor(max_workers=FANOUT) as pool:
        list(pool.map(count, concerned))


def counts_for(member: dict[str, Any], posted_time: str) -> bool:
    """Whether a message posted at ``posted_time`` counts for this member (posted at or after it joined)."""
    return (member.get("joined_at") or "") <= posted_time


# ── rebuilt: from the stored records ──
def computed(tenant_id: str, individual_id: str, parts: set[str]) -> list[dict[str, Any]]:
    """The individual's summary items (without ``PK``) as the stored records say, for ``parts`` (channels,
    notifications)."""
    from parley.dal import channels

    out: list[dict[str, Any]] = []
    if "channels" in parts:
        member_items = channels.memberships(tenant_id, individual_id)
        kinds = {
            c: ch.get("kind") or "group" for c, ch in channels.channels_by_id(tenant_id, [m["channel_id"] for m in member_items]).items()
        }
        for m in member_items:
            cid = m["channel_id"]
            if cid not in kinds:
                continue
            per_author: dict[str, int] = {}
            for msg in store.channel_messages(tenant_id, cid):
                if (
                    msg.get("draft")
                    or msg.get("removed")
                    or msg.get("individual_id") == individual_id
                    or not counts_for(m, msg["posted_time"])
                ):
                    continue
                if msg.get("individual_id"):
                    per_author[msg["individual_id"]] = per_author.get(msg["individual_id"], 0) + 1
            if not per_author:
                continue
            epoch = m.get("joined_at") or ""
            out.append({"SK": store.channel_sk(cid, epoch), "type": "csum_channel", "channel_id": cid, "channel_kind": kinds[cid],
                        "epoch": epoch, "messages": sum(per_author.values())})  # fmt: skip
            out.extend({"SK": store.sender_sk(cid, epoch, a), "type": "csum_sender", "channel_id": cid, "author_id": a,
                        "epoch": epoch, "n": n} for a, n in per_author.items())  # fmt: skip
    if "notifications" in parts:
        found = store.notifications_of(tenant_id, individual_id)
        if found:
            out.append({"SK": store.NOTIF_SK, "type": "csum_notifications", "notifications": len(found),
                        "provider_messages": sum(provider_message_count(n.get("deliveries")) for n in found)})  # fmt: skip
    return out


def _parts(columns: list[str] | None) -> set[str]:
    wanted = set(columns or COLUMNS)
    parts = set()
    if wanted & CHANNEL_COLUMNS:
        parts.add("channels")
    if wanted & NOTIFICATION_COLUMNS:
        parts.add("notifications")
    return parts


def rebuild(tenant_id: str, individual_id: str, columns: list[str] | None = None) -> dict[str, Any]:
    """Recompute the individual's counters for ``columns`` (all by default) from the stored records and store them
    in place of the maintained ones. Returns the summary after (with the senders)."""
    parts = _parts(columns)
    if parts:
        store.replace(tenant_id, individual_id, computed(tenant_id, individual_id, parts), parts=parts)
    store.stamp_rebuilt(tenant_id, individual_id, clock.iso(clock.now()), sorted(set(columns or COLUMNS)))
    return summary(tenant_id, individual_id, include_senders=True)


# ── aggregation-requests: rebuilds as jobs ──
def request(tenant_id: str, entries: list[tuple[str, str]]) -> str:
    """Queue one ``summary-rebuild`` job per individual of ``entries`` ((column, individual-id) pairs, checked by the
    caller) with its columns. Returns the request's id (the jobs' ids are derived from it)."""
    from parley.domain import automation_jobs

    request_id = str(uuid.uuid4())
    columns: dict[str, list[str]] = {}
    for column, ind in entries:
        if column not in columns.setdefault(ind, []):
            columns[ind].append(column)
    jobs = [
        automation_jobs.new(
            tenant_id,
            "summary-rebuild",
            {"request-id": request_id, "individual-id": ind, "columns": cols},
            job_id=str(uuid.uuid5(REQUEST_NAMESPACE, f"{request_id}/{ind}")),
        )
        for ind, cols in columns.items()
    ]
    automation_jobs.queue(jobs)
    return request_id


def run(job: Any) -> None:
    """AutomationFunction's ``summary-rebuild``: rebuild one individual's columns (idempotent: a rerun recomputes)."""
    ind = job.data.get("individual-id")
    if not ind:
        return
    rebuild(job.tenant_id, ind, [c for c in job.data.get("columns") or [] if c in COLUMNS] or None)
