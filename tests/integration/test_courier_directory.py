"""The courier directory on moto (seed 003, issue 15): `import-directory` (JSON lines, idempotent, ordered by
last-sync-time: an older update never overwrites a newer one) and the admin API's GET routes — JSON:API shapes,
paging meta, the seed's filters, tenant isolation (another tenant's id is a 404 in the JSON:API error shape)."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

ORG_ID = "0a3c1b6e-5d7f-4e2a-9b1c-8d6e5f4a3b21"
USER_ID = "1b4d2c7f-6e8a-4f3b-8c2d-9e7f6a5b4c32"
USER2_ID = "2c5e3d8a-7f9b-4a4c-9d3e-af8a7b6c5d43"
IND_ID = "3d6f4e9b-8a0c-4b5d-8e4f-b09b8c7d6e54"
GROUP_ID = "4e7a5fac-9b1d-4c6e-9f5a-c1ac9d8e7f65"
T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"


def line(type_, id_, attributes, sync_time=None):
    return json.dumps({"type": type_, "id": id_, "attributes": attributes, **({"last-sync-time": sync_time} if sync_time else {})})


USER = {
    "username": "pat",
    "email": "Pat@Example.com",
    "email-verified": True,
    "first-name": "Pat",
    "last-name": "Lee",
    "phone": "+15555550100",
    "notifications": ["email"],
    "sms-mode": "disabled",
    "primary-individual-id": IND_ID,
    "communication-preferences": {"quiet": {"from": "22:00"}},
    "last-sync-time": T1,
}
LINES = [
    line("organizations", ORG_ID, {"name": "northside", "display-name": "Northside Clinic", "timezone": "America/Chicago"}, T1),
    line("users", USER_ID, USER),
    line("users", USER2_ID, {**USER, "username": "sam", "email": "sam@example.com", "last-sync-time": T1}),
    line("individuals", IND_ID, {"first-name": "Pat", "last-name": "Lee", "birth-date": "1980-02-03", "owner-id": USER_ID}, T1),
    line(
        "individual-groups", GROUP_ID, {"name": "Care team", "organization-id": ORG_ID, "individuals": [{"id": IND_ID}], "leaders": []}, T1
    ),
]


def run_import(tmp_path, tenant_id, lines):
    from parley import admin

    path = tmp_path / "directory.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return admin.main(["import-directory", "--tenant-id", tenant_id, str(path)])


def summary(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def get(handler, fn, tenant_id, path, *, query=None, path_params=None):
    ev = api_event(f"courier_admin/{fn}", tenant_id=tenant_id, query=query)
    ev["path"] = path
    ev["pathParameters"] = path_params
    return handler(f"CourierAdminApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)


def test_import_is_idempotent_and_ordered_by_last_sync_time(tenant, tmp_path, capsys, table_items):
    from parley.dal import directory as store

    t, _ = tenant
    assert run_import(tmp_path, t.id, LINES) == 0
    assert summary(capsys) == {"read": 5, "written": 5, "deleted": 0, "unchanged": 0, "invalid": 0}
    assert run_import(tmp_path, t.id, LINES) == 0  # the same file again: nothing written
    assert summary(capsys) == {"read": 5, "written": 0, "deleted": 0, "unchanged": 5, "invalid": 0}

    newer = line("users", USER_ID, {**USER, "email": "pat.lee@example.com", "last-sync-time": T3})
    older = line("users", USER_ID, {**USER, "email": "old@example.com", "last-sync-time": T2})
    assert run_import(tmp_path, t.id, [newer, older]) == 0  # out of order: the older update comes last
    assert summary(capsys) == {"read": 2, "written": 1, "deleted": 0, "unchanged": 1, "invalid": 0}
    stored = store.get(t.id, "users", USER_ID)
    assert store.attributes(stored)["email"] == "pat.lee@example.com" and stored["sync_time"] == "2026-11-03T09:00:00.000Z"
    # the email index moved with the item: the old address finds nobody, the new one finds the user
    assert store.page_where(t.id, "users", "email", "pat@example.com", offset=0, limit=10) == ([], 0)
    assert [i["entity_id"] for i in store.page_where(t.id, "users", "email", "PAT.LEE@example.com", offset=0, limit=10)[0]] == [USER_ID]
    # every directory item is tenant-scoped
    items = [i for i in table_items() if i.get("type") == "directory"]
    assert len(items) == 5 and all(i["PK"].startswith(f"TENANT#{t.id}#DIR#") for i in items)


def test_import_reports_invalid_lines_and_applies_the_rest(tenant, tmp_path, capsys):
    from parley.dal import directory as store

    t, _ = tenant
    bad = [
        "not json",
        line("users", USER_ID, {"nickname": "x", "last-sync-time": T1}),  # unknown attribute
        line("individuals", IND_ID, {"first-name": "Pat"}),  # no last-sync-time anywhere
        line("pets", "p1", {}, T1),  # unknown type
        line("organizations", ORG_ID, {"name": "northside"}, "yesterday"),  # not a time
        LINES[0],
    ]
    assert run_import(tmp_path, t.id, bad) == 1
    captured = capsys.readouterr()
    problems = [json.loads(x) for x in captured.err.strip().splitlines()]
    assert [p["line"] for p in problems] == [1, 2, 3, 4, 5]
    assert "nickname: unknown attribute" in problems[1]["error"] and "last-sync-time" in problems[2]["error"]
    assert json.loads(captured.out.strip().splitlines()[-1]) == {"read": 6, "written": 1, "deleted": 0, "unchanged": 0, "invalid": 5}
    assert store.get(t.id, "organizations", ORG_ID) is not None and store.get(t.id, "users", USER_ID) is None


def test_get_routes_answer_the_seeds_shapes(handler, tenant, tmp_path):
    t, _ = tenant
    assert run_import(tmp_path, t.id, LINES) == 0

    out = get(handler, "get_user", t.id, f"/v1/users/{USER_ID}/", path_params={"id": USER_ID})
    assert out["statusCode"] == 200, out
    assert out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    doc = body(out)
    assert doc == {
        "data": {
            "id": USER_ID,
            "type": "users",
            "attributes": {
                "auto-sign-up": None, "communication-preferences": {"quiet": {"from": "22:00"}}, "email": "Pat@Example.com",
                "email-verified": True, "first-name": "Pat", "last-name": "Lee", "last-sync-time": "2026-11-01T09:00:00.000Z",
                "locale": None, "locale-explicit": None, "notifications": ["email"], "phone": "+15555550100",
                "phone-unsubscribed": None, "phone-verified": None, "primary-individual-id": IND_ID, "sms-mode": "disabled",
                "state": None, "tz": None, "tz-explicit": None, "username": "pat",
            },
        },
        "meta": {},
    }  # fmt: skip

    ind = body(get(handler, "get_individual", t.id, f"/v1/individuals/{IND_ID}", path_params={"id": IND_ID}))
    assert ind["data"]["type"] == "individuals" and ind["data"]["attributes"]["birth-date"] == "1980-02-03"
    assert ind["data"]["attributes"]["owner-id"] == USER_ID
    grp = body(get(handler, "get_individual_group", t.id, f"/v1/individual-groups/{GROUP_ID}/", path_params={"id": GROUP_ID}))
    assert grp["data"]["attributes"]["individuals"] == [{"id": IND_ID}] and grp["data"]["attributes"]["leaders"] == []
    assert grp["data"]["attributes"]["last-sync-time"] == "2026-11-01T09:00:00.000Z"
    org = body(get(handler, "get_organization", t.id, f"/v1/organizations/{ORG_ID}/", path_params={"id": ORG_ID}))
    assert org["data"]["attributes"]["display-name"] == "Northside Clinic"


def test_lists_page_and_filter(handler, tenant, tmp_path):
    t, _ = tenant
    assert run_import(tmp_path, t.id, LINES) == 0

    first = body(get(handler, "list_users", t.id, "/v1/users/", query={"page[limit]": "1"}))
    assert first["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 0}
    second = body(get(handler, "list_users", t.id, "/v1/users", query={"page[limit]": "1", "page[offset]": "1"}))
    assert second["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 1}
    assert [first["data"][0]["id"], second["data"][0]["id"]] == sorted([USER_ID, USER2_ID])
    default = body(get(handler, "list_users", t.id, "/v1/users", query=None))
    assert default["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}

    by_email = body(get(handler, "list_users", t.id, "/v1/users", query={"filter[email]": "pat@example.com"}))
    assert [u["id"] for u in by_email["data"]] == [USER_ID] and by_email["meta"]["page[total]"] == 1
    by_name = body(get(handler, "list_users", t.id, "/v1/users", query={"filter[username]": "sam"}))
    assert [u["id"] for u in by_name["data"]] == [USER2_ID]
    by_individual = body(get(handler, "list_users", t.id, "/v1/users", query={"filter[individual-id]": IND_ID}))
    assert [u["id"] for u in by_individual["data"]] == [USER_ID]
    both = body(get(handler, "list_users", t.id, "/v1/users", query={"filter[email]": "pat@example.com", "filter[username]": "sam"}))
    assert both == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}
    orgs = body(get(handler, "list_organizations", t.id, "/v1/organizations", query={"filter[name]": "Northside"}))
    assert [o["id"] for o in orgs["data"]] == [ORG_ID] and orgs["data"][0]["type"] == "organizations"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"page[limit]": "0"}, "page[limit]"),
        ({"page[limit]": "1001"}, "page[limit]"),
        ({"page[offset]": "-1"}, "page[offset]"),
        ({"page[limit]": "ten"}, "page[limit]"),
        ({"filter[nickname]": "x"}, "filter[nickname]"),
        ({"sort": "-username"}, "sort"),
        ({"page[size]": "3"}, "page[size]"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(handler, tenant, query, parameter):
    t, _ = tenant
    out = get(handler, "list_users", t.id, "/v1/users/", query=query)
    assert out["statusCode"] == 400, out
    assert out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    (error,) = body(out)["errors"]
    assert error["status"] == 400 and isinstance(error["status"], int)
    assert error["source"] == {"parameter": parameter} and error["code"] and error["detail"]


def test_another_tenants_ids_are_404(handler, tenant, other_tenant, tmp_path):
    t, _ = tenant
    o, _ = other_tenant
    assert run_import(tmp_path, t.id, LINES) == 0
    for fn, path in [
        ("get_user", f"/v1/users/{USER_ID}/"),
        ("get_individual", f"/v1/individuals/{IND_ID}/"),
        ("get_individual_group", f"/v1/individual-groups/{GROUP_ID}/"),
        ("get_organization", f"/v1/organizations/{ORG_ID}/"),
    ]:
        out = get(handler, fn, o.id, path, path_params={"id": path.split("/")[3]})
        assert out["statusCode"] == 404, (fn, out)
        assert body(out) == {"errors": [{"status": 404, "code": "not-found", "detail": body(out)["errors"][0]["detail"]}]}
        assert path.split("/")[3] in body(out)["errors"][0]["detail"]
    lists = body(get(handler, "list_users", o.id, "/v1/users", query={"filter[email]": "pat@example.com"}))
    assert lists == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}
    assert body(get(handler, "list_organizations", o.id, "/v1/organizations", query=None))["meta"]["page[total]"] == 0


def test_import_deletes_are_ordered_tombstones(handler, tenant, tmp_path, capsys):
    from parley.dal import directory as store

    t, _ = tenant
    assert run_import(tmp_path, t.id, LINES) == 0
    capsys.readouterr()
    delete = json.dumps({"type": "users", "id": USER_ID, "last-sync-time": T2, "deleted": True})
    stale_delete = json.dumps({"type": "organizations", "id": ORG_ID, "last-sync-time": "2026-10-01T00:00:00Z", "deleted": True})
    older_upsert = line("users", USER_ID, {**USER, "email": "late@example.com", "last-sync-time": T1})
    assert run_import(tmp_path, t.id, [delete, stale_delete, older_upsert, delete]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {"read": 4, "written": 1, "deleted": 1, "unchanged": 3, "invalid": 0}
    assert store.get(t.id, "users", USER_ID) is None and store.get_any(t.id, "users", USER_ID)["sync_time"] == "2026-11-02T09:00:00.000Z"
    assert store.get(t.id, "organizations", ORG_ID) is not None  # the older delete did not remove the newer organization
    assert get(handler, "get_user", t.id, f"/v1/users/{USER_ID}/", path_params={"id": USER_ID})["statusCode"] == 404
    listed = body(get(handler, "list_users", t.id, "/v1/users/", query={"page[limit]": "1"}))
    assert [u["id"] for u in listed["data"]] == [USER2_ID] and listed["meta"]["page[total]"] == 1
    assert body(get(handler, "list_users", t.id, "/v1/users", query={"filter[individual-id]": IND_ID}))["data"] == []
    # paging past a tombstone: offsets count live entities only
    assert body(get(handler, "list_users", t.id, "/v1/users", query={"page[offset]": "1"}))["data"] == []
    # a delete of an entity never seen is kept too: an older upsert arriving later is ignored
    ghost = json.dumps({"type": "individuals", "id": "ghost", "last-sync-time": T3, "deleted": True})
    assert run_import(tmp_path, t.id, [ghost, line("individuals", "ghost", {"first-name": "G"}, T2)]) == 0
    assert store.get(t.id, "individuals", "ghost") is None
