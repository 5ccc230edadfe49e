"""The CRM search's pure parts: CSV cells and quoting, filter and sort parsing, index choice, ordering, page math."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from parley.domain import crm_search as cs
from parley.domain.crm_records import to_record
from parley.errors import BadRequest
from parley.models.crm import CommunicationRecord, DynamicSearchRequest, record_page
from parley.models.domain import Message, MessageStatus, TimelineEntry

T = "tenant-1"


def record(**kw) -> CommunicationRecord:
    fields = {
        "tenant_id": T,
        "id": "r-1",
        "channel": "email",
        "direction": "outbound",
        "status": MessageStatus.SENT,
        "source_api": "crm",
        "sender": "no-reply@parley.example",
        "recipient": "ada@example.com",
        "subject": "Hello",
        "body": "<p>Hi</p>",
        "conversation_id": "c-1",
        "provider": "ses",
        "created_at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        **kw,
    }
    return to_record(Message(**fields))


# ───────────── CSV ─────────────
@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tleading tab", "'\tleading tab"),
        ("\rleading cr", "'\rleading cr"),
        ("a=1", "a=1"),  # only the first character matters
        ("", ""),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (["a@x.example", "b@x.example"], "a@x.example;b@x.example"),
        (["=evil@x.example", "b@x.example"], "'=evil@x.example;b@x.example"),
        ([], ""),
        ({"k": "v", "n": 1}, '{"k":"v","n":1}'),
        ([{"id": "e1", "type": "CREATE"}], '[{"id":"e1","type":"CREATE"}]'),
    ],
)
def test_csv_cell(value, cell):
    assert cs.csv_cell(value) == cell


def test_csv_neutralises_formulas_in_subject_and_recipients_and_quotes_properly():
    rec = record(
        subject='=HYPERLINK("http://evil.example","click")',
        recipients=["@attacker@example.com", "ok@example.com"],
        cc=["-cc@example.com"],
        body='Line one, with a comma\nLine "two"',
        variables={"amount": 12, "note": "=cmd"},
        timeline=[TimelineEntry(id="e1", type="CREATE", date=datetime(2026, 1, 2, tzinfo=UTC), description="Created")],
    )
    text = cs.to_csv([rec])
    assert text.endswith("\r\n")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == list(CommunicationRecord.model_fields) and len(header) == 37
    assert header == sorted(header)  # the seed's (alphabetical) order
    got = dict(zip(header, row, strict=True))
    assert got["subject"] == '\'=HYPERLINK("http://evil.example","click")'
    assert got["recipients"] == "'@attacker@example.com;ok@example.com"
    assert got["cc"] == "'-cc@example.com"
    assert got["body"] == 'Line one, with a comma\nLine "two"'
    assert '"Line one, with a comma\nLine ""two"""' in text  # RFC 4180 quoting
    assert json.loads(got["variables"]) == {"amount": 12, "note": "=cmd"}  # JSON starts with "{": never a formula
    assert json.loads(got["events"]) == [
        {"authorId": None, "date": "2026-01-02T00:00:00.000Z", "description": "Created", "id": "e1", "type": "CREATE"}
    ]
    assert got["created"] == "2026-01-02T03:04:05.678Z"
    assert got["bcc"] == "" and got["sentAt"] == "" and got["opened"] == "false" and got["openCount"] == "0"
    assert got["status"] == "SENT" and got["providerType"] == "SES"


def test_csv_of_no_records_is_the_header_only():
    assert cs.to_csv([]) == ",".join(CommunicationRecord.model_fields) + "\r\n"


# ───────────── filters ─────────────
def test_query_string_filters_terms_and_sort():
    q = cs.parse_query_params(
        {
            "page": ["2"],
            "size": ["5"],
            "status": ["sent", "PENDING", "SENT"],
            "opened": ["TRUE"],
            "openCount": ["3"],
            "relatedEntityId": ["42"],
            "created": ["2026-01-02T03:04:05.678Z"],
            "variables.region": ["north"],
            "search": ["Quote", " ", "acme", "Quote"],
            "sort": ["subject,desc", "created", "subject,asc"],
        },
        page=2,
        size=5,
    )
    filters = {f.field: f.values for f in q.filters}
    assert filters == {
        "status": ("SENT", "PENDING"),
        "opened": (True,),
        "openCount": (3,),
        "relatedEntityId": ("42",),
        "created": (datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),),
        "variables.region": ("north",),
    }
    assert q.terms == ("Quote", "acme")
    assert q.sort == (cs.Sort("subject", False), cs.Sort("created", True))  # the first mention of a field decides
    assert (q.page, q.size, q.offset) == (2, 5, 10)


def test_request_filters_nulls_arrays_numbers_and_default_size():
    q = cs.parse_request(
        DynamicSearchRequest.model_validate(
            {
                "filters": {"templateId": None, "type": ["OFFERTE", "NEWS"], "relatedEntityId": 42, "variables.n": 1.5, "status": []},
                "page": 0,
                "size": 0,
                "search": ["x"],
                "sort": [{"field": "sentAt", "ascending": False}],
            }
        )
    )
    assert {f.field: f.values for f in q.filters} == {
        "templateId": None,
        "type": ("OFFERTE", "NEWS"),
        "relatedEntityId": ("42",),
        "variables.n": (1.5,),
        "status": (),
    }
    assert q.size == 20 and q.sort == (cs.Sort("sentAt", False),)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("nope", "x", "unknown filter field 'nope'"),
        ("events", "x", "cannot be used as a filter"),
        ("clickedLinks", "x", "cannot be used as a filter"),
        ("variables", "x", "variables.<name>"),
        ("variables.", "x", "unknown filter field"),
        ("status", "DONE", "status must be one of: PENDING, SCHEDULED, SENT, FAILED, UNCONFIRMED, CANCELLED"),
        ("status", 3, "status must be one of"),
        ("opened", "yes", "expected true or false"),
        ("opened", 1, "expected true or false"),
        ("openCount", "1.5", "expected an integer"),
        ("openCount", True, "expected an integer"),
        ("openCount", 2**31, "must be between -2147483648 and 2147483647"),  # a Java int (decision S3)
        ("openCount", "9999999999999999999", "must be between -2147483648 and 2147483647"),
        ("openCount", 1e300, "must be between -2147483648 and 2147483647"),
        ("openCount", "9" * 30, "expected an integer"),
        ("sentAt", "2026-01-02", "expected an ISO-8601"),
        ("sentAt", "2026-01-02T00:00:00", "expected an ISO-8601"),  # no zone
        ("subject", {"a": 1}, "a filter value must be"),
        ("subject", [["nested"]], "a filter value must be"),
        ("subject", ["a", None], "null cannot be one of several values"),
        ("subject", False, "subject: expected a string"),
        ("subject", "x" * 1025, "longer than 1024"),
        ("variables.x", {"a": 1}, "a filter value must be"),
    ],
)
def test_bad_filters_are_400s(field, value, says):
    with pytest.raises(BadRequest, match=None) as err:
        cs._filter(field, value)
    assert says in err.value.message


def test_filter_fields_cover_the_record_but_its_objects():
    assert set(cs.FILTERABLE) == set(CommunicationRecord.model_fields) - {"events", "clickedLinks", "variables"}
    assert len(cs.FIELDS) == 37


# ───────────── sort ─────────────
@pytest.mark.parametrize(
    "field", ["created", "sentAt", "scheduledAt", "subject", "status", "type", "senderEmail", "updated", "openCount", "id"]
)
def test_sortable_fields(field):
    assert cs.sort_field(field) == field


@pytest.mark.parametrize("field", ["recipients", "cc", "events", "variables", "clickedLinks", "body", "originalBody", "Subject", ""])
def test_unsortable_fields_are_400s_naming_the_allowed_ones(field):
    with pytest.raises(BadRequest) as err:
        cs.sort_field(field)
    assert "sortable fields: bcc" not in err.value.message
    assert "created" in err.value.message and "subject" in err.value.message


@pytest.mark.parametrize(("value", "ascending"), [("ASC", True), ("asc", True), (" Desc ", False), ("DESC", False)])
def test_direction(value, ascending):
    assert cs._direction(value, name="direction") is ascending


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"sort": ["subject,up"]}, "sort direction must be ASC or DESC"),
        ({"sort": ["a", "b", "c", "d", "e", "f"]}, "at most 5 sort fields"),
        ({"search": [f"t{i}" for i in range(11)]}, "at most 10 search terms"),
    ],
)
def test_bad_query_strings(params, says):
    with pytest.raises(BadRequest) as err:
        cs.parse_query_params(params, page=0, size=20)
    assert says in err.value.message


def test_order_nulls_last_both_ways_case_insensitive_ties_newest_first():
    rows = [
        ("2026-01-01T00:00:01.000Z", "a", ("beta",)),
        ("2026-01-01T00:00:02.000Z", "b", (None,)),
        ("2026-01-01T00:00:03.000Z", "c", ("Alpha",)),
        ("2026-01-01T00:00:04.000Z", "d", ("alpha",)),
        ("2026-01-01T00:00:05.000Z", "e", (None,)),
    ]
    asc = list(rows)
    cs.order_matches(asc, (cs.Sort("subject", True),))
    assert [r[1] for r in asc] == ["c", "d", "a", "e", "b"]  # "Alpha" before "alpha" (raw tiebreak), nulls last, newest first
    desc = list(rows)
    cs.order_matches(desc, (cs.Sort("subject", False),))
    assert [r[1] for r in desc] == ["a", "d", "c", "e", "b"]

    two = [(f"2026-01-01T00:00:0{i}.000Z", str(i), (s, n)) for i, (s, n) in enumerate([("x", 1), ("y", 2), ("x", 3), (None, 0)])]
    cs.order_matches(two, (cs.Sort("type", True), cs.Sort("openCount", False)))
    assert [r[1] for r in two] == ["2", "0", "1", "3"]


# ───────────── index choice ─────────────
def plan(filters: dict) -> cs.Plan:
    return cs.plan(T, tuple(cs._filter(k, v) for k, v in filters.items()))


def test_plan_picks_the_most_selective_index():
    p = plan({})
    assert p.parts == [("GSI5", f"TENANT#{T}#REC")] and p.counted and p.residual == ()

    p = plan({"status": "PENDING", "type": "OFFERTE"})
    assert p.parts == [("GSI7", f"TENANT#{T}#STATUS#QUEUED"), ("GSI7", f"TENANT#{T}#STATUS#SENDING")]
    assert [f.field for f in p.residual] == ["type"] and not p.counted

    p = plan({"status": ["SENT", "FAILED"]})
    assert [pk for _, pk in p.parts] == [f"TENANT#{T}#STATUS#FAILED", f"TENANT#{T}#STATUS#SENT"]

    p = plan({"relatedEntityType": "deal", "relatedEntityId": "42", "status": "SENT"})
    assert p.parts == [("GSI6", f"TENANT#{T}#ENT#4:deal#42")] and [f.field for f in p.residual] == ["status"]

    p = plan({"conversationId": "conv-1", "relatedEntityType": "deal", "relatedEntityId": "42"})
    assert p.parts == [("GSI3", f"TENANT#{T}#CONV#conv-1")]
    assert {f.field for f in p.residual} == {"relatedEntityType", "relatedEntityId"}

    # half an entity, an entity IN too wide, a null status: not index keys
    assert plan({"relatedEntityId": "42"}).parts[0][0] == "GSI5"
    wide = plan({"relatedEntityType": ["a", "b", "c", "d"], "relatedEntityId": ["1", "2", "3"]})
    assert wide.parts[0][0] == "GSI5" and len(wide.residual) == 2
    assert plan({"status": None}).parts[0][0] == "GSI5"


# ───────────── page math ─────────────
@pytest.mark.parametrize(
    ("page", "size", "total", "expect"),
    [
        (0, 20, 0, {"totalPages": 0, "first": True, "last": True, "empty": True}),
        (0, 20, 7, {"totalPages": 1, "first": True, "last": True, "empty": False}),
        (1, 2, 7, {"totalPages": 4, "first": False, "last": False, "empty": False}),
        (3, 2, 7, {"totalPages": 4, "first": False, "last": True, "empty": False}),
        (9, 2, 7, {"totalPages": 4, "first": False, "last": True, "empty": True}),
    ],
)
def test_page_math(page, size, total, expect):
    n = max(0, min(size, total - page * size))
    content = [record(id=f"r-{i}") for i in range(n)]
    p = record_page(content, page=page, size=size, total=total, sorted_=True).model_dump()
    assert {k: p[k] for k in expect} == expect
    assert p["numberOfElements"] == n and p["number"] == page and p["size"] == size and p["totalElements"] == total
    assert p["pageable"]["offset"] == page * size and p["pageable"]["pageSize"] == size


@pytest.mark.parametrize(("page", "size"), [(-1, 20), (cs.MAX_PAGE + 1, 20), (0, 0), (0, cs.MAX_PAGE_SIZE + 1)])
def test_page_and_size_bounds(page, size):
    with pytest.raises(BadRequest):
        cs.parse_query_params({}, page=page, size=size)


def test_response_cost_counts_the_double_escaping():
    rec = record(body='"quoted" ' * 100)
    assert cs.response_cost(rec) > len(rec.model_dump_json()) + 200  # every quote is escaped twice
    cs.check_fits([rec], hint="x")
    with pytest.raises(BadRequest, match="does not fit"):
        cs.check_fits([rec] * (cs.RESPONSE_BUDGET // cs.response_cost(rec) + 1), hint="x")
