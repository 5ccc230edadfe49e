"""Announcers, the courier events bus and messaging-operations on moto (issue 19, area 4): the routes' answers and
stored state; a directory change emits individual-shared on CourierEventsBus, whose rule (moto) delivers it to
AutomationQueue, where the announce job posts once per (announcer, event); move-group re-homes a group's channels,
keeps the members who stay (their state) and the messages, counts its progress exactly, and resumes after a kill."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"
ORG = "7d000000-0000-4000-8000-000000000001"
OTHER_ORG = "7d000000-0000-4000-8000-000000000002"
G1, G2 = "7d000000-0000-4000-8000-0000000000a1", "7d000000-0000-4000-8000-0000000000a2"
NAMES = ("pat", "sam", "lee", "kim", "ash")
USERS = {n: f"7d000000-0000-4000-8000-0000000000b{i}" for i, n in enumerate(NAMES, 1)}
IND = {n: f"7d000000-0000-4000-8000-0000000000c{i}" for i, n in enumerate(NAMES, 1)}
FN = {
    "list": "CourierAutomationApi.ListAnnouncersFunction",
    "create": "CourierAutomationApi.CreateAnnouncerFunction",
    "get": "CourierAutomationApi.GetAnnouncerFunction",
    "update": "CourierAutomationApi.UpdateAnnouncerFunction",
    "op-list": "CourierAutomationApi.ListMessagingOperationsFunction",
    "op-create": "CourierAutomationApi.CreateMessagingOperationFunction",
    "op-get": "CourierAutomationApi.GetMessagingOperationFunction",
}
EVENTS = {
    "list": "list_announcers",
    "create": "create_announcer",
    "get": "get_announcer",
    "update": "update_announcer",
    "op-list": "list_messaging_operations",
    "op-create": "create_messaging_operation",
    "op-get": "get_messaging_operation",
}
OPS = "/v1/messaging-operations/"
PATHS = {"list": "/v1/announcers/", "create": "/v1/announcers/", "get": "/v1/announcers/{}/", "update": "/v1/announcers/{}/",
         "op-list": OPS, "op-create": OPS, "op-get": OPS + "{}/"}  # fmt: skip


def line(type_, id_, attributes, at=T1):
    return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": at})


def group_line(group_id, members, at, org=ORG):
    return line("individual-groups", group_id, {"name": f"Group {group_id[-2:]}", "organization-id": org,
                                                "individuals": [{"id": IND[m]} for m in members], "last-sync-time": at}, at)  # fmt: skip


def seed_directory(tenant_id):
    from parley.domain import directory as d

    lines = [line("organizations", ORG, {"name": "northside"}), line("organizations", OTHER_ORG, {"name": "southside"})]
    for name, user in USERS.items():
        lines.append(line("users", user, {"username": name, "primary-individual-id": IND[name], "email": f"{name}@example.com"}))
        lines.append(line("individuals", IND[name], {"first-name": name.title(), "last-name": "Doe", "owner-id": user}))
    lines += [group_line(G1, ["sam", "lee"], T1), group_line(G2, ["sam", "kim"], T1)]
    assert d.import_lines(tenant_id, lines).invalid == []


@pytest.fixture
def automation_env(aws, monkeypatch):
    """The environment of AutomationFunction and DirectoryEventsFunction (the bus, the queues), for domain calls."""
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    for key in ("root.DirectoryEventsFunction", "root.AutomationFunction"):
        for name, value in aws.function(key).env.items():
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    aws_clients.reset()
    return aws.queues[next(a for a in aws.queues if a.endswith("-AutomationQueue"))]


@pytest.fixture
def org(tenant, automation_env, drain):
    t, _ = tenant
    seed_directory(t.id)
    drain(automation_env)  # the new groups shared their individuals: those events are not the tests'
    return t


def call(handler, route, tenant_id, *, as_="pat", id_=None, body_=..., query=None):
    ev = api_event(f"courier_automation/{EVENTS[route]}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": USERS[as_], "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
    ev["path"] = PATHS[route].format(id_)
    out = handler(FN[route])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def jobs(drain, url):
    from parley.domain import automation_jobs

    return [automation_jobs.parse(m["Body"]) for m in drain(url)]


def run_all(drain, url, *, limit=50):
    """Run AutomationQueue's jobs (and the jobs they queue) until it is empty: the kinds run, in order."""
    from parley.domain import automation_jobs

    ran = []
    for _ in range(limit):
        batch = jobs(drain, url)
        if not batch:
            return ran
        for job in batch:
            automation_jobs.handle(job)
            ran.append(job.kind)
    raise AssertionError("the jobs never ended")


def posted_in(tenant_id, channel_id):
    from parley.dal import channel_messages as store
    from parley.dal import table

    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=store.channel_messages_pk(tenant_id, channel_id)),
                           index="GSI3")  # fmt: skip


def group_channel(tenant_id, group_id, creator="pat"):
    from parley.domain import channels

    found = channels.group_members(tenant_id, group_id)
    chan, created = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id=IND[creator],
                                            individual_group_id=group_id, group_individual_ids=found[1])  # fmt: skip
    assert created
    return chan


def announcer_doc(**attrs):
    base = {"event": "individual-shared", "name": "Welcome", "organization-id": ORG, "type": "message",
            "args": {"message": "Welcome, {first-name} {last-name}!", "sender-individual-id": IND["pat"]}}  # fmt: skip
    return {"data": {"type": "announcers", "attributes": {**base, **attrs}}}


# ───────────── announcers: the routes ─────────────
def test_announcer_routes_answer_the_seed_shape_and_store_it(handler, org, other_tenant):
    from parley.dal import announcers as store

    status, out = call(handler, "create", org.id, body_=announcer_doc())
    assert status == 201, out
    a, aid = out["data"]["attributes"], out["data"]["id"]
    assert out["data"]["type"] == "announcers"
    assert set(a) == {
        "args",
        "created-at",
        "created-by",
        "event",
        "last-modified-at",
        "last-modified-by",
        "name",
        "organization-id",
        "type",
    }
    assert (a["event"], a["name"], a["organization-id"], a["type"], a["created-by"]) == (
        "individual-shared",
        "Welcome",
        ORG,
        "message",
        USERS["pat"],
    )
    assert a["args"] == {"message": "Welcome, {first-name} {last-name}!", "sender-individual-id": IND["pat"]}
    assert a["created-at"].endswith("Z")
    stored = store.get(org.id, aid)
    assert stored["GSI4PK"] == f"TENANT#{org.id}#ANNOUNCERS#EVENT#individual-shared" and stored["GSI3PK"].endswith(f"#ORG#{ORG}")
    assert stored["name_lc"] == "welcome" and stored["kind"] == "message"

    # bad input: 422 / 404 with pointers
    cases = [
        (announcer_doc(event="nope"), 422, "/data/attributes/event"),
        (announcer_doc(type="webhook"), 422, "/data/attributes/type"),
        (announcer_doc(args={"message": "hi"}), 422, "/data/attributes/args/sender-individual-id"),
        (announcer_doc(args={"message": "hi", "sender-individual-id": IND["pat"], "extra": 1}), 422, "/data/attributes/args/extra"),
        (announcer_doc(args={"message": "hi", "sender-individual-id": "nobody"}), 404, "/data/attributes/args/sender-individual-id"),
        (announcer_doc(args={"message": "hi", "sender-individual-id": IND["pat"], "individual-group-id": "nope"}), 404,
         "/data/attributes/args/individual-group-id"),
        (announcer_doc(**{"organization-id": "nope"}), 404, "/data/attributes/organization-id"),
    ]  # fmt: skip
    for doc, want, pointer in cases:
        status, err = call(handler, "create", org.id, body_=doc)
        assert status == want, (doc, err)
        assert err["errors"][0]["source"]["pointer"] == pointer

    # get; another tenant's id is a 404
    status, got = call(handler, "get", org.id, id_=aid)
    assert status == 200 and got["data"]["attributes"] == a
    assert call(handler, "get", other_tenant[0].id, id_=aid)[0] == 404
    assert call(handler, "get", org.id, id_="unknown")[0] == 404

    # list: the tenant's, an organization's, filter[name] (case-insensitive equality)
    call(handler, "create", org.id, body_=announcer_doc(name="Farewell", event="individual-unshared", **{"organization-id": OTHER_ORG}))
    status, listed = call(handler, "list", org.id, query={})
    assert status == 200 and [r["attributes"]["name"] for r in listed["data"]] == ["Welcome", "Farewell"]
    assert listed["meta"]["page[total]"] == 2
    _, by_org = call(handler, "list", org.id, query={"organization-id": OTHER_ORG})
    assert [r["attributes"]["name"] for r in by_org["data"]] == ["Farewell"]
    _, by_name = call(handler, "list", org.id, query={"filter[name]": "welcome"})
    assert [r["id"] for r in by_name["data"]] == [aid]
    assert call(handler, "list", org.id, query={"organization-id": "nope"})[0] == 404
    assert call(handler, "list", other_tenant[0].id, query={})[1]["data"] == []

    # PATCH: only what is sent; the result checked whole; null is a 422; another tenant's is a 404
    patch = {"data": {"type": "announcers", "id": aid, "attributes": {"name": "Hello", "event": "individual-unshared"}}}
    status, patched = call(handler, "update", org.id, as_="sam", id_=aid, body_=patch)
    pa = patched["data"]["attributes"]
    assert status == 200 and (pa["name"], pa["event"], pa["last-modified-by"], pa["created-by"]) == (
        "Hello",
        "individual-unshared",
        USERS["sam"],
        USERS["pat"],
    )
    assert pa["args"] == a["args"]
    stored = store.get(org.id, aid)
    assert stored["GSI4PK"].endswith("#EVENT#individual-unshared") and stored["name_lc"] == "hello"
    bad = {"data": {"type": "announcers", "id": aid, "attributes": {"type": "other"}}}
    assert call(handler, "update", org.id, id_=aid, body_=bad)[0] == 422
    null = {"data": {"type": "announcers", "id": aid, "attributes": {"name": None}}}
    assert call(handler, "update", org.id, id_=aid, body_=null)[0] == 422
    other_id = {"data": {"type": "announcers", "id": "x", "attributes": {"name": "x"}}}
    assert call(handler, "update", org.id, id_=aid, body_=other_id)[0] == 409
    assert call(handler, "update", other_tenant[0].id, id_=aid, body_=patch)[0] == 404
    assert store.get(org.id, aid)["name"] == "Hello"


# ───────────── the bus and the announce job ─────────────
def test_a_directory_change_emits_individual_shared_and_the_announcer_posts_once(handler, org, automation_env, drain):
    from parley.domain import automation_jobs, directory

    chan = group_channel(org.id, G1)
    other = group_channel(org.id, G2)
    drain(automation_env)
    status, out = call(handler, "create", org.id, body_=announcer_doc())
    assert status == 201
    aid = out["data"]["id"]
    # an announcer of another event, and one of another organization: neither posts
    call(handler, "create", org.id, body_=announcer_doc(event="individual-unshared", name="Bye"))
    call(handler, "create", org.id, body_=announcer_doc(name="Elsewhere", **{"organization-id": OTHER_ORG}))

    # kim joins G1: the directory's write emits individual-shared on the bus; moto's rule delivers it to AutomationQueue
    assert directory.apply(org.id, directory.parse_line(group_line(G1, ["sam", "lee", "kim"], T2)))
    queued = jobs(drain, automation_env)
    assert [(j.kind, j.tenant_id, j.data["detail-type"], j.data["source"]) for j in queued] == [
        ("announce", org.id, "individual-shared", "parley.courier")
    ]
    detail = queued[0].data["detail"]
    assert (detail["individual-id"], detail["individual-group-id"], detail["organization-id"], detail["sync-time"]) == (
        IND["kim"],
        G1,
        ORG,
        "2026-11-02T09:00:00.000Z",
    )

    automation_jobs.handle(queued[0])
    posted = posted_in(org.id, chan["id"])
    assert [(m["message"], m["source"], m["individual_id"]) for m in posted] == [("Welcome, Kim Doe!", "announcer", IND["pat"])]
    assert posted_in(org.id, other["id"]) == []  # the event's group's channels only
    from parley.dal import announcers as store

    ann = store.get_announcement(org.id, aid, detail["event-id"])
    assert ann["state"] == "done" and ann["posted"] == [{"channel_id": chan["id"], "message_id": posted[0]["id"]}]

    # the same event again (SQS redelivers): nothing new
    automation_jobs.handle(queued[0])
    assert len(posted_in(org.id, chan["id"])) == 1
    # the same directory change again (the platform re-sends it): not newer, nothing emitted
    assert not directory.apply(org.id, directory.parse_line(group_line(G1, ["sam", "lee", "kim"], T2)))
    assert jobs(drain, automation_env) == []
    # kim leaves: individual-unshared (the "Bye" announcer's event)
    directory.apply(org.id, directory.parse_line(group_line(G1, ["sam", "lee"], T3)))
    queued = jobs(drain, automation_env)
    assert [j.data["detail-type"] for j in queued] == ["individual-unshared"]
    automation_jobs.handle(queued[0])
    assert [m["message"] for m in posted_in(org.id, chan["id"])] == ["Welcome, Kim Doe!", "Welcome, Kim Doe!"]


def test_an_announcement_skips_a_channel_the_sender_is_not_in_and_resumes_after_a_failure(handler, org, automation_env, drain, monkeypatch):
    from parley.dal import announcers as store
    from parley.domain import announcers, channel_messages
    from parley.models.automation_jobs import AutomationJob

    a = group_channel(org.id, G1)
    b = group_channel(org.id, G1)
    c = group_channel(org.id, G2, creator="kim")  # pat is not a member
    args = {"message": "News", "sender-individual-id": IND["pat"], "channel-ids": [a["id"], b["id"], c["id"]]}
    _, out = call(handler, "create", org.id, body_=announcer_doc(args=args))
    aid = out["data"]["id"]
    event = {"id": "eb-1", "source": "parley.courier", "detail-type": "individual-shared",
             "detail": {"tenant-id": org.id, "event-id": "ev-1", "organization-id": ORG, "individual-id": IND["kim"]}}  # fmt: skip
    job = AutomationJob(tenant_id=org.id, kind="announce", id="eb-1", at=T1, data=event)

    real = channel_messages.post
    calls = {"n": 0}

    def flaky(*a_, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("throttled")
        return real(*a_, **kw)

    monkeypatch.setattr(channel_messages, "post", flaky)
    with pytest.raises(RuntimeError):
        announcers.run(job)
    midway = store.get_announcement(org.id, aid, "ev-1")
    assert midway["state"] == "claimed" and midway["pending"] == b["id"] and [p["channel_id"] for p in midway["posted"]] == [a["id"]]
    announcers.run(job)  # the retry posts the rest
    announcers.run(job)  # and a redelivery nothing
    assert [m["message"] for m in posted_in(org.id, a["id"])] == ["News"]
    assert [m["message"] for m in posted_in(org.id, b["id"])] == ["News"]
    assert posted_in(org.id, c["id"]) == []
    ann = store.get_announcement(org.id, aid, "ev-1")
    assert ann["state"] == "done" and [p["channel_id"] for p in ann["posted"]] == [a["id"], b["id"]]
    assert ann["skipped"] == [{"channel_id": c["id"], "reason": "not-found"}]
    # an event of another source, or another tenant's announcers: nothing
    announcers.run(AutomationJob(tenant_id="another", kind="announce", id="x", at=T1, data={**event, "id": "x"}))
    assert len(posted_in(org.id, a["id"])) == 1


# ───────────── operations ─────────────
def op_doc(**args):
    args = {"from-individual-group-id": G1, "to-individual-group-id": G2, **args}
    return {"data": {"type": "messaging-operations", "attributes": {"organization-id": ORG, "type": "move-group", "args": args}}}


def test_operation_routes_validate_and_answer_the_seed_shape(handler, org, other_tenant, automation_env, drain):
    status, out = call(handler, "op-create", org.id, body_=op_doc())
    assert status == 201, out
    a, oid = out["data"]["attributes"], out["data"]["id"]
    assert set(a) == {"args", "created-at", "created-by", "last-modified-at", "logs", "organization-id", "status", "type"}
    assert (a["status"], a["type"], a["organization-id"], a["created-by"]) == ("queued", "move-group", ORG, USERS["pat"])
    assert a["args"] == {"from-individual-group-id": G1, "to-individual-group-id": G2}
    assert a["logs"] == {"channels-moved": 0, "members-added": 0, "members-removed": 0}
    queued = jobs(drain, automation_env)
    assert [(j.kind, j.data) for j in queued] == [("operation", {"operation-id": oid})]

    cases = [
        ({"data": {"type": "messaging-operations", "attributes": {"organization-id": ORG, "type": "merge", "args": {}}}}, 422,
         "/data/attributes/type"),
        (op_doc(**{"to-individual-group-id": G1}), 422, "/data/attributes/args/to-individual-group-id"),
        (op_doc(**{"to-individual-group-id": "nope"}), 404, "/data/attributes/args/to-individual-group-id"),
        ({"data": {"type": "messaging-operations", "attributes": {"organization-id": ORG, "type": "move-group", "args": {}}}}, 422,
         "/data/attributes/args/from-individual-group-id"),
        ({"data": {"type": "messaging-operations", "attributes": {"organization-id": "nope", "type": "move-group", "args": {}}}}, 404,
         "/data/attributes/organization-id"),
    ]  # fmt: skip
    for doc, want, pointer in cases:
        status, err = call(handler, "op-create", org.id, body_=doc)
        assert status == want, (doc, err)
        assert err["errors"][0]["source"]["pointer"] == pointer
    assert jobs(drain, automation_env) == []  # nothing queued for a refused one

    status, got = call(handler, "op-get", org.id, id_=oid)
    assert status == 200 and got["data"]["attributes"]["args"] is None and got["data"]["attributes"]["status"] == "queued"
    _, got = call(handler, "op-get", org.id, id_=oid, query={"include-args": "true"})
    assert got["data"]["attributes"]["args"] == a["args"]
    assert call(handler, "op-get", other_tenant[0].id, id_=oid)[0] == 404
    status, listed = call(handler, "op-list", org.id, query={"organization-id": ORG, "filter[type]": "move-group", "include-args": "true"})
    assert status == 200 and [r["id"] for r in listed["data"]] == [oid] and listed["data"][0]["attributes"]["args"] == a["args"]
    assert listed["meta"]["page[total]"] == 1
    assert call(handler, "op-list", org.id, query={"organization-id": OTHER_ORG})[1]["data"] == []
    assert call(handler, "op-list", org.id, query={"organization-id": "nope"})[0] == 404
    assert call(handler, "op-list", org.id, query={"organization-id": ORG, "filter[type]": "other"})[0] in (400, 422)
    assert call(handler, "op-list", org.id, query={})[0] in (400, 422)
    assert call(handler, "op-list", other_tenant[0].id, query={"organization-id": ORG})[0] == 404


def test_move_group_rehomes_channels_keeps_members_state_and_messages_and_resumes_after_a_kill(
    handler, org, automation_env, drain, monkeypatch
):
    from parley.dal import channels as cstore
    from parley.dal import messaging_operations as ostore
    from parley.domain import channel_messages, channels, messaging_operations

    chans = [group_channel(org.id, G1) for _ in range(5)]
    untouched = group_channel(org.id, G2)
    for c in chans:
        channel_messages.post(org.id, c["id"], IND["lee"], "hello from lee")
        channel_messages.post(org.id, c["id"], IND["pat"], "and pat")
    cstore.update_member(org.id, chans[0]["id"], IND["sam"], {"pinned": True})
    sam_before = {c["id"]: cstore.get_member(org.id, c["id"], IND["sam"], consistent=True) for c in chans}
    messages_before = {c["id"]: [m["id"] for m in posted_in(org.id, c["id"])] for c in chans}
    drain(automation_env)

    _, out = call(handler, "op-create", org.id, body_=op_doc())
    oid = out["data"]["id"]
    monkeypatch.setattr(messaging_operations, "BATCH", 2)
    # the worker is killed halfway through its first batch: the second channel's move dies
    real = messaging_operations.move_channel
    calls = {"n": 0}

    def dies(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")
        return real(*a, **kw)

    monkeypatch.setattr(messaging_operations, "move_channel", dies)
    (job,) = jobs(drain, automation_env)
    with pytest.raises(SystemExit):
        messaging_operations.run(job)
    midway = ostore.get(org.id, oid)
    assert midway["status"] == "running" and midway["logs"]["channels-total"] == 5 and midway["logs"]["channels-moved"] == 1
    _, got = call(handler, "op-get", org.id, id_=oid)
    assert got["data"]["attributes"]["logs"]["channels-moved"] == 1 and got["data"]["attributes"]["status"] == "running"

    # SQS delivers the job again: it goes on from what is stored, batch by batch, until completed
    messaging_operations.run(job)
    run_all(drain, automation_env)
    done = ostore.get(org.id, oid)
    assert done["status"] == "completed"
    logs = done["logs"]
    assert (logs["channels-total"], logs["channels-moved"], logs["members-added"], logs["members-removed"]) == (5, 5, 5, 5)
    assert logs["started-at"] <= logs["finished-at"]

    assert cstore.group_channel_ids(org.id, G1) == []
    assert sorted(cstore.group_channel_ids(org.id, G2)) == sorted([untouched["id"], *(c["id"] for c in chans)])
    for c in chans:
        item = channels.get_channel_item(org.id, c["id"])
        assert item["individual_group_id"] == G2
        members = {m["individual_id"]: m for m in channels.member_items(org.id, c["id"])}
        assert set(members) == {IND["pat"], IND["sam"], IND["kim"]}  # lee (G1 only) left, kim (G2) joined, pat (creator) stays
        assert members[IND["kim"]]["via"] == "group"
        kept = members[IND["sam"]]
        before = sam_before[c["id"]]
        for field in ("joined_at", "unread", "head_seq", "pinned", "admin", "notify"):
            assert kept.get(field) == before.get(field), field
        assert [m["id"] for m in posted_in(org.id, c["id"])] == messages_before[c["id"]]
    assert cstore.get_member(org.id, chans[0]["id"], IND["sam"])["pinned"] is True

    # the API answers it
    _, got = call(handler, "op-get", org.id, id_=oid)
    assert got["data"]["attributes"]["status"] == "completed" and got["data"]["attributes"]["logs"]["channels-moved"] == 5
    # a later directory change of G2 reaches the moved channels (they are bound to it now)
    from parley.domain import directory

    directory.apply(org.id, directory.parse_line(group_line(G2, ["sam", "kim", "ash"], T2)))
    assert IND["ash"] in channels.member_ids(org.id, chans[3]["id"])


def test_an_announcement_posted_but_not_recorded_when_the_worker_died_is_not_posted_again(handler, org, automation_env, monkeypatch):
    from parley.dal import announcers as store
    from parley.domain import announcers
    from parley.models.automation_jobs import AutomationJob

    a = group_channel(org.id, G1)
    b = group_channel(org.id, G1)
    args = {"message": "News", "sender-individual-id": IND["pat"], "channel-ids": [a["id"], b["id"]]}
    _, out = call(handler, "create", org.id, body_=announcer_doc(args=args))
    aid = out["data"]["id"]
    event = {"source": "parley.courier", "detail-type": "individual-shared", "detail": {"tenant-id": org.id, "event-id": "ev-2"}}
    job = AutomationJob(tenant_id=org.id, kind="announce", id="eb-2", at=T1, data=event)

    real = store.progress
    calls = {"n": 0}

    def dies_after_the_first_post(*a_, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the first channel's post went through; its record never happens (SIGKILL)
            raise SystemExit("killed")
        return real(*a_, **kw)

    monkeypatch.setattr(store, "progress", dies_after_the_first_post)
    with pytest.raises(SystemExit):
        announcers.run(job)
    assert len(posted_in(org.id, a["id"])) == 1 and store.get_announcement(org.id, aid, "ev-2")["pending"] == a["id"]
    announcers.run(job)  # redelivered: the pending channel's post has its deterministic id: answered, not repeated
    assert [m["message"] for m in posted_in(org.id, a["id"])] == ["News"]
    assert [m["message"] for m in posted_in(org.id, b["id"])] == ["News"]
    ann = store.get_announcement(org.id, aid, "ev-2")
    assert ann["state"] == "done" and "pending" not in ann
    assert [p["message_id"] for p in ann["posted"]] == [posted_in(org.id, a["id"])[0]["id"], posted_in(org.id, b["id"])[0]["id"]]


def test_a_new_channel_emits_channel_created_and_its_announcer_welcomes_once(handler, org, automation_env, drain, aws):
    from parley.domain import automation_jobs, channel_events, channels, courier_events

    events_url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    drain(events_url)
    args = {"message": "Hello everyone", "sender-individual-id": IND["pat"]}  # no target: the event's channel
    _, out = call(handler, "create", org.id, body_=announcer_doc(event="channel-created", name="Hi", args=args))
    assert out["data"]["attributes"]["event"] == "channel-created"
    chan, _ = channels.create_channel(org.id, organization_id=ORG, creator_individual_id=IND["pat"], individual_ids=[IND["sam"]])
    (created,) = [channel_events.parse(m["Body"]) for m in drain(events_url)]
    assert created.kind == "members-added" and created.data["channel_created"] is True

    courier_events.apply(created)  # the channel-events hook (ChannelEventsFunction): onto the bus
    courier_events.apply(created)  # redelivered: the same event id
    queued = jobs(drain, automation_env)
    assert [j.data["detail-type"] for j in queued] == ["channel-created", "channel-created"]
    detail = queued[0].data["detail"]
    assert (detail["channel-id"], detail["organization-id"], detail["individual-ids"], detail["actor-individual-id"]) == (
        chan["id"], ORG, sorted([IND["pat"], IND["sam"]]), IND["pat"])  # fmt: skip
    for job in queued:
        automation_jobs.handle(job)
    assert [(m["message"], m["source"]) for m in posted_in(org.id, chan["id"])] == [("Hello everyone", "announcer")]

    # a member joining later is members-added, not channel-created: this announcer does not answer it
    channels.subscribe(org.id, chan["id"], IND["pat"], [IND["lee"]])
    (joined,) = [e for e in (channel_events.parse(m["Body"]) for m in drain(events_url)) if e.kind == "members-added"]
    courier_events.apply(joined)
    queued = jobs(drain, automation_env)
    assert [(j.data["detail-type"], j.data["detail"]["individual-ids"]) for j in queued] == [("members-added", [IND["lee"]])]
    automation_jobs.handle(queued[0])
    assert len(posted_in(org.id, chan["id"])) == 1


def test_a_purge_unnames_the_person_and_a_senderless_announcer_posts_nothing(handler, org, automation_env):
    from parley.dal import announcers as store
    from parley.dal import messaging_operations as ostore
    from parley.domain import announcers
    from parley.models.automation_jobs import AutomationJob

    chan = group_channel(org.id, G1)
    _, out = call(handler, "create", org.id, body_=announcer_doc(args={"message": "News", "sender-individual-id": IND["pat"]}))
    aid = out["data"]["id"]
    _, op = call(handler, "op-create", org.id, body_=op_doc())
    done = announcers.purge(org.id, user_ids={USERS["pat"]}, individual_ids={IND["pat"]})
    assert done == {"announcers": 1, "messaging_operations": 1}
    stored = store.get(org.id, aid)
    assert "created_by" not in stored and "last_modified_by" not in stored and stored["args"] == {"message": "News"}
    assert "created_by" not in ostore.get(org.id, op["data"]["id"])
    _, got = call(handler, "get", org.id, id_=aid)
    assert got["data"]["attributes"]["created-by"] is None

    event = {"source": "parley.courier", "detail-type": "individual-shared",
             "detail": {"tenant-id": org.id, "event-id": "ev-3", "individual-group-id": G1}}  # fmt: skip
    announcers.run(AutomationJob(tenant_id=org.id, kind="announce", id="eb-3", at=T1, data=event))
    assert posted_in(org.id, chan["id"]) == []
    assert store.get_announcement(org.id, aid, "ev-3")["skipped"] == [{"channel_id": chan["id"], "reason": "no-sender"}]


def test_move_group_fails_when_the_target_group_is_gone(handler, org, automation_env, drain):
    from parley.dal import messaging_operations as ostore
    from parley.domain import directory

    group_channel(org.id, G1)
    _, out = call(handler, "op-create", org.id, body_=op_doc())
    deleted = json.dumps({"type": "individual-groups", "id": G2, "deleted": True, "last-sync-time": T3})
    directory.apply(org.id, directory.parse_line(deleted))
    run_all(drain, automation_env)
    op = ostore.get(org.id, out["data"]["id"])
    assert op["status"] == "failed" and G2 in op["logs"]["error"] and op["logs"]["channels-moved"] == 0
    _, got = call(handler, "op-get", org.id, id_=out["data"]["id"])
    assert got["data"]["attributes"]["status"] == "failed"
