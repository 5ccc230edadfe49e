"""Bulk messages (seed 003 ``messaging-bulk-messages``; docs/courier.md "Bulk messages", data-model §6.25): one
message posted into one direct channel per recipient, asynchronously.

- **create** stores a draft (``draft`` true, the default) or starts posting at once; **PATCH** edits a draft
  (``message``, ``message-js``) or posts it (``draft: false``). A posted one cannot be edited (409).
- **posting** (``start``): the draft becomes ``queued`` (once: a conditional write) and one ``bulk-post`` job
  ``{bulk_id, step: "plan"}`` is queued. The plan job resolves the recipients — ``individual-ids`` and the individuals
  of ``individual-group-ids`` (the directory now; deduplicated; never the poster) — stores them in batches of
  ``BATCH`` (recipient items, state ``pending``; an individual the directory does not have is ``failed`` at once),
  sets ``total`` and ``status`` posting (once), and queues one ``{bulk_id, step: "batch", batch: n}`` job per batch.
- **a batch job** posts to each of its pending recipients: the direct channel between the poster and the recipient
  in the bulk's organization (``channels`` dedupe pointer), created when ``auto-create-channel``, else the recipient
  is ``skipped`` (``no-channel``); the message (source ``bulk``) has the id ``message_id(bulk, recipient)`` and is
  written only if absent (``channel_messages.post(message_id=…)``), the bulk's ready attachments are copied to it
  (``bulk_attachments.copy_to_message``), and then the recipient leaves ``pending`` in one transaction with its
  counter. A recipient's own error (a 4xx of the domain: archived channel, …) marks it ``failed`` with the reason
  and never fails the batch; any other error raises (the job is retried; what was done is found done).
- when the counters add up to ``total`` the bulk is finished: ``status`` posted (or partially-failed when a
  recipient failed) and ``posted-time``.
"""

from __future__ import annotations

import uuid
from typing import Any

from parley import clock
from parley.dal import bulk_messages as store
from parley.errors import Conflict, Forbidden, NotFound, ParleyError, Unprocessable

BATCH = 25  # recipients per bulk-post batch job (AutomationFunction takes 10 jobs per invocation: 250 posts well within its 60 s)
POINTER = "/data/attributes/"
NAMESPACE = uuid.UUID("6f1c2a3e-19b1-4b5e-9a6e-bb1c0e5d0f19")  # the bulk posts' message ids


def message_id(bulk_id: str, individual_id: str) -> str:
    """The message a bulk message posts to one recipient: the same id on every attempt (exactly once)."""
    return str(uuid.uuid5(NAMESPACE, f"{bulk_id}:{individual_id}"))


def _now() -> str:
    return clock.iso(clock.now())


# ── the interface area 2 (bulk attachments) uses ──
def require_bulk(tenant_id: str, bulk_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """The tenant's stored bulk message (``id``, ``draft``, ``created_by``, ``organization_id``, …); NotFound (404) for an
    unknown id or another tenant's (the same body)."""
    found = store.get(tenant_id, bulk_id, consistent=True) if bulk_id else None
    if not found:
        raise NotFound(f"no messaging-bulk-message {bulk_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    return found


# ── the routes ──
def _directory() -> Any:
    from parley.dal import directory

    return directory


def _group(tenant_id: str, group_id: str, pointer: str) -> dict[str, Any]:
    directory = _directory()
    stored = directory.get(tenant_id, "individual-groups", group_id, consistent=True)
    if stored is None or stored.get("deleted"):
        raise NotFound(f"no individual-group {group_id!r}", pointer=pointer, code="not-found")
    return directory.attributes(stored)


def _ids(refs: Any) -> list[str]:
    return [r["id"] for r in refs or [] if isinstance(r, dict) and r.get("id")]


def create(tenant_id: str, individual_id: str, user_id: str, attrs: Any) -> dict[str, Any]:
    """``POST /v1/messaging-bulk-messages/``: checks every id against the tenant (404 with its pointer), stores the bulk
    message, and starts posting unless it is a draft. ``attrs`` is a ``BulkMessageCreate``."""
    from parley.domain import channels, ownership

    if not attrs.message:
        raise Unprocessable("message is required", pointer=POINTER + "message", code="missing-member")
    ids = list(dict.fromkeys(attrs.individual_ids or []))
    group_ids = list(dict.fromkeys(attrs.individual_group_ids or []))
    if not ids and not group_ids:
        raise Unprocessable("name the recipients: individual-ids or individual-group-ids", pointer=POINTER + "individual-ids",
                            code="missing-member")  # fmt: skip
    if attrs.sender_individual_id and attrs.sender_individual_group_id:
        raise Unprocessable("send as sender-individual-id or sender-individual-group-id, not both",
                            pointer=POINTER + "sender-individual-group-id", code="conflicting-members")  # fmt: skip
    poster = individual_id
    organization = attrs.organization_id
    sender_group_org = None
    if attrs.sender_individual_id:
        if not ownership.owns(tenant_id, user_id, attrs.sender_individual_id):
            raise Forbidden(f"individual {attrs.sender_individual_id!r} is not one of the acting user's individuals",
                            pointer=POINTER + "sender-individual-id", code="not-owner")  # fmt: skip
        poster = attrs.sender_individual_id
    if attrs.sender_individual_group_id:
        sender = _group(tenant_id, attrs.sender_individual_group_id, POINTER + "sender-individual-group-id")
        if individual_id not in set(_ids(sender.get("individuals"))) | set(_ids(sender.get("leaders"))):
            raise Forbidden("the acting individual is not a member or leader of sender-individual-group-id",
                            pointer=POINTER + "sender-individual-group-id", code="not-in-group")  # fmt: skip
        sender_group_org = sender.get("organization-id")
    group_orgs = []
    for n, gid in enumerate(group_ids):
        group_orgs.append(_group(tenant_id, gid, f"{POINTER}individual-group-ids/{n}").get("organization-id"))
    if organization:
        channels.require_organization(tenant_id, organization, pointer=POINTER + "organization-id")
    else:
        organization = sender_group_org or next((o for o in group_orgs if o), None)
        if not organization:
            raise Unprocessable("organization-id is required (no sender or recipient individual-group names one)",
                                pointer=POINTER + "organization-id", code="missing-member")  # fmt: skip
    for n, org in enumerate(group_orgs):
        if org and org != organization:
            raise Unprocessable("the individual-group belongs to another organization", pointer=f"{POINTER}individual-group-ids/{n}",
                                code="organization-mismatch")  # fmt: skip
    if sender_group_org and sender_group_org != organization:
        raise Unprocessable("the sender individual-group belongs to another organization", pointer=POINTER + "sender-individual-group-id",
                            code="organization-mismatch")  # fmt: skip
    if ids:
        channels.require_individuals(tenant_id, ids, pointer=POINTER + "individual-ids")
    now = _now()
    bulk_id = str(uuid.uuid4())
    fields = {
        "organization_id": organization,
        "created_by": individual_id,
        "created_by_user": user_id,
        "created_at": now,
        "last_modified_at": now,
        "draft": True,
        "status": "draft",
        "message": attrs.message,
        "message_js": dict(attrs.message_js) if attrs.message_js else None,
        "individual_ids": ids,
        "individual_group_ids": group_ids,
        "sender_individual_id": attrs.sender_individual_id or (None if attrs.sender_individual_group_id else individual_id),
        "sender_individual_group_id": attrs.sender_individual_group_id,
        "poster": poster,
        "auto_create_channel": bool(attrs.auto_create_channel),
        "auto_ack": attrs.auto_ack not in (False, "false"),
    }
    item = store.item(tenant_id, bulk_id, fields)
    store.create(item)
    if attrs.draft is False:
        return start(tenant_id, bulk_id)
    return item


def require_own(tenant_id: str, bulk_id: str, user_id: str) -> dict[str, Any]:
    """The bulk message (404 as ``require_bulk``), when the acting user created it: 403 otherwise."""
    bulk = require_bulk(tenant_id, bulk_id)
    if bulk.get("created_by_user") != user_id:
        raise Forbidden("only the user who created the bulk message may change it", code="not-creator")
    return bulk


def update(tenant_id: str, bulk_id: str, user_id: str, attrs: Any) -> dict[str, Any]:
    """``PATCH``: edit the draft, then post it when ``draft`` is false. A posted one: 409 (any change)."""
    bulk = require_own(tenant_id, bulk_id, user_id)
    if not bulk.get("draft"):
        if attrs.draft is False and attrs.message is None and attrs.message_js is None and not bulk.get("planned"):
            _queue_plan(tenant_id, bulk_id)  # posted, its plan not run yet (its job lost?): queued again, harmlessly
            return require_bulk(tenant_id, bulk_id)
        raise Conflict("the bulk message was posted: it cannot be changed", code="already-posted")
    fields: dict[str, Any] = {}
    if attrs.message is not None:
        fields["message"] = attrs.message
    if attrs.message_js is not None:
        fields["message_js"] = dict(attrs.message_js)
    if fields:
        fields["last_modified_at"] = _now()
        if not store.edit_draft(tenant_id, bulk_id, fields):
            raise Conflict("the bulk message was posted: it cannot be changed", code="already-posted")
    if attrs.draft is False:
        return start(tenant_id, bulk_id)
    return require_bulk(tenant_id, bulk_id)


def start(tenant_id: str, bulk_id: str) -> dict[str, Any]:
    """Post the draft: ``queued`` (once; 409 when it was posted already), and its plan job queued."""
    now = _now()
    if not store.start_posting(tenant_id, bulk_id, {"queued_at": now, "last_modified_at": now}):
        raise Conflict("the bulk message was posted already", code="already-posted")
    _queue_plan(tenant_id, bulk_id)
    return require_bulk(tenant_id, bulk_id)


def _queue_plan(tenant_id: str, bulk_id: str) -> None:
    """The plan job (idempotent: a second one finds the recipients planned and only queues the batches again). Should
    this send fail after the bulk became ``queued``, the error is answered (5xx) and ``PATCH {draft: false}`` again
    queues it (allowed while the plan has not run)."""
    from parley.domain import automation_jobs

    automation_jobs.queue(automation_jobs.new(tenant_id, "bulk-post", {"bulk_id": bulk_id, "step": "plan"}, job_id=f"bulk-{bulk_id}-plan"))


def page(tenant_id: str, *, include_posted: bool, created_by: str | None, offset: int, limit: int) -> tuple[list[dict], int]:
    return store.page(tenant_id, include_posted=include_posted, created_by=created_by, offset=offset, limit=limit)


def attributes(item: dict[str, Any]) -> Any:
    from parley.models.bulk_messages import BulkMessageAttributes

    counts = {k: int(item.get(k) or 0) for k in ("total", "posted", "skipped", "failed")}
    counts["pending"] = max(counts["total"] - counts["posted"] - counts["skipped"] - counts["failed"], 0)
    return BulkMessageAttributes.model_validate({
        "created-at": item["created_at"],
        "created-by": item.get("created_by"),
        "draft": bool(item.get("draft")),
        "individual-group-ids": item.get("individual_group_ids") or [],
        "individual-ids": item.get("individual_ids") or [],
        "message": item["message"],
        "message-js": item.get("message_js"),
        "organization-id": item.get("organization_id"),
        "posted-time": item.get("posted_time"),
        "sender-individual-group-id": item.get("sender_individual_group_id"),
        "sender-individual-id": item.get("sender_individual_id"),
        "auto-ack": item.get("auto_ack", True),
        "auto-create-channel": bool(item.get("auto_create_channel")),
        "status": item.get("status") or "draft",
        "progress": counts,
    })  # fmt: skip


# ── the bulk-post job (AutomationFunction) ──
def run(job: Any) -> None:
    """One ``bulk-post`` job: ``data`` {bulk_id, step: plan} or {bulk_id, step: batch, batch: n}. Idempotent and
    resumable (module docstring)."""
    bulk = store.get(job.tenant_id, str(job.data.get("bulk_id") or ""), consistent=True)
    if bulk is None or bulk.get("draft"):
        return  # nothing to post (an unknown id is not retried)
    if job.data.get("step") == "plan":
        plan(job.tenant_id, bulk)
    else:
        post_batch(job.tenant_id, bulk, int(job.data["batch"]))


def _recipients(tenant_id: str, bulk: dict[str, Any]) -> list[str]:
    """individual-ids and the individuals of individual-group-ids (the directory now), in that order, once each, never the
    poster. A group the directory no longer has brings no one."""
    directory = _directory()
    people = list(bulk.get("individual_ids") or [])
    for gid in bulk.get("individual_group_ids") or []:
        stored = directory.get(tenant_id, "individual-groups", gid, consistent=True)
        if stored is not None and not stored.get("deleted"):
            people += _ids(directory.attributes(stored).get("individuals"))
    return [p for p in dict.fromkeys(people) if p != bulk["poster"]]


def _individuals(tenant_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The directory's individuals among ``ids`` (attributes), tombstones left out: one BatchGetItem per 100."""
    from parley.dal import table

    directory = _directory()
    found = table.batch_get([(directory.pk(tenant_id, "individuals"), directory.sk(i)) for i in ids])
    return {v["entity_id"]: directory.attributes(v) for v in found.values() if not v.get("deleted")}


def plan(tenant_id: str, bulk: dict[str, Any]) -> None:
    from parley.domain import automation_jobs

    bulk_id = bulk["id"]
    if not bulk.get("planned"):
        people = _recipients(tenant_id, bulk)
        known = _individuals(tenant_id, people)
        now = _now()
        items = []
        for n, ind in enumerate(people):
            state, reason = ("pending", None) if ind in known else ("failed", "unknown-individual")
            items.append(store.recipient_item(tenant_id, bulk_id, n // BATCH, ind, state, reason, now))
        store.put_recipients(items)  # no batch job runs before planned is set: these puts overwrite nothing settled
        batches = (len(people) + BATCH - 1) // BATCH
        store.planned(tenant_id, bulk_id, total=len(people), batches=batches, failed=sum(1 for i in items if i["state"] == "failed"))
        bulk = store.get(tenant_id, bulk_id, consistent=True) or bulk
    batches = int(bulk.get("batches") or 0)
    jobs = [automation_jobs.new(tenant_id, "bulk-post", {"bulk_id": bulk_id, "step": "batch", "batch": b}, job_id=f"bulk-{bulk_id}-{b}")
            for b in range(batches)]  # fmt: skip
    for n in range(0, len(jobs), 10):
        automation_jobs.queue(jobs[n : n + 10])
    maybe_finish(tenant_id, bulk_id)


def _locales(tenant_id: str, people: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each individual's locale: its owner user's ``locale`` in the directory (one BatchGetItem per 100 users)."""
    from parley.dal import table

    directory = _directory()
    owners = {ind: a.get("owner-id") for ind, a in people.items() if a.get("owner-id")}
    found = table.batch_get([(directory.pk(tenant_id, "users"), directory.sk(u)) for u in set(owners.values())])
    users = {v["entity_id"]: directory.attributes(v) for v in found.values() if not v.get("deleted")}
    return {ind: str(users[u]["locale"]) for ind, u in owners.items() if u in users and users[u].get("locale")}


def text_for(bulk: dict[str, Any], locale: str | None) -> str:
    """``message-js`` in the recipient's locale (``es-US`` and ``es_US`` alike; else the first of its language, e.g.
    ``es_MX`` for ``es_US``), else ``message``."""
    js = bulk.get("message_js") or {}
    if locale and js:
        wanted = locale.replace("-", "_")
        if wanted in js:
            return js[wanted]
        lang = wanted.split("_")[0].lower()
        for key in js:
            if key.split("_")[0].lower() == lang:
                return js[key]
    return bulk["message"]


def post_batch(tenant_id: str, bulk: dict[str, Any], batch: int) -> None:
    from parley.dal import channels as channel_store
    from parley.domain import bulk_attachments, channel_messages, channels

    bulk_id, poster, org = bulk["id"], bulk["poster"], bulk["organization_id"]
    pending = [r for r in store.batch_recipients(tenant_id, bulk_id, batch) if r.get("state") == "pending"]
    if pending:
        people = _individuals(tenant_id, [r["individual_id"] for r in pending])
        locales = _locales(tenant_id, people)
        attached = bool(bulk_attachments.ready(tenant_id, bulk_id))
    for r in pending:
        ind = r["individual_id"]
        if ind not in people:
            store.settle(tenant_id, bulk_id, r, "failed", {"reason": "unknown-individual", "settled_at": _now()})
            continue
        pointer = channel_store.get_direct(tenant_id, org, [poster, ind])
        channel_id = pointer["channel_id"] if pointer else None
        if channel_id is None and bulk.get("auto_create_channel"):
            channel, _created = channels.create_channel(tenant_id, organization_id=org, creator_individual_id=poster, individual_ids=[ind],
                                                        created_by_user=bulk.get("created_by_user"), subscription_type="none",
                                                        event_settings={"enabled": False})  # fmt: skip
            channel_id = channel["id"]
        if channel_id is None:
            store.settle(tenant_id, bulk_id, r, "skipped", {"reason": "no-channel", "settled_at": _now()})
            continue
        mid = message_id(bulk_id, ind)
        try:
            channel_messages.post(tenant_id, channel_id, poster, text_for(bulk, locales.get(ind)), source="bulk",
                                  user_id=bulk.get("created_by_user"), auto_ack=bool(bulk.get("auto_ack", True)),
                                  message_id=mid)  # fmt: skip
        except ParleyError as err:  # this recipient's own problem (archived channel, not a member any more, …)
            if err.status >= 500 or err.status == 429 or err.code == "concurrent-update":
                raise  # transient: the job is retried
            store.settle(tenant_id, bulk_id, r, "failed", {"reason": getattr(err, "code", None) or type(err).__name__,
                                                           "channel_id": channel_id, "settled_at": _now()})  # fmt: skip
            continue
        if attached:
            bulk_attachments.copy_to_message(tenant_id, bulk_id, mid, channel_id)
        store.settle(tenant_id, bulk_id, r, "posted", {"channel_id": channel_id, "message_id": mid, "settled_at": _now()})
    maybe_finish(tenant_id, bulk_id)


def maybe_finish(tenant_id: str, bulk_id: str) -> None:
    """When every recipient is settled: the final status and posted-time (once)."""
    bulk = store.get(tenant_id, bulk_id, consistent=True)
    if bulk is None or not bulk.get("planned") or bulk.get("finished_at"):
        return
    counts = {k: int(bulk.get(k) or 0) for k in store.COUNTERS}
    if sum(counts.values()) == int(bulk.get("total") or 0):
        store.finish(tenant_id, bulk_id, "partially-failed" if counts["failed"] else "posted", _now(), counts=counts)
