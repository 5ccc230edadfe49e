"""Courier channel messages and the inbox on moto (issue 18, area B): posting takes the channel's next seq with its
last message in one transaction, the members' inbox state (head/ack/unread and the three inbox indexes), acks and
receipts, edits and soft deletes, reactions, drafts, the large-channel path through the channel_inbox hook, and the
events published; stored state asserted."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

ORG = "org-1"


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


def events(drain, url):
    return [json.loads(m["Body"]) for m in drain(url)]


def member(t, chan, ind):
    from parley.dal import channels as store

    return store.get_member(t, chan, ind, consistent=True)


def test_posts_take_consecutive_seqs_and_move_the_members_unread_counts(tenant, events_queue, drain):
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b", "c"])
    cid = chan["id"]
    m1 = msgs.post(t.id, cid, "a", "hello", user_id="u-a")
    m2 = msgs.post(t.id, cid, "b", "hi there")
    m3 = msgs.post(t.id, cid, "a", "how are you")
    assert [m1["seq"], m2["seq"], m3["seq"]] == [1, 2, 3]
    stored = cstore.get_channel(t.id, cid, consistent=True)
    assert stored["seq"] == 3 and stored["last_message"]["id"] == m3["id"] and stored["last_message"]["message"] == "how are you"
    assert stored["last_time"] == m3["posted_time"]
    item = mstore.get_message(t.id, m1["id"], consistent=True)
    assert item["GSI3PK"] == f"TENANT#{t.id}#CHAN#{cid}#MSGS" and item["GSI3SK"] == "000000000001" and item["source"] == "api"
    # a (author of 1 and 3, auto-ack) has read up to 3; b up to 2 (its own); c nothing
    a, b, c = (member(t.id, cid, x) for x in "abc")
    assert (a["head_seq"], a["ack_seq"], a["unread"]) == (3, 3, 0)
    assert (b["head_seq"], b["ack_seq"], b["unread"]) == (3, 2, 1)
    assert (c["head_seq"], c["ack_seq"], c["unread"]) == (3, 0, 3)
    assert c["GSI7PK"] == f"TENANT#{t.id}#INBOXU#c" and c["GSI7SK"].startswith("0000000003#")
    assert c["GSI6SK"] == f"{m3['posted_time']}#{cid}"

    # c acks message 2: unread 1; acking 1 (backwards) changes nothing without allow-past, moves back with it
    _, state = msgs.ack(t.id, m2["id"], "c")
    assert (state["ack_seq"], state["unread"], state["ack_message_id"]) == (2, 1, m2["id"])
    _, state = msgs.ack(t.id, m1["id"], "c")
    assert state["ack_seq"] == 2
    _, state = msgs.ack(t.id, m1["id"], "c", allow_past=True)
    assert (state["ack_seq"], state["unread"]) == (1, 2)
    read, unread = msgs.receipts(t.id, mstore.get_message(t.id, m2["id"]))
    assert sorted(m["individual_id"] for m in read) == ["a", "b"] and [m["individual_id"] for m in unread] == ["c"]

    kinds = [(e["kind"], e.get("message_id")) for e in events(drain, events_queue)]
    assert kinds.count(("message-posted", m1["id"])) == 1 and ("ack", m2["id"]) in kinds and ("ack", m1["id"]) in kinds
    posted = [e for e in events(drain, events_queue)]  # drained already
    assert posted == []


def test_non_members_and_other_tenants_get_404(tenant):
    from parley.domain import channel_messages as msgs
    from parley.domain import channels
    from parley.errors import NotFound

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b"], publish=False)
    m = msgs.post(t.id, chan["id"], "a", "secret", publish=False)
    with pytest.raises(NotFound):
        msgs.post(t.id, chan["id"], "x", "let me in", publish=False)
    for tenant_id, ind in ((t.id, "x"), ("other-tenant", "a")):
        with pytest.raises(NotFound):
            msgs.require_message(tenant_id, m["id"], ind)
        with pytest.raises(NotFound):
            msgs.ack(tenant_id, m["id"], ind)


def test_edit_remove_drafts_and_reactions(tenant, events_queue, drain):
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.domain import channel_messages as msgs
    from parley.domain import channels
    from parley.errors import Conflict, Forbidden, NotFound

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b"])
    cid = chan["id"]
    draft = msgs.post(t.id, cid, "a", "draft text", draft=True)
    assert draft["draft"] and "seq" not in draft and draft["GSI3SK"].startswith("DRAFT#")
    with pytest.raises(NotFound):
        msgs.require_message(t.id, draft["id"], "b")  # a draft is its author's
    assert member(t.id, cid, "b").get("unread") in (None, 0)
    other_draft = msgs.post(t.id, cid, "b", "b's draft", draft=True)
    assert [i["id"] for i in msgs.page(t.id, cid, "a", offset=0, limit=10, drafts=True)[0]] == [draft["id"]]  # a's own only
    assert [i["id"] for i in msgs.page(t.id, cid, "b", offset=0, limit=10, drafts=True)[0]] == [other_draft["id"]]
    assert msgs.page(t.id, cid, "a", offset=0, limit=10)[1] == 0  # the posted messages: none yet
    published = msgs.edit(t.id, draft["id"], "a", message="final text", draft=False)
    assert published["seq"] == 1 and not published["draft"]
    stored = mstore.get_message(t.id, draft["id"], consistent=True)
    assert stored["GSI3SK"] == "000000000001" and stored["message"] == "final text" and stored["draft"] is False
    assert msgs.page(t.id, cid, "a", offset=0, limit=10, drafts=True)[:2] == ([], 0)
    assert member(t.id, cid, "b")["unread"] == 1

    with pytest.raises(Forbidden):
        msgs.edit(t.id, draft["id"], "b", message="not mine")
    edited = msgs.edit(t.id, draft["id"], "a", message="final text, edited")
    assert cstore.get_channel(t.id, cid, consistent=True)["last_message"]["message"] == "final text, edited"
    assert edited["edited_time"]
    msgs.react(t.id, draft["id"], "b", "like", add=True)
    msgs.react(t.id, draft["id"], "b", "like", add=True)
    after = msgs.react(t.id, draft["id"], "a", "love", add=True)
    assert set(after["reactions"]) == {"like#b", "love#a"}
    after = msgs.react(t.id, draft["id"], "b", "like", add=False)
    assert set(after["reactions"]) == {"love#a"}
    removed = msgs.edit(t.id, draft["id"], "a", removed=True)
    assert removed["removed"] is True
    assert cstore.get_channel(t.id, cid, consistent=True)["last_message"] == {
        "id": draft["id"], "message": "", "posted_time": published["posted_time"], "removed": True, "individual_id": "a"}  # fmt: skip
    with pytest.raises(Conflict):
        msgs.edit(t.id, draft["id"], "a", message="back")
    kinds = [e["kind"] for e in events(drain, events_queue)]
    assert kinds.count("reaction-added") == 2 and kinds.count("reaction-removed") == 1
    assert kinds.count("message-edited") == 1 and kinds.count("message-removed") == 1 and kinds.count("message-posted") == 1


def test_a_large_channel_gets_its_inbox_state_from_the_hook(tenant, events_queue, drain, monkeypatch):
    from parley.domain import channel_events, channel_inbox, channels
    from parley.domain import channel_messages as msgs

    monkeypatch.setattr(msgs, "SYNC_MEMBERS", 2)
    t, _ = tenant
    people = [f"p{i}" for i in range(5)]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="p0", individual_ids=people[1:])
    cid = chan["id"]
    for e in events(drain, events_queue):  # members-added: every member gets its state (head = ack = 0)
        channel_events.handle(channel_events.parse(json.dumps(e)))
    assert member(t.id, cid, "p3")["GSI5PK"] == f"TENANT#{t.id}#INBOXA#p3"
    m = msgs.post(t.id, cid, "p1", "to everyone")
    assert member(t.id, cid, "p1")["ack_seq"] == 1  # the author's, synchronously
    assert member(t.id, cid, "p3")["unread"] == 0  # not yet: the event does it
    queued = events(drain, events_queue)
    assert [e["data"]["inbox"] for e in queued if e["kind"] == "message-posted"] == ["async"]
    for e in queued:
        event = channel_events.parse(json.dumps(e))
        channel_events.handle(event)
        channel_events.handle(event)  # redelivered: nothing changes twice
    assert [member(t.id, cid, p)["unread"] for p in people] == [1, 0, 1, 1, 1]
    assert member(t.id, cid, "p4")["last_time"] == m["posted_time"]
    assert channel_inbox is not None


# ── the routes, through their Lambda handlers ──

T1 = "2026-11-01T09:00:00Z"
USER_A, USER_B, USER_C = "user-a", "user-b", "user-c"
IND_A, IND_B, IND_C, IND_A2 = "ind-a", "ind-b", "ind-c", "ind-a2"
PATHS = {
    "list_messaging_messages": "/v1/messaging-messages/",
    "create_messaging_message": "/v1/messaging-messages/",
    "get_messaging_message": "/v1/messaging-messages/{id}/",
    "update_messaging_message": "/v1/messaging-messages/{id}/",
    "ack_messaging_message": "/v1/messaging-messages/{id}/ack/",
    "add_reaction_messaging_message": "/v1/messaging-messages/{id}/add-reaction/",
    "delete_reaction_messaging_message": "/v1/messaging-messages/{id}/delete-reaction/",
    "get_receipts_messaging_message": "/v1/messaging-messages/{id}/get-receipts/",
    "list_communication_messages": "/v1/communication-messages/",
}


def directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(tenant_id, [
        line("organizations", ORG, {"name": "northside"}),
        line("users", USER_A, {"username": "ann", "primary-individual-id": IND_A}),
        line("users", USER_B, {"username": "bob", "primary-individual-id": IND_B}),
        line("users", USER_C, {"username": "cy", "primary-individual-id": IND_C}),
        line("individuals", IND_A, {"first-name": "Ann", "last-name": "Lee", "owner-id": USER_A}),
        line("individuals", IND_A2, {"first-name": "Kid", "owner-id": USER_A}),
        line("individuals", IND_B, {"first-name": "Bob", "last-name": "Ray", "owner-id": USER_B}),
        line("individuals", IND_C, {"first-name": "Cy", "owner-id": USER_C}),
    ])  # fmt: skip
    assert summary.invalid == []


@pytest.fixture
def care(tenant, events_queue):
    from parley.domain import channels

    t, _ = tenant
    directory(t.id)
    chan, _ = channels.create_channel(
        t.id, organization_id=ORG, creator_individual_id=IND_A, individual_ids=[IND_B, IND_C], name="Care team"
    )
    return t, chan


def call(handler, fn, tenant_id, *, user=USER_A, body_=None, query=None, id_=None):
    hdrs = {"X-User-ID": user, "Content-Type": "application/vnd.api+json"}
    ev = api_event(f"courier_messaging/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    ev["path"] = PATHS[fn].replace("{id}", id_ or "")
    ev["pathParameters"] = {"id": id_} if id_ else None
    if query is not None:
        ev["queryStringParameters"] = {k: v for k, v in query.items() if not isinstance(v, list)} or None
        ev["multiValueQueryStringParameters"] = {k: v if isinstance(v, list) else [v] for k, v in query.items()} or None
    return handler(f"CourierMessagingApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)


def post_msg(handler, t, chan, text, user=USER_A, **extra):
    out = call(handler, "create_messaging_message", t, user=user,
               body_={"data": {"type": "messaging-messages", "attributes": {"channel-id": chan, "message": text, **extra}}})  # fmt: skip
    assert out["statusCode"] == 201, out["body"]
    return body(out)["data"]


MESSAGE_ATTRS = {
    "ack", "attachments", "channel-id", "destination", "draft", "first-name", "individual-id", "last-modified-time", "last-name",
    "message", "phrases", "posted-time", "preferred-name", "reactions", "read-receipts", "removed", "sentiment", "source",
    "user-id", "user-name", "user-type",
}  # fmt: skip


def test_the_routes_post_list_get_patch_ack_react_and_receipts(handler, care):
    t, chan = care
    cid = chan["id"]
    m1 = post_msg(handler, t.id, cid, "Shift swap tomorrow?")
    assert m1["type"] == "messaging-messages" and set(m1["attributes"]) == MESSAGE_ATTRS
    a = m1["attributes"]
    assert a["individual-id"] == IND_A and a["first-name"] == "Ann" and a["user-name"] == "ann" and a["user-id"] == USER_A
    assert a["ack"] is True and a["source"] == "api" and a["draft"] is False and a["posted-time"].endswith("Z")
    m2 = post_msg(handler, t.id, cid, "Yes, I can take it", user=USER_B)

    out = call(handler, "list_messaging_messages", t.id, user=USER_C, query={"channel-id": cid, "include-read-receipts": "true"})
    assert out["statusCode"] == 200, out["body"]
    doc = body(out)
    assert [d["id"] for d in doc["data"]] == [m2["id"], m1["id"]] and doc["meta"]["page[total]"] == 2
    assert [d["attributes"]["ack"] for d in doc["data"]] == [False, False]
    assert sorted(r["individual-id"] for r in doc["data"][1]["attributes"]["read-receipts"]) == [IND_A, IND_B]
    out = call(handler, "list_messaging_messages", t.id, user=USER_C, query={"channel-id": cid, "filter[text]": "SWAP"})
    assert [d["id"] for d in body(out)["data"]] == [m1["id"]]

    # the inbox of C: 2 unread; ack m2 → 0
    inbox = body(call(handler, "list_communication_messages", t.id, user=USER_C))
    assert inbox["meta"]["page[total]"] == 1 and inbox["data"][0]["type"] == "messaging-channels"
    attrs = inbox["data"][0]["attributes"]
    assert attrs["caller-new-message-count"] == 2 and attrs["caller-has-new-message"] is True
    assert attrs["last-message"] == {
        "id": m2["id"],
        "message": "Yes, I can take it",
        "posted-time": m2["attributes"]["posted-time"],
        "removed": False,
    }
    out = call(handler, "ack_messaging_message", t.id, user=USER_C, id_=m2["id"], body_={})
    assert out["statusCode"] == 201, out["body"]
    assert body(out)["data"]["attributes"]["ack"] is True
    assert body(call(handler, "list_communication_messages", t.id, user=USER_C))["data"][0]["attributes"]["caller-new-message-count"] == 0
    out = call(handler, "ack_messaging_message", t.id, user=USER_C, id_=m2["id"], body_=None)  # no body at all: the defaults
    assert out["statusCode"] == 201, out["body"]
    out = call(handler, "ack_messaging_message", t.id, user=USER_C, id_=m1["id"], body_={"allow-past": True})
    assert body(call(handler, "list_communication_messages", t.id, user=USER_C))["data"][0]["attributes"]["caller-new-message-count"] == 1

    out = call(handler, "get_receipts_messaging_message", t.id, user=USER_B, id_=m2["id"])
    assert out["statusCode"] == 200 and out["multiValueHeaders"]["Content-Type"] == ["application/json"]
    rec = json.loads(out["body"])
    assert [r["individual-id"] for r in rec["read"]] == [IND_B] and sorted(r["individual-id"] for r in rec["unread"]) == [IND_A, IND_C]
    assert rec["read"][0]["individual-first-name"] == "Bob" and rec["read"][0]["ack-time"]

    out = call(handler, "add_reaction_messaging_message", t.id, user=USER_C, id_=m1["id"], body_={"reaction-type": "love"})
    assert out["statusCode"] == 201, out["body"]
    assert body(out)["data"]["attributes"]["reactions"] == [
        {"first-name": "Cy", "individual-id": IND_C, "last-name": None, "reaction-type": "love", "user-name": None}
    ]
    out = call(handler, "add_reaction_messaging_message", t.id, user=USER_C, id_=m1["id"], body_={"reaction-type": "meh"})
    assert out["statusCode"] == 400
    out = call(handler, "delete_reaction_messaging_message", t.id, user=USER_C, id_=m1["id"], body_={"reaction-type": "love"})
    assert out["statusCode"] == 201 and body(out)["data"]["attributes"]["reactions"] == []

    patch = {"data": {"type": "messaging-messages", "id": m1["id"], "attributes": {"message": "Shift swap on Friday?"}}}
    assert call(handler, "update_messaging_message", t.id, user=USER_B, id_=m1["id"], body_=patch)["statusCode"] == 403
    out = call(handler, "update_messaging_message", t.id, id_=m1["id"], body_=patch)
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["message"] == "Shift swap on Friday?"
    patch["data"]["attributes"] = {"removed": True}
    out = call(handler, "update_messaging_message", t.id, id_=m1["id"], body_=patch)
    assert body(out)["data"]["attributes"]["removed"] is True and body(out)["data"]["attributes"]["message"] == ""
    out = call(handler, "get_messaging_message", t.id, user=USER_B, id_=m1["id"])
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["removed"] is True


def test_inbox_sorts_filters_and_pages(handler, care):
    from parley.domain import channels

    t, chan = care
    other, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=IND_B, individual_ids=[IND_C], name="Night shift")
    third, _ = channels.create_channel(
        t.id, organization_id=ORG, creator_individual_id=IND_A, individual_ids=[IND_C], floating=True, name="Lobby"
    )
    for _ in range(3):
        post_msg(handler, t.id, other["id"], "night", user=USER_B)
    post_msg(handler, t.id, chan["id"], "care", user=USER_A)
    post_msg(handler, t.id, third["id"], "lobby", user=USER_A)  # the latest activity
    inbox = lambda **q: body(call(handler, "list_communication_messages", t.id, user=USER_C, query=q))  # noqa: E731
    got = inbox()
    assert [d["id"] for d in got["data"]] == [third["id"], chan["id"], other["id"]] and got["meta"]["page[total]"] == 3
    got = inbox(sort="-unread-count")
    assert [(d["id"], d["attributes"]["caller-new-message-count"]) for d in got["data"]] == [
        (other["id"], 3),
        (third["id"], 1),
        (chan["id"], 1),
    ]
    got = inbox(**{"page[limit]": "1", "page[offset]": "1"})
    assert [d["id"] for d in got["data"]] == [chan["id"]] and got["meta"]["page[total]"] == 3
    got = inbox(**{"filter[text]": "NIGHT"})
    assert [d["id"] for d in got["data"]] == [other["id"]] and got["meta"]["page[total]"] == 1
    got = inbox(**{"filter[type]": "direct-message"})
    assert {d["id"] for d in got["data"]} == {chan["id"], other["id"]}
    assert inbox(**{"filter[archived]": "true"})["data"] == []
    assert call(handler, "list_communication_messages", t.id, user=USER_C, query={"sort": "name"})["statusCode"] == 400


def test_isolation_non_members_and_other_tenants_get_404(handler, care):
    t, chan = care
    cid = chan["id"]
    m = post_msg(handler, t.id, cid, "members only")
    # A's other individual (not a member) is refused like an unknown id
    for fn in ("get_messaging_message", "get_receipts_messaging_message"):
        out = call(handler, fn, t.id, id_=m["id"], query={"individual-id": IND_A2})
        assert out["statusCode"] == 404 and body(out)["errors"][0]["code"] == "not-found"
    out = call(handler, "ack_messaging_message", t.id, id_=m["id"], body_={"individual-id": IND_A2})
    assert out["statusCode"] == 404
    out = call(handler, "list_messaging_messages", t.id, query={"channel-id": cid, "individual-id": IND_A2})
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"] == {"parameter": "channel-id"}
    out = call(handler, "create_messaging_message", t.id, body_={"data": {"type": "messaging-messages", "attributes": {
        "channel-id": cid, "message": "hi", "individual-id": IND_A2}}})  # fmt: skip
    assert out["statusCode"] == 404
    # another user's individual: 403 (the individual-id rule)
    out = call(handler, "get_messaging_message", t.id, id_=m["id"], query={"individual-id": IND_B})
    assert out["statusCode"] == 403
    # missing members: 422 naming them
    out = call(handler, "create_messaging_message", t.id, body_={"data": {"type": "messaging-messages", "attributes": {"channel-id": cid}}})
    assert out["statusCode"] == 422 and body(out)["errors"][0]["source"] == {"pointer": "/data/attributes/message"}


def test_the_inbox_count_kept_by_the_hook_serves_page_total_and_deep_pages_from_the_end(tenant, events_queue, drain):
    from parley.dal import channel_messages as mstore
    from parley.domain import channel_events, channel_inbox, channels
    from parley.domain import channel_messages as msgs

    t, _ = tenant
    made = []
    for n in range(7):
        chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="me", individual_ids=[f"other-{n}"])
        msgs.post(t.id, chan["id"], f"other-{n}", f"hello {n}")
        made.append(chan["id"])
    assert mstore.get_inbox_count(t.id, "me") is None
    rows, total, cost = channel_inbox.page(t.id, "me", offset=0, limit=3)  # no count yet: counted
    assert total == 7 and cost["counted"] == 4
    for e in events(drain, events_queue):
        channel_events.handle(channel_events.parse(json.dumps(e)))
    assert mstore.get_inbox_count(t.id, "me") == 7
    newest_first = list(reversed(made))
    for sort, descending, expected in (("last-timestamp", True, newest_first), ("last-timestamp", False, made)):
        seen = []
        for offset in (0, 3, 6):
            rows, total, cost = channel_inbox.page(t.id, "me", sort=sort, descending=descending, offset=offset, limit=3)
            assert total == 7
            seen += [c["id"] for c, _m in rows]
            if offset == 6:  # the last page is read from the other end: nothing counted
                assert cost["counted"] == 0 and cost["members"] == 1
        assert seen == expected
    rows, total, cost = channel_inbox.page(t.id, "me", sort="unread-count", offset=0, limit=10)
    assert total == 7 and [m["unread"] for _c, m in rows] == [1] * 7 and cost["counted"] == 0
