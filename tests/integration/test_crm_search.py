"""The CRM's record reads on moto: find, find-list, find/{id}, find-all, page, dynamic search (GET, POST), CSV export.

Records are stored with the domain code (``messages.create``); SMS and inbound mail stored next to them
must never show. Every list read is checked to be a key read of an index (no Scan), and a page sorted
by ``created`` to read exactly its own items.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crm_shapes import PAGE_KEYS, RECORD_KEYS

from helpers import api_event, body

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FN = {
    "find": "CrmApi.FindFunction",
    "find_list": "CrmApi.FindListFunction",
    "find_by_id": "CrmApi.FindByIdFunction",
    "find_all": "CrmApi.FindAllFunction",
    "page": "CrmApi.PageFunction",
    "dynamic_search_get": "CrmApi.DynamicSearchGetFunction",
    "dynamic_search_post": "CrmApi.DynamicSearchPostFunction",
    "csv_export": "CrmApi.CsvExportFunction",
}
BIG_BODY = "<p>" + "lorem ipsum " * 4000 + "needle-in-s3</p>"  # > 32 KB: kept in S3


def store(tenant_id: str, n: int, **kw: Any) -> Any:
    """One message created ``n`` minutes after T0 (an outbound SENT email unless told otherwise)."""
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    to = kw.pop("recipients", [f"person{n}@example.com"])
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "channel": "email",
        "direction": "outbound",
        "status": MessageStatus.SENT,
        "source_api": "crm",
        "sender": "no-reply@parley.example",
        "recipient": to[0],
        "recipients": to,
        "subject": f"Message {n}",
        "body": f"<p>body {n}</p>",
        "conversation_id": f"conv-{n}",
        "provider": "ses",
        "created_at": T0 + timedelta(minutes=n),
        **kw,
    }
    msg = Message(**fields)
    messages.create(msg)
    return msg


@dataclass
class World:
    t: Any
    o: Any
    r: dict[str, Any] = field(default_factory=dict)  # name → record of t
    other: dict[str, Any] = field(default_factory=dict)  # name → message of t that is not a record, or of o

    def ids(self, *names: str) -> list[str]:
        return [self.r[n].id for n in names]


@pytest.fixture
def world(app_env, tenant, other_tenant) -> World:
    from parley.models.domain import MessageStatus, TimelineEntry, TrackedLink

    t, _ = tenant
    o, _ = other_tenant
    w = World(t=t, o=o)
    w.r["quote"] = store(
        t.id, 0, subject="Quote for ACME", cc=["Boss@Acme.example"], category="OFFERTE", related_entity_type="deal",
        related_entity_id="42", conversation_id="conv-A", open_count=2, opened_at=T0 + timedelta(hours=1),
        variables={"region": "north", "amount": 100}, template_id="tpl-1", template_name="Quote", created_by="user-1",
        tracking_enabled=True, link_tracking_enabled=True, track_token="tok-1",
        links=[TrackedLink(url="https://t.example/link/tok-1/0", original_url="https://acme.example", click_count=1)],
        timeline=[TimelineEntry(id="e1", type="CREATE", date=T0, author_id="user-1", description="Created")],
        sent_at=T0 + timedelta(minutes=1), provider_message_id="ses-1", internet_message_id="<ses-1@parley.example>",
    )  # fmt: skip
    w.r["queued"] = store(t.id, 1, subject="Follow up", status=MessageStatus.QUEUED, related_entity_type="deal", related_entity_id="42",
                          conversation_id="conv-B")  # fmt: skip
    w.r["sending"] = store(t.id, 2, subject='=HYPERLINK("http://evil.example","x")', status=MessageStatus.SENDING,
                           recipients=["+31612345678@sms.example", "ok@example.com"])  # fmt: skip
    w.r["failed"] = store(t.id, 3, subject='Comma, "quoted" and\nnewline', status=MessageStatus.FAILED, error="mailbox full",
                          category="NEWSLETTER")  # fmt: skip
    w.r["scheduled"] = store(t.id, 4, subject="Scheduled quote", status=MessageStatus.SCHEDULED, scheduled_at=T0 + timedelta(days=3),
                             related_entity_type="contact", related_entity_id="7", category="OFFERTE")  # fmt: skip
    w.r["cancelled"] = store(t.id, 5, subject="abandoned", status=MessageStatus.CANCELLED, conversation_id="conv-A")
    w.r["big"] = store(t.id, 6, subject="Large one", body=BIG_BODY, related_entity_type="deal", related_entity_id="42")
    # the tenant's messages that are not records: an inbound reply and an SMS, in the same conversation and entity
    w.other["inbound"] = store(t.id, 7, subject="Re: Quote for ACME", direction="inbound", status=MessageStatus.RECEIVED,
                               sender="ada@example.com", recipients=["no-reply@parley.example"], conversation_id="conv-A",
                               related_entity_type="deal", related_entity_id="42", kind="reply")  # fmt: skip
    w.other["sms"] = store(t.id, 8, subject="", body="Quote sms", channel="sms", recipients=["+15555550100"], conversation_id="conv-A",
                           related_entity_type="deal", related_entity_id="42")  # fmt: skip
    # another tenant with the same entity, conversation and words
    w.other["foreign"] = store(o.id, 9, subject="Quote for ACME", related_entity_type="deal", related_entity_id="42",
                               conversation_id="conv-A", category="OFFERTE")  # fmt: skip
    return w


NEWEST_FIRST = ["big", "cancelled", "scheduled", "failed", "sending", "queued", "quote"]


@dataclass
class Calls:
    """Every DynamoDB call the handlers make: operation, parameters and parsed response."""

    log: list[dict[str, Any]] = field(default_factory=list)

    def ops(self) -> list[str]:
        return [c["op"] for c in self.log]

    def index_reads(self) -> list[dict[str, Any]]:
        """Queries of the records' indexes (not of the lists' tallies, docs/data-model.md §6.7)."""
        return [c for c in self.log if c["op"] == "Query" and not _tally_read(c)]

    def item_queries(self) -> list[dict[str, Any]]:
        return [c for c in self.index_reads() if c["params"].get("Select") != "COUNT"]


def _tally_read(call: dict[str, Any]) -> bool:
    pk = (call["params"].get("ExpressionAttributeValues") or {}).get(":pk") or {}
    return str(pk.get("S", "")).startswith("TALLY#")


def record_calls() -> Calls:
    from parley.dal.aws import client

    calls = Calls()

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.log.append({"op": model.name, "params": copy.deepcopy(params)})

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.log[-1]["out"] = parsed

    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.*", before)
    events.register("after-call.dynamodb.*", after)
    return calls


def call(handler, name: str, tenant_id: str, *, query: dict[str, Any] | None = None, path_id: str | None = None, payload: Any = ...,
         calls: bool = False) -> Any:  # fmt: skip
    """Invoke one of the eight handlers; ``query`` values may be lists (repeated parameters)."""
    h = handler(FN[name])
    recorder = record_calls() if calls else None
    event = api_event(f"crm/{name}", tenant_id=tenant_id, body=payload)
    if query is not None:
        multi = {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in query.items()}
        event["multiValueQueryStringParameters"] = multi or None
        event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    if path_id is not None:
        event["pathParameters"] = {"id": path_id}
        event["path"] = f"/api/v1/communications/find/{path_id}"
    out = h(event)
    return (out, recorder) if calls else out


def ok(out: dict[str, Any]) -> Any:
    assert out["statusCode"] == 200, out["body"]
    return body(out)


def bad(out: dict[str, Any], status: int = 400) -> str:
    assert out["statusCode"] == status, out["body"]
    err = body(out)
    assert set(err) == {"title", "detail", "time"}
    return err["detail"]


def header(out: dict[str, Any], name: str) -> str | None:
    for section in ("headers", "multiValueHeaders"):
        for key, value in (out.get(section) or {}).items():
            if key.lower() == name.lower():
                return value[-1] if isinstance(value, list) else value
    return None


def no_scan(calls: Calls) -> None:
    assert calls.log, "no DynamoDB call recorded"
    assert "Scan" not in calls.ops()


# ───────────── find, find-list, find/{id} ─────────────
@pytest.mark.parametrize("name", ["find", "find_list"])
def test_find_by_ids_in_order_asked_tenant_scoped(handler, world, name):
    w = world
    asked = [
        w.r["failed"].id,
        "no-such-id",
        w.other["foreign"].id,
        w.r["quote"].id,
        w.other["inbound"].id,
        w.other["sms"].id,
        w.r["big"].id,
    ]
    out, calls = call(handler, name, w.t.id, query={"ids": asked}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got] == w.ids("failed", "quote", "big")
    assert all(set(r) == RECORD_KEYS for r in got)
    assert got[2]["body"] == BIG_BODY  # read back from S3
    assert calls.ops() == ["BatchGetItem"]

    # comma-separated, with blanks and duplicates
    got = ok(call(handler, name, w.t.id, query={"ids": f"{w.r['queued'].id}, ,{w.r['sending'].id},{w.r['queued'].id}"}))
    assert [r["id"] for r in got] == w.ids("queued", "sending")
    # no ids: an empty array; an id too long to exist is simply not found
    assert ok(call(handler, name, w.t.id, query={})) == []
    assert ok(call(handler, name, w.t.id, query={"ids": "x" * 3000})) == []
    # the other tenant sees only its own
    got = ok(call(handler, name, w.o.id, query={"ids": [w.r["quote"].id, w.other["foreign"].id]}))
    assert [r["id"] for r in got] == [w.other["foreign"].id]
    assert "100" in bad(call(handler, name, w.t.id, query={"ids": ",".join(f"id-{i}" for i in range(101))}))


def test_find_by_id_maps_every_field_and_404s_for_anything_else(handler, world):
    w = world
    got = ok(call(handler, "find_by_id", w.t.id, path_id=w.r["quote"].id))
    assert set(got) == RECORD_KEYS
    assert got["id"] == w.r["quote"].id
    assert got["tenantId"] == w.t.id
    assert got["status"] == "SENT"
    assert got["type"] == "OFFERTE"
    assert got["recipients"] == ["person0@example.com"]
    assert got["cc"] == ["Boss@Acme.example"]
    assert got["relatedEntityType"] == "deal" and got["relatedEntityId"] == "42"
    assert got["conversationId"] == "conv-A"
    assert got["opened"] is True and got["openCount"] == 2
    assert got["variables"] == {"region": "north", "amount": 100}
    assert got["clickedLinks"] == [
        {"clickCount": 1, "clickedAt": None, "originalUrl": "https://acme.example", "url": "https://t.example/link/tok-1/0"}
    ]
    assert got["events"] == [
        {"authorId": "user-1", "date": "2026-03-02T09:00:00.000Z", "description": "Created", "id": "e1", "type": "CREATE"}
    ]
    assert got["created"] == "2026-03-02T09:00:00.000Z"
    assert got["providerType"] == "SES" and got["messageId"] == "ses-1"

    assert ok(call(handler, "find_by_id", w.t.id, path_id=w.r["queued"].id))["status"] == "PENDING"
    assert ok(call(handler, "find_by_id", w.t.id, path_id=w.r["failed"].id))["errorMessage"] == "mailbox full"
    assert ok(call(handler, "find_by_id", w.t.id, path_id=w.r["big"].id))["body"] == BIG_BODY
    for other in (w.other["foreign"].id, w.other["inbound"].id, w.other["sms"].id, "no-such-id", "y" * 3000):
        bad(call(handler, "find_by_id", w.t.id, path_id=other), 404)
    # the owner of the foreign record does see it
    assert ok(call(handler, "find_by_id", w.o.id, path_id=w.other["foreign"].id))["id"] == w.other["foreign"].id


# ───────────── find-all ─────────────
def test_find_all_newest_first_with_total_header(handler, world, monkeypatch):
    w = world
    out, calls = call(handler, "find_all", w.t.id, calls=True)
    got = ok(out)
    assert [r["id"] for r in got] == w.ids(*NEWEST_FIRST)
    assert all(set(r) == RECORD_KEYS for r in got)
    assert header(out, "X-Total-Count") == "7"
    no_scan(calls)
    assert {c["params"]["IndexName"] for c in calls.item_queries()} == {"GSI5"}

    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "FIND_ALL_LIMIT", 3)
    out = call(handler, "find_all", w.t.id)
    assert [r["id"] for r in ok(out)] == w.ids(*NEWEST_FIRST[:3])
    assert header(out, "X-Total-Count") == "7"

    # nothing fits the response budget beyond the newest record with its large body
    monkeypatch.setattr(crm_search, "FIND_ALL_LIMIT", 1000)
    from parley.models.crm import CommunicationRecord

    monkeypatch.setattr(crm_search, "RESPONSE_BUDGET", crm_search.response_cost(CommunicationRecord.model_validate(ok(out)[0])) + 10)
    out = call(handler, "find_all", w.t.id)
    assert [r["id"] for r in ok(out)] == w.ids("big")
    assert header(out, "X-Total-Count") == "7"

    out = call(handler, "find_all", w.o.id)
    assert [r["id"] for r in ok(out)] == [w.other["foreign"].id]
    assert header(out, "X-Total-Count") == "1"


# ───────────── page ─────────────
def test_page_default_is_newest_first_and_reads_exactly_the_page(handler, world):
    w = world
    out, calls = call(handler, "page", w.t.id, query={}, calls=True)
    got = ok(out)
    assert set(got) == PAGE_KEYS
    assert [r["id"] for r in got["content"]] == w.ids(*NEWEST_FIRST)
    assert (got["totalElements"], got["totalPages"], got["number"], got["size"], got["numberOfElements"]) == (7, 1, 0, 20, 7)
    assert got["first"] is True and got["last"] is True and got["empty"] is False
    assert got["sort"] == {"empty": False, "sorted": True, "unsorted": False}
    assert got["pageable"] == {"offset": 0, "pageNumber": 0, "pageSize": 20, "paged": True, "unpaged": False, "sort": got["sort"]}
    no_scan(calls)

    # page 1 of size 2: COUNT queries skip two, one Query reads exactly two items from GSI5
    out, calls = call(handler, "page", w.t.id, query={"page": 1, "size": 2}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids(*NEWEST_FIRST[2:4])
    assert (got["totalElements"], got["totalPages"], got["number"], got["first"], got["last"]) == (7, 4, 1, False, False)
    assert got["pageable"]["offset"] == 2
    no_scan(calls)
    (query,) = calls.item_queries()
    assert query["params"]["IndexName"] == "GSI5" and query["params"]["ScanIndexForward"] is False
    assert query["out"]["ScannedCount"] == 2 and query["out"]["Count"] == 2
    assert all(c["params"].get("IndexName") == "GSI5" for c in calls.index_reads())

    # last page, ascending
    got = ok(call(handler, "page", w.t.id, query={"page": 3, "size": 2, "direction": "asc"}))
    assert [r["id"] for r in got["content"]] == w.ids("big")
    assert got["last"] is True and got["numberOfElements"] == 1
    got = ok(call(handler, "page", w.t.id, query={"page": 0, "size": 3, "sortBy": "created", "direction": "ASC"}))
    assert [r["id"] for r in got["content"]] == w.ids("quote", "queued", "sending")
    # beyond the end: empty, with the totals
    got = ok(call(handler, "page", w.t.id, query={"page": 9, "size": 2}))
    assert got["content"] == [] and got["empty"] is True and got["totalElements"] == 7 and got["totalPages"] == 4


def test_page_sorted_by_other_fields_in_memory(handler, world, monkeypatch):
    w = world
    out, calls = call(handler, "page", w.t.id, query={"sortBy": "subject", "direction": "ASC", "size": 3}, calls=True)
    got = ok(out)
    # case-insensitive: "=HYPERLINK" < "abandoned" < "Comma" < "Follow" < "Large" < "Quote" < "Scheduled"
    assert [r["id"] for r in got["content"]] == w.ids("sending", "cancelled", "failed")
    assert got["totalElements"] == 7 and got["totalPages"] == 3
    no_scan(calls)
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI5"}
    # the candidate read is projected: no bodies travel for it
    (scan_q,) = calls.item_queries()
    assert "ProjectionExpression" in scan_q["params"]
    assert "body" not in scan_q["params"]["ExpressionAttributeNames"].values()

    got = ok(call(handler, "page", w.t.id, query={"sortBy": "scheduledAt", "direction": "DESC"}))
    assert got["content"][0]["id"] == w.r["scheduled"].id  # the one scheduledAt; nulls last, then newest first
    assert [r["id"] for r in got["content"][1:]] == [i for i in w.ids(*NEWEST_FIRST) if i != w.r["scheduled"].id]
    got = ok(call(handler, "page", w.t.id, query={"sortBy": "openCount"}))
    assert got["content"][0]["id"] == w.r["quote"].id
    got = ok(call(handler, "page", w.t.id, query={"sortBy": "status", "direction": "ASC"}))
    assert [r["status"] for r in got["content"]] == ["CANCELLED", "FAILED", "PENDING", "PENDING", "SCHEDULED", "SENT", "SENT"]
    got = ok(call(handler, "page", w.t.id, query={"sortBy": "id", "direction": "ASC"}))
    assert [r["id"] for r in got["content"]] == sorted(w.ids(*NEWEST_FIRST))

    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "MAX_READ", 5)
    assert "sort by created" in bad(call(handler, "page", w.t.id, query={"sortBy": "subject"}))
    assert len(ok(call(handler, "page", w.t.id, query={"sortBy": "created"}))["content"]) == 7  # the index still serves it


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"sortBy": "nope"}, "sortBy must be one of"),
        ({"sortBy": "recipients"}, "sortBy must be one of"),
        ({"direction": "UP"}, "direction must be ASC or DESC"),
        ({"page": -1}, "page"),
        ({"page": "abc"}, "page"),
        ({"size": 0}, "size"),
        ({"size": 1001}, "size"),
        ({"size": "1.5"}, "size"),
    ],
)
def test_page_rejects_bad_parameters(handler, tenant, query, says):
    t, _ = tenant
    assert says in bad(call(handler, "page", t.id, query=query))


def test_page_of_another_tenant_sees_only_its_own(handler, world):
    got = ok(call(handler, "page", world.o.id, query={}))
    assert [r["id"] for r in got["content"]] == [world.other["foreign"].id]
    assert got["totalElements"] == 1


# ───────────── dynamic search (GET) ─────────────
def search_get(handler, w, query, *, calls=False):
    return call(handler, "dynamic_search_get", w.t.id, query=query, calls=calls)


def test_search_by_status_reads_gsi7_and_pending_merges_queued_and_sending(handler, world):
    w = world
    out, calls = search_get(handler, w, {"status": "PENDING"}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("sending", "queued")
    assert got["totalElements"] == 2 and got["sort"]["sorted"] is False
    no_scan(calls)
    pks = {c["params"]["ExpressionAttributeValues"][":pk"]["S"] for c in calls.index_reads()}
    assert pks == {f"TENANT#{w.t.id}#STATUS#QUEUED", f"TENANT#{w.t.id}#STATUS#SENDING"}
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI7"}

    out, calls = search_get(handler, w, {"status": "SENT", "size": 1, "page": 1}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("quote")
    assert got["totalElements"] == 2 and got["totalPages"] == 2
    (query,) = calls.item_queries()
    assert query["params"]["IndexName"] == "GSI7" and query["out"]["ScannedCount"] == 1

    got = ok(search_get(handler, w, {"status": ["failed", "CANCELLED"]}))
    assert [r["id"] for r in got["content"]] == w.ids("cancelled", "failed")
    assert "status must be one of" in bad(search_get(handler, w, {"status": "DELIVERED"}))


def test_search_by_entity_and_conversation_reads_their_index_and_only_records(handler, world):
    w = world
    out, calls = search_get(handler, w, {"relatedEntityType": "deal", "relatedEntityId": "42"}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("big", "queued", "quote")  # no inbound, no SMS, no other tenant
    assert got["totalElements"] == 3
    no_scan(calls)
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI6"}

    out, calls = search_get(handler, w, {"conversationId": "conv-A"}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("cancelled", "quote")
    no_scan(calls)
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI3"}

    # an indexed filter plus a residual one
    out, calls = search_get(handler, w, {"relatedEntityType": "deal", "relatedEntityId": "42", "status": "SENT"}, calls=True)
    assert [r["id"] for r in ok(out)["content"]] == w.ids("big", "quote")
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI6"}
    # only a type: not the index key, a residual filter on GSI5
    out, calls = search_get(handler, w, {"relatedEntityType": "contact"}, calls=True)
    assert [r["id"] for r in ok(out)["content"]] == w.ids("scheduled")
    assert {c["params"]["IndexName"] for c in calls.index_reads()} == {"GSI5"}


def test_search_residual_filters_text_and_sort(handler, world):
    w = world

    def ids(query):
        return [r["id"] for r in ok(search_get(handler, w, query))["content"]]

    assert ids({"type": "OFFERTE"}) == w.ids("scheduled", "quote")
    assert ids({"opened": "true"}) == w.ids("quote")
    assert ids({"opened": "FALSE", "size": 2}) == w.ids("big", "cancelled")
    assert ids({"recipients": "OK@example.com"}) == w.ids("sending")  # contains, case-insensitive
    assert ids({"cc": "boss@acme.example"}) == w.ids("quote")
    assert ids({"templateId": "tpl-1", "trackingEnabled": "true"}) == w.ids("quote")
    assert ids({"variables.region": "north"}) == w.ids("quote")
    assert ids({"variables.amount": "100"}) == w.ids("quote")
    assert ids({"openCount": "2"}) == w.ids("quote")
    assert ids({"senderEmail": "NO-REPLY@parley.example", "size": 1}) == w.ids("big")
    assert ids({"created": "2026-03-02T09:03:00Z"}) == w.ids("failed")
    assert ids({"type": ["OFFERTE", "NEWSLETTER"]}) == w.ids("scheduled", "failed", "quote")
    # free text: subject, body (also one kept in S3), sender, recipients, cc; every term must match
    assert ids({"search": "quote"}) == w.ids("scheduled", "failed", "quote")  # "quoted" too
    assert ids({"search": "NEEDLE-in-s3"}) == w.ids("big")
    assert ids({"search": "acme.example"}) == w.ids("quote")
    assert ids({"search": ["quote", "scheduled"]}) == w.ids("scheduled")
    assert ids({"search": "person5@"}) == w.ids("cancelled")
    assert ids({"search": "nothing-like-this"}) == []
    # sorting, Spring style
    assert ids({"sort": "subject,desc", "size": 2}) == w.ids("scheduled", "quote")
    assert ids({"sort": ["type,asc", "created,asc"], "size": 3}) == w.ids("failed", "quote", "scheduled")
    got = ok(search_get(handler, w, {"sort": "created,asc", "size": 2, "page": 3}))
    assert [r["id"] for r in got["content"]] == w.ids("big")
    assert got["sort"]["sorted"] is True and got["totalElements"] == 7


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"colour": "red"}, "unknown filter field 'colour'"),
        ({"events": "x"}, "'events' cannot be used as a filter"),
        ({"variables": "x"}, "variables.<name>"),
        ({"opened": "maybe"}, "opened: expected true or false"),
        ({"openCount": "two"}, "openCount: expected an integer"),
        ({"created": "yesterday"}, "created: expected an ISO-8601"),
        ({"sort": "nope,asc"}, "cannot sort by 'nope'"),
        ({"sort": "subject,sideways"}, "sort direction must be ASC or DESC"),
        ({"sort": "recipients"}, "cannot sort by 'recipients'"),
        ({"size": 0}, "size"),
        ({"page": -1}, "page"),
        ({"search": "x" * 300}, "longer than 256"),
        ({"conversationId": "c" * 2000}, "longer than 1024"),
    ],
)
def test_search_get_rejects_bad_input(handler, tenant, query, says):
    t, _ = tenant
    assert says in bad(call(handler, "dynamic_search_get", t.id, query=query))


def test_search_over_the_read_cap_is_a_400_but_index_served_filters_are_not(handler, world, monkeypatch):
    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "MAX_READ", 3)
    w = world
    assert "more than 3 records" in bad(search_get(handler, w, {"type": "OFFERTE"}))
    assert "more than 3 records" in bad(search_get(handler, w, {"search": "quote"}))
    # an index that holds few enough records serves the same conditions
    got = ok(search_get(handler, w, {"relatedEntityType": "deal", "relatedEntityId": "42", "search": "quote"}))
    assert [r["id"] for r in got["content"]] == w.ids("quote")
    got = ok(search_get(handler, w, {"status": "PENDING"}))
    assert got["totalElements"] == 2


# ───────────── dynamic search (POST) ─────────────
def search_post(handler, w, payload, *, tenant_id=None, calls=False):
    return call(handler, "dynamic_search_post", tenant_id or w.t.id, payload=payload, calls=calls)


def test_search_post_filters_terms_sort_and_defaults(handler, world):
    w = world

    def ids(payload):
        return [r["id"] for r in ok(search_post(handler, w, payload))["content"]]

    # the seed's sample body: size 0 is the default 20, unknown fields in filters are refused
    got = ok(search_post(handler, w, {"filters": {}, "page": 0, "search": [], "size": 0, "sort": []}))
    assert set(got) == PAGE_KEYS and got["size"] == 20 and got["totalElements"] == 7
    assert [r["id"] for r in got["content"]] == w.ids(*NEWEST_FIRST)
    assert "unknown filter field 'property1'" in bad(search_post(handler, w, {"filters": {"property1": None}, "size": 0}))

    assert ids({"filters": {"status": ["SENT", "SCHEDULED"]}}) == w.ids("big", "scheduled", "quote")
    assert ids({"filters": {"status": "SENT", "type": "OFFERTE"}}) == w.ids("quote")
    assert ids({"filters": {"templateId": None, "status": "SENT"}}) == w.ids("big")  # null = is null
    assert ids({"filters": {"scheduledAt": None, "type": None}}) == w.ids("big", "cancelled", "sending", "queued")
    assert ids({"filters": {"status": None}}) == []
    assert ids({"filters": {"status": []}}) == []
    assert ids({"filters": {"relatedEntityType": "deal", "relatedEntityId": 42}}) == w.ids("big", "queued", "quote")  # a number id
    assert ids({"filters": {"relatedEntityType": "deal", "relatedEntityId": ["42", "7"]}}) == w.ids("big", "queued", "quote")
    assert ids({"filters": {"relatedEntityType": ["deal", "contact"], "relatedEntityId": ["42", "7"]}}) == w.ids(
        "big", "scheduled", "queued", "quote"
    )
    assert ids({"filters": {"conversationId": ["conv-A", "conv-B"]}}) == w.ids("cancelled", "queued", "quote")
    assert ids({"filters": {"opened": True, "variables.amount": 100}}) == w.ids("quote")
    assert ids({"filters": {"variables.region": None}, "size": 2}) == w.ids("big", "cancelled")
    assert ids({"search": ["QUOTE", "acme"]}) == w.ids("quote")
    assert ids({"search": ["quote"], "sort": [{"field": "created", "ascending": True}]}) == w.ids("quote", "failed", "scheduled")
    assert ids({"sort": [{"field": "type", "ascending": False}, {"field": "subject", "ascending": True}], "size": 3}) == w.ids(
        "quote", "scheduled", "failed"
    )
    got = ok(search_post(handler, w, {"filters": {"status": "PENDING"}, "page": 1, "size": 1}))
    assert [r["id"] for r in got["content"]] == w.ids("queued")
    assert (got["number"], got["totalPages"], got["first"], got["last"]) == (1, 2, False, True)

    # the other tenant: its own record only
    got = ok(search_post(handler, w, {"search": ["quote"]}, tenant_id=w.o.id))
    assert [r["id"] for r in got["content"]] == [w.other["foreign"].id]


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"filters": {"nope": 1}}, "unknown filter field 'nope'"),
        ({"filters": {"status": {"a": 1}}}, "a filter value must be"),
        ({"filters": {"status": ["SENT", None]}}, "null cannot be one of several values"),
        ({"filters": {"opened": "perhaps"}}, "expected true or false"),
        ({"filters": {"subject": True}}, "subject: expected a string"),
        ({"sort": [{"field": "bogus"}]}, "cannot sort by 'bogus'"),
        ({"sort": [{"field": "body"}]}, "cannot sort by 'body'"),
        ({"page": -1}, "page"),
        ({"size": 5000}, "size"),
        ({"search": "not-a-list"}, "search"),
    ],
)
def test_search_post_rejects_bad_input(handler, tenant, payload, says):
    t, _ = tenant
    assert says in bad(call(handler, "dynamic_search_post", t.id, payload=payload))


def test_search_post_body_must_be_an_object(handler, tenant):
    t, _ = tenant
    bad(call(handler, "dynamic_search_post", t.id, payload=[{"filters": {}}]))
    bad(call(handler, "dynamic_search_post", t.id, payload="{not json"))


# ───────────── CSV export ─────────────
def test_csv_export_page_header_quoting_and_formula_neutralised(handler, world):
    from parley.models.crm import CommunicationRecord

    w = world
    out, calls = call(handler, "csv_export", w.t.id, query={"page": 0, "size": 5}, calls=True)
    assert out["statusCode"] == 200, out["body"]
    assert header(out, "Content-Type") == "text/csv; charset=utf-8"
    assert header(out, "Content-Disposition") == 'attachment; filename="communication-records.csv"'
    no_scan(calls)
    (query,) = calls.item_queries()
    assert query["out"]["ScannedCount"] == 5

    text = out["body"]
    assert text.startswith(",".join(CommunicationRecord.model_fields) + "\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CommunicationRecord.model_fields) and len(rows[0]) == 37
    by_id = {row[rows[0].index("id")]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert list(by_id) == w.ids(*NEWEST_FIRST[:5])
    sending = by_id[w.r["sending"].id]
    assert sending["subject"] == "'" + '=HYPERLINK("http://evil.example","x")'  # a formula becomes text
    assert sending["recipients"] == "'+31612345678@sms.example;ok@example.com"
    assert sending["status"] == "PENDING" and sending["bcc"] == "" and sending["openedAt"] == ""
    failed = by_id[w.r["failed"].id]
    assert failed["subject"] == 'Comma, "quoted" and\nnewline'  # quoted, round-trips
    assert failed["errorMessage"] == "mailbox full" and failed["trackingEnabled"] == "false"
    assert '"Comma, ""quoted"" and\nnewline"' in text
    assert by_id[w.r["big"].id]["body"] == BIG_BODY

    # page 1 of 5 holds the two oldest, with JSON for objects
    text = call(handler, "csv_export", w.t.id, query={"page": 1, "size": 5})["body"]
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[rows[0].index("id")] for r in rows[1:]] == w.ids("queued", "quote")
    quote = dict(zip(rows[0], rows[2], strict=True))
    assert json.loads(quote["variables"]) == {"region": "north", "amount": 100}
    assert json.loads(quote["events"])[0]["type"] == "CREATE"
    assert json.loads(quote["clickedLinks"])[0]["originalUrl"] == "https://acme.example"
    assert quote["created"] == "2026-03-02T09:00:00.000Z" and quote["opened"] == "true" and quote["openCount"] == "2"
    # defaults: page 0, size 20
    rows = list(csv.reader(io.StringIO(call(handler, "csv_export", w.t.id, query={})["body"])))
    assert len(rows) == 8
    # another tenant's export: only its row
    rows = list(csv.reader(io.StringIO(call(handler, "csv_export", w.o.id, query={})["body"])))
    assert [r[rows[0].index("id")] for r in rows[1:]] == [w.other["foreign"].id]
    assert "size" in bad(call(handler, "csv_export", w.t.id, query={"size": 0}))


def test_a_page_too_large_for_one_response_is_a_400(handler, world, monkeypatch):
    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "RESPONSE_BUDGET", 20_000)  # smaller than the record with the large body
    assert "does not fit in one response" in bad(call(handler, "page", world.t.id, query={}))
    assert "does not fit in one response" in bad(call(handler, "csv_export", world.t.id, query={}))
    assert "does not fit" in bad(call(handler, "find", world.t.id, query={"ids": world.r["big"].id}))
    assert len(ok(call(handler, "page", world.t.id, query={"page": 1, "size": 1}))["content"]) == 1  # small ones still do


def test_x_tenant_id_must_match_and_a_deleted_record_is_gone(handler, world):
    w = world
    event = api_event("crm/page", tenant_id=w.t.id, headers={"X-Tenant-ID": w.o.id})
    assert handler(FN["page"])(event)["statusCode"] == 403

    from parley.dal import messages, records

    assert records.delete_record(messages.get(w.t.id, w.r["failed"].id))
    got = ok(call(handler, "page", w.t.id, query={}))
    assert w.r["failed"].id not in [r["id"] for r in got["content"]]
    assert got["totalElements"] == 6
    assert ok(call(handler, "find", w.t.id, query={"ids": w.r["failed"].id})) == []


# ───────────── items read (read amplification) ─────────────
def scanned(calls: Calls) -> int:
    """Items DynamoDB read: ScannedCount of every Query (COUNT ones too) + items of Get/BatchGet."""
    total = 0
    for c in calls.log:
        if c["op"] == "Query":
            total += int(c["out"]["ScannedCount"])
        elif c["op"] == "GetItem":
            total += 1 if "Item" in c["out"] else 0
        elif c["op"] == "BatchGetItem":
            total += sum(len(v) for v in c["out"].get("Responses", {}).values())
    return total


def test_find_all_reads_no_record_beyond_its_limit(handler, world, monkeypatch):
    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "FIND_ALL_LIMIT", 3)
    out, calls = call(handler, "find_all", world.t.id, calls=True)
    assert [r["id"] for r in ok(out)] == world.ids(*NEWEST_FIRST[:3])
    queries = calls.item_queries()
    assert all(q["params"]["Limit"] <= 3 for q in queries)
    assert sum(int(q["out"]["ScannedCount"]) for q in queries) == 3  # was a page of 100 read past the limit
    assert scanned(calls) == 3 + 1  # + the record counter


def tally_reads(calls: Calls) -> int:
    """Tally items read (docs/data-model.md §6.7): the list's years, and the day and hour of a page's minute."""
    total = 0
    for c in calls.log:
        if c["op"] == "Query" and _tally_read(c):
            total += int(c["out"]["ScannedCount"])
        elif c["op"] == "GetItem" and str(c["params"]["Key"]["PK"]["S"]).startswith("TALLY#"):
            total += 1 if "Item" in c["out"] else 0
    return total


def test_a_status_page_and_its_total_come_from_the_tallies(handler, world):
    w = world
    # SENT holds quote and big. The total and the page's position come from the status list's tallies (its year;
    # the day and the hour of the page's minute); the index is read for the page only, plus the items of the
    # page's minute that come before it (both records were written in the same minute: one)
    out, calls = search_get(handler, w, {"status": "SENT", "size": 1, "page": 1}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("quote") and got["totalElements"] == 2
    assert scanned(calls) - tally_reads(calls) <= 2 and tally_reads(calls) <= 3
    out, calls = search_get(handler, w, {"status": "SENT", "size": 1, "page": 0}, calls=True)
    assert [r["id"] for r in ok(out)["content"]] == w.ids("big") and ok(out)["totalElements"] == 2
    assert scanned(calls) - tally_reads(calls) <= 2 and tally_reads(calls) <= 3
    # beyond the end: the total from the year's tally alone, no index read
    out, calls = search_get(handler, w, {"status": "SENT", "size": 1, "page": 5}, calls=True)
    assert ok(out)["content"] == [] and ok(out)["totalElements"] == 2
    assert scanned(calls) == tally_reads(calls) == 1


def test_pending_reads_only_the_page_and_no_batch_get(handler, world):
    w = world
    out, calls = search_get(handler, w, {"status": "PENDING", "size": 1}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("sending") and got["totalElements"] == 2
    assert "BatchGetItem" not in calls.ops()
    # QUEUED and SENDING merged: each read up to the page's end (1 each); the totals from their years' tallies
    assert scanned(calls) - tally_reads(calls) == 2 and tally_reads(calls) == 2
    out, calls = search_get(handler, w, {"status": "PENDING", "size": 1, "page": 1}, calls=True)
    assert [r["id"] for r in ok(out)["content"]] == w.ids("queued") and scanned(calls) - tally_reads(calls) <= 4


def test_a_term_search_in_index_order_reads_the_partition_once(handler, world):
    w = world
    out, calls = search_post(handler, w, {"filters": {"status": "SENT"}, "search": ["quote"]}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("quote") and got["totalElements"] == 1
    assert got["content"][0]["events"] and got["content"][0]["clickedLinks"]  # whole records, as before
    assert "BatchGetItem" not in calls.ops() and scanned(calls) == 2
    # a term found only in a body kept in S3 still matches, and the page carries that body
    out, calls = search_post(handler, w, {"search": ["needle-in-s3"]}, calls=True)
    got = ok(out)
    assert [r["id"] for r in got["content"]] == w.ids("big") and got["content"][0]["body"] == BIG_BODY
    assert "BatchGetItem" not in calls.ops() and scanned(calls) == 7 + 1  # GSI5 + the record counter
