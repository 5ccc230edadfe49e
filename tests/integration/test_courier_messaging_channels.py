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
