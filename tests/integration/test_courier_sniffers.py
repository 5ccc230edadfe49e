"""Courier sniffers on moto (seed 003, issue 15): create / get / get-logs, and the recording hooked into every courier
function — a sniffed user's call is stored redacted, an unsniffed user's call makes no extra DynamoDB call, a sniffer
ends at valid-until, the sniffer routes are not recorded, a failed write never fails the request, tenants apart."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from helpers import api_event, body

USER, OTHER_USER = "1b4d2c7f-6e8a-4f3b-8c2d-9e7f6a5b4c32", "2c5e3d8a-7f9b-4a4c-9d3e-af8a7b6c5d43"


def fn(name: str) -> str:
    return f"CourierAdminApi.{''.join(p.capitalize() for p in name.split('_'))}Function"


@pytest.fixture
def directory(tenant, other_tenant):
    from parley.domain import directory as courier_directory

    for t, users in ((tenant[0], (USER, OTHER_USER)), (other_tenant[0], ("b-user",))):
        lines = [json.dumps({"type": "users", "id": u, "last-sync-time": "2026-11-01T09:00:00Z", "attributes": {"email": f"{u}@x.example"}})
                 for u in users]  # fmt: skip
        assert courier_directory.import_lines(t.id, lines).written == len(users)
    return tenant, other_tenant


def event(name: str, tenant_id: str, *, path: str, params: dict | None = None, payload: Any = ..., query: Any = None, headers=None,
          context: dict | None = None) -> dict:  # fmt: skip
    ev = api_event(f"courier_admin/{name}", tenant_id=tenant_id, body=payload, query=query, headers=headers)
    ev["path"], ev["pathParameters"] = path, params
    if context is not None:
        ev["requestContext"]["authorizer"] = context
    return ev


def create(handler, tenant_id: str, user: str = USER, *, until=None, **kw):
    from parley import clock

    until = until or clock.iso(clock.now() + timedelta(hours=2))
    doc = {"data": {"type": "sniffers", "attributes": {"user-id": user, "valid-until": until}}}
    return handler(fn("create_sniffer"))(event("create_sniffer", tenant_id, path="/v1/sniffers/", payload=doc, **kw))


def logs(handler, tenant_id: str, sniffer_id: str, query=None):
    path = f"/v1/sniffers/{sniffer_id}/get-logs/"
    return handler(fn("get_sniffer_logs"))(event("get_sniffer_logs", tenant_id, path=path, params={"id": sniffer_id}, query=query or {}))


def authorized(authorization: str) -> dict:
    """The authorizer's context for this Authorization header, as API Gateway hands it to the function."""
    from parley.domain import auth

    grant = auth.check(authorization)
    assert grant is not None
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in grant.authorizer_context().items()}


def get_user(handler, tenant_id: str, context: dict, *, user_header: str | None, authorization: str, query=None, loaded=None):
    headers = {"X-User-ID": user_header, "Authorization": authorization, "User-Agent": "pytest/1", "X-Amzn-Trace-Id": "Root=1-abc"}
    ev = event("get_user", tenant_id, path=f"/v1/users/{USER}/", params={"id": USER}, headers=headers, context=context, query=query)
    return (loaded or handler(fn("get_user")))(ev)


class DynamoCalls:
    """Every DynamoDB operation the process makes (a botocore event hook on the shared client)."""

    def __init__(self) -> None:
        from parley.dal import table

        self.ops: list[str] = []
        table.ddb().meta.events.register("before-call.dynamodb.*", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.ops.append(model.name)

    def during(self, call: Any) -> tuple[Any, list[str]]:
        start = len(self.ops)
        out = call()
        return out, self.ops[start:]


def test_create_get_and_stored_state(handler, directory, table_items):
    from parley.dal import sniffers as store
    from parley.dal import tenants

    (t, _), _ = directory
    out = create(handler, t.id)
    assert out["statusCode"] == 201, out
    assert out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    doc = body(out)
    sniffer_id, attrs = doc["data"]["id"], doc["data"]["attributes"]
    assert doc["data"]["type"] == "sniffers" and doc["meta"] == {}
    assert set(attrs) == {"created-time", "user-id", "valid-until"} and attrs["user-id"] == USER
    assert attrs["valid-until"].endswith("Z") and attrs["created-time"] < attrs["valid-until"]

    stored = store.get(t.id, sniffer_id)
    from parley import clock

    assert stored["ttl"] == int((clock.parse_iso(attrs["valid-until"]) + timedelta(days=7)).timestamp())
    tenant = tenants.get(t.id)
    assert tenant.sniffers[sniffer_id].user_id == USER  # carried on the tenant item, for the authorizer

    got = handler(fn("get_sniffer"))(event("get_sniffer", t.id, path=f"/v1/sniffers/{sniffer_id}", params={"id": sniffer_id}))
    assert got["statusCode"] == 200 and body(got)["data"] == doc["data"]


@pytest.mark.parametrize(
    ("attrs", "status", "pointer"),
    [
        ({"user-id": USER, "valid-until": "2020-01-01T00:00:00Z"}, 422, "/data/attributes/valid-until"),
        ({"user-id": USER, "valid-until": "+8d"}, 422, "/data/attributes/valid-until"),
        ({"user-id": "nobody", "valid-until": "+1h"}, 404, "/data/attributes/user-id"),
        ({"user-id": "b-user", "valid-until": "+1h"}, 404, "/data/attributes/user-id"),  # another tenant's user
        ({"user-id": USER, "valid-until": "tomorrow"}, 400, "/data/attributes/valid-until"),
        ({"user-id": USER}, 400, "/data/attributes/valid-until"),
        ({"user-id": USER, "valid-until": "+1h", "note": "x"}, 400, "/data/attributes/note"),
    ],
)
def test_create_refuses_bad_input_and_stores_nothing(handler, directory, snapshot_items, attrs, status, pointer):
    from parley import clock

    (t, _), _ = directory
    ahead = {"+1h": timedelta(hours=1), "+8d": timedelta(days=8)}
    attrs = {k: clock.iso(clock.now() + ahead[v]) if v in ahead else v for k, v in attrs.items()}
    before = snapshot_items()
    doc = {"data": {"type": "sniffers", "attributes": attrs}}
    out = handler(fn("create_sniffer"))(event("create_sniffer", t.id, path="/v1/sniffers", payload=doc))
    assert out["statusCode"] == status, out
    assert pointer in [e.get("source", {}).get("pointer") for e in body(out)["errors"]]
    assert snapshot_items() == before


@pytest.fixture
def snapshot_items(table_items):
    return lambda: sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())


def test_a_sniffed_users_call_is_recorded_redacted(handler, directory):
    (t, key), _ = directory
    sniffer_id = body(create(handler, t.id))["data"]["id"]
    context = authorized(f"Bearer {key}")  # the authorizer runs after the sniffer exists (its cache expired)
    assert USER in context["sniffedUsers"]

    out = get_user(handler, t.id, context, user_header=USER, authorization=f"Bearer {key}", query={"access_token": "s3cr3t"})
    assert out["statusCode"] == 200
    doc = body(logs(handler, t.id, sniffer_id))
    assert doc["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    (entry,) = doc["data"]
    log = entry["attributes"]
    assert entry["type"] == "sniffer-logs"
    assert set(log) == {"body", "content_type", "created-time", "message", "method", "path", "query-string", "request-id", "response",
                        "status-code", "trace-id", "user-agent"}  # fmt: skip
    assert log["method"] == "GET" and log["path"] == f"/v1/users/{USER}/" and log["status-code"] == 200
    assert "Authorization: Bearer [redacted]" in log["message"] and key not in json.dumps(doc)
    assert log["query-string"] == "access_token=%5Bredacted%5D"
    assert json.loads(log["response"])["data"]["attributes"]["email"] == f"{USER}@x.example"
    assert log["user-agent"] == "pytest/1" and log["trace-id"] == "Root=1-abc" and log["request-id"]
    assert log["created-time"].endswith("Z")


def test_a_user_token_call_is_recorded_under_its_subject(handler, directory, table_items):
    from parley.dal import tenants
    from parley.domain.context import Caller

    (t, _), _ = directory
    sniffer_id = body(create(handler, t.id))["data"]["id"]
    caller = Caller.of(tenants.get(t.id), credential="user_token", user_id=USER)
    context = {k: str(v) for k, v in caller.authorizer_context().items()}
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert get_user(handler, t.id, context, user_header=None, authorization=f"Bearer {token}")["statusCode"] == 200
    (entry,) = body(logs(handler, t.id, sniffer_id))["data"]
    assert "Authorization: Bearer [redacted]" in entry["attributes"]["message"] and token not in json.dumps(entry)
    item = next(i for i in table_items() if i.get("type") == "sniffer_log")
    from parley import clock

    assert item["PK"] == f"TENANT#{t.id}#SNIFFLOG#{USER}" and item["SK"] == f"LOG#{item['created_time']}#{item['id']}"
    assert item["ttl"] == int((clock.parse_iso(item["created_time"]) + timedelta(days=7)).timestamp())  # kept 7 days


def test_an_unsniffed_user_costs_no_extra_dynamodb_call(handler, directory):
    (t, key), _ = directory
    plain = authorized(f"Bearer {key}")  # before any sniffer: no sniffedUsers
    assert not plain.get("sniffedUsers")
    create(handler, t.id)
    sniffing = authorized(f"Bearer {key}")
    loaded = handler(fn("get_user"))  # loaded once: the hook below is on the client it uses
    calls = DynamoCalls()
    auth = f"Bearer {key}"

    def call(context: dict, user: str | None) -> Any:
        return get_user(handler, t.id, context, user_header=user, authorization=auth, loaded=loaded)

    call(plain, OTHER_USER)  # warm the function
    _, baseline = calls.during(lambda: call(plain, OTHER_USER))
    _, other = calls.during(lambda: call(sniffing, OTHER_USER))
    _, anonymous = calls.during(lambda: call(sniffing, None))
    _, sniffed = calls.during(lambda: call(sniffing, USER))
    assert baseline == other == anonymous == ["GetItem"]
    assert sniffed == ["GetItem", "PutItem"]  # the one write of a sniffed request


def test_a_sniffer_ends_at_valid_until_and_its_routes_are_not_recorded(handler, directory, table_items):
    from parley import clock

    (t, key), _ = directory
    sniffer_id = body(create(handler, t.id))["data"]["id"]
    context = authorized(f"Bearer {key}")
    ended = {**context, "sniffedUsers": f"{int(clock.now().timestamp()) - 1}:{USER}"}  # a cached context, past the end
    assert get_user(handler, t.id, ended, user_header=USER, authorization=f"Bearer {key}")["statusCode"] == 200
    ev = event("get_sniffer_logs", t.id, path=f"/v1/sniffers/{sniffer_id}/get-logs/", params={"id": sniffer_id}, query={},
               headers={"X-User-ID": USER}, context=context)  # fmt: skip
    assert handler(fn("get_sniffer_logs"))(ev)["statusCode"] == 200
    assert [i for i in table_items() if i.get("type") == "sniffer_log"] == []
    assert body(logs(handler, t.id, sniffer_id))["meta"]["page[total]"] == 0


def test_the_tenant_item_drops_ended_sniffers_and_caps_running_ones(handler, directory, monkeypatch):
    from parley import clock
    from parley.dal import tenants
    from parley.domain import sniffers
    from parley.domain.context import sniffed_users

    (t, _), _ = directory
    first = body(create(handler, t.id))["data"]["id"]
    tenant = tenants.get(t.id)
    assert sniffed_users(tenant, now=clock.now().timestamp()) == f"{tenant.sniffers[first].until}:{USER}"
    assert sniffed_users(tenant, now=tenant.sniffers[first].until) == ""  # ended: not in any context
    monkeypatch.setattr(sniffers, "MAX_ACTIVE", 2)
    assert create(handler, t.id, OTHER_USER)["statusCode"] == 201
    out = create(handler, t.id)
    assert out["statusCode"] == 409 and body(out)["errors"][0]["code"] == "too-many-sniffers"


def test_a_failed_log_write_never_fails_the_request(handler, directory, monkeypatch):
    from parley.dal import sniffers as store

    (t, key), _ = directory
    create(handler, t.id)
    context = authorized(f"Bearer {key}")

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "put_log", broken)
    out = get_user(handler, t.id, context, user_header=USER, authorization=f"Bearer {key}")
    assert out["statusCode"] == 200 and body(out)["data"]["id"] == USER


def test_the_authorizer_lambda_puts_the_sniffed_users_in_its_context(handler, directory):
    import copy

    from helpers import load_event

    (t, key), _ = directory
    event = copy.deepcopy(load_event("core/authorizer"))
    event["headers"]["Authorization"], event["multiValueHeaders"]["Authorization"] = f"Bearer {key}", [f"Bearer {key}"]
    assert handler("root.AuthorizerFunction")(event)["context"]["sniffedUsers"] == ""
    until = body(create(handler, t.id))["data"]["attributes"]["valid-until"]
    from parley import clock

    context = handler("root.AuthorizerFunction")(event)["context"]
    assert context["sniffedUsers"] == f"{int(clock.parse_iso(until).timestamp())}:{USER}"


def test_another_tenants_sniffer_is_404(handler, directory):
    (t, _), (b, _) = directory
    sniffer_id = body(create(handler, t.id))["data"]["id"]
    got = handler(fn("get_sniffer"))(event("get_sniffer", b.id, path=f"/v1/sniffers/{sniffer_id}", params={"id": sniffer_id}))
    assert got["statusCode"] == 404 and body(got)["errors"][0]["status"] == 404
    assert logs(handler, b.id, sniffer_id)["statusCode"] == 404
    assert logs(handler, t.id, sniffer_id)["statusCode"] == 200
