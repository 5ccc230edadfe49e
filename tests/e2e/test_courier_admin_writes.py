"""The courier admin API's writes over HTTP on the local stack: the deprecated `PATCH /v1/users/{id}/` (the seed's
shape, a local override that a later replica update of `notifications` supersedes, a user token may change only its
own user) and `GET`/`POST /v1/org-preferences/` (defaults, the upsert, value/value-js) — answers and stored state."""

from __future__ import annotations

import json
import uuid

import requests
from e2e.test_courier_admin import T1, T3, USER_KEYS, _world  # the directory's shapes, shared

from helpers import import_directory as _import

MEDIA = "application/vnd.api+json"
PREF_KEYS = {"created-at", "explicit", "name", "organization-id", "type", "value", "value-js"}


def _send(local, credential, method, path, *, doc=None, params=None, ctype=MEDIA):
    headers = {"Authorization": f"Bearer {credential}"}
    if credential.startswith("prl_"):  # the API key names its acting user; a user token is its user (another: 403)
        headers["X-User-ID"] = "u-admin"
    if doc is not None:
        headers["Content-Type"] = ctype
    data = json.dumps(doc) if doc is not None else None
    return requests.request(method, local.api + path, params=params, data=data, headers=headers, timeout=30)


def _token(local, sub):
    minted = requests.post(f"{local.api}/_local/user-token", json={"sub": sub}, timeout=30)
    assert minted.status_code == 201, minted.text
    return minted.json()


def _patch_doc(user_id, attributes):
    return {"data": {"type": "users", "id": user_id, "attributes": attributes}, "meta": {}}


def test_users_patch_over_http(local, emulator_env, tmp_path):
    from parley.dal import directory as store

    owner, stranger = local.new_tenant("courier-patch"), local.new_tenant("courier-patch-stranger")
    key, tid = owner["apiKey"], owner["tenantId"]
    ids, user, lines = _world()
    assert _import(local, tmp_path, tid, lines)["written"] == 5

    # the seed's request sample, with and without the trailing slash; the seed's 200 shape
    got = _send(local, key, "PATCH", f"/v1/users/{ids['user']}/", doc=_patch_doc(ids["user"], {"notifications": ["sms", "email"]}))
    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"] == MEDIA
    doc = got.json()
    assert set(doc) == {"data", "meta"} and doc["meta"] == {}
    assert (doc["data"]["id"], doc["data"]["type"]) == (ids["user"], "users") and set(doc["data"]["attributes"]) == USER_KEYS
    assert doc["data"]["attributes"] == {**user, "notifications": ["sms", "email"], "last-sync-time": "2026-11-02T09:00:00.000Z"}
    assert _send(local, key, "GET", f"/v1/users/{ids['user']}").json() == doc
    # stored: the replica's value untouched, the override beside it
    stored = store.get(tid, "users", ids["user"])
    assert store.attributes(stored)["notifications"] == ["email"]
    assert (json.loads(stored["local_notifications"]), stored["local_base"]) == (["sms", "email"], '["email"]')
    again = _send(local, key, "PATCH", f"/v1/users/{ids['user']}", doc=_patch_doc(ids["user"], {"notifications": ["sms", "email"]}),
                  ctype="application/json")  # fmt: skip
    assert again.status_code == 200 and again.json() == doc

    # a replica update that leaves notifications alone keeps the change; one that changes them wins
    same = {"type": "users", "id": ids["user"], "attributes": {**user, "first-name": "Patricia", "last-sync-time": T3}}
    assert _import(local, tmp_path, tid, [same])["written"] == 1
    attrs = _send(local, key, "GET", f"/v1/users/{ids['user']}/").json()["data"]["attributes"]
    assert (attrs["first-name"], attrs["notifications"]) == ("Patricia", ["sms", "email"])
    newer = {
        "type": "users",
        "id": ids["user"],
        "last-sync-time": "2026-11-04T09:00:00Z",
        "attributes": {**user, "notifications": ["push"]},
    }
    assert _import(local, tmp_path, tid, [newer])["written"] == 1
    assert _send(local, key, "GET", f"/v1/users/{ids['user']}/").json()["data"]["attributes"]["notifications"] == ["push"]
    assert "local_notifications" not in store.get(tid, "users", ids["user"])

    # anything but notifications: 400 naming it; data.id against the path: 409; unchanged
    bad = _send(local, key, "PATCH", f"/v1/users/{ids['user']}/", doc=_patch_doc(ids["user"], {"email": "x@example.com"}))
    assert bad.status_code == 400 and bad.headers["Content-Type"] == MEDIA
    (error,) = bad.json()["errors"]
    assert (error["status"], error["source"]) == (400, {"pointer": "/data/attributes/email"})
    clash = _send(local, key, "PATCH", f"/v1/users/{ids['user']}/", doc=_patch_doc(ids["user2"], {"notifications": []}))
    assert clash.status_code == 409 and clash.json()["errors"][0]["source"] == {"pointer": "/data/id"}
    assert _send(local, key, "PATCH", f"/v1/users/{ids['user']}/", doc=_patch_doc(ids["user"], {}), ctype="text/plain").status_code == 415
    assert store.attributes(store.get(tid, "users", ids["user"]))["email"] == user["email"]
    assert "local_notifications" not in store.get(tid, "users", ids["user"])

    # another tenant: 404, nothing stored
    denied = _send(local, stranger["apiKey"], "PATCH", f"/v1/users/{ids['user']}/", doc=_patch_doc(ids["user"], {"notifications": []}))
    assert denied.status_code == 404 and denied.json()["errors"][0]["code"] == "not-found"
    assert "local_notifications" not in store.get(tid, "users", ids["user"])


def test_a_user_token_patches_only_its_own_user(local, emulator_env, tmp_path):
    from parley.dal import directory as store

    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    minted = _token(local, me)
    tid = minted["tenantId"]  # the demo tenant, whose tokens the local stack mints
    line = {"username": f"u-{me[:8]}", "email": f"{me[:8]}@example.com", "notifications": ["email"], "last-sync-time": T1}
    users = [{"type": "users", "id": uid, "attributes": line} for uid in (me, other)]
    assert _import(local, tmp_path, tid, users)["written"] == 2

    mine = _send(local, minted["token"], "PATCH", f"/v1/users/{me}/", doc=_patch_doc(me, {"notifications": ["sms"]}))
    assert mine.status_code == 200, mine.text
    assert mine.json()["data"]["attributes"]["notifications"] == ["sms"]
    theirs = _send(local, minted["token"], "PATCH", f"/v1/users/{other}/", doc=_patch_doc(other, {"notifications": ["sms"]}))
    assert theirs.status_code == 403 and theirs.headers["Content-Type"] == MEDIA
    assert theirs.json()["errors"][0]["code"] == "not-own-user"
    assert "local_notifications" not in store.get(tid, "users", other)
    # the tenant's API key may change any of its users
    assert _send(local, local.demo_key, "PATCH", f"/v1/users/{other}", doc=_patch_doc(other, {"notifications": []})).status_code == 200
    assert json.loads(store.get(tid, "users", other)["local_notifications"]) == []


def test_org_preferences_over_http(local, emulator_env, tmp_path):
    from parley.dal import org_preferences as store

    owner, stranger = local.new_tenant("courier-prefs"), local.new_tenant("courier-prefs-stranger")
    key, tid = owner["apiKey"], owner["tenantId"]
    ids, _, lines = _world()
    assert _import(local, tmp_path, tid, lines[:1])["written"] == 1
    org = ids["org"]

    # before anything is set: the three names, as defaults
    listed = _send(local, key, "GET", "/v1/org-preferences/", params={"organization-id": org})
    assert listed.status_code == 200, listed.text
    assert listed.headers["Content-Type"] == MEDIA
    doc = listed.json()
    assert doc["meta"] == {"page[total]": 3, "page[limit]": 3, "page[offset]": 0}
    assert [r["attributes"]["name"] for r in doc["data"]] == ["default-channel-title", "group-provider-ack", "initial-sms-message"]
    for r in doc["data"]:
        assert r["type"] == "org-preferences" and str(uuid.UUID(r["id"])) == r["id"] and set(r["attributes"]) == PREF_KEYS
        attrs = r["attributes"]
        assert (attrs["explicit"], attrs["created-at"], attrs["organization-id"], attrs["type"]) == (False, None, org, "json")
        assert json.loads(attrs["value"]) == attrs["value-js"]
    assert store.of_organization(tid, org) == []

    # the seed's request sample's shape (value and value-js, agreeing): 201 and the seed's answer
    sample = {"name": "default-channel-title", "organization-id": org, "type": "json", "value": '"Care team"', "value-js": "Care team"}
    payload = {"data": {"type": "org-preferences", "attributes": sample}, "meta": {}}
    made = _send(local, key, "POST", "/v1/org-preferences/", doc=payload)
    assert made.status_code == 201, made.text
    assert made.headers["Content-Type"] == MEDIA
    made_doc = made.json()
    assert set(made_doc) == {"data", "meta"} and made_doc["meta"] == {} and set(made_doc["data"]["attributes"]) == PREF_KEYS
    attrs = made_doc["data"]["attributes"]
    assert (attrs["value"], attrs["value-js"], attrs["explicit"], attrs["name"]) == (
        '"Care team"',
        "Care team",
        True,
        "default-channel-title",
    )
    assert made_doc["data"]["id"] == doc["data"][0]["id"]  # the same id set as defaulted
    (item,) = store.of_organization(tid, org)
    assert item == {"PK": f"TENANT#{tid}#ORGPREF#{org}", "SK": "PREF#default-channel-title", "type": "org_preference",
                    "organization_id": org, "name": "default-channel-title", "value": '"Care team"',
                    "created_at": attrs["created-at"]}  # fmt: skip

    # an upsert: the same POST again changes nothing; a new value keeps created-at
    assert _send(local, key, "POST", "/v1/org-preferences", doc=payload, ctype="application/json").json() == made_doc
    assert store.of_organization(tid, org) == [item]
    new = {"data": {"type": "org-preferences", "attributes": {"name": "default-channel-title", "organization-id": org, "value-js": "Team"}}}
    changed = _send(local, key, "POST", "/v1/org-preferences/", doc=new).json()["data"]["attributes"]
    assert (changed["value"], changed["created-at"]) == ('"Team"', attrs["created-at"])
    one = _send(local, key, "GET", "/v1/org-preferences", params={"organization-id": org, "filter[name]": "default-channel-title"}).json()
    assert [r["attributes"] for r in one["data"]] == [changed] and one["meta"]["page[total]"] == 1

    # bad input: 400 naming the member or parameter, nothing stored
    mismatch = {"data": {"type": "org-preferences", "attributes": {"name": "group-provider-ack", "organization-id": org, "value": "true",
                                                                    "value-js": False}}}  # fmt: skip
    bad = _send(local, key, "POST", "/v1/org-preferences/", doc=mismatch)
    assert bad.status_code == 400 and bad.json()["errors"][0]["source"] == {"pointer": "/data/attributes/value-js"}
    missing = _send(local, key, "GET", "/v1/org-preferences/")
    assert missing.status_code == 400 and missing.json()["errors"][0]["source"] == {"parameter": "organization-id"}
    assert _send(local, key, "GET", "/v1/org-preferences/", params={"organization-id": org, "filter[name]": "x"}).status_code == 400

    # another tenant: the organization is not found, for reads and writes
    theirs = _send(local, stranger["apiKey"], "GET", "/v1/org-preferences/", params={"organization-id": org})
    assert theirs.status_code == 404 and theirs.json()["errors"][0]["source"] == {"parameter": "organization-id"}
    taken = _send(local, stranger["apiKey"], "POST", "/v1/org-preferences/", doc=new)
    assert taken.status_code == 404 and taken.json()["errors"][0]["source"] == {"pointer": "/data/attributes/organization-id"}
    assert store.of_organization(stranger["tenantId"], org) == []
    assert [i["value"] for i in store.of_organization(tid, org)] == ['"Team"']
