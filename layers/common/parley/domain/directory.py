"""The courier directory: replicated in (``import_lines``, directory events, replicators — all through ``apply``),
read by the admin API (``get``, ``page``).

Organizations, users, individuals and individual-groups come from the care platform, never from the API. Each
replica write is ordered by the platform's ``last-sync-time``: an older update never overwrites a newer one (a
conditional write, ``dal/directory.put_if_newer``), so importing the same file twice, or two files out of order,
ends in the same state. A delete is a tombstone with its own last-sync-time, ordered the same way (an older upsert
arriving after a newer delete is ignored); reads and lists never show a tombstone. Every read is scoped to the
caller's tenant: another tenant's id is simply not found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from parley import clock
from parley.dal import directory as store
from parley.errors import BadRequest, Conflict, NotFound
from parley.models.courier_directory import ANSWERED, ATTRIBUTES, DirectoryRecord
from parley.models.jsonapi import Attributes

# What each type's JSON:API ``type`` is called in an error message.
_NAMES = {"organizations": "organization", "users": "user", "individuals": "individual", "individual-groups": "individual-group"}
MAX_LINE = 400_000  # a DynamoDB item holds 400 KB


@dataclass
class ImportSummary:
    read: int = 0
    written: int = 0  # upserts and deletes applied
    deleted: int = 0  # of which deletes
    unchanged: int = 0  # the stored entity was as new or newer (its last-sync-time)
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = {"read": self.read, "written": self.written, "deleted": self.deleted, "unchanged": self.unchanged}
        return {**counts, "invalid": len(self.invalid)}


@dataclass(frozen=True)
class Change:
    """One ordered change to a tenant's directory: an upsert (``attrs`` as stored) or a delete (a tombstone)."""

    entity_type: str
    entity_id: str
    sync_time: str
    attrs: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


def parse_line(text: str) -> Change:
    """One JSON line → its ``Change``; ``BadRequest`` naming what is wrong."""
    if len(text) > MAX_LINE:
        raise BadRequest(f"line longer than {MAX_LINE} characters")
    try:
        record = DirectoryRecord.model_validate_json(text)
    except ValidationError as err:
        raise BadRequest(_describe(err)) from None
    return _change(record)


def parse_record(obj: Any) -> Change:
    """The same, of a resource already decoded (a directory event's ``entity``, a replicator's upstream resource)."""
    if not isinstance(obj, dict):
        raise BadRequest("the entity must be a JSON object")
    if len(json.dumps(obj, separators=(",", ":"))) > MAX_LINE:
        raise BadRequest(f"entity longer than {MAX_LINE} characters")
    try:
        record = DirectoryRecord.model_validate(obj)
    except ValidationError as err:
        raise BadRequest(_describe(err)) from None
    return _change(record)


def _change(record: DirectoryRecord) -> Change:
    try:
        attrs = ATTRIBUTES[record.type].model_validate(record.attributes)
    except ValidationError as err:
        raise BadRequest(_describe(err)) from None
    sync_time = record.last_sync_time or getattr(attrs, "last_sync_time", None)
    if sync_time is None:
        raise BadRequest("last-sync-time: required (on the line, or in the attributes of users and individual-groups)")
    if record.deleted:
        return Change(record.type, record.id, sync_time, deleted=True)
    if "last_sync_time" in type(attrs).model_fields:
        attrs = attrs.model_copy(update={"last_sync_time": sync_time})  # the answered last-sync-time is the order's
    return Change(record.type, record.id, sync_time, attrs.model_dump(mode="json", by_alias=True, exclude_none=True))


def apply(tenant_id: str, change: Change) -> bool:
    """Apply one change, ordered by its last-sync-time: True when written, False when the stored entity (or its
    tombstone) is as new or newer. The one write path of ``import-directory``, directory events and replicators."""
    if change.deleted:
        return store.delete_if_newer(tenant_id, change.entity_type, change.entity_id, change.sync_time)
    before = _group_individuals(tenant_id, change.entity_id) if change.entity_type == "individual-groups" else None
    written = store.put_if_newer(tenant_id, change.entity_type, change.entity_id, change.sync_time, change.attrs)
    if written and before is not None:  # individual-shared / -unshared on the courier events bus (announcers)
        from parley.domain import courier_events

        after = [m["id"] for m in change.attrs.get("individuals") or [] if isinstance(m, dict) and m.get("id")]
        courier_events.group_changed(tenant_id, change.entity_id, before, after, organization_id=change.attrs.get("organization-id"),
                                     sync_time=change.sync_time)  # fmt: skip
    if written and change.entity_type == "users" and change.attrs and change.attrs.get("phone-unsubscribed") is True:
        _phone_unsubscribed(tenant_id, change.attrs.get("phone"))
    if change.entity_type == "individual-groups":
        # the messaging channels bound to the group follow its individuals (docs/courier.md "Channels"); also when this
        # write was not newer, so that a retry after a failed sync completes it (the sync is a diff: idempotent)
        from parley.domain import channels

        channels.sync_group(tenant_id, change.entity_id)
    return written


def _group_individuals(tenant_id: str, group_id: str) -> list[str]:
    """The individuals of the stored group (none when it is new or deleted), before a write changes them."""
    stored = store.get(tenant_id, "individual-groups", group_id, consistent=True)
    if stored is None or stored.get("deleted"):
        return []
    return [m["id"] for m in store.attributes(stored).get("individuals") or [] if isinstance(m, dict) and m.get("id")]


def _phone_unsubscribed(tenant_id: str, phone: Any) -> None:
    """A user's ``phone-unsubscribed: true`` opts the phone out in the tenant's one consent store (the candidate API's
    and the texts'; docs/courier.md "Texts, replies and consents"). The directory only ever adds a STOP, never lifts
    one: an opt-in takes the person's own START or consent. A phone that is no phone number is left alone."""
    from parley.dal import optins as optin_state
    from parley.dal import tenants
    from parley.domain import optins
    from parley.models.phones import e164

    tenant = tenants.get(tenant_id)
    try:
        number = e164(str(phone or ""), tenant.default_country if tenant else "US")
    except ValueError:
        return
    state = optin_state.get_state(tenant_id, number)
    if state is not None and not state.get("opted_in"):
        return
    optins.update(tenant_id, phone=number, email=None, opt_in=False, reason="directory: phone-unsubscribed")


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = "/".join(str(p) for p in e.get("loc", ()))
        msg = "unknown attribute" if e.get("type") == "extra_forbidden" else str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def import_lines(tenant_id: str, lines: Iterable[str], *, report: Any = None) -> ImportSummary:
    """Apply JSON lines (blank lines skipped) to the tenant's directory, each ordered by its last-sync-time. An invalid
    line is reported (``report({"line": n, "error": …})``) and left out; the others are applied."""
    summary = ImportSummary()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        summary.read += 1
        try:
            change = parse_line(text)
        except BadRequest as err:
            problem = {"line": number, "error": err.message}
            summary.invalid.append(problem)
            if report:
                report(problem)
            continue
        if apply(tenant_id, change):
            summary.written += 1
            summary.deleted += change.deleted
        else:
            summary.unchanged += 1
    return summary


# ───────────── the deprecated users PATCH ─────────────
ATTEMPTS = 3  # a replica write racing the PATCH makes it read again


def set_notifications(tenant_id: str, user_id: str, notifications: list[str] | None) -> tuple[str, Attributes]:
    """``PATCH /v1/users/{id}/``: store the caller's ``notifications`` as a local override of the replica's (``None``
    drops it: the replica's value shows again), and answer the user as it now reads. 404 when the tenant has no such
    user. The override is made over the replica's value as read, and written only if no replica write came since."""
    for _ in range(ATTEMPTS):
        stored = store.get(tenant_id, "users", user_id, consistent=True)
        if stored is None:
            raise NotFound(f"no user {user_id!r}", code="not-found")
        seen = stored["sync_time"]
        if notifications is None:
            written = store.clear_override(tenant_id, "users", user_id, seen_sync_time=seen)
            after = {k: v for k, v in stored.items() if k not in ("local_notifications", "local_base", "local_time")}
        else:
            base = store.attributes(stored).get("notifications")
            made_at = clock.iso(clock.now())
            written = store.set_override(tenant_id, "users", user_id, notifications, base=base, seen_sync_time=seen, made_at=made_at)
            after = {
                **stored,
                "local_notifications": store.canonical(notifications),
                "local_base": store.canonical(base),
                "local_time": made_at,
            }
        if written:
            return user_id, _attributes("users", after)
    raise Conflict("the user changed while this request was applied; try again", code="concurrent-update")


# ───────────── reads (the admin API) ─────────────
def get(tenant_id: str, entity_type: str, entity_id: str) -> tuple[str, Attributes]:
    """One entity of the tenant's directory, as its attributes model; 404 when the tenant has no such entity."""
    stored = store.get(tenant_id, entity_type, entity_id)
    if stored is None:
        raise NotFound(f"no {_NAMES[entity_type]} {entity_id!r}", code="not-found")
    return entity_id, _attributes(entity_type, stored)


def _attributes(entity_type: str, stored: dict[str, Any]) -> Attributes:
    return _answered(entity_type, effective(stored))


def _answered(entity_type: str, attrs: dict[str, Any]) -> Attributes:
    """The admin routes' attributes of a stored entity: the seed's (``ANSWERED``), not what only other areas read."""
    model = ANSWERED[entity_type]
    return model.model_validate({k: v for k, v in attrs.items() if k.replace("-", "_") in model.model_fields})


def effective(stored: dict[str, Any]) -> dict[str, Any]:
    """The attributes a stored entity is answered with: the replica's, with a user's local ``notifications`` override
    in place while the replica's value is still the one the override was made over (docs/courier.md)."""
    attrs = store.attributes(stored)
    local = store.override(stored)
    if local is not None and store.canonical(attrs.get("notifications")) == local[1]:
        attrs["notifications"] = local[0]
    return attrs


def page(
    tenant_id: str, entity_type: str, *, offset: int, limit: int, filters: dict[str, str] | None = None
) -> tuple[list[tuple[str, Attributes]], int]:
    """A page of the tenant's entities of one type in id order, with the total the filters match.

    Filters are equality (``filter[<attr>]``), case-insensitive, each served by a key (``dal/directory.LOOKUPS``). One
    filter pages on its index; with several, the first index's matches are read whole (equality on an email or a
    username: a handful) and the others compared, then paged."""
    wanted = {k: v for k, v in (filters or {}).items() if v is not None}
    if not wanted:
        items, total = store.page(tenant_id, entity_type, offset=offset, limit=limit)
        return [(i["entity_id"], _attributes(entity_type, i)) for i in items], total
    attr, value = next(iter(wanted.items()))
    if len(wanted) == 1:
        items, total = store.page_where(tenant_id, entity_type, attr, value, offset=offset, limit=limit)
        return [(i["entity_id"], _attributes(entity_type, i)) for i in items], total
    matches = _matching(tenant_id, entity_type, wanted, store.page_where(tenant_id, entity_type, attr, value, offset=0, limit=10_000)[0])
    return matches[offset : offset + limit], len(matches)


def _matching(tenant_id: str, entity_type: str, wanted: dict[str, str], items: Iterable[dict[str, Any]]) -> list[tuple[str, Attributes]]:
    out = []
    for item in items:
        attrs = effective(item)
        if all(str(attrs.get(k, "")).lower() == v.lower() for k, v in wanted.items()):
            out.append((item["entity_id"], _answered(entity_type, attrs)))
    return out


def users_page(
    tenant_id: str, *, offset: int, limit: int, email: str | None, username: str | None, individual_id: str | None
) -> tuple[list[tuple[str, Attributes]], int]:
    """``GET /v1/users/``: ``filter[email]`` and ``filter[username]`` on their indexes; ``filter[individual-id]`` is the
    user who owns that individual (the individual's ``owner-id``: two GetItems, docs/courier.md)."""
    if individual_id is None:
        return page(tenant_id, "users", offset=offset, limit=limit, filters={"email": email, "username": username})  # type: ignore[dict-item]
    candidates = _users_of_individual(tenant_id, individual_id)
    wanted = {k: v for k, v in (("email", email), ("username", username)) if v is not None}
    matches = _matching(tenant_id, "users", wanted, candidates)
    return matches[offset : offset + limit], len(matches)


def _users_of_individual(tenant_id: str, individual_id: str) -> Iterator[dict[str, Any]]:
    individual = store.get(tenant_id, "individuals", individual_id)
    owner = store.attributes(individual).get("owner-id") if individual else None
    if owner:
        user = store.get(tenant_id, "users", owner)
        if user is not None:
            yield user
