"""Courier replicators on the local stack (issue 15): `python -m parley.admin replicator create` against the running
stack (its state file) stores a replicator and its rate() schedule; the local scheduler fires it at once (its
StartDate), ReplicatorFunction pages through a fake upstream JSON:API server on a local port, and the directory then
answers the upstream's users over HTTP; GET /v1/replicators/ and /v1/replicators/{id}/ answer the seed's shape with
last-poll-time set; another tenant's id is a 404. Stored state is checked in the table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from helpers import ROOT

T1 = "2026-11-01T09:00:00Z"


def _serve(pages, seen):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            page = pages.get(self.path.split("&filter")[0].split("?filter")[0])
            raw = json.dumps(page).encode() if page is not None else b"{}"
            self.send_response(200 if page is not None else 404)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _admin(local, tmp_path, *argv, stdin=None):
    state = tmp_path / ".local" / "stack.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"api": local.api, "emulator": local.emulator, "resources": local.resources}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env.update(PYTHONPATH=str(ROOT / "layers" / "common"), HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "parley.admin", *argv], cwd=tmp_path, env=env, input=stdin, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _get(local, key, path):
    return requests.get(local.api + path, headers={"Authorization": f"Bearer {key}", "X-User-ID": "u-admin"}, timeout=30)


def _until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_a_replicator_polls_its_upstream_on_its_schedule(local, emulator_env, tmp_path):
    from parley.dal import directory
    from parley.dal import replicators as store

    owner, stranger = local.new_tenant("replicator-owner"), local.new_tenant("replicator-stranger")
    key, tid = owner["apiKey"], owner["tenantId"]
    pages = {
        "/v1/users/": {"data": [{"type": "users", "id": "r-user-1", "attributes": {"username": "ann", "email": "ann@example.com",
                                                                                    "last-sync-time": T1}}],
                       "links": {"next": "/v1/users/?page=2"}},
        "/v1/users/?page=2": {"data": [{"type": "users", "id": "r-user-2", "attributes": {"username": "bo", "last-sync-time": T1}}]},
    }  # fmt: skip
    seen: list = []
    server = _serve(pages, seen)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/users/"
        made = _admin(local, tmp_path, "replicator", "create", "--tenant-id", tid, "--entity-type", "users", "--url", url,
                      "--every-minutes", "1", "--token-stdin", stdin="upstream-token\n")  # fmt: skip
        rid = made["id"]
        got = _until(lambda: (r := _get(local, key, "/v1/users/r-user-2/")).status_code == 200 and r)
        assert got, f"the replicator never brought the upstream's users in (upstream saw {seen})"
        assert got.json()["data"]["attributes"]["username"] == "bo"
        assert _get(local, key, "/v1/users/r-user-1").json()["data"]["attributes"]["email"] == "ann@example.com"
        assert seen[0] == ("/v1/users/", "Bearer upstream-token") and seen[1][0] == "/v1/users/?page=2"
        assert directory.get(tid, "users", "r-user-1")["sync_time"] == "2026-11-01T09:00:00.000Z"

        rep = _until(lambda: (r := store.get(tid, rid)) and r.last_poll_time and r)
        assert rep and rep.last_error is None
        one = _get(local, key, f"/v1/replicators/{rid}/")
        assert one.status_code == 200 and one.headers["Content-Type"] == "application/vnd.api+json"
        doc = one.json()
        assert doc == {"data": {"id": rid, "type": "replicators", "attributes": {
            "classpath": "parley.replicators.jsonapi/users", "created-time": rep.created_time,
            "last-poll-time": doc["data"]["attributes"]["last-poll-time"]}}, "meta": {}}  # fmt: skip
        assert doc["data"]["attributes"]["last-poll-time"] >= rep.created_time
        listed = _get(local, key, "/v1/replicators").json()
        assert [r["id"] for r in listed["data"]] == [rid] and listed["data"][0]["type"] == "replicators"
        assert listed["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
        other = _get(local, stranger["apiKey"], f"/v1/replicators/{rid}")
        assert other.status_code == 404 and other.json()["errors"][0]["code"] == "not-found"
        assert _get(local, stranger["apiKey"], "/v1/replicators/").json()["data"] == []
        assert _get(local, stranger["apiKey"], "/v1/users/r-user-1").status_code == 404

        # deleted: the schedule goes with it, the route answers 404
        assert _admin(local, tmp_path, "replicator", "delete", "--tenant-id", tid, rid) == {"deleted": rid}
        assert _get(local, key, f"/v1/replicators/{rid}/").status_code == 404
        from parley.dal.aws import client

        names = [
            s["Name"] for s in client("scheduler").list_schedules(GroupName=local.resources["REPLICATOR_SCHEDULE_GROUP_NAME"])["Schedules"]
        ]
        assert f"replicator-{rid}" not in names
    finally:
        server.shutdown()
        server.server_close()
