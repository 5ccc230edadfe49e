"""Courier messaging responders on moto (issue 19, area 3): the six routes of messaging-responders (stored state, the
sparse enabled index, validation, another tenant's 404) and the auto-reply hook parley.domain.channel_responders — one
reply per (responder, conversation, period), never a reply to a responder (two groups' responders messaging each other
answer once each, run until the channel events are quiescent), a redelivered event posts nothing new, the replier and
the reply's locale."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

T1 = "2026-11-01T09:00:00Z"
ORG_ID = "7d000000-0000-4000-8000-000000000001"
OTHER_ORG = "7d000000-0000-4000-8000-000000000002"
GROUP_A, GROUP_B, GROUP_X = (
    "7d000000-0000-4000-8000-0000000000a1",
    "7d000000-0000-4000-8000-0000000000b1",
    "7d000000-0000-4000-8000-0000000000c1",
)
PEOPLE = ("ann", "al", "bob", "ben", "cat")
USERS = {name: f"7d000000-0000-4000-8000-0000000000u{n}" for n, name in enumerate(PEOPLE, 1)}
IND = {name: f"7d000000-0000-4000-8000-0000000000i{n}" for n, name in enumerate(PEOPLE, 1)}
LOCALES = {"cat": "es_US"}
FN = {
    "list": "CourierAutomationApi.ListMessagingRespondersFunction",
    "create": "CourierAutomationApi.CreateMessagingResponderFunction",
    "get": "CourierAutomationApi.GetMessagingResponderFunction",
    "update": "CourierAutomationApi.UpdateMessagingResponderFunction",
    "enable": "CourierAutomationApi.EnableMessagingResponderFunction",
    "disable": "CourierAutomationApi.DisableMessagingResponderFunction",
}
EVENTS = {
    "list": "courier_automation/list_messaging_responders",
    "create": "courier_automation/create_messaging_responder",
    "get": "courier_automation/get_messaging_responder",
    "update": "courier_automation/update_messaging_responder",
    "enable": "courier_automation/enable_messaging_responder",
    "disable": "courier_automation/disable_messaging_responder",
}
SUFFIX = {"enable": "enable/", "disable": "disable/"}
ALWAYS = {"timezone": "UTC", "rules": [{"day": "everyday", "start-time": "00:00:00", "end-time": "00:00:00"}]}


def line(type_, id_, attributes, at=T1):
    return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": at})


def seed_directory(tenant_id):
    from parley.domain import directory as d

    lines = [line("organizations", ORG_ID, {"name": "northside"}), line("organizations", OTHER_ORG, {"name": "southside"})]
    for name in PEOPLE:
        user = {"username": name, "primary-individual-id": IND[name], "email": f"{name}@example.com"}
        if name in LOCALES:
            user["locale"] = LOCALES[name]
        lines.append(line("users", USERS[name], user))
        lines.append(line("individuals", IND[name], {"first-name": name.title(), "last-name": "Doe", "owner-id": USERS[name]}))
    for gid, org, leaders, members in ((GROUP_A, ORG_ID, ["al"], ["ann", "al"]), (GROUP_B, ORG_ID, [], ["bob", "ben"]),
                                       (GROUP_X, OTHER_ORG, [], ["cat"])):  # fmt: skip
        lines.append(line("individual-groups", gid, {"name": gid[-2:], "organization-id": org, "leaders": [{"id": IND[x]} for x in leaders],
                                                     "individuals": [{"id": IND[x]} for x in members], "last-sync-time": T1}))  # fmt: skip
    summary = d.import_lines(tenant_id, lines)
    assert summary.invalid == []


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
def org(tenant, events_queue):
    t, _ = tenant
    seed_directory(t.id)
    return t


def call(handler, route, tenant_id, *, as_="ann", id_=None, body_=..., query=None, multi=None):
    ev = api_event(EVENTS[route], tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": USERS[as_], "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if multi:
        ev["multiValueQueryStringParameters"] = {**(ev.get("multiValueQueryStringParameters") or {}), **multi}
        ev["queryStringParameters"] = {**(ev.get("queryStringParameters") or {}), **{k: v[-1] for k, v in multi.items()}}
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = f"/v1/messaging-responders/{id_}/" + SUFFIX.get(route, "")
    out = handler(FN[route])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def new_responder(handler, tenant_id, **attributes):
    attrs = {"organization-id": ORG_ID, "individual-group-id": GROUP_B, "name": "After hours", "type": "message",
             "args": {"message": "We are away"}, "calendar-args": ALWAYS, **attributes}  # fmt: skip
    status, out = call(handler, "create", tenant_id, body_={"data": {"type": "messaging-responders", "attributes": attrs}})
    assert status == 201, out
    return out["data"]


def stored(tenant_id, rid):
    from parley.dal import responders as store

    return store.get(tenant_id, rid, consistent=True)


# ───────────── the routes ─────────────
def test_create_get_patch_enable_disable_with_stored_state(handler, org):
    created = new_responder(handler, org.id, **{"start-at": "2026-06-01T10:00:00+02:00", "end-at": "2026-12-31T00:00:00Z",
                                                "calendar-args": {"timezone": "America/New_York", "rules": [
                                                    {"day": "weekdays", "start-time": "17:00:00Z", "end-time": "09:00:00Z"}]}})  # fmt: skip
    a, rid = created["attributes"], created["id"]
    assert created["type"] == "messaging-responders"
    assert (a["organization-id"], a["individual-group-id"], a["name"], a["type"], a["enabled"]) == (
        ORG_ID,
        GROUP_B,
        "After hours",
        "message",
        True,
    )
    assert a["calendar-args"] == {
        "timezone": "America/New_York",
        "rules": [{"day": "weekdays", "start-time": "17:00:00Z", "end-time": "09:00:00Z"}],
    }
    assert (a["start-at"], a["end-at"]) == ("2026-06-01T08:00:00.000Z", "2026-12-31T00:00:00.000Z")  # stored in UTC
    assert a["args"] == {"message": "We are away"} and a["created-by"] == a["last-modified-by"] == USERS["ann"]
    item = stored(org.id, rid)
    assert item["PK"] == f"TENANT#{org.id}#RESPONDER#{rid}" and item["SK"] == "RESPONDER" and item["enabled"] is True
    assert item["GSI3PK"] == f"TENANT#{org.id}#RESPONDERS#ORG#{ORG_ID}" and item["GSI6PK"] == f"TENANT#{org.id}#RESPONDERS#ON#ORG#{ORG_ID}"
    assert json.loads(item["calendar"])["timezone"] == "America/New_York"

    status, got = call(handler, "get", org.id, id_=rid)
    assert status == 200 and got["data"] == created

    # PATCH: only what is sent; {} (the seed's sample) clears start-at, null clears end-at
    args = {"message": "Closed", "message-js": {"es_US": "Cerrado"}}
    doc = {
        "data": {"type": "messaging-responders", "id": rid, "attributes": {"name": "Nights", "start-at": {}, "end-at": None, "args": args}}
    }
    status, out = call(handler, "update", org.id, as_="bob", id_=rid, body_=doc)
    p = out["data"]["attributes"]
    assert status == 200 and (p["name"], p["start-at"], p["end-at"]) == ("Nights", None, None)
    assert p["args"] == {"message": "Closed", "message-js": {"es_US": "Cerrado"}} and p["last-modified-by"] == USERS["bob"]
    assert p["calendar-args"] == a["calendar-args"] and p["created-by"] == USERS["ann"]
    item = stored(org.id, rid)
    assert "start_at" not in item and "end_at" not in item and item["name"] == "Nights"

    status, out = call(handler, "disable", org.id, id_=rid, body_={})
    assert status == 201 and out["data"]["attributes"]["enabled"] is False
    item = stored(org.id, rid)
    assert item["enabled"] is False and "GSI6PK" not in item and "GSI3PK" in item  # out of the sparse index
    modified = item["last_modified_at"]
    status, out = call(handler, "disable", org.id, id_=rid, body_=None)
    assert status == 201 and stored(org.id, rid)["last_modified_at"] == modified  # the same state: nothing written
    status, out = call(handler, "enable", org.id, id_=rid, body_={})
    assert status == 201 and out["data"]["attributes"]["enabled"] is True and stored(org.id, rid)["GSI6PK"].endswith(f"#ON#ORG#{ORG_ID}")

    status, out = call(handler, "update", org.id, id_=rid, body_={**doc, "data": {**doc["data"], "id": "another"}})
    assert status == 409 and out["errors"][0]["source"]["pointer"] == "/data/id"


def test_create_and_patch_refuse_bad_input_with_pointers(handler, org, table_items):
    before = len([i for i in table_items() if i.get("type") == "responder"])
    cases = [
        ({"organization-id": None}, 422, "/data/attributes/organization-id"),
        ({"individual-group-id": None}, 422, "/data/attributes/individual-group-id"),
        ({"organization-id": "no-org"}, 404, "/data/attributes/organization-id"),
        ({"individual-group-id": "no-group"}, 404, "/data/attributes/individual-group-id"),
        ({"individual-group-id": GROUP_X}, 422, "/data/attributes/individual-group-id"),  # another organization's group
        ({"calendar-args": {"timezone": "Mars/Olympus", "rules": []}}, 422, "/data/attributes/calendar-args/timezone"),
        ({"calendar-args": {"timezone": "UTC", "rules": [{"day": "someday", "start-time": "09:00", "end-time": "10:00"}]}}, 422,
         "/data/attributes/calendar-args/rules/0/day"),
        ({"calendar-args": {"timezone": "UTC", "rules": [{"day": "monday", "start-time": "25:00", "end-time": "10:00"}]}}, 422,
         "/data/attributes/calendar-args/rules/0/start-time"),
        ({"calendar-args": {"timezone": "UTC", "rules": [{"day": "monday", "start-time": "09:00"}]}}, 400,
         "/data/attributes/calendar-args/rules/0/end-time"),
        ({"type": "carrier-pigeon"}, 422, "/data/attributes/type"),
        ({"args": {}}, 422, "/data/attributes/args/message"),
        ({"args": {"message": "x", "colour": "red"}}, 422, "/data/attributes/args/colour"),
        ({"args": {"message": "x", "message-js": {"es": 3}}}, 422, "/data/attributes/args/message-js"),
        ({"start-at": "yesterday"}, 422, "/data/attributes/start-at"),
        ({"start-at": "2026-06-02T00:00:00Z", "end-at": "2026-06-01T00:00:00Z"}, 422, "/data/attributes/end-at"),
        ({"colour": "red"}, 400, "/data/attributes/colour"),
    ]  # fmt: skip
    for attrs, status, pointer in cases:
        base = {"organization-id": ORG_ID, "individual-group-id": GROUP_B, "args": {"message": "away"}}
        doc = {"data": {"type": "messaging-responders", "attributes": {k: v for k, v in {**base, **attrs}.items() if v is not None}}}
        got, out = call(handler, "create", org.id, body_=doc)
        assert (got, out["errors"][0]["source"].get("pointer")) == (status, pointer), (attrs, out)
    assert len([i for i in table_items() if i.get("type") == "responder"]) == before
    # an API-key request must name its acting user: created-by is a user
    ev = api_event(EVENTS["create"], tenant_id=org.id, headers={"X-User-ID": None, "Content-Type": "application/vnd.api+json"},
                   body={"data": {"type": "messaging-responders", "attributes": {"organization-id": ORG_ID, "individual-group-id": GROUP_B,
                                                                                 "args": {"message": "x"}}}})  # fmt: skip
    out = handler(FN["create"])(ev)
    assert out["statusCode"] == 400 and body(out)["errors"][0]["source"]["parameter"] == "X-User-ID"

    rid = new_responder(handler, org.id)["id"]
    for attrs, status, pointer in [({"individual-group-id": None}, 422, "/data/attributes/individual-group-id"),
                                   ({"end-at": {"when": "soon"}}, 422, "/data/attributes/end-at"),
                                   ({"type": "sms"}, 422, "/data/attributes/type"),
                                   ({"individual-group-id": GROUP_X}, 422, "/data/attributes/individual-group-id")]:  # fmt: skip
        got, out = call(
            handler, "update", org.id, id_=rid, body_={"data": {"type": "messaging-responders", "id": rid, "attributes": attrs}}
        )
        assert (got, out["errors"][0]["source"].get("pointer")) == (status, pointer), (attrs, out)
    assert stored(org.id, rid)["individual_group_id"] == GROUP_B


def test_list_filters_sorts_and_pages_the_organizations_responders(handler, org):
    r1 = new_responder(handler, org.id, name="one", **{"start-at": "2026-03-01T00:00:00Z", "end-at": "2026-09-01T00:00:00Z"})["id"]
    r2 = new_responder(handler, org.id, name="two", **{"individual-group-id": GROUP_A, "start-at": "2026-01-01T00:00:00Z"})["id"]
    r3 = new_responder(handler, org.id, name="three", **{"end-at": "2026-05-01T00:00:00Z"})["id"]
    call(handler, "disable", org.id, id_=r3, body_={})

    def ids(query=None, multi=None):
        status, out = call(handler, "list", org.id, query={"organization-id": ORG_ID, **(query or {})}, multi=multi)
        assert status == 200, out
        return [d["id"] for d in out["data"]], out["meta"]

    got, meta = ids()
    assert got == [r1, r2, r3] and meta == {"page[total]": 3, "page[limit]": 100, "page[offset]": 0}
    assert ids({"sort": "-created-at"})[0] == [r3, r2, r1]
    assert ids({"sort": "start-at"})[0] == [r3, r2, r1]  # no start-at: the far past
    assert ids({"sort": "-end-at"})[0] == [r2, r1, r3]  # no end-at: the far future
    assert ids({"filter[enabled]": "false"})[0] == [r3] and ids({"filter[enabled]": "true"})[0] == [r1, r2]
    assert ids({"filter[individual-group-id]": GROUP_A})[0] == [r2]
    assert ids({"filter[cmp-start-at]": ">=2026-02-01T00:00:00Z"})[0] == [r1]
    assert ids(multi={"filter[cmp-end-at]": [">2026-04-01T00:00:00Z", "<2026-06-01T00:00:00Z"]})[0] == [r3]
    got, meta = ids({"page[limit]": "1", "page[offset]": "1"})
    assert got == [r2] and meta["page[total]"] == 3
    for query, parameter in (({"sort": "name"}, "sort"), ({"filter[cmp-start-at]": "=2026-01-01T00:00:00Z"}, "filter[cmp-start-at]")):
        status, out = call(handler, "list", org.id, query={"organization-id": ORG_ID, **query})
        assert status == 400 and out["errors"][0]["source"]["parameter"] == parameter
    status, out = call(handler, "list", org.id, query={"organization-id": "no-org"})
    assert status == 404 and out["errors"][0]["source"]["parameter"] == "organization-id"
    status, out = call(handler, "list", org.id, query={})
    assert status == 400


def test_another_tenants_responder_is_a_404(handler, org, other_tenant):
    t2, _ = other_tenant
    rid = new_responder(handler, org.id)["id"]
    for route, body_ in (("get", ...), ("enable", {}), ("disable", {}),
                         ("update", {"data": {"type": "messaging-responders", "id": rid, "attributes": {"name": "mine"}}})):  # fmt: skip
        status, out = call(handler, route, t2.id, id_=rid, body_=body_)
        assert status == 404 and out["errors"][0]["code"] == "not-found", (route, out)
    status, out = call(handler, "list", t2.id, query={"organization-id": ORG_ID})
    assert status == 404  # the other tenant has no such organization
    assert stored(org.id, rid)["name"] == "After hours" and stored(org.id, rid)["enabled"] is True


# ───────────── the auto-reply hook ─────────────
def run_until_quiescent(drain, url, limit=20):
    """Apply every event waiting on ChannelEventsQueue through every hook, again and again, until none is left (the
    replies' own events included); the events applied."""
    from parley.domain import channel_events

    applied = []
    for _ in range(limit):
        batch = [channel_events.parse(m["Body"]) for m in drain(url)]
        if not batch:
            return applied
        for event in batch:
            channel_events.handle(event)
        applied += batch
    raise AssertionError("the channel events never became quiescent: a loop")


def messages(tenant_id, channel_id):
    from parley.dal import channel_messages as mstore

    items, _ = mstore.message_page(tenant_id, channel_id, offset=0, limit=100)
    return sorted(items, key=lambda i: i["seq"])


def test_two_groups_with_responders_messaging_each_other_get_one_auto_reply_each_not_a_loop(handler, org, drain, events_queue):
    from parley.dal import responders as store
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    no_rules = {"timezone": "UTC", "rules": []}  # active throughout: one period, "always" (no flake at midnight)
    ra = new_responder(handler, org.id, **{"individual-group-id": GROUP_A, "args": {"message": "A is away"}, "calendar-args": no_rules})[
        "id"
    ]
    rb = new_responder(handler, org.id, **{"individual-group-id": GROUP_B, "args": {"message": "B is away"}, "calendar-args": no_rules})[
        "id"
    ]
    chan, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["ann"], individual_ids=[IND["bob"]])
    cid = chan["id"]
    drain(events_queue)

    msgs.post(org.id, cid, IND["ann"], "hello B", user_id=USERS["ann"])
    run_until_quiescent(drain, events_queue)
    msgs.post(org.id, cid, IND["bob"], "hello A", user_id=USERS["bob"])
    run_until_quiescent(drain, events_queue)
    # both again: the period is answered already in this conversation
    msgs.post(org.id, cid, IND["ann"], "still there?", user_id=USERS["ann"])
    msgs.post(org.id, cid, IND["bob"], "and you?", user_id=USERS["bob"])
    applied = run_until_quiescent(drain, events_queue)
    assert applied and all(e.data.get("source") != "auto-responder" for e in applied if e.kind == "message-posted")

    got = [(m["individual_id"], m["message"], m["source"]) for m in messages(org.id, cid)]
    assert got == [
        (IND["ann"], "hello B", "api"),
        (IND["bob"], "B is away", "auto-responder"),  # B's responder answers Ann, as Bob (B's member in the channel)
        (IND["bob"], "hello A", "api"),
        (IND["ann"], "A is away", "auto-responder"),  # A's responder answers Bob, as Ann
        (IND["ann"], "still there?", "api"),
        (IND["bob"], "and you?", "api"),
    ]
    (ma,), (mb,) = store.markers(org.id, ra), store.markers(org.id, rb)
    assert ma["SK"] == f"REPLY#{cid}#always" and ma["message_id"] == messages(org.id, cid)[3]["id"]
    assert mb["message_id"] == messages(org.id, cid)[1]["id"]


def test_a_redelivered_event_posts_nothing_new_and_a_new_period_answers_again(handler, org, drain, events_queue):
    from parley.dal import responders as store
    from parley.domain import channel_events, channel_responders, channels
    from parley.domain import channel_messages as msgs

    # nights only, in New York: a message at 23:30 EST is in the period that began at 22:00 local (03:00Z)
    rid = new_responder(handler, org.id, **{"calendar-args": {"timezone": "America/New_York", "rules": [
        {"day": "everyday", "start-time": "22:00", "end-time": "06:00"}]}})["id"]  # fmt: skip
    chan, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["ann"], individual_ids=[IND["ben"]])
    cid = chan["id"]
    drain(events_queue)
    posted = msgs.post(org.id, cid, IND["ann"], "anyone?", publish=False)

    def event(at, eid="e-1", seq=posted["seq"]):
        data = {"seq": seq, "message": "anyone?", "individual_id": IND["ann"], "source": "api", "posted_time": at}
        made = channel_events.new(org.id, cid, "message-posted", actor_individual_id=IND["ann"], message_id=posted["id"], data=data)
        return made.model_copy(update={"id": eid})

    night = event("2026-11-03T04:30:00.000Z")
    channel_responders.apply(night)
    channel_responders.apply(night)  # SQS delivered it twice
    channel_responders.apply(event("2026-11-03T05:00:00.000Z", eid="e-2"))  # another message, the same night
    replies = [m for m in messages(org.id, cid) if m["source"] == "auto-responder"]
    assert len(replies) == 1 and replies[0]["individual_id"] == IND["ben"]
    (marker,) = store.markers(org.id, rid)
    assert marker["period"] == "2026-11-03T03:00:00.000Z" and marker["message_id"] == replies[0]["id"]
    channel_responders.apply(event("2026-11-03T15:00:00.000Z", eid="e-3"))  # daytime: not active
    assert len([m for m in messages(org.id, cid) if m["source"] == "auto-responder"]) == 1
    channel_responders.apply(event("2026-11-04T04:00:00.000Z", eid="e-4"))  # the next night: a new period
    assert len([m for m in messages(org.id, cid) if m["source"] == "auto-responder"]) == 2
    assert sorted(m["period"] for m in store.markers(org.id, rid)) == ["2026-11-03T03:00:00.000Z", "2026-11-04T03:00:00.000Z"]

    # the worker died after taking the claim (e-5's, nothing recorded): the redelivery posts the reply
    from parley.dal import table

    period = "2026-11-05T03:00:00.000Z"
    claim = {k: v for k, v in marker.items() if k != "message_id"}
    table.put_item({**claim, "SK": store.marker_sk(cid, period), "period": period, "event_id": "e-5"})
    before = messages(org.id, cid)
    channel_responders.apply(event("2026-11-05T04:00:00.000Z", eid="e-5", seq=before[-1]["seq"]))
    after = messages(org.id, cid)
    assert len(after) == len(before) + 1 and after[-1]["source"] == "auto-responder"
    assert store.get_marker(org.id, rid, cid, period)["message_id"] == after[-1]["id"]
    # it died after posting, before recording: the redelivery posts with the same deterministic id: answered, not repeated
    table.put_item({k: v for k, v in store.get_marker(org.id, rid, cid, period).items() if k != "message_id"})
    channel_responders.apply(event("2026-11-05T04:00:00.000Z", eid="e-5", seq=before[-1]["seq"]))
    assert len(messages(org.id, cid)) == len(after)
    assert store.get_marker(org.id, rid, cid, period)["message_id"] == after[-1]["id"]


def test_who_is_answered_and_by_whom(handler, org, drain, events_queue):
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    new_responder(handler, org.id, **{"individual-group-id": GROUP_A, "args": {"message": "A away", "message-js": {"es_MX": "A fuera"}}})
    disabled = new_responder(handler, org.id, **{"individual-group-id": GROUP_B, "args": {"message": "B away"}})["id"]
    call(handler, "disable", org.id, id_=disabled, body_={})
    # a group-bound channel of A (Ann, Al) that Bob created: Al, A's leader, answers for A
    bound, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["bob"], individual_group_id=GROUP_A,
                                       group_individual_ids=[IND["ann"], IND["al"]])  # fmt: skip
    # a floating channel of Ann and Al only: A does not answer its own people
    own, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["ann"], individual_ids=[IND["al"]])
    # Cat (es_US) with Ann: the reply in Cat's language (es_MX is the only Spanish one)
    cat, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["cat"], individual_ids=[IND["ann"]])
    drain(events_queue)
    msgs.post(org.id, bound["id"], IND["bob"], "hi team", user_id=USERS["bob"])
    msgs.post(org.id, own["id"], IND["ann"], "lunch?", user_id=USERS["ann"])
    msgs.post(org.id, cat["id"], IND["cat"], "hola", user_id=USERS["cat"])
    msgs.post(org.id, cat["id"], IND["ann"], "hello Cat", user_id=USERS["ann"])  # B's responder is disabled; Cat has none
    bulk = msgs.post(org.id, own["id"], IND["al"], "broadcast", source="bulk")
    assert bulk["source"] == "bulk"
    run_until_quiescent(drain, events_queue)
    replies = lambda cid: [(m["individual_id"], m["message"]) for m in messages(org.id, cid) if m["source"] == "auto-responder"]  # noqa: E731
    assert replies(bound["id"]) == [(IND["al"], "A away")]
    assert replies(own["id"]) == []
    assert replies(cat["id"]) == [(IND["ann"], "A fuera")]

    # an archived channel gets no reply
    arch, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["bob"], individual_ids=[IND["al"]])
    msgs.post(org.id, arch["id"], IND["bob"], "last words", user_id=USERS["bob"])
    channels.set_archived(org.id, arch["id"], IND["bob"], True)
    run_until_quiescent(drain, events_queue)
    assert replies(arch["id"]) == []


def test_the_purge_of_a_user_leaves_responders_without_their_name(handler, org):
    from parley.domain import purge, responders

    mine = new_responder(handler, org.id)["id"]  # created by Ann
    call(
        handler,
        "update",
        org.id,
        as_="bob",
        id_=mine,
        body_={"data": {"type": "messaging-responders", "id": mine, "attributes": {"name": "x"}}},
    )
    other = new_responder(handler, org.id, **{"individual-group-id": GROUP_A})["id"]
    call(
        handler,
        "update",
        org.id,
        as_="cat",
        id_=other,
        body_={"data": {"type": "messaging-responders", "id": other, "attributes": {"name": "y"}}},
    )
    assert responders.purge_users(org.id, {USERS["ann"]}) == {"responders_unnamed": 2}
    first, second = stored(org.id, mine), stored(org.id, other)
    assert "created_by" not in first and first["last_modified_by"] == USERS["bob"]
    assert "created_by" not in second and second["last_modified_by"] == USERS["cat"]
    assert responders.purge_users(org.id, {USERS["ann"]}) == {"responders_unnamed": 0}
    # the purge job's courier step calls it (the subject's users)
    done = purge.purge_courier(purge.Subject(tenant_id=org.id, user_ids={USERS["bob"]}))
    assert done["responders_unnamed"] == 1 and "last_modified_by" not in stored(org.id, mine)
    status, out = call(handler, "get", org.id, id_=mine)
    assert status == 200 and out["data"]["attributes"]["created-by"] is None and out["data"]["attributes"]["last-modified-by"] is None
