"""The CRM's reads of communication records (seed 001): find by ids, find one, find-all, page,
dynamic search (GET and POST) and the CSV export.

A record is an outbound email of the tenant (``dal.messages.is_record``). Every read is a key read of
one of the record indexes, never a Scan (docs: /work/frag/search.md):

- ids → BatchGetItem of the tenant's keys; one id → GetItem.
- the tenant's records by creation time → GSI5 (total from the record counter).
- ``status`` → GSI7 (one partition per Parley status; PENDING = QUEUED + SENDING, merged),
  ``relatedEntityType`` + ``relatedEntityId`` → GSI6, ``conversationId`` → GSI3 (both keep outbound email only).

Ordered by ``created`` with no other condition, a page is served in index order: COUNT queries reach
its start and one Query reads exactly the page. Any other condition (a filter no index serves, a
free-text search, a sort on another field) is applied to the records read from the chosen index: that
reads every record of the partition(s), so it stops at ``MAX_READ`` with a 400 that says how to narrow it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from itertools import islice, product
from typing import Any

from parley import clock
from parley.dal import messages, records
from parley.domain.crm_records import to_record
from parley.errors import BadRequest, NotFound
from parley.models.crm import CommunicationRecord, DynamicSearchRequest, RecordPage, record_page
from parley.models.domain import Message, MessageStatus
from parley.models.numbers import INT32_MAX, INT32_MIN

FIND_ALL_LIMIT = 1000  # find-all returns at most the newest 1000 records (X-Total-Count has the real total)
MAX_PAGE_SIZE = 1000
MAX_PAGE = 100_000
MAX_READ = 10_000  # records a search may read to apply conditions no index serves
MAX_PARTITIONS = 10  # index partitions one search may merge (IN over an indexed field)
MAX_ID_LENGTH = 128  # longer ids cannot exist (and would exceed DynamoDB's key size)
MAX_VALUE_LENGTH = 1024
MAX_TERMS = 10
MAX_TERM_LENGTH = 256
MAX_SORTS = 5
# Lambda answers at most 6 MB (API Gateway proxy: the body is escaped once more inside the response
# JSON). What a response may carry, measured as that doubly escaped text, with room for headers.
RESPONSE_BUDGET = 5_000_000

FIELDS: tuple[str, ...] = tuple(CommunicationRecord.model_fields)  # the seed's 37, alphabetical
CRM_STATUSES: dict[str, tuple[MessageStatus, ...]] = {
    "PENDING": (MessageStatus.QUEUED, MessageStatus.SENDING),
    "SCHEDULED": (MessageStatus.SCHEDULED,),
    "SENT": (MessageStatus.SENT,),
    "FAILED": (MessageStatus.FAILED,),
    "UNCONFIRMED": (MessageStatus.UNCONFIRMED,),
    "CANCELLED": (MessageStatus.CANCELLED,),
}
LIST_FIELDS = frozenset({"recipients", "cc", "bcc"})  # a filter value matches when the list contains it
OBJECT_FIELDS = frozenset({"events", "clickedLinks", "variables"})  # not comparable (variables.<name> is)
BOOL_FIELDS = frozenset({"linkTrackingEnabled", "opened", "trackingEnabled"})
INT_FIELDS = frozenset({"openCount"})
TIME_FIELDS = frozenset({"created", "openedAt", "scheduledAt", "sentAt", "updated"})
ADDRESS_FIELDS = frozenset({"senderEmail", "replyTo", "recipients", "cc", "bcc"})  # compared case-insensitively
TEXT_FIELDS = ("subject", "senderEmail", "recipients", "cc", "body")  # what `search` looks in (body last: may be in S3)
FILTERABLE = tuple(f for f in FIELDS if f not in OBJECT_FIELDS)
SORTABLE = tuple(f for f in FIELDS if f not in OBJECT_FIELDS | LIST_FIELDS | {"body", "originalBody"})
NEVER_NULL = frozenset({"id", "tenantId", "created", "conversationId", "status", "providerType", "openCount", *BOOL_FIELDS})
DEFAULT_SORT = "created"
VARIABLE_PREFIX = "variables."
GET_RESERVED = frozenset({"page", "size", "search", "sort"})

# Message attributes a search reads for each record: everything but the bulky ones, which are read only
# when a condition needs them (the CRM field → the attributes it is made of).
_HEAVY = {"body", "original_body", "timeline", "links", "variables", "body_text", "attachments", "references"}
_LIGHT = sorted(set(Message.model_fields) - _HEAVY)
_NEEDS = {
    "body": ("body",),
    "originalBody": ("original_body", "body"),
    "events": ("timeline",),
    "clickedLinks": ("links",),
    "variables": ("variables",),
}


# ───────────── the query ─────────────
@dataclass(frozen=True)
class Filter:
    """``field`` (a record field or ``variables.<name>``) equal to one of ``values`` (contained in it, for a
    list field); ``values=None`` means the field is null (or an empty list)."""

    field: str
    values: tuple[Any, ...] | None


@dataclass(frozen=True)
class Sort:
    field: str
    ascending: bool


@dataclass(frozen=True)
class Search:
    filters: tuple[Filter, ...] = ()
    terms: tuple[str, ...] = ()  # each must occur (case-insensitively) in one of TEXT_FIELDS
    sort: tuple[Sort, ...] = ()  # empty: newest first (index order), reported as unsorted
    page: int = 0
    size: int = 20

    @property
    def offset(self) -> int:
        return self.page * self.size


# ───────────── find ─────────────
def find_by_ids(tenant_id: str, ids: list[str]) -> list[CommunicationRecord]:
    """The tenant's records with these ids, in the order asked; unknown ids, another tenant's ids and
    messages that are not records (SMS, inbound mail) are left out. One BatchGetItem per 100 ids."""
    wanted = [i for i in ids if len(i) <= MAX_ID_LENGTH]
    found = [to_record(m) for m in records.get_many(tenant_id, wanted) if messages.is_record(m)]
    check_fits(found, hint="ask for fewer ids")
    return found


def find_by_id(tenant_id: str, record_id: str) -> CommunicationRecord:
    msg = messages.get(tenant_id, record_id) if 0 < len(record_id) <= MAX_ID_LENGTH else None
    if msg is None or not messages.is_record(msg):
        raise NotFound(f"communication record {record_id} not found")
    return to_record(msg)


@dataclass(frozen=True)
class Listing:
    records: list[CommunicationRecord]
    total: int  # every record of the tenant, also when ``records`` holds only the newest of them


def find_all(tenant_id: str) -> Listing:
    """The tenant's records, newest first: at most ``FIND_ALL_LIMIT``, and fewer when more would not fit
    in one response (the newest ones that do). ``total`` is the real count (the record counter)."""
    out: list[CommunicationRecord] = []
    budget = RESPONSE_BUDGET
    newest = records.stream_records(records.records_partition(tenant_id), forward=False, page_size=FIND_ALL_LIMIT, limit=FIND_ALL_LIMIT)
    for msg in newest:  # Queries ask for no more than FIND_ALL_LIMIT records in all
        rec = to_record(msg)
        cost = response_cost(rec)
        if cost > budget:
            break
        out.append(rec)
        budget -= cost
        if len(out) >= FIND_ALL_LIMIT:
            break
    return Listing(records=out, total=max(records.count_records(records.records_partition(tenant_id)), len(out)))


# ───────────── page, dynamic search ─────────────
def page(tenant_id: str, *, page: int, size: int, sort_by: str | None, direction: str | None) -> RecordPage:
    """GET /page: one page sorted by ``sort_by`` (default ``created``) in ``direction`` (default DESC)."""
    field = (sort_by or DEFAULT_SORT).strip()
    if field not in SORTABLE:
        raise BadRequest(f"sortBy must be one of: {', '.join(SORTABLE)}")
    ascending = _direction(direction or "DESC", name="direction")
    query = Search(sort=(Sort(field, ascending),), page=_page(page), size=_size(size))
    content, total = run(tenant_id, query)
    return record_page(content, page=query.page, size=query.size, total=total, sorted_=True)


def search_get(tenant_id: str, *, page: int, size: int, params: dict[str, list[str]]) -> RecordPage:
    """GET /dynamic-search: every query parameter but page, size, search and sort is a filter."""
    query = parse_query_params(params, page=page, size=size)
    content, total = run(tenant_id, query)
    return record_page(content, page=query.page, size=query.size, total=total, sorted_=bool(query.sort))


def search_post(tenant_id: str, request: DynamicSearchRequest) -> RecordPage:
    """POST /dynamic-search (size 0 = the default, 20: the seed's sample sends 0)."""
    query = parse_request(request)
    content, total = run(tenant_id, query)
    return record_page(content, page=query.page, size=query.size, total=total, sorted_=bool(query.sort))


def csv_export(tenant_id: str, *, page: int, size: int) -> str:
    """One page of records as CSV, in /page's default order (newest first)."""
    content, _ = run(tenant_id, Search(page=_page(page), size=_size(size)))
    text = to_csv(content)
    if len(json.dumps(text)) > RESPONSE_BUDGET:
        raise BadRequest("this page does not fit in one response; request a smaller size")
    return text


# ───────────── parsing ─────────────
def _page(value: int) -> int:
    if not 0 <= value <= MAX_PAGE:
        raise BadRequest(f"page must be between 0 and {MAX_PAGE}")
    return value


def _size(value: int) -> int:
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise BadRequest(f"size must be between 1 and {MAX_PAGE_SIZE}")
    return value


def _direction(value: str, *, name: str) -> bool:
    """ASC → True, DESC → False (case-insensitive, as Spring's Sort.Direction reads it)."""
    upper = value.strip().upper()
    if upper not in ("ASC", "DESC"):
        raise BadRequest(f"{name} must be ASC or DESC")
    return upper == "ASC"


def sort_field(field: str) -> str:
    if field not in SORTABLE:
        raise BadRequest(f"cannot sort by {field!r}; sortable fields: {', '.join(SORTABLE)}")
    return field


def filter_field(field: str) -> str:
    if field.startswith(VARIABLE_PREFIX) and len(field) > len(VARIABLE_PREFIX):
        return field
    if field in OBJECT_FIELDS:
        raise BadRequest(f"{field!r} cannot be used as a filter" + (" (filter on variables.<name>)" if field == "variables" else ""))
    if field not in FILTERABLE:
        raise BadRequest(f"unknown filter field {field!r}; filterable fields: {', '.join(FILTERABLE)}, variables.<name>")
    return field


def coerce(field: str, raw: Any) -> Any:
    """A filter value as the type of ``field`` (400 when it cannot be one)."""
    if isinstance(raw, str) and len(raw) > MAX_VALUE_LENGTH:
        raise BadRequest(f"{field}: a value is longer than {MAX_VALUE_LENGTH} characters")
    if field.startswith(VARIABLE_PREFIX):
        if raw is None or isinstance(raw, str | int | float | bool):
            return raw
        raise BadRequest(f"{field}: a value must be a string, number or boolean")
    if field == "status":
        status = raw.strip().upper() if isinstance(raw, str) else None
        if status not in CRM_STATUSES:
            raise BadRequest(f"status must be one of: {', '.join(CRM_STATUSES)}")
        return status
    if field in BOOL_FIELDS:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise BadRequest(f"{field}: expected true or false")
    if field in INT_FIELDS:
        number: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            number = raw
        elif isinstance(raw, float) and raw.is_integer():
            number = int(raw)
        elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit() and len(raw.strip()) <= 20:
            number = int(raw.strip())
        if number is None:
            raise BadRequest(f"{field}: expected an integer")
        if not INT32_MIN <= number <= INT32_MAX:  # the record's counters are Java ints (decision S3)
            raise BadRequest(f"{field}: must be between {INT32_MIN} and {INT32_MAX}")
        return number
    if field in TIME_FIELDS:
        if isinstance(raw, str):
            try:
                return clock.parse_iso(raw.strip())
            except ValueError:
                pass
        raise BadRequest(f"{field}: expected an ISO-8601 date-time with a time zone, e.g. 2026-01-31T09:00:00Z")
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)  # entity ids are often numbers in the caller's system
    raise BadRequest(f"{field}: expected a string")


def _filter(field: str, raw: Any) -> Filter:
    field = filter_field(field)
    if raw is None:
        return Filter(field, None)
    values = raw if isinstance(raw, list) else [raw]
    if any(isinstance(v, list | dict) for v in values):
        raise BadRequest(f"{field}: a filter value must be a string, number, boolean, null or an array of those")
    if any(v is None for v in values):
        raise BadRequest(f"{field}: null cannot be one of several values")
    return Filter(field, tuple(dict.fromkeys(coerce(field, v) for v in values)))


def _terms(raw: list[str]) -> tuple[str, ...]:
    terms = [t for t in raw if t.strip()]
    if len(terms) > MAX_TERMS:
        raise BadRequest(f"at most {MAX_TERMS} search terms")
    if any(len(t) > MAX_TERM_LENGTH for t in terms):
        raise BadRequest(f"a search term is longer than {MAX_TERM_LENGTH} characters")
    return tuple(dict.fromkeys(terms))


def _sorts(sorts: list[Sort]) -> tuple[Sort, ...]:
    if len(sorts) > MAX_SORTS:
        raise BadRequest(f"at most {MAX_SORTS} sort fields")
    seen: dict[str, Sort] = {}
    for s in sorts:
        seen.setdefault(sort_field(s.field), s)  # the first mention of a field decides
    return tuple(seen.values())


def parse_query_params(params: dict[str, list[str]], *, page: int, size: int) -> Search:
    """GET /dynamic-search's query string: ``field=value`` filters (a repeated field = any of the values),
    ``search`` terms (repeatable), ``sort=field[,asc|desc]`` (repeatable, Spring's syntax; default asc)."""
    filters = [
        _filter(name, values if len(values) > 1 else values[0]) for name, values in params.items() if name not in GET_RESERVED and values
    ]
    sorts = []
    for spec in params.get("sort") or []:
        field, _, way = spec.partition(",")
        sorts.append(Sort(field.strip(), _direction(way, name="sort direction") if way.strip() else True))
    return Search(
        filters=tuple(filters),
        terms=_terms(params.get("search") or []),
        sort=_sorts(sorts),
        page=_page(page),
        size=_size(size),
    )


def parse_request(request: DynamicSearchRequest) -> Search:
    return Search(
        filters=tuple(_filter(k, v) for k, v in request.filters.items()),
        terms=_terms(request.search),
        sort=_sorts([Sort(s.field, s.ascending) for s in request.sort]),
        page=_page(request.page),
        size=_size(request.size or 20),
    )


# ───────────── running a search ─────────────
@dataclass(frozen=True)
class Plan:
    parts: list[records.Partition]  # the index partitions read (disjoint)
    residual: tuple[Filter, ...]  # conditions checked on what was read
    counted: bool  # the partition is GSI5: its size is the tenant's record counter


def plan(tenant_id: str, filters: tuple[Filter, ...]) -> Plan:
    """Which index serves a search: the most selective indexed filter (a conversation, then an entity,
    then a status), else the tenant's whole record index. An indexed filter with several values reads
    one partition per value (up to ``MAX_PARTITIONS``)."""
    by_field = {f.field: f for f in filters}

    def rest(*used: str) -> tuple[Filter, ...]:
        return tuple(f for f in filters if f.field not in used)

    conv = by_field.get("conversationId")
    if conv and conv.values and len(conv.values) <= MAX_PARTITIONS:
        return Plan([records.conversation_partition(tenant_id, v) for v in conv.values], rest("conversationId"), False)
    etype, eid = by_field.get("relatedEntityType"), by_field.get("relatedEntityId")
    if etype and eid and etype.values and eid.values and len(etype.values) * len(eid.values) <= MAX_PARTITIONS:
        parts = [records.entity_partition(tenant_id, t, i) for t, i in product(etype.values, eid.values)]
        return Plan(parts, rest("relatedEntityType", "relatedEntityId"), False)
    status = by_field.get("status")
    if status and status.values is not None:
        wanted = sorted({s.value for crm in status.values for s in CRM_STATUSES[crm]})
        return Plan([records.status_partition(tenant_id, s) for s in wanted], rest("status"), False)
    return Plan([records.records_partition(tenant_id)], filters, True)


def run(tenant_id: str, query: Search) -> tuple[list[CommunicationRecord], int]:
    """One page of the records matching ``query``, and how many match in all."""
    if any(f.values == () or (f.values is None and f.field in NEVER_NULL) for f in query.filters):
        return [], 0  # an empty IN, or "is null" on a field every record has, matches nothing
    how = plan(tenant_id, query.filters)
    if not how.parts:
        return [], 0
    index_order = not query.sort or query.sort[0].field == "created"  # created#id is unique: later keys never decide
    forward = query.sort[0].ascending if query.sort else False
    if index_order and not how.residual and not query.terms:
        msgs, total = _index_page(tenant_id, how, query, forward=forward)
    else:
        msgs, total = _filtered_page(tenant_id, how, query, forward=forward, index_order=index_order)
    content = [to_record(m) for m in msgs if messages.is_record(m)]
    check_fits(content, hint="request a smaller size")
    return content, total


def _index_page(tenant_id: str, how: Plan, query: Search, *, forward: bool) -> tuple[list[Message], int]:
    """A page in index order with nothing else to check: read exactly the page, and count (not read)
    the rest of the partition(s) for the total, so that every record is evaluated once."""
    parts = how.parts
    if len(parts) > 1 and all(records.tallied(p) for p in parts):
        # several statuses (PENDING = QUEUED + SENDING, or IN): their sizes from the tallies; empty ones are not read
        sizes = {p: records.count_records(p) for p in parts}
        parts = [p for p in parts if sizes[p]] or parts[:1]
        if len(parts) > 1:
            return _merged_page(parts, sum(sizes.values()), query, forward=forward)
    if len(parts) > 1:
        return _merged_page(parts, None, query, forward=forward)
    return records.page_records(parts[0], offset=query.offset, limit=query.size, forward=forward)


def _merged_page(parts: list[records.Partition], total: int | None, query: Search, *, forward: bool) -> tuple[list[Message], int]:
    """A page of several partitions merged in creation order: each read up to the page's end (no further). Without
    a known ``total``, the rest of each partition is counted after the page (each record evaluated once)."""
    end = query.offset + query.size
    if total is not None:
        if query.offset >= total:
            return [], total
        end = min(end, total)
    elif end > MAX_READ:
        total = sum(records.count_records(p) for p in parts)
        if query.offset >= total:
            return [], total
        end = min(end, total)
    if end > MAX_READ:
        raise BadRequest(
            f"pages beyond the first {MAX_READ} records of a search over several statuses or values are not served; "
            "filter on a single status or value, or narrow the search"
        )
    # whole records (bodies kept in S3 fetched for the page only); no partition is read past the page's end
    streams = [records.RecordStream(p, forward=forward, page_size=min(end, 1000), limit=end, load_body=False) for p in parts]
    page = [messages.load_body(m) for m in islice(records.merge(streams, forward=forward), query.offset, end)]
    return page, total if total is not None else sum(s.total() for s in streams)


def _filtered_page(tenant_id: str, how: Plan, query: Search, *, forward: bool, index_order: bool) -> tuple[list[Message], int]:
    """Read every record of the plan's partitions (at most MAX_READ), keep the matches, sort them if the
    sort is not the index's, and fetch the page's records whole."""
    if how.counted and records.count_records(how.parts[0]) > MAX_READ:
        raise BadRequest(_too_many())
    conditions = [*how.residual]
    # Only the attributes the conditions and the sort need travel, and the page is fetched whole once it
    # is known. But when the body travels anyway (a search term, a body filter) and the order is the
    # index's, the page is known as the records stream by: read them whole (bodies kept in S3 only when a
    # condition needs one; one <= 1 MB response held at a time) and keep the page's instead of reading
    # them twice.
    needed = _attributes(query)
    whole = index_order and "body" in needed
    if whole:
        needed = None
    streams = [records.RecordStream(p, forward=forward, attributes=needed, page_size=1000, load_body=False) for p in how.parts]
    kept: list[Message] = []
    matches: list[tuple[str, str, tuple[Any, ...]]] = []  # (created, id, sort values)
    read = 0
    for msg in records.merge(streams, forward=forward):
        read += 1
        if read > MAX_READ:
            raise BadRequest(_too_many())
        if not messages.is_record(msg):
            continue
        row = Row(msg)
        if all(row.matches(f) for f in conditions) and all(row.contains(t) for t in query.terms):
            sort_values = () if index_order else tuple(row.value(s.field) for s in query.sort)
            if whole and query.offset <= len(matches) < query.offset + query.size:
                kept.append(messages.load_body(row.msg))
            matches.append((clock.iso(msg.created_at), msg.id, sort_values))
    if whole:
        return kept, len(matches)
    if not index_order:
        order_matches(matches, query.sort)
    ids = [m[1] for m in matches[query.offset : query.offset + query.size]]
    return records.get_many(tenant_id, ids), len(matches)


def _too_many() -> str:
    return (
        f"this search would read more than {MAX_READ} records: sort by created without other conditions, "
        "or narrow it with status, relatedEntityType + relatedEntityId or conversationId"
    )


def _attributes(query: Search) -> list[str]:
    fields = {f.field.split(".")[0] for f in query.filters} | {s.field for s in query.sort}
    if query.terms:
        fields |= set(TEXT_FIELDS)
    extra = {a for f in fields for a in _NEEDS.get(f, ())}
    return sorted(set(_LIGHT) | extra)


def order_matches(matches: list[tuple[str, str, tuple[Any, ...]]], sort: tuple[Sort, ...]) -> None:
    """Sort in place by ``sort`` (nulls last either way, text case-insensitively); ties: newest first."""
    matches.sort(key=lambda m: (m[0], m[1]), reverse=True)
    for i in reversed(range(len(sort))):
        asc = sort[i].ascending
        matches.sort(key=lambda m, i=i, asc=asc: sort_key(m[2][i], ascending=asc), reverse=not asc)


def sort_key(value: Any, *, ascending: bool) -> tuple[int, Any]:
    """A key that sorts nulls after every value in either direction (the list is reversed for DESC)."""
    if value is None:
        return (1, 0) if ascending else (0, 0)
    if isinstance(value, str):
        value = (value.casefold(), value)
    return (0, value) if ascending else (1, value)


class Row:
    """A record read for a search, its fields as the CRM names them. A body kept in S3 is fetched only
    when a condition needs it."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.record = to_record(msg)

    def value(self, field: str) -> Any:
        if field in ("body", "originalBody") and self.msg.body_ref and not self.msg.body:
            self.msg = messages.load_body(self.msg)
            self.record = to_record(self.msg)
        if field.startswith(VARIABLE_PREFIX):
            return self.record.variables.get(field[len(VARIABLE_PREFIX) :])
        return getattr(self.record, field)

    def matches(self, f: Filter) -> bool:
        value = self.value(f.field)
        if f.values is None:
            return value is None or value == []
        if f.field in LIST_FIELDS:
            have = {v.casefold() for v in value}
            return any(w.casefold() in have for w in f.values)
        return any(same(f.field, value, w) for w in f.values)

    def contains(self, term: str) -> bool:
        needle = term.casefold()
        for field in TEXT_FIELDS:
            value = self.value(field)
            texts = value if isinstance(value, list) else [value]
            if any(t and needle in t.casefold() for t in texts):
                return True
        return False


def same(field: str, have: Any, want: Any) -> bool:
    if have is None:
        return False
    if field in ADDRESS_FIELDS:
        return str(have).casefold() == str(want).casefold()
    if field.startswith(VARIABLE_PREFIX) and isinstance(want, str) and not isinstance(have, str):
        return _text(have) == want  # a query-string value against a number or boolean variable
    if isinstance(have, bool) != isinstance(want, bool):
        return False
    if isinstance(have, datetime) and isinstance(want, datetime):
        return clock.iso(have) == clock.iso(want)  # stored to the millisecond
    return have == want


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ───────────── response size ─────────────
def response_cost(rec: CommunicationRecord) -> int:
    """The record's share of a Lambda proxy response: its JSON, escaped once more as the body string."""
    return len(json.dumps(rec.model_dump_json())) + 1


def check_fits(content: list[CommunicationRecord], *, hint: str) -> None:
    size = sum(response_cost(r) for r in content)
    if size > RESPONSE_BUDGET:
        raise BadRequest(f"the result ({size // 1_000_000} MB) does not fit in one response (6 MB at most); {hint}")


# ───────────── CSV ─────────────
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One CSV cell: lists joined with ';', objects as compact JSON, and any text a spreadsheet would
    run as a formula (OWASP CSV injection: = + - @ tab CR first) prefixed with a single quote."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ";".join(value)
    elif isinstance(value, list | dict):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(content: list[CommunicationRecord]) -> str:
    """A header row of the 37 field names (alphabetical, as the seed lists them), then one row per record
    (RFC 4180 quoting, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for rec in content:
        data = rec.model_dump(mode="json")
        writer.writerow([csv_cell(data[f]) for f in FIELDS])
    return out.getvalue()
