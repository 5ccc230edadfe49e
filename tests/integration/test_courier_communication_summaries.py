"""Communication summaries on moto (seed 003, issue 19 area 5): the counters maintained by the channel-events hook
and the notification write paths are exact under redelivery and out-of-order delivery; a rebuild from the stored
records equals them after a randomized workload (seeded RNG: posts across the three channel kinds, removals, members
joining and leaving, notifications with SMS and email); the three routes answer the seed's shapes, keep tenants
apart (404) and store what they say."""

from __future__ import annotations

import json
import random

import pytest

from helpers import api_event, body

ORG = "7c1d2e3f-0000-4000-8000-000000000001"
PEOPLE = [f"7c1d2e3f-0000-4000-8000-0000000001{n:02d}" for n in range(6)]  # individuals
USERS = [f"7c1d2e3f-0000-4000-8000-0000000002{n:02d}" for n in range(6)]  # their owners
PHONES = [f"+1555555{n:04d}" for n in range(6)]
GROUP = "7c1d2e3f-0000-4000-8000-000000000301"
T1 = "2026-11-01T09:00:00Z"
FN = {
    "get": "CourierAdminApi.GetCommunicationSummaryFunction",
    "recalc": "CourierAdminApi.RecalculateCommunicationSummaryFunction",
    "aggregate": "CourierAdminApi.CreateAggregationRequestFunction",
}
EVENT = {"get": "get_communication_summary", "recalc": "recalculate_communication_summary", "aggregate": "create_aggregation_request"}


def directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    lines = [line("organizations", ORG, {"name": "northside"})]
    for n, (ind, user) in enumerate(zip(PEOPLE, USERS, strict=True)):
        lines.append(line("users", user, {"username": f"user{n}", "primary-individual-id": ind, "email": f"user{n}@example.com",
                                          "phone": PHONES[n], "notifications": ["email", "sms"], "sms-mode": "all"}))  # fmt: skip
        lines.append(line("individuals", ind, {"first-name": f"Person{n}", "owner-id": user}))
    summary = d.import_lines(tenant_id, lines)
    assert summary.invalid == []


@pytest.fixture(autouse=True)
def _env(app_env):
    """notify() runs in the multicast worker: the send pipeline's environment."""
    return app_env


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


@pytest.fixture
def people(tenant):
    from parley.domain import optins

    t, _ = tenant
    directory(t.id)
    for phone in PHONES:
        optins.update(t.id, phone=phone, email=None, opt_in=True, reason="test")
    return t


def pending_events(drain, url):
    from parley.domain import channel_events

    return [channel_events.parse(m["Body"]) for m in drain(url)]


def notify(tenant_id, notification_id, n, *, sms=1, email=True):
    from parley.domain import notifications
    from parley.models.notifications import EmailContent, NotificationData

    data = {"sms": {"bodies": [f"Reminder {i}" for i in range(sms)]}} if sms else {}
    return notifications.notify(
        tenant_id, notification_id=notification_id, user_id=USERS[n], individual_id=PEOPLE[n], organization_id=ORG, category="visit",
        data=NotificationData.model_validate(data), email=EmailContent(subject="Hi", html="<p>Hi</p>", text="Hi") if email else None,
        source={"test": "summaries"},
    )  # fmt: skip


def maintained(tenant_id, ind):
    from parley.domain import communication_summaries as s

    return s.summary(tenant_id, ind, include_senders=True)


def stored_items(tenant_id, ind):
    from parley.dal import communication_summaries as store

    return store.items(tenant_id, ind, consistent=True)


def call(handler, name, tenant_id, *, user=USERS[0], body_=..., query=None, id_=None):
    hdrs = {"Content-Type": "application/vnd.api+json", "X-User-ID": user}
    ev = api_event(f"courier_admin/{EVENT[name]}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].replace("22222222-2222-2222-2222-222222222222", id_)
    return handler(FN[name])(ev)


# ───────────── maintained: the hook and the notification paths ─────────────
def test_a_post_counts_once_for_every_other_member_and_a_removal_takes_it_back(people, events_queue, drain):
    from parley.domain import channel_events, channel_messages, channels
    from parley.domain import communication_summaries as summaries

    t = people
    a, b, c = PEOPLE[:3]
    assert "parley.domain.communication_summaries" in channel_events.HOOKS
    assert (
        channel_events.HOOKS.index("parley.domain.communication_summaries") == channel_events.HOOKS.index("parley.domain.channel_inbox") + 1
    )
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b, c], floating=True)
    direct, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b])
    m1 = channel_messages.post(t.id, chan["id"], a, "hello all")
    channel_messages.post(t.id, direct["id"], a, "hello b")
    channel_messages.post(t.id, chan["id"], b, "hi a")
    events = [e for e in pending_events(drain, events_queue)]
    for e in events + events:  # every event delivered twice: counted once
        summaries.apply(e)
    sb = maintained(t.id, b)
    assert sb["messages"] == 2 and {x["message-type"]: x["count"] for x in sb["message-types"]} == {
        "group-messages": 0, "direct-messages": 1, "floating-messages": 1}  # fmt: skip
    assert sb["message-senders"] == [{"individual-id": a, "count": 2}]
    assert maintained(t.id, a)["messages"] == 1 and maintained(t.id, a)["message-senders"] == [{"individual-id": b, "count": 1}]
    assert maintained(t.id, c)["messages"] == 2
    # the stored items: one per (channel, membership) and per sender; one marker per (event, member)
    items = {i["SK"]: i for i in stored_items(t.id, c)}
    joined = channels.member_items(t.id, chan["id"])
    epoch = next(m["joined_at"] for m in joined if m["individual_id"] == c)
    assert items[f"CHAN#{chan['id']}#{epoch}"]["messages"] == 2 and items[f"CHAN#{chan['id']}#{epoch}"]["channel_kind"] == "floating"
    assert items[f"CHAN#{chan['id']}#{epoch}#FROM#{a}"]["n"] == 1 and items[f"CHAN#{chan['id']}#{epoch}#FROM#{b}"]["n"] == 1

    # a removal (by its author) takes it back for the others, once; the posting event delivered again changes nothing
    channel_messages.edit(t.id, m1["id"], a, removed=True)
    removed = pending_events(drain, events_queue)
    assert [e.kind for e in removed] == ["message-removed"]
    for e in removed + removed + events:
        channel_events.handle(e) if e.kind == "message-removed" else summaries.apply(e)
    assert maintained(t.id, b)["messages"] == 1 and maintained(t.id, c)["messages"] == 1
    assert maintained(t.id, c)["message-senders"] == [{"individual-id": b, "count": 1}]
    # the rebuild agrees
    for ind in (a, b, c):
        before = maintained(t.id, ind)
        assert summaries.rebuild(t.id, ind) == before


def test_a_member_who_leaves_stops_counting_and_one_who_joins_counts_from_then_on(people, events_queue, drain):
    from parley.domain import channel_messages, channels
    from parley.domain import communication_summaries as summaries

    t = people
    a, b, c, d = PEOPLE[:4]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b, c], floating=True)
    channel_messages.post(t.id, chan["id"], a, "before d")
    channels.subscribe(t.id, chan["id"], a, [d])
    channel_messages.post(t.id, chan["id"], a, "after d")
    channels.unsubscribe(t.id, chan["id"], c, [c])
    events = pending_events(drain, events_queue)
    random.Random(7).shuffle(events)  # out of order
    for e in events:
        summaries.apply(e)
    assert maintained(t.id, b)["messages"] == 2
    assert maintained(t.id, d)["messages"] == 1  # only what was posted after it joined
    assert maintained(t.id, c)["messages"] == 0 and stored_items(t.id, c) == []  # its items went with it
    # c rejoins: a new membership, counting from now on; the old leave event delivered late drops nothing of it
    channels.subscribe(t.id, chan["id"], a, [c])
    channel_messages.post(t.id, chan["id"], b, "welcome back")
    later = pending_events(drain, events_queue)
    for e in later + [e for e in events if e.kind == "members-removed"]:
        summaries.apply(e)
    assert maintained(t.id, c)["messages"] == 1 and maintained(t.id, c)["message-senders"] == [{"individual-id": b, "count": 1}]
    for ind in (a, b, c, d):
        before = maintained(t.id, ind)
        assert summaries.rebuild(t.id, ind) == before, ind


def test_a_large_channels_post_counts_for_every_member_once(people, events_queue, drain):
    from parley.domain import channel_messages, channels
    from parley.domain import communication_summaries as summaries

    t = people
    crowd = [f"crowd-{n:02d}" for n in range(summaries.FANOUT + 8)]  # more than FANOUT: written in parallel
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=crowd[0], individual_ids=crowd[1:], floating=True)
    channel_messages.post(t.id, chan["id"], crowd[0], "all hands")
    events = pending_events(drain, events_queue)
    for e in events + events:
        summaries.apply(e)
    assert [maintained(t.id, ind)["messages"] for ind in crowd] == [0] + [1] * (len(crowd) - 1)
    assert all(maintained(t.id, ind)["message-senders"] == [{"individual-id": crowd[0], "count": 1}] for ind in crowd[1:])


def test_notifications_and_their_provider_messages_count_once(people, send_queue, drain):
    from parley.dal import notifications as nstore
    from parley.domain import communication_summaries as summaries

    t = people
    first = notify(t.id, "n-1", 0, sms=2, email=True)
    assert first.created
    again = notify(t.id, "n-1", 0, sms=2, email=True)  # redelivered: nothing stored, sent or counted again
    assert not again.created
    notify(t.id, "n-2", 0, sms=0, email=False)  # push only: a notification, no provider message
    s = maintained(t.id, PEOPLE[0])
    assert (s["notifications"], s["provider-messages"]) == (2, 3)
    stored = nstore.get(t.id, "n-1", consistent=True)
    assert len(stored["deliveries"]["sms"]["message_ids"]) == 2 and len(stored["deliveries"]["email"]["message_ids"]) == 1
    assert maintained(t.id, PEOPLE[1])["notifications"] == 0
    assert summaries.rebuild(t.id, PEOPLE[0]) == s


# ───────────── the acceptance: a rebuild equals the maintained values ─────────────
def test_after_a_randomized_workload_a_rebuild_equals_the_maintained_values(people, events_queue, send_queue, drain):
    from parley.domain import channel_messages, channels
    from parley.domain import communication_summaries as summaries
    from parley.errors import ParleyError

    t = people
    rng = random.Random(1919)
    chans = []
    for _n in range(3):  # direct channels between pairs
        x, y = rng.sample(PEOPLE, 2)
        chan, created = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=x, individual_ids=[y])
        if created:
            chans.append(chan["id"])
    for n in range(2):  # group channels
        group = rng.sample(PEOPLE, 4)
        chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=group[0], individual_group_id=f"{GROUP}{n}",
                                          group_individual_ids=group[1:])  # fmt: skip
        chans.append(chan["id"])
    for _n in range(2):  # floating channels
        crowd = rng.sample(PEOPLE, 3)
        chan, _ = channels.create_channel(
            t.id, organization_id=ORG, creator_individual_id=crowd[0], individual_ids=crowd[1:], floating=True
        )
        chans.append(chan["id"])
    posted: list[tuple[str, str]] = []  # (message id, author) still visible
    backlog = []  # events published and not yet applied
    applied = notified = 0
    last = None  # the last notification: (id, person, sms bodies, email)
    for step in range(260):
        op = rng.random()
        cid = rng.choice(chans)
        members = channels.member_ids(t.id, cid)
        try:
            if op < 0.55 and members:
                author = rng.choice(members)
                posted.append((channel_messages.post(t.id, cid, author, f"message {step}")["id"], author))
            elif op < 0.68 and posted:
                mid, author = posted.pop(rng.randrange(len(posted)))
                channel_messages.edit(t.id, mid, author, removed=True)
            elif op < 0.78 and members:
                outside = [p for p in PEOPLE if p not in members]
                if outside and channels.get_channel_item(t.id, cid).get("kind") == "floating":
                    channels.subscribe(t.id, cid, rng.choice(members), [rng.choice(outside)])
            elif op < 0.86 and len(members) > 2:
                leaver = rng.choice(members)
                channels.unsubscribe(t.id, cid, leaver, [leaver])
            elif op < 0.96 or last is None:
                notified += 1
                last = (f"n-{step}", rng.randrange(len(PEOPLE)), rng.randrange(3), rng.random() < 0.5)
                notify(t.id, last[0], last[1], sms=last[2], email=last[3])
            else:
                assert not notify(t.id, last[0], last[1], sms=last[2], email=last[3]).created  # a redelivered notify
        except ParleyError:
            pass  # e.g. a group member may not leave a group channel (422): the workload goes on
        backlog.extend(pending_events(drain, events_queue))
        if rng.random() < 0.3:  # a delivery: a shuffled batch, some events twice, some held back for later
            rng.shuffle(backlog)
            cut = rng.randrange(len(backlog) + 1)
            now, backlog = backlog[:cut], backlog[cut:]
            for e in now + rng.sample(now, len(now) // 3):
                summaries.apply(e)
                applied += 1
    backlog.extend(pending_events(drain, events_queue))
    rng.shuffle(backlog)
    for e in backlog + backlog[: len(backlog) // 2]:
        summaries.apply(e)
        applied += 1
    assert applied > 200 and notified > 10

    before = {ind: maintained(t.id, ind) for ind in PEOPLE}
    assert sum(s["messages"] for s in before.values()) > 50
    assert sum(s["provider-messages"] for s in before.values()) > 10
    assert {x["message-type"] for s in before.values() for x in s["message-types"] if x["count"]} == {
        "group-messages", "direct-messages", "floating-messages"}  # fmt: skip
    for ind in PEOPLE:
        assert summaries.rebuild(t.id, ind) == before[ind], ind
        assert maintained(t.id, ind) == before[ind]
    # the rebuild's own answer, independently: every visible message a current member received since joining
    for ind in PEOPLE:
        expected = 0
        for cid in chans:
            me = next((m for m in channels.member_items(t.id, cid) if m["individual_id"] == ind), None)
            if me is None:
                continue
            from parley.dal.communication_summaries import channel_messages as visible

            expected += sum(
                1 for m in visible(t.id, cid) if not m.get("removed") and m["individual_id"] != ind and m["posted_time"] >= me["joined_at"]
            )
        assert before[ind]["messages"] == expected


# ───────────── the routes ─────────────
def test_get_answers_the_seeds_plain_shape_for_any_individual_of_the_tenant(people, other_tenant, events_queue, drain, handler):
    from parley.domain import channel_messages, channels
    from parley.domain import communication_summaries as summaries

    t = people
    a, b = PEOPLE[:2]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b])
    channel_messages.post(t.id, chan["id"], a, "hello")
    for e in pending_events(drain, events_queue):
        summaries.apply(e)
    notify(t.id, "n-get", 1, sms=1, email=False)

    r = call(handler, "get", t.id, query={"individual-id": b, "include-senders": "true"})
    assert r["statusCode"] == 200 and r["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert body(r) == {"summary": {"messages": 1, "notifications": 1, "provider-messages": 1, "video-channels": 0,
                                   "message-types": [{"message-type": "group-messages", "count": 0},
                                                     {"message-type": "direct-messages", "count": 1},
                                                     {"message-type": "floating-messages", "count": 0}],
                                   "message-senders": [{"individual-id": a, "count": 1}]}}  # fmt: skip
    # without include-senders: no message-senders; without individual-id: the acting user's primary individual
    r = call(handler, "get", t.id, user=USERS[1], query=None)
    assert r["statusCode"] == 200 and "message-senders" not in body(r)["summary"] and body(r)["summary"]["messages"] == 1
    r = call(handler, "get", t.id, user=USERS[0], query={"individual-id": a})
    assert body(r)["summary"]["messages"] == 0
    # an unknown individual, another tenant's: 404, the same body
    other, _ = other_tenant
    missing = call(handler, "get", t.id, query={"individual-id": "nobody"})
    foreign = call(handler, "get", other.id, query={"individual-id": b})
    assert missing["statusCode"] == foreign["statusCode"] == 404
    assert body(missing)["errors"][0]["code"] == body(foreign)["errors"][0]["code"] == "not-found"
    anonymous = call(handler, "get", t.id, user=None, query=None)  # no individual-id and no acting user: whose summary?
    assert 400 <= anonymous["statusCode"] < 500 and body(anonymous)["errors"][0]["status"] == anonymous["statusCode"]
    bad = call(handler, "get", t.id, query={"individual-id": b, "include-senders": "maybe"})
    assert 400 <= bad["statusCode"] < 500 and "errors" in body(bad)


def test_recalculate_rebuilds_from_the_stored_records_and_answers_the_individual(people, other_tenant, events_queue, drain, handler):
    from parley.dal import communication_summaries as store
    from parley.dal import table
    from parley.domain import channel_messages, channels

    t = people
    a, b = PEOPLE[:2]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b], floating=True)
    for i in range(3):
        channel_messages.post(t.id, chan["id"], a, f"m{i}")
    drain(events_queue)  # never applied: the maintained counters know nothing yet
    table.put_item({"PK": store.pk(t.id, b), "SK": "CHAN#gone#2026-01-01T00:00:00.000Z", "type": "csum_channel", "channel_id": "gone",
                    "channel_kind": "group", "messages": 40, "epoch": "2026-01-01T00:00:00.000Z"})  # a wrong counter  # fmt: skip
    r = call(handler, "recalc", t.id, body_={}, id_=b)
    assert r["statusCode"] == 201, body(r)
    doc = body(r)
    assert doc["data"]["type"] == "individuals" and doc["data"]["id"] == b and doc["data"]["attributes"]["first-name"] == "Person1"
    items = {i["SK"]: i for i in stored_items(t.id, b)}
    assert "CHAN#gone#2026-01-01T00:00:00.000Z" not in items and items["REBUILT"]["at"].endswith("Z")
    assert sum(i.get("messages", 0) for i in items.values() if i["type"] == "csum_channel") == 3
    assert (
        call(handler, "get", t.id, query={"individual-id": b})["body"]
        and body(call(handler, "get", t.id, query={"individual-id": b}))["summary"]["messages"] == 3
    )
    other, _ = other_tenant
    assert call(handler, "recalc", other.id, body_={}, id_=b)["statusCode"] == 404
    assert call(handler, "recalc", t.id, body_={}, id_="nobody")["statusCode"] == 404
    assert call(handler, "recalc", t.id, body_={"unknown": 1}, id_=b)["statusCode"] in (400, 422)


def test_aggregation_requests_queue_rebuilds_that_the_automation_job_runs(people, other_tenant, events_queue, drain, handler, aws):
    from parley.domain import automation_jobs, channel_messages, channels

    t = people
    a, b, c = PEOPLE[:3]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=a, individual_ids=[b, c], floating=True)
    channel_messages.post(t.id, chan["id"], a, "one")
    channel_messages.post(t.id, chan["id"], b, "two")
    drain(events_queue)
    doc = {"data": {"type": "aggregation-requests", "attributes": {"entries": [
        {"column": "messages", "individual-id": b}, {"column": "message-senders", "individual-id": b},
        {"column": "notifications", "individual-id": c}]}}}  # fmt: skip
    r = call(handler, "aggregate", t.id, body_=doc)
    assert r["statusCode"] == 201, body(r)
    answer = body(r)
    assert answer["data"]["type"] == "aggregation-requests" and answer["data"]["attributes"] == {} and answer["meta"] == {}
    queue_url = aws.queues[next(q for q in aws.queues if q.endswith("-AutomationQueue"))]
    jobs = [automation_jobs.parse(m["Body"]) for m in drain(queue_url)]
    assert sorted((j.kind, j.data["individual-id"], tuple(j.data["columns"])) for j in jobs) == [
        ("summary-rebuild", b, ("messages", "message-senders")), ("summary-rebuild", c, ("notifications",))]  # fmt: skip
    assert all(j.tenant_id == t.id and j.data["request-id"] == answer["data"]["id"] for j in jobs)
    assert maintained(t.id, b)["messages"] == 0  # nothing applied yet
    for j in jobs + jobs:  # redelivered: the same result
        automation_jobs.handle(j)
    assert maintained(t.id, b)["messages"] == 1 and maintained(t.id, b)["message-senders"] == [{"individual-id": a, "count": 1}]
    assert maintained(t.id, c)["messages"] == 0  # only its notifications column was asked
    assert {i["SK"]: i for i in stored_items(t.id, c)}["REBUILT"]["columns"] == ["notifications"]

    bad = {"data": {"type": "aggregation-requests", "attributes": {"entries": [{"column": "messages", "individual-id": b},
                                                                               {"column": "likes", "individual-id": b}]}}}  # fmt: skip
    r = call(handler, "aggregate", t.id, body_=bad)
    assert r["statusCode"] == 422 and body(r)["errors"][0]["source"]["pointer"] == "/data/attributes/entries/1/column"
    other, _ = other_tenant
    r = call(handler, "aggregate", other.id, body_=doc)
    assert r["statusCode"] == 404
    r = call(handler, "aggregate", t.id, body_={"data": {"type": "aggregation-requests", "attributes": {"entries": []}}})
    assert 400 <= r["statusCode"] < 500
    assert drain(queue_url) == []  # the refused requests queued nothing


def test_a_conflicting_transaction_is_tried_again_and_counts_once(people, monkeypatch):
    from botocore.exceptions import ClientError

    from parley.dal import communication_summaries as store
    from parley.dal import table

    t = people
    real, calls = table.try_transact, []

    def flaky(ops, **kw):
        calls.append(1)
        if len(calls) == 1:  # DynamoDB cancelled it: another transaction touched the same item
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                               "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}, {"Code": "None"}]},
                              "TransactWriteItems")  # fmt: skip
        return real(ops, **kw)

    monkeypatch.setattr(table, "try_transact", flaky)
    assert store.apply_message(t.id, "event-1", PEOPLE[1], "chan-1", "2026-11-01T00:00:00.000Z", "direct", PEOPLE[0], 1)
    assert not store.apply_message(t.id, "event-1", PEOPLE[1], "chan-1", "2026-11-01T00:00:00.000Z", "direct", PEOPLE[0], 1)
    assert len(calls) == 3 and maintained(t.id, PEOPLE[1])["messages"] == 1
