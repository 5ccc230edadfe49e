"""Courier sniffers over HTTP on the local stack (seed 003, issue 15): a sniffer is created through the gateway, the
sniffed user then calls a courier route with the tenant's API key + X-User-ID and with a user token minted by
``POST /_local/user-token``; get-logs shows both calls — the Authorization header redacted (``Bearer [redacted]``),
the response recorded — and nothing of an unsniffed user's call; another tenant's sniffer id is 404; stored state."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import requests

LOG_KEYS = {"body", "content_type", "created-time", "message", "method", "path", "query-string", "request-id", "response",
            "status-code", "trace-id", "user-agent"}  # fmt: skip
JSONAPI = "application/vnd.api+json"


def _call(local, method, path, authorization, user=None, **kw):
    headers = {"Authorization": authorization, **({"X-User-ID": user} if user else {}), **kw.pop("headers", {})}
    return requests.request(method, local.api + path, headers=headers, timeout=30, **kw)


def test_a_sniffed_users_calls_are_recorded_redacted_and_read_back(local, emulator_env):
    from parley import clock
    from parley.dal import sniffers as store
    from parley.dal import tenants
    from parley.domain import directory

    owner, stranger = local.new_tenant("sniffer-owner"), local.new_tenant("sniffer-stranger")
    tid, key = owner["tenantId"], owner["apiKey"]
    sniffed, other = str(uuid.uuid4()), str(uuid.uuid4())
    lines = [json.dumps({"type": "users", "id": u, "last-sync-time": "2026-11-01T09:00:00Z", "attributes": {"email": f"{n}@example.com"}})
             for u, n in ((sniffed, "pat"), (other, "sam"))]  # fmt: skip
    assert directory.import_lines(tid, lines).written == 2

    # create: 201, the seed's shape, stored (the sniffer, and the tenant item's map the authorizer reads)
    until = clock.iso(clock.now() + timedelta(hours=1))
    doc = {"data": {"type": "sniffers", "attributes": {"user-id": sniffed, "valid-until": until}}}
    bearer = f"Bearer {key}"
    out = _call(local, "POST", "/v1/sniffers/", bearer, "admin", json=doc, headers={"Content-Type": JSONAPI})
    assert out.status_code == 201, out.text
    assert out.headers["Content-Type"] == JSONAPI
    created = out.json()
    sniffer_id = created["data"]["id"]
    assert created["data"]["type"] == "sniffers" and created["meta"] == {}
    assert created["data"]["attributes"] == {"created-time": created["data"]["attributes"]["created-time"], "user-id": sniffed,
                                             "valid-until": until}  # fmt: skip
    assert store.get(tid, sniffer_id)["user_id"] == sniffed
    assert tenants.get(tid).sniffers[sniffer_id].user_id == sniffed
    got = _call(local, "GET", f"/v1/sniffers/{sniffer_id}/", bearer)
    assert got.status_code == 200 and got.json() == created

    # bad input: the JSON:API error object
    past = {"data": {"type": "sniffers", "attributes": {"user-id": sniffed, "valid-until": "2020-01-01T00:00:00Z"}}}
    bad = _call(local, "POST", "/v1/sniffers", bearer, json=past, headers={"Content-Type": JSONAPI})
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"] == {"pointer": "/data/attributes/valid-until"}, bad.text
    nobody = {"data": {"type": "sniffers", "attributes": {"user-id": "nobody", "valid-until": until}}}
    assert _call(local, "POST", "/v1/sniffers", bearer, json=nobody, headers={"Content-Type": JSONAPI}).status_code == 404

    time.sleep(float(local.parameters["AuthorizerCacheSeconds"]) + 0.5)  # the key's cached authorizer answer predates the sniffer

    # the sniffed user, with the API key + X-User-ID, and with a user token; an unsniffed user
    assert _call(local, "GET", f"/v1/users/{sniffed}/", bearer, sniffed, params={"access_token": "abc"}).status_code == 200
    minted = requests.post(f"{local.api}/_local/user-token", json={"sub": sniffed, "tenantId": tid}, timeout=30)
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    as_user = _call(local, "GET", f"/v1/users/{other}", f"Bearer {token}", headers={"User-Agent": "e2e-sniffer/1"})
    assert as_user.status_code == 200, as_user.text
    assert _call(local, "GET", f"/v1/users/{sniffed}", bearer, other).status_code == 200  # not sniffed: not recorded

    logs = _call(local, "GET", f"/v1/sniffers/{sniffer_id}/get-logs/", bearer, sniffed)
    assert logs.status_code == 200, logs.text
    assert logs.headers["Content-Type"] == JSONAPI
    page = logs.json()
    assert page["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    assert key not in logs.text and token not in logs.text
    first, second = (entry["attributes"] for entry in page["data"])
    assert all(entry["type"] == "sniffer-logs" and set(entry["attributes"]) == LOG_KEYS for entry in page["data"])
    assert (first["method"], first["path"], first["status-code"]) == ("GET", f"/v1/users/{sniffed}/", 200)
    assert "Authorization: Bearer [redacted]" in first["message"] and f": {sniffed}" in first["message"]  # its X-User-ID
    assert first["query-string"] == "access_token=%5Bredacted%5D"
    assert json.loads(first["response"])["data"]["attributes"]["email"] == "pat@example.com"
    assert (second["path"], second["user-agent"]) == (f"/v1/users/{other}", "e2e-sniffer/1")
    assert "Authorization: Bearer [redacted]" in second["message"]
    assert json.loads(second["response"])["data"]["id"] == other
    assert first["created-time"] <= second["created-time"] and first["request-id"] and first["request-id"] != second["request-id"]

    limited = _call(local, "GET", f"/v1/sniffers/{sniffer_id}/get-logs", bearer, params={"page[limit]": "1", "page[offset]": "1"})
    assert limited.json()["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 1}
    assert [e["attributes"]["path"] for e in limited.json()["data"]] == [f"/v1/users/{other}"]

    # stored: one item per recorded request, in the sniffed user's partition, expiring
    items, total = store.logs_page(tid, sniffed, "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z", 0, offset=0, limit=10)
    assert total == 2 and all(i["PK"] == f"TENANT#{tid}#SNIFFLOG#{sniffed}" and i["ttl"] > time.time() for i in items)

    # another tenant: 404 for the id, in both routes
    other_bearer = f"Bearer {stranger['apiKey']}"
    for path in (f"/v1/sniffers/{sniffer_id}/", f"/v1/sniffers/{sniffer_id}/get-logs/"):
        refused = _call(local, "GET", path, other_bearer)
        assert refused.status_code == 404 and refused.json()["errors"][0]["status"] == 404, refused.text
