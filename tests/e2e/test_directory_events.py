"""Directory events on the local stack (issue 15): an event put on the stack's directory bus (EventBridge, in the
emulator) goes through the declared rule to DirectoryEventsQueue, the local SQS poller hands it to
DirectoryEventsFunction, and the entity is then read over HTTP through the courier admin API; a delete event makes
it a 404 and takes it out of the list; an older upsert sent after the delete stays ignored; a malformed event in the
same PutEvents call does not keep the good ones out. Stored state is checked in the table."""

from __future__ import annotations

import json
import time
import uuid

import requests

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"


def _get(local, key, path):
    return requests.get(local.api + path, headers={"Authorization": f"Bearer {key}", "X-User-ID": "u-admin"}, timeout=30)


def _put(local, *details):
    from parley.dal.aws import client

    entries = [
        {
            "Source": "parley.directory",
            "DetailType": kind,
            "Detail": json.dumps(detail),
            "EventBusName": local.resources["DIRECTORY_BUS_NAME"],
        }
        for kind, detail in details
    ]
    out = client("events").put_events(Entries=entries)
    assert out["FailedEntryCount"] == 0, out


def _until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_directory_events_reach_the_directory(local, emulator_env):
    from parley.dal import directory as store

    owner = local.new_tenant("directory-events")
    key, tid = owner["apiKey"], owner["tenantId"]
    uid, oid = str(uuid.uuid4()), str(uuid.uuid4())
    user = {"type": "users", "id": uid, "attributes": {"username": "pat", "email": "pat@example.com", "last-sync-time": T2}}
    org = {"type": "organizations", "id": oid, "last-sync-time": T1, "attributes": {"name": "northside", "display-name": "Northside"}}
    _put(
        local,
        ("upsert", {"tenant-id": tid, "entity": user}),
        ("upsert", {"tenant-id": tid, "entity": {"type": "pets", "id": "p1", "last-sync-time": T1}}),  # malformed: fails alone
        ("upsert", {"tenant-id": "no-such-tenant", "entity": user}),  # unknown tenant: fails alone
        ("upsert", {"tenant-id": tid, "entity": org}),
    )
    got = _until(lambda: (r := _get(local, key, f"/v1/users/{uid}/")).status_code == 200 and r)
    assert got, "the upsert event never reached the directory"
    assert got.headers["Content-Type"] == "application/vnd.api+json"
    data = got.json()["data"]
    assert data["id"] == uid and data["type"] == "users"
    assert data["attributes"]["email"] == "pat@example.com" and data["attributes"]["last-sync-time"] == "2026-11-02T09:00:00.000Z"
    assert _until(lambda: _get(local, key, f"/v1/organizations/{oid}").status_code == 200)
    stored = store.get(tid, "users", uid)
    assert stored["sync_time"] == "2026-11-02T09:00:00.000Z" and store.attributes(stored)["username"] == "pat"

    _put(local, ("delete", {"tenant-id": tid, "entity": {"type": "users", "id": uid, "last-sync-time": T3}}))
    assert _until(lambda: _get(local, key, f"/v1/users/{uid}/").status_code == 404), "the delete event was not applied"
    missing = _get(local, key, f"/v1/users/{uid}/").json()
    assert missing["errors"][0]["status"] == 404 and missing["errors"][0]["code"] == "not-found"
    assert _get(local, key, "/v1/users/").json() == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}
    assert store.get_any(tid, "users", uid)["deleted"] is True

    # an upsert older than the delete, then a marker: once the marker is in, the older upsert has been handled
    marker = {"type": "users", "id": str(uuid.uuid4()), "attributes": {"username": "m", "last-sync-time": T1}}
    late = {**user, "attributes": {**user["attributes"], "email": "late@example.com", "last-sync-time": T1}}
    _put(local, ("upsert", {"tenant-id": tid, "entity": late}), ("upsert", {"tenant-id": tid, "entity": marker}))
    assert _until(lambda: _get(local, key, f"/v1/users/{marker['id']}").status_code == 200)
    assert _get(local, key, f"/v1/users/{uid}/").status_code == 404
    assert store.get(tid, "users", uid) is None
