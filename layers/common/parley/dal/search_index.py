"""The free-text index of a tenant's communication records: an inverted index in the table (docs/data-model.md §6.8).

- **Token item** ``PK = TENANT#<t>#TERM#<key>``, ``SK = <the record's GSI5SK>`` (``<created ISO>#<id>``), nothing
  else: one per (key, record), so a key's partition lists the records that have it in creation order, like
  every record index, and token lists merge with each other and with the record partitions on one sort key.
  Keys are the words and word prefixes of ``domain/search_text.py``.
- **Manifest** ``PK = TENANT#<t>#SRCH#<id>``, ``SK = TERMS``: the keys the record's token items may have
  (``terms``, a string set) and whether exactly those exist (``clean``). The index is changed from it, not
  from the stream's old image: a body kept in S3 is gone by the time its record's REMOVE is processed, and
  a changed tokeniser would not recompute the keys it wrote.

``SearchIndexFunction`` keeps both from the table's stream (``apply``); the search reads token lists
(``term_sort_keys``) and probes single token items (``present``). Nothing here Scans.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from parley.dal import table

DOC_SK = "TERMS"


def term_pk(tenant_id: str, key: str) -> str:
    """The partition of one key's token list."""
    return f"TENANT#{tenant_id}#TERM#{key}"


def doc_pk(tenant_id: str, message_id: str) -> str:
    """The partition of one record's manifest (not the record's own: deleting a record deletes its item
    collection, and the manifest must outlive it until the index has forgotten the record)."""
    return f"TENANT#{tenant_id}#SRCH#{message_id}"


# ───────────── the stream ─────────────
@dataclass(frozen=True)
class RecordChange:
    """One stream record of a communication record (an item with ``GSI5PK``): its images, plain."""

    seq: str
    tenant_id: str
    message_id: str
    sort_key: str  # GSI5SK
    old: dict[str, Any] | None  # None: it was no record (or did not exist)
    new: dict[str, Any] | None  # None: it is no record any more (deleted, expired)


def _record(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image or "GSI5PK" not in image or "GSI5SK" not in image:
        return None
    return table.unmarshal(image)


def stream_changes(records: Iterable[dict[str, Any]]) -> list[RecordChange]:
    """Lambda's DynamoDB stream records → the changes of records, in stream order (every other item is left out:
    token items, manifests, tallies, events, SMS …)."""
    out = []
    for rec in records:
        ddb = rec.get("dynamodb") or {}
        old, new = _record(ddb.get("OldImage")), _record(ddb.get("NewImage"))
        either = new or old
        if either is None:
            continue
        out.append(
            RecordChange(
                seq=str(ddb.get("SequenceNumber", "")),
                tenant_id=str(either["tenant_id"]),
                message_id=str(either["id"]),
                sort_key=str(either["GSI5SK"]),
                old=old,
                new=new,
            )
        )
    return out


# ───────────── writing ─────────────
@dataclass(frozen=True)
class Doc:
    """What one record's index should hold: its keys (none: the record is gone, or no record)."""

    tenant_id: str
    message_id: str
    sort_key: str
    keys: tuple[str, ...]


@dataclass
class Applied:
    records: int = 0  # records whose index was looked at
    changed: int = 0  # … of which some token item was written or deleted
    puts: int = 0
    deletes: int = 0


def manifests(records: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The manifests of these ``(tenant, id)`` records, ``{(tenant, id): {"terms": set, "clean": bool}}`` (strongly
    consistent: what the last apply wrote); records without one are left out."""
    wanted = list(dict.fromkeys(records))
    found = table.batch_get(((doc_pk(t, m), DOC_SK) for t, m in wanted), consistent=True)
    out = {}
    for t, m in wanted:
        item = found.get((doc_pk(t, m), DOC_SK))
        if item:
            out[(t, m)] = {"terms": set(item.get("terms") or ()), "clean": bool(item.get("clean"))}
    return out


def token_item(tenant_id: str, key: str, sort_key: str) -> dict[str, Any]:
    return {"PK": term_pk(tenant_id, key), "SK": sort_key}


def indexed_items(doc: Doc) -> list[dict[str, Any]]:
    """Every item of a record's index once ``apply`` has made it: its token items and its clean manifest (for loading a
    table the stream does not reach in bulk, as ``bench/`` seeds one)."""
    items = [token_item(doc.tenant_id, k, doc.sort_key) for k in doc.keys]
    return [*items, _manifest(doc, set(doc.keys), clean=True)] if doc.keys else []


def _manifest(d: Doc, terms: set[str], *, clean: bool) -> dict[str, Any]:
    return {"PK": doc_pk(d.tenant_id, d.message_id), "SK": DOC_SK, "type": "search_doc", "sk": d.sort_key, "terms": terms, "clean": clean}


def apply(docs: list[Doc]) -> Applied:
    """Make the token items of each record what ``keys`` says, writing only the difference.

    Idempotent, and safe to repeat after a failure at any point: first every manifest that must grow is widened to
    what may exist once the writes land (``terms`` = old and new keys, ``clean`` false); then the token items are put and
    deleted (BatchWriteItem); then each manifest is set to the new keys, clean (deleted when there are none).
    A repeat that finds a manifest not clean puts every wanted key again and deletes every other key it lists,
    so nothing is left behind and nothing is missed. Each record's changes must come in order (one stream shard:
    a record's changes are never applied concurrently)."""
    done = Applied(records=len(docs))
    if not docs:
        return done
    have = manifests((d.tenant_id, d.message_id) for d in docs)
    widen: list[dict[str, Any]] = []
    puts: list[dict[str, Any]] = []
    deletes: list[tuple[str, str]] = []
    final_puts: list[dict[str, Any]] = []
    final_deletes: list[tuple[str, str]] = []
    for d in docs:
        old = have.get((d.tenant_id, d.message_id), {"terms": set(), "clean": True})
        want = set(d.keys)
        if old["clean"] and old["terms"] == want:
            continue
        done.changed += 1
        to_put = want if not old["clean"] else want - old["terms"]
        to_delete = old["terms"] - want
        if want - old["terms"]:
            widen.append(_manifest(d, old["terms"] | want, clean=False))
        puts += [token_item(d.tenant_id, k, d.sort_key) for k in sorted(to_put)]
        deletes += [(term_pk(d.tenant_id, k), d.sort_key) for k in sorted(to_delete)]
        if want:
            final_puts.append(_manifest(d, want, clean=True))
        else:
            final_deletes.append((doc_pk(d.tenant_id, d.message_id), DOC_SK))
    for step in ({"puts": widen}, {"puts": puts, "deletes": deletes}, {"puts": final_puts, "deletes": final_deletes}):
        if any(step.values()):
            table.batch_write(**step)
    done.puts, done.deletes = len(puts), len(deletes)
    return done


# ───────────── reading ─────────────
def term_sort_keys(tenant_id: str, key: str, *, after: str | None, limit: int, forward: bool) -> tuple[list[str], bool]:
    """Up to ``limit`` record sort keys of one key's token list, going on after ``after`` in the direction read
    (oldest first when ``forward``), and whether the list may go on. One Query: it reads what it returns."""
    cond = "PK = :pk"
    vals: dict[str, Any] = {"pk": term_pk(tenant_id, key)}
    if after is not None:
        cond += " AND SK > :after" if forward else " AND SK < :after"
        vals["after"] = after
    out = table.ddb().query(
        TableName=table.table_name(),
        KeyConditionExpression=cond,
        ExpressionAttributeValues=table.values(**vals),
        ScanIndexForward=forward,
        Limit=limit,
    )
    return [i["SK"]["S"] for i in out.get("Items", [])], "LastEvaluatedKey" in out


def present(tenant_id: str, wanted: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (record sort key, key) pairs the index holds: one BatchGetItem per 100."""
    pairs = list(dict.fromkeys(wanted))
    found = table.batch_get((term_pk(tenant_id, key), sk) for sk, key in pairs)
    return {(sk, key) for sk, key in pairs if (term_pk(tenant_id, key), sk) in found}
