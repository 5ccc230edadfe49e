"""The courier admin API's writes on moto (seed 003, issue 15): the deprecated users PATCH (a local `notifications`
override beside the replicated user, who may change whom, and how it meets later replica updates) and the
organization preferences (defaults, the upsert, value/value-js, tenant isolation) — answers and stored state."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

ORG_ID = "0a3c1b6e-5d7f-4e2a-9b1c-8d6e5f4a3b21"
USER_ID = "1b4d2c7f-6e8a-4f3b-8c2d-9e7f6a5b4c32"
USER2_ID = "2c5e3d8a-7f9b-4a4c-9d3e-af8a7b6c5d43"
T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"
USER = {"username": "pat", "email": "pat@example.com", "notifications": ["email"], "sms-mode": "disabled", "last-sync-time": T1}


@pytest.fixture
def snapshot(table_items):
    """Every table item as canonical JSON, sorted: equal snapshots = nothing stored, changed or deleted."""
    return lambda: sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())


def _replicate(tenant_id, *records):
    from parley.domain import directory

    lines = [json.dumps(r) for r in records]
    return directory.import_lines(tenant_id, lines)


def _world(tenant_id):
    out = _replicate(
        tenant_id,
        {"type": "organizations", "id": ORG_ID, "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "users", "id": USER_ID, "attributes": USER},
        {"type": "users", "id": USER2_ID, "attributes": {**USER, "username": "sam", "email": "sam@example.com"}},
    )
    assert out.written == 3


def _call(
    handler, fn, tenant_id, *, path, method, payload=..., query=None, path_params=None, user_token=None, ctype="application/vnd.api+json"
):
    kwargs = {"headers": {"Content-Type": ctype}}
    if payload is not ...:
        kwargs["body"] = payload
    ev = api_event(f"courier_admin/{fn}", tenant_id=tenant_id, query=query, **kwargs)
    ev["path"], ev["httpMethod"], ev["pathParameters"] = path, method, path_params
    if user_token is not None:  # the token names the user: the sample's X-User-ID (another user) would be a 403
        ev["requestContext"]["authorizer"].update(credential="user_token", userId=user_token)
        for headers in (ev["headers"], ev.get("multiValueHeaders") or {}):
            headers.pop("X-User-ID", None)
    out = handler(f"CourierAdminApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)
    return out["statusCode"], body(out), out


def _patch(handler, tenant_id, user_id, attributes, *, user_token=None, doc=None):
    payload = doc if doc is not None else {"data": {"type": "users", "id": user_id, "attributes": attributes}}
    return _call(handler, "update_user", tenant_id, path=f"/v1/users/{user_id}/", method="PATCH", payload=payload,
                 path_params={"id": user_id}, user_token=user_token)  # fmt: skip


def _get_user(handler, tenant_id, user_id):
    return _call(handler, "get_user", tenant_id, path=f"/v1/users/{user_id}", method="GET", path_params={"id": user_id})


# ───────────── users PATCH ─────────────
def test_patch_changes_notifications_only_and_answers_the_whole_user(handler, tenant):
    from parley.dal import directory as store

    t, _ = tenant
    _world(t.id)
    status, doc, out = _patch(handler, t.id, USER_ID, {"notifications": ["sms", "push"]})
    assert status == 200, doc
    assert out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    assert doc["data"]["id"] == USER_ID and doc["data"]["type"] == "users" and doc["meta"] == {}
    attrs = doc["data"]["attributes"]
    assert attrs["notifications"] == ["sms", "push"]
    assert (attrs["username"], attrs["email"], attrs["sms-mode"], attrs["last-sync-time"]) == ("pat", "pat@example.com", "disabled",
                                                                                               "2026-11-01T09:00:00.000Z")  # fmt: skip
    # GET and the list answer the same
    assert _get_user(handler, t.id, USER_ID)[1] == doc
    listed = _call(handler, "list_users", t.id, path="/v1/users/", method="GET", query={"filter[username]": "pat"})[1]
    assert listed["data"] == [doc["data"]]
    # stored: the replica's attributes untouched, the override beside them
    stored = store.get(t.id, "users", USER_ID)
    assert store.attributes(stored)["notifications"] == ["email"]
    assert json.loads(stored["local_notifications"]) == ["sms", "push"] and stored["local_base"] == '["email"]'
    assert stored["sync_time"] == "2026-11-01T09:00:00.000Z" and stored["local_time"].endswith("Z")
    # the other user is untouched
    assert _get_user(handler, t.id, USER2_ID)[1]["data"]["attributes"]["notifications"] == ["email"]
    # an empty list is a change too; null drops the change
    assert _patch(handler, t.id, USER_ID, {"notifications": []})[1]["data"]["attributes"]["notifications"] == []
    status, doc, _ = _patch(handler, t.id, USER_ID, {"notifications": None})
    assert status == 200 and doc["data"]["attributes"]["notifications"] == ["email"]
    assert "local_notifications" not in store.get(t.id, "users", USER_ID)
    # no attributes: nothing changes, the user as it reads
    status, doc, _ = _patch(handler, t.id, USER_ID, {})
    assert status == 200 and doc["data"]["attributes"]["notifications"] == ["email"]


def test_a_later_replica_update_that_changes_notifications_wins(handler, tenant):
    from parley.dal import directory as store

    t, _ = tenant
    _world(t.id)
    assert _patch(handler, t.id, USER_ID, {"notifications": ["sms"]})[0] == 200
    # a replica update that leaves notifications as they were keeps the caller's change
    assert (
        _replicate(
            t.id, {"type": "users", "id": USER_ID, "attributes": {**USER, "email": "pat.lee@example.com", "last-sync-time": T2}}
        ).written
        == 1
    )
    attrs = _get_user(handler, t.id, USER_ID)[1]["data"]["attributes"]
    assert (attrs["email"], attrs["notifications"]) == ("pat.lee@example.com", ["sms"])
    # an older replica update changes nothing
    assert (
        _replicate(
            t.id, {"type": "users", "id": USER_ID, "attributes": {**USER, "notifications": ["push"], "last-sync-time": T1}}
        ).unchanged
        == 1
    )
    assert _get_user(handler, t.id, USER_ID)[1]["data"]["attributes"]["notifications"] == ["sms"]
    # a newer one that changes notifications: the platform's change wins, and the override is dropped
    assert (
        _replicate(t.id, {"type": "users", "id": USER_ID, "attributes": {**USER, "notifications": ["push"], "last-sync-time": T3}}).written
        == 1
    )
    assert _get_user(handler, t.id, USER_ID)[1]["data"]["attributes"]["notifications"] == ["push"]
    stored = store.get(t.id, "users", USER_ID)
    assert "local_notifications" not in stored and "local_base" not in stored
    # the email index moved with the replica writes (an UpdateItem now): the old address finds nobody
    assert store.page_where(t.id, "users", "email", "pat.lee@example.com", offset=0, limit=5) == ([], 0)
    assert [i["entity_id"] for i in store.page_where(t.id, "users", "email", "pat@example.com", offset=0, limit=5)[0]] == [USER_ID]


def test_the_override_applies_only_while_the_replica_still_has_its_base(tenant):
    """Read side of the rule, independent of the write that drops a stale override."""
    from parley.dal import directory as store
    from parley.domain import directory

    t, _ = tenant
    _world(t.id)
    directory.set_notifications(t.id, USER_ID, ["sms"])
    stored = store.get(t.id, "users", USER_ID)
    assert directory.effective(stored)["notifications"] == ["sms"]
    stale = {**stored, "attrs": json.dumps({**store.attributes(stored), "notifications": ["push"]})}
    assert directory.effective(stale)["notifications"] == ["push"]


def test_a_replica_write_between_read_and_write_makes_the_patch_read_again(tenant, monkeypatch):
    """The override is written only over the replica value it read: a replica write in between fails its condition,
    and the PATCH reads again (the base it stores is then the newer value); always racing ends in 409."""
    from parley.dal import directory as store
    from parley.domain import directory
    from parley.errors import Conflict

    t, _ = tenant
    _world(t.id)
    stale = store.get(t.id, "users", USER_ID)
    assert _replicate(
        t.id, {"type": "users", "id": USER_ID, "attributes": {**USER, "notifications": ["push"], "last-sync-time": T2}}
    ).written
    reads = []
    real_get = store.get

    def first_stale(*args, **kwargs):
        reads.append(args)
        return stale if len(reads) == 1 else real_get(*args, **kwargs)

    monkeypatch.setattr(store, "get", first_stale)
    _, attrs = directory.set_notifications(t.id, USER_ID, ["sms"])
    assert len(reads) == 2 and attrs.notifications == ["sms"]
    assert real_get(t.id, "users", USER_ID)["local_base"] == '["push"]'

    monkeypatch.setattr(store, "get", lambda *a, **k: stale)
    with pytest.raises(Conflict):
        directory.set_notifications(t.id, USER_ID, ["email"])
    assert json.loads(real_get(t.id, "users", USER_ID)["local_notifications"]) == ["sms"]


def test_a_user_token_changes_only_its_own_user(handler, tenant):
    from parley.dal import directory as store

    t, _ = tenant
    _world(t.id)
    status, doc, _ = _patch(handler, t.id, USER_ID, {"notifications": ["sms"]}, user_token=USER_ID)
    assert status == 200 and doc["data"]["attributes"]["notifications"] == ["sms"]
    status, doc, _ = _patch(handler, t.id, USER2_ID, {"notifications": ["sms"]}, user_token=USER_ID)
    assert status == 403, doc
    assert doc["errors"][0]["status"] == 403 and doc["errors"][0]["code"] == "not-own-user"
    assert "local_notifications" not in store.get(t.id, "users", USER2_ID)
    # the API key: any user of the tenant
    assert _patch(handler, t.id, USER2_ID, {"notifications": ["push"]})[0] == 200


@pytest.mark.parametrize(
    ("doc", "status", "pointer"),
    [
        ({"data": {"type": "users", "id": USER_ID, "attributes": {"email": "x@example.com"}}}, 400, "/data/attributes/email"),
        ({"data": {"type": "users", "id": USER_ID, "attributes": {"notifications": "email"}}}, 400, "/data/attributes/notifications"),
        (
            {"data": {"type": "users", "id": USER_ID, "attributes": {"notifications": ["email", "email"]}}},
            400,
            "/data/attributes/notifications",
        ),
        ({"data": {"type": "users", "id": USER_ID, "attributes": {"notifications": ["E mail"]}}}, 400, "/data/attributes/notifications/0"),
        ({"data": {"type": "people", "id": USER_ID, "attributes": {"notifications": []}}}, 409, "/data/type"),
        ({"data": {"type": "users", "id": USER2_ID, "attributes": {"notifications": []}}}, 409, "/data/id"),
        ({"data": {"type": "users", "id": USER_ID}}, 400, "/data/attributes"),
    ],
)
def test_bad_patch_documents_name_the_member_and_change_nothing(handler, tenant, snapshot, doc, status, pointer):
    t, _ = tenant
    _world(t.id)
    before = snapshot()
    got, out, _ = _patch(handler, t.id, USER_ID, None, doc=doc)
    assert got == status, out
    assert any(e["source"]["pointer"] == pointer for e in out["errors"]), out
    assert all(e["status"] == status for e in out["errors"])
    assert snapshot() == before


def test_patch_of_another_tenants_or_an_unknown_user_is_404(handler, tenant, other_tenant, snapshot):
    t, _ = tenant
    o, _ = other_tenant
    _world(t.id)
    before = snapshot()
    for tenant_id, user_id in ((o.id, USER_ID), (t.id, "no-such-user")):
        status, doc, _ = _patch(handler, tenant_id, user_id, {"notifications": ["sms"]})
        assert status == 404 and doc["errors"][0]["code"] == "not-found" and user_id in doc["errors"][0]["detail"]
    # a user token of the other tenant naming its own subject: still not found there
    assert _patch(handler, o.id, USER_ID, {"notifications": ["sms"]}, user_token=USER_ID)[0] == 404
    assert snapshot() == before


# ───────────── org-preferences ─────────────
def _list(handler, tenant_id, query):
    return _call(handler, "list_org_preferences", tenant_id, path="/v1/org-preferences/", method="GET", query=query)


def _post(handler, tenant_id, attributes, doc=None):
    payload = doc if doc is not None else {"data": {"type": "org-preferences", "attributes": attributes}}
    return _call(handler, "set_org_preference", tenant_id, path="/v1/org-preferences/", method="POST", payload=payload)


def test_the_list_has_every_name_defaults_included(handler, tenant):
    from parley.domain.org_preferences import preference_id

    t, _ = tenant
    _world(t.id)
    status, doc, out = _list(handler, t.id, {"organization-id": ORG_ID})
    assert status == 200, doc
    assert out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    assert doc["meta"] == {"page[total]": 3, "page[limit]": 3, "page[offset]": 0}
    assert [(r["type"], r["id"]) for r in doc["data"]] == [
        ("org-preferences", preference_id(t.id, ORG_ID, n)) for n in ("default-channel-title", "group-provider-ack", "initial-sms-message")
    ]
    by_name = {r["attributes"]["name"]: r["attributes"] for r in doc["data"]}
    assert by_name["group-provider-ack"] == {"name": "group-provider-ack", "organization-id": ORG_ID, "type": "json", "value": "false",
                                             "value-js": False, "explicit": False, "created-at": None}  # fmt: skip
    assert (by_name["default-channel-title"]["value"], by_name["default-channel-title"]["value-js"]) == ('""', "")
    assert (by_name["initial-sms-message"]["value"], by_name["initial-sms-message"]["value-js"]) == ("{}", {})
    one = _list(handler, t.id, {"organization-id": ORG_ID, "filter[name]": "initial-sms-message"})[1]
    assert [r["attributes"]["name"] for r in one["data"]] == ["initial-sms-message"] and one["meta"]["page[total]"] == 1


def test_post_is_an_upsert_per_organization_and_name(handler, tenant, table_items):
    t, _ = tenant
    _world(t.id)
    status, doc, _ = _post(handler, t.id, {"name": "group-provider-ack", "organization-id": ORG_ID, "type": "json", "value": "true"})
    assert status == 201, doc
    attrs = doc["data"]["attributes"]
    assert (attrs["value"], attrs["value-js"], attrs["explicit"], attrs["type"]) == ("true", True, True, "json")
    assert attrs["created-at"].endswith("Z") and doc["data"]["type"] == "org-preferences"
    items = [i for i in table_items() if i.get("type") == "org_preference"]
    assert items == [{"PK": f"TENANT#{t.id}#ORGPREF#{ORG_ID}", "SK": "PREF#group-provider-ack", "type": "org_preference",
                      "organization_id": ORG_ID, "name": "group-provider-ack", "value": "true",
                      "created_at": attrs["created-at"]}]  # fmt: skip
    # the same POST again: the same answer, the same item (created-at kept)
    again = _post(handler, t.id, {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true"})
    assert again[0] == 201 and again[1] == doc
    assert [i for i in table_items() if i.get("type") == "org_preference"] == items
    # a new value replaces it, created-at kept; value-js alone is enough
    changed = _post(handler, t.id, {"name": "group-provider-ack", "organization-id": ORG_ID, "value-js": False})[1]["data"]
    assert (changed["id"], changed["attributes"]["value"], changed["attributes"]["created-at"]) == (
        doc["data"]["id"],
        "false",
        attrs["created-at"],
    )
    # the list shows it explicit, the others still defaults
    listed = {r["attributes"]["name"]: r for r in _list(handler, t.id, {"organization-id": ORG_ID})[1]["data"]}
    assert listed["group-provider-ack"] == changed and listed["group-provider-ack"]["attributes"]["explicit"] is True
    assert listed["default-channel-title"]["attributes"]["explicit"] is False


def test_value_and_value_js_agree(handler, tenant):
    t, _ = tenant
    _world(t.id)
    message = {"en_US": "Text us here.", "es_US": "Escríbanos aquí."}
    both = _post(handler, t.id, {"name": "initial-sms-message", "organization-id": ORG_ID, "value": json.dumps(message, indent=2),
                                 "value-js": message})  # fmt: skip
    assert both[0] == 201, both[1]
    attrs = both[1]["data"]["attributes"]
    assert attrs["value-js"] == message and json.loads(attrs["value"]) == message
    assert attrs["value"] == '{"en_US":"Text us here.","es_US":"Escríbanos aquí."}'  # canonical: compact, keys sorted
    title = _post(handler, t.id, {"name": "default-channel-title", "organization-id": ORG_ID, "value": '"Care team"'})[1]
    assert title["data"]["attributes"]["value-js"] == "Care team"


@pytest.mark.parametrize(
    ("attributes", "pointer", "code"),
    [
        ({"organization-id": ORG_ID, "value": "true"}, "/data/attributes/name", None),
        ({"name": "colour", "organization-id": ORG_ID, "value": "true"}, "/data/attributes/name", None),
        ({"name": "group-provider-ack", "value": "true"}, "/data/attributes/organization-id", None),
        ({"name": "group-provider-ack", "organization-id": ORG_ID}, "/data/attributes/value", "missing-value"),
        ({"name": "group-provider-ack", "organization-id": ORG_ID, "value": "yes"}, "/data/attributes/value", "invalid-value"),
        ({"name": "group-provider-ack", "organization-id": ORG_ID, "value": "NaN"}, "/data/attributes/value", "invalid-value"),
        ({"name": "group-provider-ack", "organization-id": ORG_ID, "value": "1"}, "/data/attributes/value", "invalid-value"),
        (
            {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true", "value-js": 1},
            "/data/attributes/value-js",
            "value-mismatch",
        ),
        (
            {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true", "value-js": False},
            "/data/attributes/value-js",
            "value-mismatch",
        ),
        ({"name": "default-channel-title", "organization-id": ORG_ID, "value-js": {"a": 1}}, "/data/attributes/value-js", "invalid-value"),
        (
            {"name": "initial-sms-message", "organization-id": ORG_ID, "value-js": {"english": "hi"}},
            "/data/attributes/value-js",
            "invalid-value",
        ),
        (
            {"name": "initial-sms-message", "organization-id": ORG_ID, "value-js": {"en_US": "x" * 1025}},
            "/data/attributes/value-js",
            "invalid-value",
        ),
        ({"name": "group-provider-ack", "organization-id": ORG_ID, "type": "yaml", "value": "true"}, "/data/attributes/type", None),
        ({"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true", "explicit": True}, "/data/attributes/explicit", None),
    ],
)
def test_bad_preferences_are_400_naming_the_member(handler, tenant, snapshot, attributes, pointer, code):
    t, _ = tenant
    _world(t.id)
    before = snapshot()
    status, doc, _ = _post(handler, t.id, attributes)
    assert status == 400, doc
    assert any(e["source"]["pointer"] == pointer and (code is None or e["code"] == code) for e in doc["errors"]), doc
    assert snapshot() == before


def test_a_client_id_or_another_type_is_refused(handler, tenant):
    t, _ = tenant
    _world(t.id)
    attrs = {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true"}
    assert _post(handler, t.id, None, doc={"data": {"type": "org-preferences", "id": "x", "attributes": attrs}})[0] == 403
    assert _post(handler, t.id, None, doc={"data": {"type": "users", "attributes": attrs}})[0] == 409


def test_another_tenants_organization_is_404(handler, tenant, other_tenant, snapshot):
    t, _ = tenant
    o, _ = other_tenant
    _world(t.id)
    assert _post(handler, t.id, {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "true"})[0] == 201
    before = snapshot()
    status, doc, _ = _list(handler, o.id, {"organization-id": ORG_ID})
    assert status == 404 and doc["errors"][0]["source"] == {"parameter": "organization-id"} and ORG_ID in doc["errors"][0]["detail"]
    status, doc, _ = _post(handler, o.id, {"name": "group-provider-ack", "organization-id": ORG_ID, "value": "false"})
    assert status == 404 and doc["errors"][0]["source"] == {"pointer": "/data/attributes/organization-id"}
    assert snapshot() == before
    # the owner's value is as it set it
    mine = _list(handler, t.id, {"organization-id": ORG_ID, "filter[name]": "group-provider-ack"})[1]["data"][0]["attributes"]
    assert (mine["value-js"], mine["explicit"]) == (True, True)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [({}, "organization-id"), ({"organization-id": ORG_ID, "filter[name]": "colour"}, "filter[name]"),
     ({"organization-id": ORG_ID, "page[limit]": "2"}, "page[limit]"), ({"organization-id": "a b"}, "organization-id")],
)  # fmt: skip
def test_bad_list_parameters_are_400_naming_them(handler, tenant, query, parameter):
    t, _ = tenant
    _world(t.id)
    status, doc, _ = _list(handler, t.id, query)
    assert status == 400, doc
    assert doc["errors"][0]["source"] == {"parameter": parameter}
