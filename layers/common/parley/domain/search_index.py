"""Keeping the free-text index of the CRM records (docs/data-model.md §6.8): from the table's stream
(``SearchIndexFunction``), and for records stored before the index existed (``backfill``).

Only communication records (outbound email: items with ``GSI5PK``) are indexed, by the keys of
``domain/search_text.py``. A change that leaves a record's text as it was (a status change, an open, a comment —
nearly every change) costs nothing: the images are compared and nothing is read or written. A body kept in S3 is
read from there (a body that is gone — its record deleted since — indexes as empty; the record's REMOVE follows).
"""

from __future__ import annotations

from typing import Any

from parley.dal import bodies, records, search_index
from parley.dal.due_backfill import tenant_ids
from parley.dal.messages import from_item
from parley.domain import search_text
from parley.models.domain import Message

# What the keys are made of: a change to none of these leaves the index as it is (a body kept in S3 is never
# rewritten under the same body_ref: bodies.put runs once, when the record is created).
TEXT_ATTRIBUTES = ("subject", "sender", "recipient", "recipients", "cc", "body", "body_ref")


def _same_text(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old.get(a) == new.get(a) for a in TEXT_ATTRIBUTES)


def keys_of(msg: Message) -> tuple[str, ...]:
    """A record's index keys, its body fetched from S3 if it is kept there."""
    if msg.body_ref and not msg.body:
        msg = msg.model_copy(update={"body": bodies.get_or_none(msg.body_ref) or ""})
    return tuple(search_text.record_keys(msg))


def doc(msg: Message) -> search_index.Doc:
    """What the index should hold for a record as it is."""
    return search_index.Doc(tenant_id=msg.tenant_id, message_id=msg.id, sort_key=records.sort_key(msg), keys=keys_of(msg))


def docs(changes: list[search_index.RecordChange]) -> list[search_index.Doc]:
    """What the index should hold for each record a batch of changes touched: its keys after the batch's last
    change (none once it is deleted). A record whose text the batch did not change is left out."""
    first: dict[tuple[str, str], search_index.RecordChange] = {}
    last: dict[tuple[str, str], search_index.RecordChange] = {}
    for change in changes:
        ref = (change.tenant_id, change.message_id)
        first.setdefault(ref, change)
        last[ref] = change
    out = []
    for ref, change in last.items():
        old, new = first[ref].old, change.new
        if old is not None and new is not None and _same_text(old, new):
            continue
        keys = keys_of(from_item(new, load_body=False)) if new is not None else ()
        out.append(search_index.Doc(tenant_id=ref[0], message_id=ref[1], sort_key=change.sort_key, keys=keys))
    return out


def index_stream(stream_records: list[dict[str, Any]]) -> search_index.Applied:
    """Apply a batch of stream records to the index."""
    return search_index.apply(docs(search_index.stream_changes(stream_records)))


def first_change(stream_records: list[dict[str, Any]]) -> str | None:
    """The sequence number of the batch's first record change (where a retry must start); None: none concerns the index."""
    changes = search_index.stream_changes(stream_records)
    return changes[0].seq if changes else None


# ───────────── backfill ─────────────
_PAGE = 100


def backfill(tenant_id: str | None = None, *, dry_run: bool = False, force: bool = False) -> dict[str, Any]:
    """Index one tenant's (or every tenant's) records that have no clean manifest — stored before the index
    existed, or whose stream batch was given up on (DLQ). ``force``: recompute every record's keys (after a change
    of ``search_text``); only differences are written either way, so a second run writes nothing.

    Walks each tenant's records on GSI5 (one paged Query), reads their manifests (one BatchGetItem per 100) and,
    for the records to index, their S3 bodies. A record deleted while it was being indexed is un-indexed again
    (checked after each page). Without ``tenant_id`` the tenants are found with one Scan (``due_backfill``)."""
    tenants = [tenant_id] if tenant_id else tenant_ids()
    report: dict[str, Any] = {"dry_run": dry_run, "force": force, "tenants": len(tenants), "records": 0, "already_indexed": 0,
                              "indexed": 0, "unchanged": 0, "token_puts": 0, "token_deletes": 0}  # fmt: skip
    for tid in tenants:
        stream = records.RecordStream(records.records_partition(tid), forward=True, page_size=_PAGE, load_body=False)
        page: list[Message] = []
        for msg in stream:
            page.append(msg)
            if len(page) == _PAGE:
                _backfill_page(tid, page, report, dry_run=dry_run, force=force)
                page = []
        if page:
            _backfill_page(tid, page, report, dry_run=dry_run, force=force)
    return report


def _backfill_page(tenant_id: str, page: list[Message], report: dict[str, Any], *, dry_run: bool, force: bool) -> None:
    report["records"] += len(page)
    have = search_index.manifests((tenant_id, m.id) for m in page)
    todo = []
    for msg in page:
        known = have.get((tenant_id, msg.id))
        if known and known["clean"] and not force:
            report["already_indexed"] += 1
            continue
        wanted = doc(msg)
        if known and known["clean"] and known["terms"] == set(wanted.keys):
            report["unchanged"] += 1
            continue
        todo.append(wanted)
    report["indexed"] += len(todo)
    if dry_run or not todo:
        return
    done = search_index.apply(todo)
    report["token_puts"] += done.puts
    report["token_deletes"] += done.deletes
    alive = {m.id for m in records.get_many(tenant_id, [d.message_id for d in todo], load_body=False)}
    gone = [search_index.Doc(d.tenant_id, d.message_id, d.sort_key, ()) for d in todo if d.message_id not in alive]
    if gone:
        search_index.apply(gone)
