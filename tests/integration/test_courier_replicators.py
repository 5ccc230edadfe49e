"""Courier replicators (issue 15) on moto, against a fake upstream JSON:API server on a local port: `replicator
create` stores the replicator and its rate() schedule (in the replicators' group, invoking the poller's alias); the
poller pages through the upstream (links.next, the seed's offset meta), applies each resource in last-sync-time order
(an older update ignored, deletes as tombstones, an invalid resource skipped), sends filter[since] once a poll has
succeeded and advances last-poll-time only after a whole successful poll; the admin API's two routes answer the
seed's shape; tenants are isolated."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from helpers import api_event, body

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"


class Upstream:
    """Serves ``pages[path?query]`` (a dict, or an int: that HTTP status); records every request."""

    def __init__(self) -> None:
        self.pages: dict[str, object] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.requests.append((self.path, dict(self.headers)))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "filter[since]"}
                key = parts.path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(query.items())) if query else "")
                page = upstream.pages.get(key, 404)
                status, raw = (page, b"{}") if isinstance(page, int) else (200, json.dumps(page).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.api+json")
                self.send_header("Content-Length", str(len(raw)))
                if status == 302:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def env(aws, monkeypatch):
    """The operator's environment (what `python -m parley.admin` reads from the stack's outputs)."""
    from parley.settings import get_settings

    root = aws.root
    monkeypatch.setenv("REPLICATOR_SCHEDULE_GROUP_NAME", root.ref("ReplicatorScheduleGroup"))
    monkeypatch.setenv("REPLICATOR_FUNCTION_ARN", root.resolve({"Ref": "ReplicatorFunction.Alias"}))
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", root.get_att("SchedulerRole", "Arn"))
    get_settings.cache_clear()
    return aws


def user(id_, email, sync_time, **meta):
    res = {"type": "users", "id": id_, "attributes": {"username": id_, "email": email, "last-sync-time": sync_time}}
    return {**res, "meta": meta} if meta else res


def cli(*argv, stdin=None, monkeypatch=None):
    from parley import admin

    return admin.main(list(argv))


def create(capsys, tenant_id, url, *extra):
    assert cli("replicator", "create", "--tenant-id", tenant_id, "--entity-type", "users", "--url", url, *extra) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def call(handler, fn, tenant_id, path, path_params=None, query=None):
    ev = api_event(f"courier_admin/{fn}", tenant_id=tenant_id, query=query)
    ev["path"], ev["pathParameters"] = path, path_params
    return handler(f"CourierAdminApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)


def test_create_stores_the_replicator_and_its_rate_schedule(env, tenant, capsys, handler):
    from parley.dal import replicators as store
    from parley.dal.aws import client

    t, _ = tenant
    made = create(capsys, t.id, "https://platform.example/v1/users/", "--every-minutes", "10")
    assert made["classpath"] == "parley.replicators.jsonapi/users" and made["last-poll-time"] is None
    rep = store.get(t.id, made["id"])
    assert rep.url == "https://platform.example/v1/users/" and rep.every_minutes == 10 and rep.secret_name is None
    sched = client("scheduler").get_schedule(GroupName=env.root.ref("ReplicatorScheduleGroup"), Name=rep.schedule_name)
    assert sched["ScheduleExpression"] == "rate(10 minutes)" and sched["State"] == "ENABLED"
    assert sched["Target"]["Arn"] == env.root.resolve({"Ref": "ReplicatorFunction.Alias"}) and sched["Target"]["Arn"].endswith(":live")
    assert json.loads(sched["Target"]["Input"]) == {"tenant-id": t.id, "replicator-id": made["id"]}

    # the admin API: the seed's shape
    out = call(handler, "get_replicator", t.id, f"/v1/replicators/{made['id']}/", {"id": made["id"]})
    assert out["statusCode"] == 200 and out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    attributes = {"classpath": "parley.replicators.jsonapi/users", "created-time": rep.created_time, "last-poll-time": None}
    assert body(out) == {"data": {"id": made["id"], "type": "replicators", "attributes": attributes}, "meta": {}}
    listed = body(call(handler, "list_replicators", t.id, "/v1/replicators/"))
    assert [r["id"] for r in listed["data"]] == [made["id"]]
    assert listed["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "ftp://platform.example/users"], "http(s)"),
        (["--url", "https://platform.example/v1/users/", "--every-minutes", "0"], "every"),
    ],
)
def test_create_refuses_bad_input(env, tenant, capsys, argv, message):
    t, _ = tenant
    assert cli("replicator", "create", "--tenant-id", t.id, "--entity-type", "users", *argv) == 1
    assert message in capsys.readouterr().err


def test_create_refuses_an_unknown_tenant(env, capsys):
    assert cli("replicator", "create", "--tenant-id", "nobody", "--entity-type", "users", "--url", "https://x.example/") == 1
    assert "no tenant" in capsys.readouterr().err


def test_a_poll_pages_through_the_upstream_in_order_and_advances_last_poll_time(env, tenant, capsys, upstream, handler):
    from parley.dal import directory
    from parley.dal import replicators as store
    from parley.domain import replicators

    t, _ = tenant
    # already stored, newer than what the upstream will send for it
    assert directory.put_if_newer(t.id, "users", "kept", "2026-11-05T00:00:00.000Z", {"email": "kept@example.com"})
    directory.put_if_newer(t.id, "users", "gone", "2026-11-01T00:00:00.000Z", {"email": "gone@example.com"})
    upstream.pages = {
        "/v1/users/": {"data": [user("a", "a@example.com", T1), user("kept", "old@example.com", T2)],
                       "links": {"next": "/v1/users/?page=2"}},
        "/v1/users/?page=2": {"data": [{"type": "users", "id": "gone", "meta": {"last-sync-time": T2, "deleted": True}},
                                       {"type": "users", "id": "bad", "attributes": {"nickname": "x", "last-sync-time": T1}},
                                       {"type": "organizations", "id": "o1", "attributes": {}}],
                              "links": {"next": f"{upstream.url}/v1/users/?page=3"}},
        "/v1/users/?page=3": {"data": [user("b", "b@example.com", T3)], "links": {"next": None}},
    }  # fmt: skip
    made = create(capsys, t.id, f"{upstream.url}/v1/users/")
    summary = replicators.poll(t.id, made["id"])
    assert (summary.pages, summary.read, summary.written, summary.unchanged, len(summary.invalid)) == (3, 6, 3, 1, 2)
    assert [p for p, _ in upstream.requests] == ["/v1/users/", "/v1/users/?page=2", "/v1/users/?page=3"]  # no filter[since] yet
    assert directory.attributes(directory.get(t.id, "users", "kept"))["email"] == "kept@example.com"  # the older update ignored
    assert directory.get(t.id, "users", "gone") is None and directory.get_any(t.id, "users", "gone")["deleted"] is True
    assert directory.get(t.id, "users", "a") is not None and directory.get(t.id, "users", "b") is not None
    assert directory.get(t.id, "users", "bad") is None
    rep = store.get(t.id, made["id"])
    assert rep.last_poll_time == summary.poll_time and rep.last_error is None
    got = body(call(handler, "get_replicator", t.id, f"/v1/replicators/{made['id']}", {"id": made["id"]}))
    assert got["data"]["attributes"]["last-poll-time"] == summary.poll_time

    # the next poll asks for what changed since the last one started
    upstream.requests.clear()
    second = replicators.poll(t.id, made["id"])
    first_request = urlsplit(upstream.requests[0][0])
    assert parse_qs(first_request.query)["filter[since]"] == [summary.poll_time]
    assert second.written == 0 and store.get(t.id, made["id"]).last_poll_time == second.poll_time > summary.poll_time


def test_the_seeds_offset_meta_pages_too(env, tenant, capsys, upstream):
    from parley.dal import directory
    from parley.domain import replicators

    t, _ = tenant
    meta = {"page[total]": 3, "page[limit]": 2}
    upstream.pages = {
        "/users": {"data": [user("u1", "1@example.com", T1), user("u2", "2@example.com", T1)], "meta": {**meta, "page[offset]": 0}},
        "/users?page[offset]=2": {"data": [user("u3", "3@example.com", T1)], "meta": {**meta, "page[offset]": 2}},
    }
    made = create(capsys, t.id, f"{upstream.url}/users")
    summary = replicators.poll(t.id, made["id"])
    assert summary.pages == 2 and summary.written == 3
    assert all(directory.get(t.id, "users", u) for u in ("u1", "u2", "u3"))


@pytest.mark.parametrize("failure", [500, 302, "links-elsewhere", "not-jsonapi", "unreachable"])
def test_a_failed_poll_keeps_last_poll_time_and_says_why(env, tenant, capsys, upstream, failure):
    from parley.dal import directory
    from parley.dal import replicators as store
    from parley.domain import replicators

    t, _ = tenant
    upstream.pages = {"/v1/users/": {"data": [user("a", "a@example.com", T1)], "links": {"next": "/v1/users/?page=2"}}}
    made = create(capsys, t.id, f"{upstream.url}/v1/users/")
    upstream.pages["/v1/users/?page=2"] = {"data": [user("b", "b@example.com", T1)]}
    ok = replicators.poll(t.id, made["id"])
    assert store.get(t.id, made["id"]).last_poll_time == ok.poll_time

    if failure == "unreachable":
        store_rep = store.get(t.id, made["id"])
        from parley.dal import table

        table.try_update(store.pk(t.id), store.sk(made["id"]), "SET #u = :u", condition="attribute_exists(PK)",
                         values=table.values(u="http://127.0.0.1:9/v1/users/"), names={"#u": "url"})  # fmt: skip
        assert store_rep.url != store.get(t.id, made["id"]).url
    else:
        upstream.pages["/v1/users/?page=2"] = {
            500: 500,
            302: 302,
            "links-elsewhere": {"data": [], "links": {"next": "http://169.254.169.254/latest/"}},
            "not-jsonapi": ["a", "list"],
        }[failure]
        upstream.pages["/v1/users/"]["data"] = [user("a", "a2@example.com", T2)]
    with pytest.raises(replicators.ReplicationError):
        replicators.poll(t.id, made["id"])
    rep = store.get(t.id, made["id"])
    assert rep.last_poll_time == ok.poll_time and rep.last_error and rep.last_attempt_time > ok.poll_time
    if failure != "unreachable":  # page 1 was applied (ordered writes: applying it again next time is harmless)
        assert directory.attributes(directory.get(t.id, "users", "a"))["email"] == "a2@example.com"
    # the command says so, with exit status 1
    assert cli("replicator", "poll", "--tenant-id", t.id, made["id"]) == 1
    assert "last-poll-time kept" in capsys.readouterr().err


def test_the_token_comes_from_its_secret(env, tenant, capsys, upstream, monkeypatch):
    import io

    from parley.dal import replicators as store
    from parley.domain import replicators

    t, _ = tenant
    upstream.pages = {"/u": {"data": []}}
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-token\n"))
    made = create(capsys, t.id, f"{upstream.url}/u", "--token-stdin")
    assert made["secret-name"] == f"parley/replicators/{t.id}/{made['id']}"
    replicators.poll(t.id, made["id"])
    assert upstream.requests[0][1]["Authorization"] == "Bearer s3cret-token"
    assert store.get(t.id, made["id"]).last_poll_time


def test_the_poller_function_runs_a_poll(env, tenant, capsys, upstream, handler):
    from parley.dal import directory

    t, _ = tenant
    upstream.pages = {"/u": {"data": [user("fn", "fn@example.com", T1)]}}
    made = create(capsys, t.id, f"{upstream.url}/u")
    out = handler("root.ReplicatorFunction")({"tenant-id": t.id, "replicator-id": made["id"]})
    assert out["polled"] is True and out["written"] == 1
    assert directory.get(t.id, "users", "fn") is not None
    assert handler("root.ReplicatorFunction")({"tenant-id": t.id, "replicator-id": "gone"}) == {"polled": False}
    with pytest.raises(ValueError, match="tenant-id"):
        handler("root.ReplicatorFunction")({"nothing": 1})


def test_tenants_are_isolated(env, tenant, other_tenant, capsys, upstream, handler):
    from parley.dal import directory
    from parley.domain import replicators

    t, _ = tenant
    o, _ = other_tenant
    upstream.pages = {"/u": {"data": [user("mine", "m@example.com", T1)]}}
    made = create(capsys, t.id, f"{upstream.url}/u")
    replicators.poll(t.id, made["id"])
    assert directory.get(o.id, "users", "mine") is None
    out = call(handler, "get_replicator", o.id, f"/v1/replicators/{made['id']}/", {"id": made["id"]})
    assert out["statusCode"] == 404 and body(out)["errors"][0]["code"] == "not-found"
    assert body(call(handler, "list_replicators", o.id, "/v1/replicators"))["data"] == []
    with pytest.raises(Exception, match="no replicator"):
        replicators.poll(o.id, made["id"])


def test_the_list_takes_no_parameters(handler, tenant):
    t, _ = tenant
    out = call(handler, "list_replicators", t.id, "/v1/replicators/", query={"page[limit]": "5"})
    assert out["statusCode"] == 400 and body(out)["errors"][0]["source"] == {"parameter": "page[limit]"}


def test_the_local_scheduler_fires_a_replicators_rate_schedule(env, tenant, capsys):
    """parley_local's SchedulerFirer: a rate() schedule of a declared group runs from its StartDate, then once a period
    (late: one run, not several), with the schedule's input, on the poller it targets; a disabled one does not."""
    from datetime import UTC, datetime, timedelta

    from parley.dal.aws import client
    from parley_local.stack import Provisioner
    from parley_local.workers import SchedulerFirer

    t, _ = tenant
    made = create(capsys, t.id, "https://platform.example/u", "--every-minutes", "2")
    invoked = []

    class Pool:
        def invoke(self, fn, payload):
            invoked.append((fn.logical_id, payload))

    firer = SchedulerFirer(Provisioner(None), env, Pool(), threading.Event())
    now = datetime.now(UTC)
    assert firer.fire_due(now + timedelta(seconds=1)) == 1  # StartDate: the creation time
    assert firer.fire_due(now + timedelta(seconds=60)) == 0
    assert firer.fire_due(now + timedelta(seconds=125)) == 1
    assert firer.fire_due(now + timedelta(seconds=1000)) == 1  # late: one run
    assert firer.fire_due(now + timedelta(seconds=1001)) == 0
    for th in list(threading.enumerate()):
        if th.daemon and th.name.startswith("Thread"):
            th.join(timeout=2)
    assert invoked == [("ReplicatorFunction", {"tenant-id": t.id, "replicator-id": made["id"]})] * 3

    group, name = env.root.ref("ReplicatorScheduleGroup"), f"replicator-{made['id']}"
    sched = client("scheduler").get_schedule(GroupName=group, Name=name)
    client("scheduler").update_schedule(Name=name, GroupName=group, ScheduleExpression=sched["ScheduleExpression"],
                                        FlexibleTimeWindow={"Mode": "OFF"}, Target=sched["Target"], State="DISABLED")  # fmt: skip
    assert firer.fire_due(now + timedelta(seconds=2000)) == 0
