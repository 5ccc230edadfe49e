"""The courier admin API (seed 003) over HTTP on the local stack: the directory replicated in by
`python -m parley.admin import-directory` against the running stack, then read through the gateway — JSON:API
shapes and media type, page meta, the seed's filters, paths with and without the trailing slash, another tenant's
id → 404 and API Gateway's own 401/404 as JSON:API error objects — and the stored state."""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"
USER_KEYS = {
    "auto-sign-up", "communication-preferences", "email", "email-verified", "first-name", "last-name", "last-sync-time", "locale",
    "locale-explicit", "notifications", "phone", "phone-unsubscribed", "phone-verified", "primary-individual-id", "sms-mode", "state",
    "tz", "tz-explicit", "username",
}  # fmt: skip
ORG_KEYS = {"classification", "display-name", "last-modified-time", "name", "provider-type", "timezone"}
INDIVIDUAL_KEYS = {"account-type", "birth-date", "first-name", "last-modified-time", "last-name", "owner-id", "preferred-name"}
GROUP_KEYS = {"individuals", "last-sync-time", "leaders", "name", "organization-id", "parent-id"}


def _get(local, key, path, **params):
    return requests.get(
        local.api + path, params=params or None, headers={"Authorization": f"Bearer {key}", "X-User-ID": "u-admin"}, timeout=30
    )


def _world():
    ids = {t: str(uuid.uuid4()) for t in ("org", "user", "user2", "individual", "group")}
    user = {
        "username": "pat", "email": "pat@example.com", "email-verified": True, "first-name": "Pat", "last-name": "Lee",
        "phone": "+15555550100", "phone-verified": False, "phone-unsubscribed": False, "locale": "en_US", "locale-explicit": True,
        "tz": "America/Chicago", "tz-explicit": False, "notifications": ["email"], "sms-mode": "disabled", "state": "active",
        "auto-sign-up": False, "communication-preferences": {}, "primary-individual-id": ids["individual"], "last-sync-time": T2,
    }  # fmt: skip
    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1,
         "attributes": {"name": "northside", "display-name": "Northside Clinic", "classification": "clinic", "provider-type": "primary",
                        "timezone": "America/Chicago", "last-modified-time": T1}},
        {"type": "users", "id": ids["user"], "attributes": user},
        {"type": "users", "id": ids["user2"], "attributes": {**user, "username": "sam", "email": "sam@example.com"}},
        {"type": "individuals", "id": ids["individual"], "last-sync-time": T1,
         "attributes": {"first-name": "Pat", "last-name": "Lee", "preferred-name": "P", "birth-date": "1980-02-03",
                        "account-type": "provider", "owner-id": ids["user"], "last-modified-time": T1}},
        {"type": "individual-groups", "id": ids["group"], "last-sync-time": T1,
         "attributes": {"name": "Care team", "organization-id": ids["org"], "parent-id": ids["org"],
                        "individuals": [{"id": ids["individual"]}], "leaders": [{"id": ids["individual"]}]}},
    ]  # fmt: skip
    return ids, user, lines


def test_directory_imported_then_read_over_http_with_the_seeds_shapes(local, emulator_env, tmp_path):
    from parley.dal import directory as store

    owner, stranger = local.new_tenant("courier-owner"), local.new_tenant("courier-stranger")
    key, tid = owner["apiKey"], owner["tenantId"]
    ids, user, lines = _world()
    assert import_directory(local, tmp_path, tid, lines) == {"read": 5, "written": 5, "deleted": 0, "unchanged": 0, "invalid": 0}
    # out of order: the newer email, then an older one — the older never overwrites it
    newer = {"type": "users", "id": ids["user"], "attributes": {**user, "email": "pat.lee@example.com", "last-sync-time": T3}}
    older = {"type": "users", "id": ids["user"], "attributes": {**user, "email": "stale@example.com", "last-sync-time": T1}}
    assert import_directory(local, tmp_path, tid, [newer, older]) == {"read": 2, "written": 1, "deleted": 0, "unchanged": 1, "invalid": 0}
    stored = store.get(tid, "users", ids["user"])
    assert stored["PK"] == f"TENANT#{tid}#DIR#users" and stored["sync_time"] == "2026-11-03T09:00:00.000Z"
    assert store.attributes(stored)["email"] == "pat.lee@example.com"

    # one user, with and without the trailing slash: the same JSON:API document
    got = _get(local, key, f"/v1/users/{ids['user']}/")
    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"] == "application/vnd.api+json"
    doc = got.json()
    assert set(doc) == {"data", "meta"} and doc["meta"] == {}
    assert (doc["data"]["id"], doc["data"]["type"]) == (ids["user"], "users")
    assert set(doc["data"]["attributes"]) == USER_KEYS
    assert doc["data"]["attributes"] == {**user, "email": "pat.lee@example.com", "last-sync-time": "2026-11-03T09:00:00.000Z"}
    assert _get(local, key, f"/v1/users/{ids['user']}").json() == doc

    org = _get(local, key, f"/v1/organizations/{ids['org']}/").json()["data"]
    assert org["type"] == "organizations" and set(org["attributes"]) == ORG_KEYS and org["attributes"]["display-name"] == "Northside Clinic"
    ind = _get(local, key, f"/v1/individuals/{ids['individual']}/").json()["data"]
    assert ind["type"] == "individuals" and set(ind["attributes"]) == INDIVIDUAL_KEYS and ind["attributes"]["birth-date"] == "1980-02-03"
    grp = _get(local, key, f"/v1/individual-groups/{ids['group']}/").json()["data"]
    assert grp["type"] == "individual-groups" and set(grp["attributes"]) == GROUP_KEYS
    assert grp["attributes"]["individuals"] == [{"id": ids["individual"]}] and grp["attributes"]["organization-id"] == ids["org"]

    # lists: page meta on every list, the seed's filters
    page = _get(local, key, "/v1/users/", **{"page[limit]": "1", "page[offset]": "1"})
    assert page.status_code == 200 and page.headers["Content-Type"] == "application/vnd.api+json"
    assert page.json()["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 1}
    assert [u["id"] for u in page.json()["data"]] == [sorted([ids["user"], ids["user2"]])[1]]
    assert [u["id"] for u in _get(local, key, "/v1/users", **{"filter[email]": "Pat.Lee@example.com"}).json()["data"]] == [ids["user"]]
    assert [u["id"] for u in _get(local, key, "/v1/users/", **{"filter[username]": "sam"}).json()["data"]] == [ids["user2"]]
    by_ind = _get(local, key, "/v1/users/", **{"filter[individual-id]": ids["individual"]}).json()
    assert [u["id"] for u in by_ind["data"]] == [ids["user"]] and by_ind["meta"]["page[total]"] == 1
    orgs = _get(local, key, "/v1/organizations/", **{"filter[name]": "northside"}).json()
    assert orgs == {"data": [org], "meta": {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}}

    # bad parameters: 400 naming the parameter
    bad = _get(local, key, "/v1/organizations/", **{"page[limit]": "1001"})
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/vnd.api+json"
    (error,) = bad.json()["errors"]
    assert error["status"] == 400 and error["source"] == {"parameter": "page[limit]"}
    assert _get(local, key, "/v1/users/", sort="-username").json()["errors"][0]["source"] == {"parameter": "sort"}

    # another tenant: the owner's ids are 404 in the JSON:API error shape; its lists are empty
    for path in (f"/v1/users/{ids['user']}/", f"/v1/organizations/{ids['org']}", f"/v1/individuals/{ids['individual']}/",
                 f"/v1/individual-groups/{ids['group']}/"):  # fmt: skip
        denied = _get(local, stranger["apiKey"], path)
        assert denied.status_code == 404, (path, denied.text)
        (error,) = denied.json()["errors"]
        assert (error["status"], error["code"]) == (404, "not-found") and path.strip("/").split("/")[-1] in error["detail"]
    empty = _get(local, stranger["apiKey"], "/v1/users/").json()
    assert empty == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}


def test_gateway_errors_are_json_api_error_objects(local):
    no_key = requests.get(local.api + "/v1/users/", timeout=30)
    assert no_key.status_code == 401
    assert no_key.json() == {"errors": [{"status": 401, "code": "unauthorized", "detail": "missing or invalid API key"}]}
    bad_key = requests.get(local.api + "/v1/organizations", headers={"Authorization": "Bearer prl_nope"}, timeout=30)
    assert bad_key.status_code == 401 and bad_key.json()["errors"][0]["status"] == 401
    unknown = requests.get(local.api + "/v1/users/x/nothing-here/", headers={"Authorization": f"Bearer {local.demo_key}"}, timeout=30)
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": [{"status": 404, "code": "not-found", "detail": "no such route"}]}
    # as JSON:API's media type, like the handlers' answers (each gateway response declares its Content-Type)
    assert {r.headers["Content-Type"] for r in (no_key, bad_key, unknown)} == {"application/vnd.api+json"}
