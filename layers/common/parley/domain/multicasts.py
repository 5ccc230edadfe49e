"""Multicasts: one fan-out pipeline with four entry points (docs/courier.md "Multicasts").

Accept (``accept``): check the template and the request's variables, store the multicast (``queued``) and put its
first page job on MulticastQueue. MulticastFunction then runs, each step at least once and each effect once:

- a **page** job reads up to ``PAGE`` audience ids from the audience's next segment (the request's individual-ids, the
  members of an individual-group, or the tenant's individuals), marks the page done while adding its size and its
  batch count to the multicast (one transaction, conditional on the marker: a redelivered page adds nothing), then
  queues its recipient batches (``BATCH`` ids each) and the next page (or notes that paging ended);
- a **batch** job resolves each individual's user (the individual's owner), renders the template for that recipient
  (its names and locale as ``recipient.*`` variables; values escaped in HTML), and calls
  ``parley.domain.notifications.notify`` with a deterministic notification id (``notification_id``: multicast id +
  user id), so a redelivered batch or a user reached twice makes one notification. Each recipient's outcome is
  stored (``MCRCPT#…``); a recipient already stored is not notified again. The batch's marker and its counts are one
  transaction, so progress counts each recipient once; the last step to finish marks the multicast ``done``.

Crash anywhere: SQS redelivers the step (the queue's visibility timeout, then the DLQ after 5 receives), which finds
what is already done and goes on. A recipient whose notify ran but whose record was not yet written is notified
again with the same notification id, which notify makes a no-op (idempotent by notification id, helper B's contract).
"""

from __future__ import annotations

import html as htmlmod
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from parley import clock
from parley.dal import directory as dirstore
from parley.dal import multicasts as store
from parley.domain import ids
from parley.domain import templates as tpl
from parley.errors import BadRequest, NotFound, ParleyError
from parley.models.crm import EmailTemplate
from parley.models.notifications import EmailContent, NotificationData, PushContent, SmsContent

PAGE = 500  # audience ids per page job
BATCH = 100  # recipients per batch job (one BatchGetItem of individuals, one of users, one of recipients)
MAX_DATA = 64 * 1024  # bytes of a multicast's variables (JSON): it lives in one item with up to 1,000 individual-ids
FLUSH = 25  # recipient records per BatchWriteItem (a crash re-notifies at most this many, idempotently)
_NS = uuid.UUID("6d1c7f0e-3b9a-4c55-9a61-0f3e2b7d8c41")
RECIPIENT = "recipient"
RECIPIENT_FIELDS = ("individual_id", "user_id", "first_name", "last_name", "preferred_name", "name", "locale")
FILTER_TYPES = ("all-participants", "individual-group", "individuals")


def notification_id(multicast_id: str, user_id: str) -> str:
    """The notification a multicast makes for a user: the same on every attempt (a UUIDv5 of both ids)."""
    return str(uuid.uuid5(_NS, f"{multicast_id}/{user_id}"))


# ───────────── templates ─────────────
def template(tenant_id: str, template_id: str, *, pointer: str | None = None) -> EmailTemplate:
    try:
        return tpl.get(tenant_id, template_id)
    except NotFound:
        raise NotFound(f"template {template_id!r} not found", pointer=pointer, code="not-found") from None


def missing_variables(template_: EmailTemplate, data: dict[str, Any]) -> list[str]:
    """Every placeholder of the template that ``data`` does not give (``recipient.*`` are the pipeline's)."""
    names = tpl.placeholders(template_.subject, template_.bodyHtml, template_.bodyText)
    out = []
    for name in names:
        if name == RECIPIENT or name.startswith(RECIPIENT + "."):
            if name.partition(".")[2] not in RECIPIENT_FIELDS:
                out.append(name)
            continue
        if tpl._lookup(data, name) is tpl._MISSING:
            out.append(name)
    return out


def _variables(data: dict[str, Any], recipient: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in data.items() if k != RECIPIENT}, RECIPIENT: {f: recipient.get(f) or "" for f in RECIPIENT_FIELDS}}


def _placeholder_recipient() -> dict[str, Any]:
    return {f: "{{recipient.%s}}" % f for f in RECIPIENT_FIELDS}  # noqa: UP031 - literal braces


_TAG = re.compile(r"<[^>]+>")


def _text_of(rendered: tpl.RenderedTemplate) -> str:
    if rendered.text is not None:
        return rendered.text
    return htmlmod.unescape(_TAG.sub("", rendered.html or "")).strip()


def message_data(rendered: tpl.RenderedTemplate) -> dict[str, Any]:
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html, "template-name": rendered.template_name,
            "category": rendered.category}  # fmt: skip


def contents(rendered: tpl.RenderedTemplate, *, multicast_id: str) -> tuple[NotificationData, EmailContent]:
    """The rendered template as a notification's payloads: push title = subject, body = the text body (the HTML body's
    text when there is none); SMS = the text; email = the HTML (or the escaped text) and the text."""
    text = _text_of(rendered)
    extra = {"multicast-id": multicast_id, "template-id": rendered.template_id}
    push = PushContent(title=rendered.subject, body=text, category=rendered.category, data=extra)
    data = NotificationData(
        apn=push,
        fcm=push.model_copy(),
        web={"title": rendered.subject, "body": text, "data": extra},
        sms=SmsContent(bodies=[text] if text else []),
    )
    body_html = rendered.html if rendered.html is not None else "<p>" + htmlmod.escape(text).replace("\n", "<br>") + "</p>"
    return data, EmailContent(subject=rendered.subject, html=body_html, text=text)


# ───────────── accept ─────────────
@dataclass(frozen=True)
class Request:
    kind: str  # multicasts | user-multicasts | user | individual
    template_id: str
    data: dict[str, Any]
    created_by: str | None
    organization_id: str | None = None
    filter_type: str | None = None
    filter_value: dict[str, Any] | None = None
    individual_ids: list[str] | None = None
    group_ids: list[str] | None = None
    user_id: str | None = None
    individual_id: str | None = None
    data_pointer: str = "/data"
    template_pointer: str = "/template-id"


def _individual(tenant_id: str, individual_id: str) -> dict[str, Any] | None:
    item = dirstore.get(tenant_id, "individuals", individual_id)
    return dirstore.attributes(item) if item else None


def _user(tenant_id: str, user_id: str) -> dict[str, Any] | None:
    item = dirstore.get(tenant_id, "users", user_id)
    return dirstore.attributes(item) if item else None


def _recipient_of(
    individual_id: str | None, individual: dict[str, Any] | None, user_id: str | None, user: dict[str, Any] | None
) -> dict[str, Any]:
    ind, usr = individual or {}, user or {}
    first = ind.get("first-name") or usr.get("first-name")
    preferred = ind.get("preferred-name")
    return {
        "individual_id": individual_id,
        "user_id": user_id,
        "first_name": first,
        "last_name": ind.get("last-name") or usr.get("last-name"),
        "preferred_name": preferred,
        "name": preferred or first,
        "locale": usr.get("locale"),
    }


def _segments(tenant_id: str, req: Request) -> list[dict[str, Any]]:
    """The audience's parts, in order: ``ids`` (the request's individual-ids), ``group`` (one individual-group's
    members), ``directory`` (every individual of the tenant), ``user`` (one user)."""
    if req.kind == "user":
        return [{"type": "user"}]
    if req.kind == "individual":
        return [{"type": "ids"}]
    if req.kind == "user-multicasts":
        return ([{"type": "ids"}] if req.individual_ids else []) + [{"type": "group", "id": g} for g in req.group_ids or []]
    value = req.filter_value or {}
    if req.filter_type == "individual-group":
        return [{"type": "group", "id": g} for g in req.group_ids or []]
    if req.filter_type == "individuals":
        return [{"type": "ids"}]
    # all-participants: the organization's care teams (its individual-groups) when organization-id is given, else
    # every individual of the tenant
    del value
    if req.organization_id:
        groups = [g for g in dirstore_groups(tenant_id) if dirstore.attributes(g).get("organization-id") == req.organization_id]
        return [{"type": "group", "id": g["entity_id"]} for g in groups]
    return [{"type": "directory"}]


def dirstore_groups(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's individual-groups (one Query of their partition, tombstones filtered)."""
    from parley.dal import table

    return table.query_raw(
        KeyConditionExpression="PK = :pk",
        FilterExpression="attribute_not_exists(#d)",
        ExpressionAttributeNames={"#d": "deleted"},
        ExpressionAttributeValues=table.values(pk=dirstore.pk(tenant_id, "individual-groups")),
    )


def _filter(req: Request) -> Request:
    """``multicasts``' filter-type + filter-value → the audience: ``all-participants`` (filter-value ``{}``),
    ``individual-group`` (``{"individual-group-id": …}`` or ``{"individual-group-ids": […]}``), ``individuals``
    (``{"individual-ids": […]}``)."""
    from dataclasses import replace

    value = req.filter_value or {}
    where = "/data/attributes/filter-value"
    if req.filter_type not in FILTER_TYPES:
        raise BadRequest(f"filter-type must be one of {', '.join(FILTER_TYPES)}", pointer="/data/attributes/filter-type",
                         code="invalid-filter-type")  # fmt: skip
    allowed = {
        "all-participants": set(),
        "individual-group": {"individual-group-id", "individual-group-ids"},
        "individuals": {"individual-ids"},
    }
    unknown = set(value) - allowed[req.filter_type]  # type: ignore[index]
    if unknown:
        raise BadRequest(f"filter-value: {sorted(unknown)[0]!r} is not taken with filter-type {req.filter_type}", pointer=where)

    def ids_of(key: str, cap: int) -> list[str]:
        got = value.get(key)
        if not isinstance(got, list) or not got or len(got) > cap or not all(isinstance(x, str) and 0 < len(x) <= 128 for x in got):
            raise BadRequest(f"filter-value.{key} must be a non-empty list of at most {cap} ids", pointer=f"{where}/{key}")
        return list(dict.fromkeys(got))

    if req.filter_type == "individual-group":
        if "individual-group-id" in value:
            gid = value["individual-group-id"]
            if not isinstance(gid, str) or not 0 < len(gid) <= 128:
                raise BadRequest("filter-value.individual-group-id must be an id", pointer=f"{where}/individual-group-id")
            groups = [gid]
        elif "individual-group-ids" in value:
            groups = ids_of("individual-group-ids", 100)
        else:
            raise BadRequest("filter-type individual-group needs filter-value.individual-group-id", pointer=where)
        return replace(req, group_ids=groups)
    if req.filter_type == "individuals":
        if "individual-ids" not in value:
            raise BadRequest("filter-type individuals needs filter-value.individual-ids", pointer=where)
        return replace(req, individual_ids=ids_of("individual-ids", 1000))
    return req


def _unknown_individuals(tenant_id: str, individual_ids: list[str]) -> list[str]:
    """The ids the tenant's directory has no individual for (BatchGetItem, keys only: 100 ids a call)."""
    from parley.dal import table

    keys = [(dirstore.pk(tenant_id, "individuals"), dirstore.sk(i)) for i in individual_ids]
    found = table.batch_get(keys, attributes=("deleted",))
    return [i for i, k in zip(individual_ids, keys, strict=True) if k not in found or found[k].get("deleted")]


def _check_organization(tenant_id: str, organization_id: str | None, *, pointer: str) -> None:
    """An ``organization-id`` must be one of the tenant's organizations (404 otherwise: another tenant's included)."""
    if organization_id is not None and dirstore.get(tenant_id, "organizations", organization_id) is None:
        raise NotFound(f"no organization {organization_id!r}", pointer=pointer, code="not-found")


def accept(tenant_id: str, req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check, store and queue a multicast: (the stored multicast, ``message-data``). 404 for an unknown template,
    individual, user or individual-group; 400 naming every variable the template needs and ``data`` lacks."""
    if req.kind == "multicasts":
        req = _filter(req)
    size = len(json.dumps(req.data, separators=(",", ":"), default=str).encode())
    if size > MAX_DATA:
        raise BadRequest(f"the template variables are {size} bytes of JSON; at most {MAX_DATA}", pointer=req.data_pointer,
                         code="data-too-large")  # fmt: skip
    template_ = template(tenant_id, req.template_id, pointer=req.template_pointer)
    missing = missing_variables(template_, req.data)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise BadRequest(f"missing template variable{plural}: {', '.join(missing)}", pointer=req.data_pointer, code="missing-variables")
    # one recipient: answer what it renders to for them; an audience: with recipient.* left as placeholders
    recipient = _placeholder_recipient()
    if req.kind == "user":
        user = _user(tenant_id, req.user_id or "")
        if user is None:
            raise NotFound(f"no user {req.user_id!r}", parameter="id", code="not-found")
        individual = None
        if req.individual_id:
            individual = _individual(tenant_id, req.individual_id)
            if individual is None or (individual.get("owner-id") != req.user_id and user.get("primary-individual-id") != req.individual_id):
                raise NotFound(f"user {req.user_id!r} has no individual {req.individual_id!r}", pointer="/individual-id", code="not-found")
        recipient = _recipient_of(req.individual_id, individual, req.user_id, user)
    elif req.kind == "individual":
        individual = _individual(tenant_id, (req.individual_ids or [""])[0])
        if individual is None:
            raise NotFound(f"no individual {(req.individual_ids or [''])[0]!r}", parameter="id", code="not-found")
        owner = individual.get("owner-id")
        recipient = _recipient_of(req.individual_ids[0], individual, owner, _user(tenant_id, owner) if owner else None)  # type: ignore[index]
    base = "/data/attributes" if req.kind == "multicasts" else ""
    for gid in req.group_ids or []:
        if dirstore.get(tenant_id, "individual-groups", gid) is None:
            where = f"{base}/filter-value" if req.kind == "multicasts" else "/individual-group-ids"
            raise NotFound(f"no individual-group {gid!r}", pointer=where, code="not-found")
    _check_organization(tenant_id, req.organization_id, pointer=f"{base}/organization-id")
    if req.kind in ("user-multicasts", "multicasts") and req.individual_ids:
        unknown = _unknown_individuals(tenant_id, req.individual_ids)
        if unknown:
            where = f"{base}/filter-value/individual-ids" if req.kind == "multicasts" else "/individual-ids"
            raise NotFound(f"no individual {unknown[0]!r}" + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
                           pointer=where, code="not-found")  # fmt: skip
    rendered = tpl.render(template_, _variables(req.data, recipient))
    multicast_id = ids.new_id()
    fields = {
        "kind": req.kind,
        "template_id": req.template_id,
        "category": template_.type,
        "data": req.data,
        "filter_type": req.filter_type,
        "filter_value": req.filter_value if req.kind == "multicasts" else None,
        "organization_id": req.organization_id,
        "individual_ids": req.individual_ids,
        "group_ids": req.group_ids,
        "user_id": req.user_id,
        "individual_id": req.individual_id
        if req.kind == "user"
        else (req.individual_ids[0] if req.kind == "individual" and req.individual_ids else None),
        "segments": _segments(tenant_id, req),
        "created_at": clock.iso(clock.now()),
        "created_by": req.created_by,
        "status": "queued",
    }
    item = store.create(tenant_id, multicast_id, fields)
    try:
        store.enqueue([{"step": "page", "tenant_id": tenant_id, "multicast_id": multicast_id, "page": 0, "segment": 0, "pos": 0}])
    except Exception:
        store.set_status(tenant_id, multicast_id, "failed", when=("queued",), extra={"error": "the fan-out job could not be queued"})
        raise
    return store.decode(item), message_data(rendered)


# ───────────── reads ─────────────
def get(tenant_id: str, multicast_id: str) -> dict[str, Any]:
    found = store.get(tenant_id, multicast_id) if 0 < len(multicast_id) <= 128 else None
    if found is None:
        raise NotFound(f"no multicast {multicast_id!r}", parameter="id", code="not-found")
    return found


def page(tenant_id: str, *, after: str, before: str, offset: int, limit: int, template_id: str | None,
         group_id: str | None) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """``GET /v1/multicasts/``: the tenant's multicasts between two bounds of ``<created_at>#<id>``, newest first."""
    return store.page(tenant_id, after=after, before=before, offset=offset, limit=limit, template_id=template_id, group_id=group_id)


def received(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:
    """``GET /v1/user-multicasts/``: a page of what the individual received, each (recipient item, its multicast)."""
    items, total = store.received(tenant_id, individual_id, offset=offset, limit=limit)
    found = store.get_many(tenant_id, [i["multicast_id"] for i in items]) if items else {}
    return [(i, found.get(i["multicast_id"]) or {}) for i in items], total


def group_view(tenant_id: str, group_id: str) -> dict[str, Any] | None:
    """An individual-group as the seed's ``individual-group`` shows it: members and leaders with their names (one
    BatchGetItem of their directory items)."""
    item = dirstore.get(tenant_id, "individual-groups", group_id)
    if item is None:
        return None
    attrs = dirstore.attributes(item)
    members = [m["id"] for m in attrs.get("individuals") or []]
    leaders = [m["id"] for m in attrs.get("leaders") or []]
    from parley.dal import table

    shown = members[:100]
    people = table.batch_get([(dirstore.pk(tenant_id, "individuals"), dirstore.sk(i)) for i in shown])
    people.update(table.batch_get([(dirstore.pk(tenant_id, "users"), dirstore.sk(i)) for i in leaders[:100]]))

    def attrs_of(entity: str, i: str) -> dict[str, Any]:
        got = people.get((dirstore.pk(tenant_id, entity), dirstore.sk(i)))
        return dirstore.attributes(got) if got and not got.get("deleted") else {}

    individuals = []
    for i in shown:
        a = attrs_of("individuals", i)
        individuals.append({"id": i, "first-name": a.get("first-name"), "last-name": a.get("last-name"),
                            "preferred-name": a.get("preferred-name"), "name": a.get("preferred-name") or a.get("first-name"),
                            "birth-date": a.get("birth-date"),
                            "owner": {"id": a["owner-id"], "type": "user"} if a.get("owner-id") else None})  # fmt: skip
    leader_view = [{"id": i, **{k: attrs_of("users", i).get(k) for k in ("first-name", "last-name")}} for i in leaders[:100]]
    return {"individual-ids": members, "individuals": individuals, "individuals-count": len(members), "leader-ids": leaders,
            "leaders": leader_view, "name": attrs.get("name"), "organization-id": attrs.get("organization-id")}  # fmt: skip


# ───────────── the pipeline ─────────────
def _page_ids(tenant_id: str, mc: dict[str, Any], segment: dict[str, Any], pos: Any) -> tuple[list[str], Any]:
    """Up to PAGE ids of one segment from ``pos``, and where the next page starts (None: the segment is done)."""
    kind = segment["type"]
    if kind in ("ids", "group"):
        if kind == "ids":
            every = mc.get("individual_ids") or []
        else:
            group = dirstore.get(tenant_id, "individual-groups", segment["id"])
            every = [m["id"] for m in (dirstore.attributes(group).get("individuals") or [])] if group else []
        start = int(pos or 0)
        chunk = every[start : start + PAGE]
        return chunk, (start + PAGE if start + PAGE < len(every) else None)
    if kind == "directory":
        from parley.dal import table

        params: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "attribute_not_exists(#d)",
            "ExpressionAttributeNames": {"#d": "deleted"},
            "ExpressionAttributeValues": table.values(pk=dirstore.pk(tenant_id, "individuals")),
            "ProjectionExpression": "PK, SK, entity_id",
        }
        items, last = table.query_page(limit=PAGE, start_key=pos or None, **params)
        return [i["entity_id"] for i in items], last
    raise ValueError(f"unknown audience segment {kind!r}")


def run_page(tenant_id: str, multicast_id: str, page: int, segment_index: int, pos: Any) -> str:
    mc = store.get(tenant_id, multicast_id, consistent=True)
    if mc is None:
        return "gone"  # purged or never stored: nothing to do
    step = f"PAGE#{page:06d}"
    marker = store.step_done(tenant_id, multicast_id, step)
    if marker is not None and marker.get("enqueued"):
        return "duplicate"
    store.set_status(tenant_id, multicast_id, "running", when=("queued",))
    segments = mc.get("segments") or []
    jobs: list[dict[str, Any]] = []
    if mc["kind"] == "user":
        ids_, nxt = [], None
        jobs.append({"step": "batch", "tenant_id": tenant_id, "multicast_id": multicast_id, "batch": f"{page:06d}.000", "ids": [],
                     "user_id": mc["user_id"], "individual_id": mc.get("individual_id")})  # fmt: skip
        size = 1
    else:
        ids_, nxt = _page_ids(tenant_id, mc, segments[segment_index], pos) if segment_index < len(segments) else ([], None)
        size = len(ids_)
        for n, i in enumerate(range(0, len(ids_), BATCH)):
            jobs.append({"step": "batch", "tenant_id": tenant_id, "multicast_id": multicast_id, "batch": f"{page:06d}.{n:03d}",
                         "ids": ids_[i : i + BATCH]})  # fmt: skip
    following = None
    if nxt is not None:
        following = {"segment": segment_index, "pos": nxt}
    elif segment_index + 1 < len(segments) and mc["kind"] != "user":
        following = {"segment": segment_index + 1, "pos": 0}
    if marker is None:
        store.finish_step(tenant_id, multicast_id, step, {"audience": size, "batches_expected": len(jobs)}, last_page=following is None)
    if following is not None:
        jobs.append({"step": "page", "tenant_id": tenant_id, "multicast_id": multicast_id, "page": page + 1, **following})
    store.enqueue(jobs)
    store.mark_enqueued(tenant_id, multicast_id, step)
    _maybe_done(tenant_id, multicast_id)
    return "paged"


def _maybe_done(tenant_id: str, multicast_id: str) -> bool:
    mc = store.get(tenant_id, multicast_id, consistent=True)
    if mc and mc.get("paging_done") and int(mc.get("batches_done", 0)) >= int(mc.get("batches_expected", 0)):
        return store.set_status(tenant_id, multicast_id, "done", when=("queued", "running"), extra={"finished_at": clock.iso(clock.now())})
    return False


def _notify(tenant_id: str, **kwargs: Any) -> Any:
    from parley.domain import notifications  # helper B's module: imported when a batch first notifies

    return notifications.notify(tenant_id, **kwargs)


def run_batch(tenant_id: str, multicast_id: str, batch: str, individual_ids: list[str], *, user_id: str | None = None,
              individual_id: str | None = None) -> dict[str, int]:  # fmt: skip
    """Notify one batch of recipients (see the module doc). Returns its counts."""
    step = f"BATCH#{batch}"
    if store.step_done(tenant_id, multicast_id, step) is not None:
        _maybe_done(tenant_id, multicast_id)
        return {}
    mc = store.get(tenant_id, multicast_id, consistent=True)
    if mc is None:
        return {}
    from parley.dal import table

    # who: (individual id or None, user id or None) per recipient, with their directory attributes
    if user_id is not None:
        people = [(individual_id, user_id)]
        keys = [(dirstore.pk(tenant_id, "users"), dirstore.sk(user_id))]
        if individual_id:
            keys.append((dirstore.pk(tenant_id, "individuals"), dirstore.sk(individual_id)))
        found = table.batch_get(keys)
    else:
        found = table.batch_get([(dirstore.pk(tenant_id, "individuals"), dirstore.sk(i)) for i in individual_ids])
        owners = {}
        for i in individual_ids:
            item = found.get((dirstore.pk(tenant_id, "individuals"), dirstore.sk(i)))
            if item and not item.get("deleted"):
                owners[i] = dirstore.attributes(item).get("owner-id")
        users = {u for u in owners.values() if u}
        found.update(table.batch_get([(dirstore.pk(tenant_id, "users"), dirstore.sk(u)) for u in users]))
        people = [(i, owners.get(i)) for i in individual_ids]

    def attrs(entity: str, entity_id: str | None) -> dict[str, Any] | None:
        got = found.get((dirstore.pk(tenant_id, entity), dirstore.sk(entity_id))) if entity_id else None
        return dirstore.attributes(got) if got and not got.get("deleted") else None

    done = store.recipients(tenant_id, multicast_id, [store.recipient_sk(i, u) for i, u in people])
    template_: EmailTemplate | None = None
    template_error: str | None = None
    counts = {"notified": 0, "skipped": 0, "failed": 0}
    duplicates = 0  # recipients another batch already stored (an individual in two groups): not counted twice
    pending: list[dict[str, Any]] = []
    for ind_id, usr_id in people:
        prior = done.get(store.recipient_sk(ind_id, usr_id))
        if prior is not None:
            if prior.get("batch") == batch:  # this batch's earlier attempt: count it here
                counts[prior["state"]] += 1
            else:
                duplicates += 1
            continue
        user = attrs("users", usr_id)
        record: dict[str, Any] = {"individual_id": ind_id, "user_id": usr_id, "batch": batch}
        if user is None:
            record.update(state="skipped", reason="no user" if usr_id is None else f"unknown user {usr_id}")
        else:
            if template_ is None and template_error is None:
                try:
                    template_ = tpl.get(tenant_id, mc["template_id"])
                except NotFound:
                    template_error = f"template {mc['template_id']} not found"
            if template_error is not None:
                record.update(state="failed", reason=template_error)
            else:
                record.update(_deliver(tenant_id, mc, template_, _recipient_of(ind_id, attrs("individuals", ind_id), usr_id, user)))  # type: ignore[arg-type]
        counts[record["state"]] += 1
        pending.append(store.recipient_item(tenant_id, multicast_id, mc["created_at"], record))
        if len(pending) >= FLUSH:
            store.put_recipients(pending)
            pending = []
    store.put_recipients(pending)
    counts = {**counts, "audience": -duplicates, "batches_done": 1}
    store.finish_step(tenant_id, multicast_id, step, counts)
    _maybe_done(tenant_id, multicast_id)
    return counts


def _deliver(tenant_id: str, mc: dict[str, Any], template_: EmailTemplate, recipient: dict[str, Any]) -> dict[str, Any]:
    """Render and notify one recipient: the recipient record's fields. A recipient the template cannot render for
    (a value with a line break in the subject, …) fails alone; an AWS error propagates (the batch is retried)."""
    try:
        rendered = tpl.render(template_, _variables(mc.get("data") or {}, recipient))
    except BadRequest as err:
        return {"state": "failed", "reason": err.message if hasattr(err, "message") else str(err)}
    data, email = contents(rendered, multicast_id=mc["id"])
    nid = notification_id(mc["id"], recipient["user_id"])
    try:
        _notify(
            tenant_id,
            notification_id=nid,
            user_id=recipient["user_id"],
            individual_id=recipient.get("individual_id"),
            organization_id=mc.get("organization_id"),
            category=mc.get("category"),
            data=data,
            email=email,
            source={"type": "multicast", "multicast-id": mc["id"], "template-id": mc["template_id"], "kind": mc["kind"]},
        )
    except ParleyError as err:  # the notification was refused (a domain rule), not a failure of the pipeline
        return {"state": "failed", "reason": err.message if hasattr(err, "message") else str(err), "notification_id": nid}
    return {"state": "notified", "notification_id": nid}


# ───────────── validate (dry run) ─────────────
def validate(
    tenant_id: str, user_id: str, template_id: str, data: dict[str, Any], individual_id: str, organization_id: str
) -> tuple[bool, str]:
    """``validate-multicast-params``: whether this template renders for this user with ``data``; ``info`` names every
    missing variable (or what else is wrong). 404 for an unknown user; nothing is stored or sent."""
    user = _user(tenant_id, user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}", parameter="id", code="not-found")
    _check_organization(tenant_id, organization_id, pointer="/organization-id")
    try:
        template_ = tpl.get(tenant_id, template_id)
    except NotFound:
        return False, f"template {template_id} not found"
    missing = missing_variables(template_, data)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        return False, f"missing template variable{plural}: {', '.join(missing)}"
    individual = _individual(tenant_id, individual_id)
    if individual is None or (individual.get("owner-id") != user_id and user.get("primary-individual-id") != individual_id):
        return False, f"individual {individual_id} is not one of user {user_id}'s individuals"
    try:
        tpl.render(template_, _variables(data, _recipient_of(individual_id, individual, user_id, user)))
    except BadRequest as err:
        return False, err.message if hasattr(err, "message") else str(err)
    return True, f"template {template_id} renders for user {user_id}"


# ───────────── purge (GDPR erasure, parley.domain.purge) ─────────────
def purge(tenant_id: str, user_ids: set[str], individual_ids: set[str]) -> dict[str, int]:
    """Erase a person from the multicasts: their recipient records (what they received; found on GSI3 by individual, and
    by user for a user named alone), and their ids in the multicasts that name them (the request's individual-ids, a
    single recipient, the creator). The rendered content went to their notifications, which the notifications step
    erases. Repeatable: a second run finds nothing left."""
    rows: list[dict[str, Any]] = []
    for individual in sorted(individual_ids):
        rows += store.received_keys(tenant_id, individual)
    for user in sorted(user_ids):
        rows += store.received_keys(tenant_id, f"U#{user}")
    touched = {str(r["multicast_id"]) for r in rows} | {str(m["id"]) for m in store.created_by(tenant_id, user_ids)}
    changed = sum(store.forget(tenant_id, m, user_ids=user_ids, individual_ids=individual_ids) for m in sorted(touched))
    deleted = store.delete_keys(sorted({(str(r["PK"]), str(r["SK"])) for r in rows}))
    return {"multicast_recipients": deleted, "multicasts_rewritten": changed}
