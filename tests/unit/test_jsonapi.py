"""JSON:API for the courier families, once (parley.api.jsonapi, parley.models.jsonapi, parley.api.errors): documents
with dasherized attributes, paging meta, filter/sort parsing, the seed's error object for every failure, both media
types, and paths with and without the trailing slash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ValidationError

from helpers import Context
from parley import clock
from parley.api import jsonapi
from parley.api.app import build_app
from parley.errors import BadRequest, Conflict, Forbidden, NotFound
from parley.models.jsonapi import Attributes, Document, RequestDocument


class Thing(Attributes):
    display_name: str | None = None
    last_sync_time: str | None = None
    tags: list[str] | None = None


def test_attributes_are_dasherized_both_ways_and_unknown_ones_are_refused():
    thing = Thing.model_validate({"display-name": "Clinic", "last-sync-time": "t"})
    assert thing.display_name == "Clinic"
    assert thing.model_dump(by_alias=True, exclude_none=True) == {"display-name": "Clinic", "last-sync-time": "t"}
    with pytest.raises(ValidationError) as err:
        Thing.model_validate({"nickname": "x"})
    assert err.value.errors()[0]["type"] == "extra_forbidden"


def test_single_document():
    out = jsonapi.single("things", "t-1", Thing(display_name="A"))
    assert out.status_code == 200 and out.headers["Content-Type"] == "application/vnd.api+json"
    assert json.loads(out.body) == {
        "data": {"id": "t-1", "type": "things", "attributes": {"display-name": "A", "last-sync-time": None, "tags": None}},
        "meta": {},
    }
    assert Document[Thing].model_validate_json(out.body).data.attributes.display_name == "A"


def test_list_document_carries_the_page_meta():
    out = jsonapi.listing("things", [("a", Thing(tags=["x"])), ("b", Thing())], Thing, total=7, limit=2, offset=4)
    doc = json.loads(out.body)
    assert [r["id"] for r in doc["data"]] == ["a", "b"] and {r["type"] for r in doc["data"]} == {"things"}
    assert doc["data"][0]["attributes"]["tags"] == ["x"]
    assert doc["meta"] == {"page[total]": 7, "page[limit]": 2, "page[offset]": 4}
    empty = json.loads(jsonapi.listing("things", [], Thing, total=0, limit=100, offset=0).body)
    assert empty == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}


def test_sort_parsing():
    allowed = ["name", "last-sync-time"]
    assert jsonapi.parse_sort("-last-sync-time,name", allowed) == [("last-sync-time", True), ("name", False)]
    assert jsonapi.parse_sort(None, allowed, default=[("name", False)]) == [("name", False)]
    assert jsonapi.parse_sort(" ", allowed) == []
    for bad in ("-nickname", "name,-name", ""):
        if bad == "":
            continue
        with pytest.raises(BadRequest) as err:
            jsonapi.parse_sort(bad, allowed)
        assert err.value.parameter == "sort" and err.value.code == "invalid-sort"


def test_unknown_reserved_parameters():
    declared = {"filter[name]", "page[limit]", "page[offset]"}
    assert jsonapi.unknown_parameter({"filter[name]": "x", "page[limit]": "1", "utm_source": "x"}, declared) is None
    assert jsonapi.unknown_parameter({"filter[email]": "x"}, declared) == "filter[email]"
    assert jsonapi.unknown_parameter({"sort": "-name"}, declared) == "sort"
    assert jsonapi.unknown_parameter({"include[inactive]": "true"}, declared) == "include[inactive]"
    assert jsonapi.unknown_parameter(None, declared) is None


# ───────────── a courier resolver, end to end in-process ─────────────
Limit = jsonapi.page_limit(minimum=1, maximum=50, default=50)
Posted = jsonapi.window_param("posted-time")
Inactive = jsonapi.include_param("inactive")
ByName = jsonapi.filter_param("name")


def _app():
    app = build_app("courier_admin")

    @app.get("/v1/things")
    def list_things(name: ByName = None, limit: Limit = 50, offset: jsonapi.PageOffset = 0) -> Response[str]:
        items = [(f"t-{i}", Thing(display_name=name)) for i in range(offset, min(offset + limit, 3))]
        return jsonapi.listing("things", items, Thing, total=3, limit=limit, offset=offset)

    @app.get("/v1/events")
    def list_events(posted: Posted = None, inactive: Inactive = False) -> Response[str]:
        window = jsonapi.parse_window(posted, "posted-time")
        stamps = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
        items = [(f"e-{i}", Thing(display_name=clock.iso(at))) for i, at in enumerate(stamps) if window.contains(at)]
        if inactive:
            items.append(("e-inactive", Thing(display_name="inactive")))
        return jsonapi.listing("events", items, Thing, total=len(items), limit=50, offset=0)

    @app.get("/v1/things/<id>")
    def get_thing(id: Annotated[str, Path(max_length=8)]) -> Response[str]:
        if id != "t-1":
            raise NotFound(f"no thing {id!r}")
        return jsonapi.single("things", id, Thing(display_name="one"))

    @app.post("/v1/things")
    def create_thing(body: RequestDocument[Thing]) -> Response[str]:
        return jsonapi.single("things", "t-9", body.data.attributes, status=201)

    return app


def _call(method, path, *, query=None, body=None, ctype="application/vnd.api+json"):
    headers = {"Content-Type": ctype} if body is not None else {}
    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "body": json.dumps(body) if body is not None and not isinstance(body, str) else body,
        "isBase64Encoded": False,
        "requestContext": {"authorizer": {"tenantId": "t-1"}, "stage": "v1"},
    }
    out = _app().resolve(event, Context())
    return out["statusCode"], out["multiValueHeaders"]["Content-Type"][0], json.loads(out["body"])


@pytest.mark.parametrize("path", ["/v1/things", "/v1/things/"])
def test_paths_are_served_with_and_without_the_trailing_slash(path):
    status, ctype, doc = _call("GET", path, query={"page[limit]": "2", "filter[name]": "x"})
    assert (status, ctype) == (200, "application/vnd.api+json")
    assert doc["meta"] == {"page[total]": 3, "page[limit]": 2, "page[offset]": 0}
    assert doc["data"][0]["attributes"]["display-name"] == "x"
    assert _call("GET", "/v1/things/t-1/")[2]["data"]["id"] == "t-1"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [({"page[limit]": "51"}, "page[limit]"), ({"page[offset]": "-3"}, "page[offset]"), ({"filter[colour]": "red"}, "filter[colour]")],
)
def test_query_errors_name_the_parameter(query, parameter):
    status, ctype, doc = _call("GET", "/v1/things/", query=query)
    assert (status, ctype) == (400, "application/vnd.api+json")
    (error,) = doc["errors"]
    assert error["status"] == 400 and error["source"] == {"parameter": parameter} and error["code"] and error["detail"]


def test_domain_errors_and_unknown_routes_are_json_api_errors():
    assert _call("GET", "/v1/things/t-2/") == (
        404,
        "application/vnd.api+json",
        {"errors": [{"status": 404, "code": "not-found", "detail": "no thing 't-2'"}]},
    )
    status, _, doc = _call("GET", "/v1/nothing/")
    assert status == 404 and doc["errors"][0]["status"] == 404 and doc["errors"][0]["code"] == "not-found"


@pytest.mark.parametrize("ctype", ["application/vnd.api+json", "application/json"])
def test_both_media_types_are_read(ctype):
    status, out_type, doc = _call(
        "POST", "/v1/things/", body={"data": {"type": "things", "attributes": {"display-name": "new"}}}, ctype=ctype
    )
    assert (status, out_type) == (201, "application/vnd.api+json")
    assert doc["data"]["attributes"]["display-name"] == "new"


def test_body_errors_point_at_the_member():
    status, _, doc = _call("POST", "/v1/things", body={"data": {"type": "things", "attributes": {"nickname": "x", "tags": "nope"}}})
    assert status == 400
    pointers = {e["source"]["pointer"]: e for e in doc["errors"]}
    assert set(pointers) == {"/data/attributes/nickname", "/data/attributes/tags"}
    assert pointers["/data/attributes/nickname"]["detail"] == "/data/attributes/nickname: unknown member"
    assert all(e["status"] == 400 and e["code"] == "invalid-member" for e in doc["errors"])
    assert _call("POST", "/v1/things", body="{nope")[2]["errors"][0]["code"] == "invalid-json"
    status, _, doc = _call("POST", "/v1/things", body={"data": {}}, ctype="text/plain")
    assert status == 415 and doc["errors"][0]["code"] == "unsupported-media-type"


class _Thing(Attributes):
    display_name: str | None = None


def _doc(type_, id_=None):
    return RequestDocument[_Thing].model_validate({"data": {"type": type_, "id": id_, "attributes": {"display-name": "x"}}})


def test_attributes_of_checks_type_and_id():
    assert jsonapi.attributes_of(_doc("things"), "things").display_name == "x"
    assert jsonapi.attributes_of(_doc("things", "t-1"), "things", "t-1").display_name == "x"
    assert jsonapi.attributes_of(_doc("things"), "things", "t-1").display_name == "x"  # PATCH may leave data.id out
    with pytest.raises(Conflict) as wrong_type:
        jsonapi.attributes_of(_doc("widgets"), "things")
    assert wrong_type.value.pointer == "/data/type"
    with pytest.raises(Conflict) as wrong_id:
        jsonapi.attributes_of(_doc("things", "t-2"), "things", "t-1")
    assert wrong_id.value.pointer == "/data/id"
    with pytest.raises(Forbidden) as client_id:
        jsonapi.attributes_of(_doc("things", "t-2"), "things")
    assert client_id.value.pointer == "/data/id"


def _multi(query):
    return {k: (v if isinstance(v, list) else [v]) for k, v in query.items()}


def _get_events(query):
    event = {
        "httpMethod": "GET", "path": "/v1/events", "resource": "/v1/events", "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()} or None,
        "multiValueQueryStringParameters": _multi(query) or None, "pathParameters": None, "body": None,
        "isBase64Encoded": False, "requestContext": {"authorizer": {"tenantId": "t-1"}, "stage": "v1"},
    }  # fmt: skip
    out = _app().resolve(event, Context())
    return out["statusCode"], json.loads(out["body"])


def test_a_time_window_and_an_include_flag_on_a_list():
    status, doc = _get_events({"filter[cmp-posted-time]": [">2024-01-01T00:00:00Z", "<=2024-01-03T00:00:00Z"]})
    assert status == 200 and [d["id"] for d in doc["data"]] == ["e-1", "e-2"]
    status, doc = _get_events({"filter[cmp-posted-time]": "<2024-01-02T00:00:00+00:00", "include[inactive]": "true"})
    assert status == 200 and [d["id"] for d in doc["data"]] == ["e-0", "e-inactive"]
    for bad in (["=2024-01-01T00:00:00Z"], [">=yesterday"], [">2024-01-01T00:00:00"], [">2024-01-01T00:00:00Z", ">=2024-01-02T00:00:00Z"],
                [">2024-01-03T00:00:00Z", "<2024-01-01T00:00:00Z"], ["<1", "<2", "<3"], [">" + "9" * 40]):  # fmt: skip
        status, doc = _get_events({"filter[cmp-posted-time]": bad})
        assert status == 400, (bad, doc)
        assert doc["errors"][0]["source"] == {"parameter": "filter[cmp-posted-time]"}, (bad, doc)
    status, doc = _get_events({"include[inactive]": "perhaps"})
    assert status == 400 and doc["errors"][0]["source"] == {"parameter": "include[inactive]"}


def test_parse_window_bounds_and_comparators():
    window = jsonapi.parse_window([">=2024-01-01T00:00:00Z", "<2024-02-01T00:00:00Z"], "created-at")
    assert window.contains(datetime(2024, 1, 1, tzinfo=UTC)) and not window.contains(datetime(2024, 2, 1, tzinfo=UTC))
    assert window.key_range("0", "9") == ("2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z")
    assert jsonapi.parse_window(None, "created-at") == jsonapi.Window()
    assert jsonapi.Window().key_range("0", "9") == ("0", "9")
    with pytest.raises(BadRequest) as err:  # user-notification-counts takes only <= and >=
        jsonapi.parse_window([">2024-01-01T00:00:00Z"], "date", comparators=("<=", ">="))
    assert err.value.parameter == "filter[cmp-date]"
