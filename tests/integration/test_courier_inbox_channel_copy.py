"""The inbox reads no channel item (issue 18: items read at most twice the items returned): each member item carries a copy of its
channel's inbox fields (``ch``, at the channel's version ``ch_v``), kept in step on every channel write — at once for a
small channel, by ChannelEventsFunction (the ``channel_inbox`` hook) for a large one. On moto; what DynamoDB reads is
counted with a botocore hook, and stored state is asserted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers import api_event, body

ORG = "org-1"
USER, ME = "user-me", "ind-me"
T1 = "2026-11-01T09:00:00Z"


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


def queued(drain, url):
    from parley.domain import channel_events

    return [channel_events.parse(m["Body"]) for m in drain(url)]


def run_worker(drain, url) -> list[str]:
    """ChannelEventsFunction: every queued event through every hook (twice: SQS delivers at least once)."""
    from parley.domain import channel_events

    kinds = []
    for event in queued(drain, url):
        channel_events.handle(event)
        channel_events.handle(event)
        kinds.append(event.kind)
    return kinds


class Reads:
    """Items DynamoDB reads (Query ``ScannedCount``, GetItem / BatchGetItem items), and the channel items among them."""

    def __init__(self) -> None:
        self.items = self.channel_items = 0
        self.on = False

    def after(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if not self.on or parsed is None:
            return
        if model.name == "Query":
            self.items += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.items += int("Item" in parsed)
            self.channel_items += int(parsed.get("Item", {}).get("SK", {}).get("S") == "CHAN")
        elif model.name == "BatchGetItem":
            got = [i for v in (parsed.get("Responses") or {}).values() for i in v]
            self.items += len(got)
            self.channel_items += sum(i["SK"]["S"] == "CHAN" for i in got)


def directory(tenant_id):
    from parley.domain import directory as d

    lines = [
        json.dumps({"type": "organizations", "id": ORG, "attributes": {"name": "northside"}, "last-sync-time": T1}),
        json.dumps({"type": "users", "id": USER, "attributes": {"primary-individual-id": ME}, "last-sync-time": T1}),
        json.dumps({"type": "individuals", "id": ME, "attributes": {"owner-id": USER}, "last-sync-time": T1}),
    ]
    assert d.import_lines(tenant_id, lines).invalid == []


def inbox_call(inbox, tenant_id, query):
    ev = api_event("courier_messaging/list_communication_messages", tenant_id=tenant_id, query=query, headers={"X-User-ID": USER})
    ev["path"] = "/v1/communication-messages/"
    ev["queryStringParameters"] = query
    ev["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return inbox(ev)


def test_a_page_of_100_reads_at_most_2_items_per_channel_returned_and_no_channel_item(tenant, events_queue, drain, handler):
    from parley import clock
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.dal import table
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    directory(t.id)
    made = []
    for n in range(150):
        chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=ME, individual_ids=[f"other-{n}"],
                                          name=f"Team {n}")  # fmt: skip
        made.append(chan["id"])
    for n in (0, 75, 149):  # some with a last message (the copy follows the post)
        msgs.post(t.id, made[n], f"other-{n}", f"hello team {n}")
    drain(events_queue)
    assert mstore.recount_inbox(t.id, ME, clock.iso(clock.now())) == 150
    # a member item written before the copies existed: answered from its channel item (read for it alone)
    old = made[3]
    table.ddb().update_item(TableName=table.table_name(), Key=table.key(cstore.channel_pk(t.id, old), cstore.member_sk(ME)),
                            UpdateExpression="REMOVE ch, ch_v")  # fmt: skip
    assert "ch" not in cstore.get_member(t.id, old, ME, consistent=True)

    # loads the function's environment (and resets the cached clients) before the hook is registered on its client
    fn = handler("CourierMessagingApi.ListCommunicationMessagesFunction")
    reads = Reads()
    table.ddb().meta.events.register("after-call.dynamodb.*", reads.after)
    pages = {}
    for offset in (0, 100):
        reads.items = reads.channel_items = 0
        reads.on = True
        out = inbox_call(fn, t.id, {"page[limit]": "100", "page[offset]": str(offset), "sort": "-last-timestamp"})
        reads.on = False
        assert out["statusCode"] == 200, out["body"]
        doc = body(out)
        returned = len(doc["data"])
        assert returned == (100 if offset == 0 else 50) and doc["meta"]["page[total]"] == 150
        assert reads.items <= 2 * returned, (offset, reads.items, returned)
        pages[offset] = (doc, reads.items, reads.channel_items)
    # newest activity first: the three posted-to channels lead, then the rest newest created first
    first = pages[0][0]["data"]
    assert [r["id"] for r in first[:3]] == [made[149], made[75], made[0]]
    assert first[0]["attributes"]["name"] == "Team 149" and first[0]["attributes"]["last-message"]["message"] == "hello team 149"
    assert first[0]["attributes"]["caller-new-message-count"] == 1
    assert pages[0][2] == 0  # page 1 has no copy-less member item: no channel item read at all
    # page 2 (offset 100, read from the end): the copy-less member is on it; its channel (only) was read
    later = {r["id"]: r["attributes"] for r in pages[100][0]["data"]}
    assert old in later and later[old]["name"] == "Team 3" and pages[100][2] == 1
    assert [r["id"] for r in pages[0][0]["data"]] + list(later) == [made[149], made[75], made[0]] + [
        c for c in reversed(made) if c not in (made[149], made[75], made[0])
    ]


def _copy_matches(tenant_id, channel_id, individual_id) -> dict:
    from parley.dal import channels as cstore

    channel = cstore.get_channel(tenant_id, channel_id, consistent=True)
    member = cstore.get_member(tenant_id, channel_id, individual_id, consistent=True)
    assert member["ch"] == cstore.channel_copy(channel) and member["ch_v"] == channel["cv"], individual_id
    return member


def _inbox_row(tenant_id, individual_id, channel_id) -> dict:
    from parley.domain import channel_inbox

    rows, _total, _cost = channel_inbox.page(tenant_id, individual_id, offset=0, limit=50)
    found = [channel_inbox.attributes(c, m).model_dump(by_alias=True) for c, m in rows if c["id"] == channel_id]
    assert len(found) == 1
    return found[0]


def _changes(t, cid, author, others) -> tuple[dict, dict]:
    """PATCH name + label, a post, a bookmark of it, an edit of it; then archive. Returns (message, bookmark)."""
    from parley.domain import channel_bookmarks, channels
    from parley.domain import channel_messages as msgs
    from parley.models.channel_bookmarks import BookmarkCreateAttributes

    channels.update(t, cid, author, {"name": "Night shift", "label": "urgent"}, [])
    m = msgs.post(t, cid, others[0], "first words")
    attrs = BookmarkCreateAttributes.model_validate({"channel-id": cid, "message-id": m["id"]})
    (bid, _attrs), created = channel_bookmarks.create(t, author, attrs)
    assert created
    msgs.edit(t, m["id"], others[0], message="better words")
    return m, {"id": bid}


def test_a_small_channel_s_changes_reach_every_member_s_copy_at_once(tenant, events_queue, drain):
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    people = ["a", "b", "c"]
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=people[1:], name="Care")
    cid = chan["id"]
    for p in people:  # written with the member item
        assert _copy_matches(t.id, cid, p)["ch"]["name"] == "Care"
    m, bookmark = _changes(t.id, cid, "a", ["b"])
    assert "channel-changed" not in [e.kind for e in queued(drain, events_queue)]  # no worker needed
    for p in people:
        _copy_matches(t.id, cid, p)
        row = _inbox_row(t.id, p, cid)
        assert (row["name"], row["label"]) == ("Night shift", "urgent")
        assert row["last-message"]["id"] == m["id"] and row["last-message"]["message"] == "better words"
        assert row["bookmark"] == {"id": bookmark["id"], "message-id": m["id"]}
    msgs.edit(t.id, m["id"], "b", removed=True)
    channels.set_archived(t.id, cid, "c", True)
    channels.update(t.id, cid, "a", {}, ["label"])  # cleared
    for p in people:
        _copy_matches(t.id, cid, p)
        row = _inbox_row(t.id, p, cid)
        assert row["archived"] is True and row["label"] is None and row["last-message"]["removed"] is True
        assert row["last-message"]["message"] == ""
    # a new member's copy is written with its member item, and the others' follow the change (last-modified-time)
    channels._change_members(channels.get_channel_item(t.id, cid), set(people), add=["d"], remove=[])
    for p in [*people, "d"]:
        assert _copy_matches(t.id, cid, p)["ch"]["archived"] is True


def test_a_large_channel_s_changes_reach_every_member_s_copy_through_the_worker(tenant, events_queue, drain):
    from parley.dal import channels as cstore
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    people = [f"p{i:02d}" for i in range(30)]  # more than channel_messages.SYNC_MEMBERS (25)
    assert len(people) > msgs.SYNC_MEMBERS
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="p00", individual_ids=people[1:], name="All hands")
    cid = chan["id"]
    run_worker(drain, events_queue)
    channels.update(t.id, cid, "p00", {"name": "Everyone"}, [])
    assert cstore.get_member(t.id, cid, "p17", consistent=True)["ch"]["name"] == "All hands"  # not yet: the worker does it
    assert sorted(run_worker(drain, events_queue)) == ["channel-changed", "channel-updated"]
    for p in people:
        assert _copy_matches(t.id, cid, p)["ch"]["name"] == "Everyone"
    _m, bookmark = _changes(t.id, cid, "p00", ["p01"])
    kinds = run_worker(drain, events_queue)
    assert "message-posted" in kinds and kinds.count("channel-changed") >= 3  # PATCH, bookmark, edit
    channels.set_archived(t.id, cid, "p05", True)
    run_worker(drain, events_queue)
    for p in people:
        _copy_matches(t.id, cid, p)
        row = _inbox_row(t.id, p, cid)
        assert (row["name"], row["label"], row["archived"]) == ("Night shift", "urgent", True)
        assert row["last-message"]["message"] == "better words" and row["bookmark"]["id"] == bookmark["id"]
        assert row["caller-new-message-count"] == (0 if p == "p01" else 1)


def test_a_late_or_replayed_copy_never_overwrites_a_newer_one(tenant, events_queue, drain):
    from parley.dal import channels as cstore
    from parley.domain import channel_events, channel_inbox, channels

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b"], name="v1")
    cid = chan["id"]
    old_copy, old_v = cstore.channel_copy(chan), cstore.channel_version(chan)
    channels.update(t.id, cid, "a", {"name": "v2"}, [])
    assert _copy_matches(t.id, cid, "b")["ch"]["name"] == "v2"
    assert cstore.write_copy(t.id, cid, "b", old_copy, old_v) is False  # a late copy of version 1
    stale = channel_events.new(t.id, cid, "channel-changed")
    channel_inbox.apply(stale)  # a replayed event copies the channel as it is now
    member = _copy_matches(t.id, cid, "b")
    assert member["ch"]["name"] == "v2" and member["ch_v"] == old_v + 1
    assert cstore.write_copy(t.id, cid, "not-a-member", old_copy, 99) is False  # never creates a member item
    assert cstore.get_member(t.id, cid, "not-a-member", consistent=True) is None


def test_a_post_s_copy_rides_with_the_inbox_state_and_never_undoes_a_copy_refreshed_meanwhile(tenant, events_queue, monkeypatch):
    from parley.dal import channel_messages as mstore
    from parley.domain import channel_inbox, channels
    from parley.domain import channel_messages as msgs

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b"], name="one")
    cid = chan["id"]
    m = msgs.post(t.id, cid, "a", "hi")
    b = _copy_matches(t.id, cid, "b")  # the post's copy came with b's inbox state
    assert b["ch"]["last_message"]["id"] == m["id"] and b["unread"] == 1
    at_post = channel_inbox.current_copy(t.id, cid)  # the copy a worker applying the post read (version 2)
    channels.update(t.id, cid, "a", {"name": "two"}, [])  # a refresh lands meanwhile: b's copy is at version 3
    assert _copy_matches(t.id, cid, "b")["ch_v"] == at_post[1] + 1
    # the worker had read b's member item before the post and that refresh (its copy at version 1, the post not applied)
    real_get = mstore.get_member
    calls = {"n": 0}

    def stale_then_real(tenant_id, channel_id, individual_id):
        calls["n"] += 1
        member = real_get(tenant_id, channel_id, individual_id)
        return {**member, "ch_v": at_post[1] - 1, "head_seq": 0, "unread": 0} if calls["n"] == 1 else member

    monkeypatch.setattr(channel_inbox.store, "get_member", stale_then_real)
    channel_inbox.apply_post(t.id, cid, "b", m, copy=at_post)
    assert calls["n"] == 2  # the conditional write failed on ch_v, was read again, and then nothing was newer to write
    monkeypatch.undo()
    after = _copy_matches(t.id, cid, "b")
    assert after["ch"]["name"] == "two" and after["ch"]["last_message"]["id"] == m["id"] and after["unread"] == 1


def test_a_post_s_copy_is_the_channel_it_wrote_and_a_change_landing_before_its_transaction_makes_it_retry(
    tenant, events_queue, monkeypatch
):
    """The post writes the members' copy from the channel it read plus its own changes (no read after its
    transaction): the transaction is conditional on the channel's version, so a PATCH landing between the read and the
    transaction makes the post read again, and every copy ends with both the new name and the message."""
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="a", individual_ids=["b", "c"], name="one")
    cid = chan["id"]
    real_post, real_get = mstore.post_message, cstore.get_channel
    seen = {"posts": 0, "reads": 0}

    def patched_first(*args, **kwargs):
        seen["posts"] += 1
        if seen["posts"] == 1:
            channels.update(t.id, cid, "b", {"name": "two"}, [])  # lands after the post read the channel
        return real_post(*args, **kwargs)

    def counted_get(*args, **kwargs):
        seen["reads"] += 1
        return real_get(*args, **kwargs)

    monkeypatch.setattr(mstore, "post_message", patched_first)
    monkeypatch.setattr(cstore, "get_channel", counted_get)
    m = msgs.post(t.id, cid, "a", "hello")
    monkeypatch.undo()
    assert seen["posts"] == 2 and m["seq"] == 1  # refused once on the version, then posted
    for p in ("a", "b", "c"):
        copy = _copy_matches(t.id, cid, p)["ch"]
        assert copy["name"] == "two" and copy["last_message"]["id"] == m["id"]
    # a post nobody races reads the channel once (the membership check) and not again for the copy
    seen["reads"] = 0
    monkeypatch.setattr(cstore, "get_channel", counted_get)
    msgs.post(t.id, cid, "b", "again")
    assert seen["reads"] == 0
    monkeypatch.undo()
    for p in ("a", "b", "c"):
        assert _copy_matches(t.id, cid, p)["ch"]["last_message"]["message"] == "again"
