"""Courier messaging channels on moto (issue 18, area A): the channel interface the other areas use (create_channel,
require_member, member_items, member_ids, get_channel_item), the routes of messaging-channels, the group binding kept
in step with the directory, the direct-channel dedupe, and the channel events published; stored state asserted."""

from __future__ import annotations

import json

import pytest

ORG = "org-1"


@pytest.fixture
def events_queue(aws, monkeypatch):
    """ChannelEventsQueue's URL, in the environment as the publishing functions have it."""
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


def channel_events(drain, url):
    return [json.loads(m["Body"]) for m in drain(url)]


def test_the_interface_creates_a_direct_channel_once_per_set_of_people_and_answers_members_only(tenant, events_queue, drain):
    from parley.dal import channels as store
    from parley.domain import channels
    from parley.errors import NotFound

    t, _ = tenant
    chan, created = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-b"])
    assert created and chan["kind"] == "direct" and chan["organization_id"] == ORG
    assert sorted(channels.member_ids(t.id, chan["id"])) == ["ind-a", "ind-b"]
    members = {m["individual_id"]: m for m in channels.member_items(t.id, chan["id"])}
    assert members["ind-a"]["admin"] is True and members["ind-b"]["admin"] is False and members["ind-b"]["notify"] is True
    assert members["ind-b"]["GSI6PK"] == f"TENANT#{t.id}#INBOX#ind-b"
    assert channels.get_channel_item(t.id, chan["id"])["GSI3PK"] == f"TENANT#{t.id}#CHANS#ORG#{ORG}"
    assert store.get_direct(t.id, ORG, ["ind-b", "ind-a"])["channel_id"] == chan["id"]

    # the same people (in another order, the other one creating) find the same channel; nothing new is written
    again, created = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="ind-b", individual_ids=["ind-a"])
    assert not created and again["id"] == chan["id"]
    # another set of people, another channel
    other, created = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-c"])
    assert created and other["id"] != chan["id"]

    got_channel, got_member = channels.require_member(t.id, chan["id"], "ind-b")
    assert got_channel["id"] == chan["id"] and got_member["individual_id"] == "ind-b"
    for tenant_id, channel_id, ind in ((t.id, chan["id"], "ind-c"), (t.id, "nope", "ind-a"), ("other-tenant", chan["id"], "ind-a")):
        with pytest.raises(NotFound) as err:
            channels.require_member(tenant_id, channel_id, ind, parameter="channel-id")
        assert err.value.parameter == "channel-id"
    assert channels.get_channel_item("other-tenant", chan["id"]) is None

    published = channel_events(drain, events_queue)
    assert [(e["kind"], e["channel_id"], e["data"]["individual_ids"]) for e in published] == [
        ("members-added", chan["id"], ["ind-a", "ind-b"]),
        ("members-added", other["id"], ["ind-a", "ind-c"]),
    ]


# ───────────── the routes ─────────────
from helpers import api_event, body  # noqa: E402

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"
ORG_ID = "7c000000-0000-4000-8000-000000000001"
OTHER_ORG = "7c000000-0000-4000-8000-000000000002"
GROUP_ID = "7c000000-0000-4000-8000-0000000000g1"
USERS = {"pat": "7c000000-0000-4000-8000-0000000000u1", "sam": "7c000000-0000-4000-8000-0000000000u2",
         "lee": "7c000000-0000-4000-8000-0000000000u3", "kim": "7c000000-0000-4000-8000-0000000000u4"}  # fmt: skip
IND = {name: f"7c000000-0000-4000-8000-0000000000i{n}" for n, name in enumerate(USERS, 1)}
FN = {
    "list": "CourierMessagingApi.ListMessagingChannelsFunction",
    "create": "CourierMessagingApi.CreateMessagingChannelFunction",
    "get": "CourierMessagingApi.GetMessagingChannelFunction",
    "update": "CourierMessagingApi.UpdateMessagingChannelFunction",
    "archive": "CourierMessagingApi.ArchiveMessagingChannelFunction",
    "unarchive": "CourierMessagingApi.UnarchiveMessagingChannelFunction",
    "subscribe": "CourierMessagingApi.SubscribeMessagingChannelFunction",
    "unsubscribe": "CourierMessagingApi.UnsubscribeMessagingChannelFunction",
    "preferences": "CourierMessagingApi.SetMessagingChannelPreferencesFunction",
    "profile": "CourierMessagingApi.GetMessagingChannelProfileFunction",
}
EVENTS = {
    "list": "list_messaging_channels",
    "create": "create_messaging_channel",
    "get": "get_messaging_channel",
    "update": "update_messaging_channel",
    "archive": "archive_messaging_channel",
    "unarchive": "unarchive_messaging_channel",
    "subscribe": "subscribe_messaging_channel",
    "unsubscribe": "unsubscribe_messaging_channel",
    "preferences": "set_messaging_channel_preferences",
    "profile": "get_messaging_channel_profile",
}
SUFFIX = {"archive": "archive/", "unarchive": "unarchive/", "subscribe": "subscribe/", "unsubscribe": "unsubscribe/",
          "preferences": "preferences/", "profile": "get-profile/"}  # fmt: skip


def line(type_, id_, attributes, at=T1):
    return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": at})


def group_line(members, at):
    return line("individual-groups", GROUP_ID, {"name": "Care team", "organization-id": ORG_ID,
                                                "individuals": [{"id": IND[m]} for m in members], "last-sync-time": at}, at)  # fmt: skip


def seed_directory(tenant_id):
    from parley.domain import directory as d

    lines = [line("organizations", ORG_ID, {"name": "northside"}), line("organizations", OTHER_ORG, {"name": "southside"})]
    for name, user in USERS.items():
        lines.append(line("users", user, {"username": name, "primary-individual-id": IND[name], "email": f"{name}@example.com",
                                          "phone": "+15555550100", "phone-verified": True}))  # fmt: skip
        lines.append(line("individuals", IND[name], {"first-name": name.title(), "last-name": "Doe", "owner-id": user,
                                                     "photo": f"https://img.example.com/{name}.png"}))  # fmt: skip
    lines.append(group_line(["sam", "lee"], T1))
    summary = d.import_lines(tenant_id, lines)
    assert summary.invalid == []


@pytest.fixture
def org(tenant, events_queue):
    t, _ = tenant
    seed_directory(t.id)
    return t


def call(handler, route, tenant_id, *, as_="pat", id_=None, body_=..., query=None):
    ev = api_event(f"courier_messaging/{EVENTS[route]}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": USERS[as_], "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = f"/v1/messaging-channels/{id_}/" + SUFFIX.get(route, "")
    out = handler(FN[route])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def new_channel(handler, tenant_id, as_="pat", **attributes):
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ORG_ID, **attributes}}}
    status, out = call(handler, "create", tenant_id, as_=as_, body_=doc)
    assert status in (200, 201), out
    return status, out["data"]


def stored_members(tenant_id, channel_id):
    from parley.domain import channels

    return {m["individual_id"]: m for m in channels.member_items(tenant_id, channel_id)}


def test_create_a_direct_channel_and_the_same_people_find_it_again(handler, org, drain, events_queue):
    status, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]], name="Pat & Sam", label="urgent")
    a = chan["attributes"]
    assert status == 201 and chan["type"] == "messaging-channels"
    assert (a["org-id"], a["name"], a["label"], a["owner-id"], a["owner-first-name"]) == (ORG_ID, "Pat & Sam", "urgent", IND["pat"], "Pat")
    assert (a["archived"], a["floating"], a["subscription-type"], a["event-settings"]) == (False, False, "none", {"enabled": False})
    assert (a["caller-has-new-message"], a["caller-new-message-count"], a["last-message"], a["bookmark"]) == (False, 0, None, None)
    subs = {s["id"]: s for s in a["subscribers"]}
    assert set(subs) == {IND["pat"], IND["sam"]} and subs[IND["pat"]]["admin"] and not subs[IND["sam"]]["admin"]
    assert subs[IND["sam"]]["email"] == "sam@example.com" and subs[IND["sam"]]["first-name"] == "Sam"
    assert set(stored_members(org.id, chan["id"])) == {IND["pat"], IND["sam"]}

    # Sam creating the same pair finds Pat's channel (200), nothing new stored
    status, again = new_channel(handler, org.id, as_="sam", individual_ids=[IND["pat"]])
    assert status == 200 and again["id"] == chan["id"] and again["attributes"]["name"] == "Pat & Sam"
    published = channel_events(drain, events_queue)
    assert [(e["kind"], e["data"]["individual_ids"]) for e in published] == [("members-added", sorted([IND["pat"], IND["sam"]]))]


def test_create_checks_every_id_against_the_tenant(handler, org, other_tenant, table_items):
    before = len(table_items())
    cases = [
        ({"individual-ids": ["nobody"]}, 404, "/data/attributes/individual-ids/0"),
        ({"individual-ids": [IND["sam"], "nobody"]}, 404, "/data/attributes/individual-ids/1"),
        ({"organization-id": "no-org", "individual-ids": [IND["sam"]]}, 404, "/data/attributes/organization-id"),
        ({"individual-group-id": "no-group"}, 404, "/data/attributes/individual-group-id"),
        ({"organization-id": OTHER_ORG, "individual-group-id": GROUP_ID}, 422, "/data/attributes/individual-group-id"),
        ({"individual-group-id": GROUP_ID, "floating": True}, 422, "/data/attributes/floating"),
        ({}, 422, "/data/attributes/individual-ids"),
        ({"individual-ids": [IND["sam"]], "text-number-id": "no-number"}, 404, "/data/attributes/text-number-id"),
        ({"individual-ids": [IND["sam"]], "colour": "red"}, 400, "/data/attributes/colour"),
    ]
    for attrs, status, pointer in cases:
        doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ORG_ID, **attrs}}}
        got, out = call(handler, "create", org.id, body_=doc)
        assert (got, out["errors"][0]["source"].get("pointer")) == (status, pointer), (attrs, out)
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ORG_ID}}}
    del doc["data"]["attributes"]["organization-id"]
    got, out = call(handler, "create", org.id, body_=doc)
    assert got == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/organization-id"
    # another tenant's directory has none of these ids
    t2, _ = other_tenant
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ORG_ID, "individual-ids": [IND["sam"]]}}}
    got, _ = call(handler, "create", t2.id, body_=doc)
    assert got in (404, 422)
    assert len(table_items()) == before


def test_a_group_channel_follows_the_directory(handler, org, drain, events_queue):
    from parley.domain import directory as d

    status, chan = new_channel(handler, org.id, individual_group_id=GROUP_ID, floating=False)
    assert status == 201 and chan["attributes"]["individual-group-id"] == GROUP_ID
    assert chan["attributes"]["name"] == "Care team"  # use-group-name
    members = stored_members(org.id, chan["id"])
    assert {i: m["via"] for i, m in members.items()} == {IND["pat"]: "direct", IND["sam"]: "group", IND["lee"]: "group"}
    # Kim is subscribed by hand: she stays whatever the group does
    status, _ = call(handler, "subscribe", org.id, id_=chan["id"], body_={"individual-ids": [IND["kim"]]})
    assert status == 201
    drain(events_queue)

    # the group loses Sam and gains Pat (already in, by creating): Sam leaves, nothing else changes
    assert d.import_lines(org.id, [group_line(["lee", "pat"], T2)]).written == 1
    assert set(stored_members(org.id, chan["id"])) == {IND["pat"], IND["lee"], IND["kim"]}
    published = channel_events(drain, events_queue)
    assert [(e["kind"], e["data"]["individual_ids"], e.get("actor_individual_id")) for e in published] == [
        ("members-removed", [IND["sam"]], None)
    ]
    # an older line changes nothing; the same state again publishes nothing
    d.import_lines(org.id, [group_line(["sam"], "2026-10-01T00:00:00Z")])
    d.import_lines(org.id, [group_line(["lee", "pat"], T2)])
    assert set(stored_members(org.id, chan["id"])) == {IND["pat"], IND["lee"], IND["kim"]} and drain(events_queue) == []
    # Sam comes back
    d.import_lines(org.id, [group_line(["lee", "pat", "sam"], T3)])
    assert stored_members(org.id, chan["id"])[IND["sam"]]["via"] == "group"
    assert [e["kind"] for e in channel_events(drain, events_queue)] == ["members-added"]
    # a group member cannot be unsubscribed by hand (the directory owns it)
    status, out = call(handler, "unsubscribe", org.id, id_=chan["id"], body_={"individual-ids": [IND["sam"]]})
    assert status == 422 and out["errors"][0]["code"] == "group-member"
    status, out = call(handler, "get", org.id, id_=chan["id"], query={"include-individual-group": "true", "use-group-name": "false"})
    assert status == 200 and out["data"]["attributes"]["individual-group"]["individual-ids"] == [IND["lee"], IND["pat"], IND["sam"]]
    assert out["data"]["attributes"]["name"] is None


def test_list_answers_the_acting_individuals_channels_with_filters(handler, org):
    _, direct = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    _, group = new_channel(handler, org.id, individual_group_id=GROUP_ID)
    _, floating = new_channel(handler, org.id, floating=True, name="Lobby")
    _, not_mine = new_channel(handler, org.id, as_="sam", individual_ids=[IND["lee"]])
    status, out = call(handler, "list", org.id, query={})
    assert status == 200 and {c["id"] for c in out["data"]} == {direct["id"], group["id"], floating["id"]}
    assert out["meta"] == {"page[total]": 3, "page[limit]": 50, "page[offset]": 0}
    by = lambda q: {c["id"] for c in call(handler, "list", org.id, query=q)[1]["data"]}  # noqa: E731
    assert by({"filter[floating]": "true"}) == {floating["id"]}
    assert by({"filter[individual-group-id]": GROUP_ID}) == {group["id"]}
    assert by({"participant-id": IND["sam"]}) == {direct["id"], group["id"]}
    assert by({"organization-id": OTHER_ORG}) == set()
    call(handler, "archive", org.id, id_=floating["id"], body_={})
    assert by({"filter[archived]": "true"}) == {floating["id"]}
    assert by({"filter[archived]": "false"}) == {direct["id"], group["id"]}
    assert by({"filter[cmp-last-modified-time]": ">2999-01-01T00:00:00Z"}) == set()
    status, out = call(handler, "list", org.id, query={"page[limit]": "2", "page[offset]": "2"})
    assert len(out["data"]) == 1 and out["meta"]["page[total]"] == 3
    assert call(handler, "list", org.id, as_="lee", query={})[1]["data"][0]["id"] in {group["id"], not_mine["id"]}
    for bad in ({"page[limit]": "51"}, {"organization-id": "nope"}, {"filter[cmp-last-modified-time]": "~x"}):
        assert call(handler, "list", org.id, query=bad)[0] in (400, 404), bad


def test_get_and_every_id_route_is_404_for_non_members_and_other_tenants(handler, org, other_tenant):
    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    assert call(handler, "get", org.id, id_=chan["id"])[0] == 200
    assert call(handler, "get", org.id, as_="sam", id_=chan["id"])[0] == 200
    t2, _ = other_tenant
    seed_directory(t2.id)  # the same user and individual ids, in another tenant
    bodies = {"update": {"data": {"type": "messaging-channels", "attributes": {"name": "x"}}}, "archive": {},
              "unarchive": {}, "subscribe": {"individual-ids": [IND["kim"]]}, "unsubscribe": {"individual-ids": [IND["sam"]]},
              "preferences": {"values": [{"name": "notify", "value": "false"}]}}  # fmt: skip
    for route in ("get", "update", "archive", "unarchive", "subscribe", "unsubscribe", "preferences", "profile"):
        query = {"profile-individual-id": IND["sam"]} if route == "profile" else None
        for tenant_id, who in ((org.id, "lee"), (t2.id, "pat"), (org.id, "pat")):
            channel_id = chan["id"] if who != "pat" or tenant_id != org.id else "unknown-channel"
            status, out = call(handler, route, tenant_id, as_=who, id_=channel_id, body_=bodies.get(route, ...), query=query)
            assert status == 404 and out["errors"][0]["code"] == "not-found", (route, tenant_id, who, out)
    assert set(stored_members(org.id, chan["id"])) == {IND["pat"], IND["sam"]}
    assert channels_item(org.id, chan["id"])["archived"] is False and channels_item(org.id, chan["id"]).get("name") is None


def channels_item(tenant_id, channel_id):
    from parley.domain import channels

    return channels.get_channel_item(tenant_id, channel_id)


def test_patch_takes_the_seeds_operations_and_a_partial_object(handler, org, drain, events_queue):
    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]], name="Before", label="l")
    drain(events_queue)
    ops = [{"op": "replace", "path": "name", "value": "After"}, {"op": "replace", "path": "/event-settings/enabled", "value": True},
           {"op": "replace", "path": "/label", "value": None}]  # fmt: skip
    status, out = call(
        handler, "update", org.id, id_=chan["id"], body_={"data": {"type": "messaging-channels", "id": chan["id"], "attributes": ops}}
    )
    assert status == 200, out
    a = out["data"]["attributes"]
    assert (a["name"], a["event-settings"], a["label"]) == ("After", {"enabled": True}, None)
    stored = channels_item(org.id, chan["id"])
    assert stored["name"] == "After" and stored["event_settings"] == {"enabled": True} and "label" not in stored
    assert stored["last_modified_at"] > chan["attributes"]["last-modified-time"]
    (event,) = channel_events(drain, events_queue)
    assert event["kind"] == "channel-updated" and event["data"]["fields"] == ["event-settings", "label", "name"]

    partial = {"data": {"type": "messaging-channels", "attributes": {"subscription-type": "open", "observation-id": "obs-1"}}}
    status, out = call(handler, "update", org.id, as_="sam", id_=chan["id"], body_=partial)
    assert status == 200 and out["data"]["attributes"]["subscription-type"] == "open" and out["data"]["attributes"]["name"] == "After"
    assert channels_item(org.id, chan["id"])["observation_id"] == "obs-1"
    # the same again: nothing changes, no event
    call(handler, "update", org.id, id_=chan["id"], body_=partial)
    assert [e["kind"] for e in channel_events(drain, events_queue)] == ["channel-updated"]

    bad = [
        (
            {"data": {"type": "messaging-channels", "attributes": [{"op": "replace", "path": "floating", "value": True}]}},
            422,
            "/data/attributes/0/path",
        ),
        ({"data": {"type": "messaging-channels", "attributes": [{"op": "remove", "path": "name"}]}}, 400, None),
        (
            {"data": {"type": "messaging-channels", "attributes": [{"op": "replace", "path": "name", "value": 7}]}},
            400,
            "/data/attributes/0/value",
        ),
        ({"data": {"type": "messaging-channels", "attributes": {"individual-group-id": GROUP_ID}}}, 400, None),
        ({"data": {"type": "messaging-channels", "attributes": {"subscription-type": None}}}, 400, "/data/attributes/subscription-type"),
        ({"data": {"type": "messaging-messages", "attributes": {"name": "x"}}}, 409, "/data/type"),
        ({"data": {"type": "messaging-channels", "id": "other", "attributes": {"name": "x"}}}, 409, "/data/id"),
    ]
    for doc, status, pointer in bad:
        got, out = call(handler, "update", org.id, id_=chan["id"], body_=doc)
        assert got == status, (doc, out)
        if pointer:
            assert out["errors"][0]["source"]["pointer"] == pointer, out
    assert channels_item(org.id, chan["id"])["name"] == "After"


def test_archive_and_unarchive_are_the_channels_and_idempotent(handler, org, drain, events_queue):
    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    drain(events_queue)
    status, out = call(handler, "archive", org.id, id_=chan["id"], body_={})
    assert status == 201 and out["data"]["attributes"]["archived"] is True
    assert call(handler, "archive", org.id, as_="sam", id_=chan["id"], body_=None)[1]["data"]["attributes"]["archived"] is True
    assert channels_item(org.id, chan["id"])["archived"] is True
    assert call(handler, "get", org.id, as_="sam", id_=chan["id"])[1]["data"]["attributes"]["archived"] is True
    status, out = call(handler, "unarchive", org.id, id_=chan["id"], body_={})
    assert status == 201 and out["data"]["attributes"]["archived"] is False and channels_item(org.id, chan["id"])["archived"] is False
    assert [e["data"]["fields"] for e in channel_events(drain, events_queue)] == [["archived"], ["archived"]]


def test_subscribe_and_unsubscribe(handler, org, drain, events_queue):
    from parley.dal import channels as store

    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    drain(events_queue)
    status, out = call(handler, "subscribe", org.id, as_="sam", id_=chan["id"], body_={"individual-ids": [IND["lee"], IND["pat"]]})
    assert status == 201 and {s["id"] for s in out["data"]["attributes"]["subscribers"]} == {IND["pat"], IND["sam"], IND["lee"]}
    assert stored_members(org.id, chan["id"])[IND["lee"]]["admin"] is False
    # the direct channel is now the trio's: its pointer moved
    assert store.get_direct(org.id, ORG_ID, [IND["pat"], IND["sam"], IND["lee"]])["channel_id"] == chan["id"]
    assert store.get_direct(org.id, ORG_ID, [IND["pat"], IND["sam"]]) is None
    assert [(e["kind"], e["data"]["individual_ids"]) for e in channel_events(drain, events_queue)] == [("members-added", [IND["lee"]])]
    assert (
        call(handler, "subscribe", org.id, id_=chan["id"], body_={"individual-ids": ["nobody"]})[1]["errors"][0]["source"]["pointer"]
        == "/individual-ids/0"
    )
    assert call(handler, "subscribe", org.id, id_=chan["id"], body_={"individual-ids": []})[0] == 400

    # Sam (not an admin) cannot remove Lee; Lee can leave; Pat (admin) removes Sam
    status, out = call(handler, "unsubscribe", org.id, as_="sam", id_=chan["id"], body_={"individual-ids": [IND["lee"]]})
    assert status == 403 and out["errors"][0]["code"] == "not-admin"
    status, out = call(handler, "unsubscribe", org.id, as_="lee", id_=chan["id"], body_={"individual-ids": [IND["lee"]]})
    assert status == 201 and IND["lee"] not in {s["id"] for s in out["data"]["attributes"]["subscribers"]}
    assert call(handler, "get", org.id, as_="lee", id_=chan["id"])[0] == 404
    status, _ = call(handler, "unsubscribe", org.id, id_=chan["id"], body_={"individual-ids": [IND["sam"], IND["kim"]]})
    assert status == 201 and set(stored_members(org.id, chan["id"])) == {IND["pat"]}
    assert [(e["kind"], e["data"]["individual_ids"]) for e in channel_events(drain, events_queue)] == [
        ("members-removed", [IND["lee"]]),
        ("members-removed", [IND["sam"]]),
    ]
    # a direct channel whose new set exists already: 409, nothing changed
    _, pair = new_channel(handler, org.id, individual_ids=[IND["kim"]])
    status, out = call(handler, "subscribe", org.id, id_=chan["id"], body_={"individual-ids": [IND["kim"]]})
    assert status == 409 and out["errors"][0]["code"] == "direct-channel-exists" and set(stored_members(org.id, chan["id"])) == {IND["pat"]}
    assert pair["id"] != chan["id"]


def test_preferences_are_the_members_own(handler, org):
    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    status, out = call(handler, "preferences", org.id, as_="sam", id_=chan["id"],
                       body_={"values": [{"name": "notify", "value": "false"}, {"name": "pinned", "value": True}]})  # fmt: skip
    assert status == 201 and out["data"]["attributes"]["notify"] is False
    members = stored_members(org.id, chan["id"])
    assert (members[IND["sam"]]["notify"], members[IND["sam"]]["pinned"], members[IND["pat"]]["notify"]) == (False, True, True)
    assert {s["id"]: s["pinned"] for s in out["data"]["attributes"]["subscribers"]} == {IND["pat"]: False, IND["sam"]: True}
    for values, pointer in (([{"name": "notify", "value": "maybe"}], "/values/0/value"), ([{"name": "volume", "value": "1"}], None)):
        status, out = call(handler, "preferences", org.id, as_="sam", id_=chan["id"], body_={"values": values})
        assert status == 400, out
        if pointer:
            assert out["errors"][0]["source"]["pointer"] == pointer
    # another user's individual is a 403 (not the caller's), as everywhere in courier
    status, out = call(
        handler,
        "preferences",
        org.id,
        as_="sam",
        id_=chan["id"],
        body_={"individual-id": IND["pat"], "values": [{"name": "notify", "value": "false"}]},
    )
    assert status == 403 and stored_members(org.id, chan["id"])[IND["pat"]]["notify"] is True


def test_get_profile_answers_a_members_photo_to_members(handler, org):
    _, chan = new_channel(handler, org.id, individual_ids=[IND["sam"]])
    status, out = call(handler, "profile", org.id, id_=chan["id"], query={"profile-individual-id": IND["sam"]})
    assert status == 200 and out["data"] == {
        "id": IND["sam"],
        "type": "individual-profiles",
        "attributes": {"photo": "https://img.example.com/sam.png"},
    }
    status, out = call(handler, "profile", org.id, id_=chan["id"], query={"profile-individual-id": IND["lee"]})
    assert status == 404 and out["errors"][0]["source"]["parameter"] == "profile-individual-id"
    assert call(handler, "profile", org.id, as_="lee", id_=chan["id"], query={"profile-individual-id": IND["sam"]})[0] == 404
    assert call(handler, "profile", org.id, id_=chan["id"], query={})[0] == 400


def test_the_purge_of_a_person_takes_them_out_of_their_channels(handler, org):
    from parley.dal import channels as store
    from parley.domain import channels, purge

    _, direct = new_channel(handler, org.id, as_="sam", individual_ids=[IND["pat"], IND["lee"]])
    _, group = new_channel(handler, org.id, individual_group_id=GROUP_ID)
    who = purge.resolve(org.id, "user", USERS["sam"])
    assert IND["sam"] in who.individual_ids
    done = purge.purge_courier(who)
    assert done["channel_memberships"] == 2 and done["channels_created"] == 1
    assert set(stored_members(org.id, direct["id"])) == {IND["pat"], IND["lee"]}
    assert set(stored_members(org.id, group["id"])) == {IND["pat"], IND["lee"]}
    assert {"created_by", "created_by_user"} & set(channels.get_channel_item(org.id, direct["id"])) == set()
    # the direct channel is now Pat and Lee's; no pointer names the purged set any more
    assert store.get_direct(org.id, ORG_ID, [IND["pat"], IND["lee"]])["channel_id"] == direct["id"]
    assert store.get_direct(org.id, ORG_ID, [IND["pat"], IND["lee"], IND["sam"]]) is None
    assert store.memberships(org.id, IND["sam"]) == []


def test_a_member_added_concurrently_is_a_409_not_a_500_and_keeps_its_state(handler, org):
    """Two requests that both saw Lee missing: the second one's put (only if absent) fails; Lee's item (with the
    inbox's fields) is not overwritten."""
    from parley.dal import channels as store
    from parley.domain import channels
    from parley.errors import Conflict

    _, chan = new_channel(handler, org.id, floating=True)
    assert call(handler, "subscribe", org.id, id_=chan["id"], body_={"individual-ids": [IND["lee"]]})[0] == 201
    store.update_member(org.id, chan["id"], IND["lee"], {"unread": 3})
    stored = channels.get_channel_item(org.id, chan["id"])
    with pytest.raises(Conflict) as err:
        channels._change_members(stored, {IND["pat"]}, add=[IND["lee"]], remove=[])
    assert err.value.code == "concurrent-change"
    assert stored_members(org.id, chan["id"])[IND["lee"]]["unread"] == 3


def test_the_answer_reads_what_the_other_areas_and_the_organization_keep(handler, org):
    """``last-message``, ``bookmark``, ``with-sms`` from the channel item; the caller's unread count from its member
    item; the name from the organization's default-channel-title; group-provider-ack from the organization."""
    from parley import clock
    from parley.dal import channels as store
    from parley.dal import org_preferences

    _, chan = new_channel(handler, org.id, floating=True)
    assert chan["attributes"]["name"] is None and chan["attributes"]["group-provider-ack"] is False
    now = clock.iso(clock.now())
    org_preferences.upsert(org.id, ORG_ID, "default-channel-title", json.dumps("Conversation"), now=now)
    org_preferences.upsert(org.id, ORG_ID, "group-provider-ack", "true", now=now)
    store.update_channel(org.id, chan["id"], {"last_message": {"id": "m1", "message": "hi", "posted_time": now, "removed": False},
                                              "bookmark": {"id": "b1", "message_id": "m1"}, "sms": {"active": True}})  # fmt: skip
    store.update_member(org.id, chan["id"], IND["pat"], {"unread": 4})
    a = call(handler, "get", org.id, id_=chan["id"])[1]["data"]["attributes"]
    assert (a["name"], a["group-provider-ack"], a["with-sms"]) == ("Conversation", True, True)
    assert (a["caller-has-new-message"], a["caller-new-message-count"]) == (True, 4)
    assert a["last-message"] == {"id": "m1", "message": "hi", "posted-time": now, "removed": False}
    assert a["bookmark"] == {"id": "b1", "message-id": "m1"}


def _apply_all(drain, url) -> list[dict]:
    """Run ChannelEventsFunction's hooks over every queued event until the queue is empty; every event is applied twice
    (SQS redelivers). The events seen, in order."""
    from parley.domain import channel_events as ce

    seen = []
    while batch := channel_events(drain, url):
        for e in batch:
            ce.handle(ce.parse(json.dumps(e)))
            ce.handle(ce.parse(json.dumps(e)))
        seen += batch
    return seen


def _messages(tenant_id, channel_id, as_):
    from parley.domain import channel_messages as msgs

    items, total, member = msgs.page(tenant_id, channel_id, as_, offset=0, limit=50)
    return [(i["message"], i["source"], i["individual_id"]) for i in reversed(items)], total, member


def test_joins_and_leaves_post_a_system_message_when_the_channels_event_settings_say_so(handler, org, drain, events_queue):
    from parley.domain import channel_messages as msgs
    from parley.domain import directory as d
    from parley.errors import Forbidden

    status, chan = new_channel(handler, org.id, individual_group_id=GROUP_ID, event_settings={"enabled": True})
    assert status == 201 and chan["attributes"]["event-settings"] == {"enabled": True}
    cid = chan["id"]
    _apply_all(drain, events_queue)
    assert _messages(org.id, cid, IND["pat"])[:2] == ([], 0)  # the members a channel starts with did not "join"

    # Kim is subscribed (Sam asks): one message, about Kim; Kim has read it, the others have not
    assert call(handler, "subscribe", org.id, as_="sam", id_=cid, body_={"individual-ids": [IND["kim"]]})[0] == 201
    assert _messages(org.id, cid, IND["pat"])[0] == [("Kim Doe joined", "system", IND["kim"])]  # posted by the change itself
    seen = _apply_all(drain, events_queue)
    rows, total, _ = _messages(org.id, cid, IND["pat"])
    assert rows == [("Kim Doe joined", "system", IND["kim"])] and total == 1  # the events (twice each) add nothing
    posted = {e["id"]: e["data"].get("source") for e in seen if e["kind"] == "message-posted"}
    assert list(posted.values()) == ["system"]  # its own event (published again, same id, when the event came twice)
    members = stored_members(org.id, cid)
    assert {n: members[IND[n]]["unread"] for n in ("pat", "sam", "lee", "kim")} == {"pat": 1, "sam": 1, "lee": 1, "kim": 0}
    message_id = msgs.page(org.id, cid, IND["pat"], offset=0, limit=1)[0][0]["id"]
    [(_, attrs)] = msgs.attributes(org.id, [msgs.stored(org.id, message_id)], members[IND["pat"]])
    assert attrs.source == "system" and attrs.user_type == "system" and attrs.first_name == "Kim"
    with pytest.raises(Forbidden):  # it is about Kim, not Kim's: nobody edits or removes it
        msgs.edit(org.id, message_id, IND["kim"], removed=True)

    # Kim and Pat leave (one request, Pat is an admin): one message naming both; the directory brings Sam back later
    assert call(handler, "unsubscribe", org.id, id_=cid, body_={"individual-ids": [IND["kim"], IND["pat"]]})[0] == 201
    _apply_all(drain, events_queue)
    d.import_lines(org.id, [group_line(["lee"], T2)])  # Sam leaves the group
    d.import_lines(org.id, [group_line(["lee", "sam"], T3)])  # and comes back
    _apply_all(drain, events_queue)
    rows, total, _ = _messages(org.id, cid, IND["lee"])
    assert [r[0] for r in rows] == ["Kim Doe joined", "Kim Doe and Pat Doe left", "Sam Doe left", "Sam Doe joined"]
    assert total == 4 and all(r[1] == "system" for r in rows)
    from parley.domain import communication_summaries

    assert communication_summaries.summary(org.id, IND["lee"])["messages"] == 0  # a notice is nobody's message to Lee

    # the setting off (PATCH): Kim joins silently; archived: no message either
    doc = {"data": {"type": "messaging-channels", "id": cid,
                    "attributes": [{"op": "replace", "path": "/event-settings/enabled", "value": False}]}}  # fmt: skip
    assert call(handler, "update", org.id, as_="lee", id_=cid, body_=doc)[0] == 200
    assert call(handler, "subscribe", org.id, as_="lee", id_=cid, body_={"individual-ids": [IND["kim"]]})[0] == 201
    _apply_all(drain, events_queue)
    assert _messages(org.id, cid, IND["lee"])[1] == 4


def test_system_message_text():
    from parley.domain.channel_system_messages import text

    assert text(["Ana"], "members-added") == "Ana joined"
    assert text(["Ana", "Ben"], "members-removed") == "Ana and Ben left"
    assert text(["Ana", "Ben", "Cy"], "members-added") == "Ana, Ben and 1 other joined"
    assert text(["Ana", "Ben", "Cy", "Di"], "members-added") == "Ana, Ben and 2 others joined"
