"""The SMS bridge of courier channels and the offline pushes on moto with the fake Twilio (issue 18, area E): bridging
members without the app (one localized initial SMS each, once), relaying each posted message as one SMS per bridged
member but the author (once per event, even redelivered), a bridged member's reply threading back into the channel
(source sms), STOP ending the bridge, and one push per offline device (none for a connected, notify-off or SMS-bridged
member; a burst of one channel collapsed); stored state asserted."""

from __future__ import annotations

import json

import pytest
from texting import INBOUND, inbound, make_account

from helpers import api_event, body

ORG = "7c1d0000-0000-4000-8000-000000000001"
U_APP, U_SMS, U_ES, U_NOPHONE = (f"7c1d0000-0000-4000-8000-0000000001{i:02d}" for i in range(4))
I_APP, I_SMS, I_ES, I_NOPHONE = (f"7c1d0000-0000-4000-8000-0000000002{i:02d}" for i in range(4))
PHONE_SMS, PHONE_ES, PHONE_APP, PHONE_NEW = "+15555550111", "+15555550122", "+15555550133", "+15555550144"
U_NEW, I_NEW = "7c1d0000-0000-4000-8000-000000000199", "7c1d0000-0000-4000-8000-000000000299"
T1 = "2026-11-01T09:00:00Z"
APN_TOKEN = "c" * 64
APN_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\nkey-one\n-----END PRIVATE KEY-----", "signing-key-id": "KEY1", "team-id": "TEAM1"}
EVENTS = "root.ChannelEventsFunction"


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    arn = next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", aws.queues[arn])
    get_settings.cache_clear()
    aws_clients.reset()
    return arn, aws.queues[arn]


def directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG, {"name": "northside"}),
            line("users", U_APP, {"username": "alice", "first-name": "Alice", "phone": PHONE_APP, "primary-individual-id": I_APP}),
            line(
                "users",
                U_SMS,
                {"username": "bob", "first-name": "Bob", "phone": "(555) 555-0111", "locale": "en_US", "primary-individual-id": I_SMS},
            ),
            line(
                "users",
                U_ES,
                {"username": "carla", "first-name": "Carla", "phone": PHONE_ES, "locale": "es-US", "primary-individual-id": I_ES},
            ),
            line("users", U_NOPHONE, {"username": "dan", "first-name": "Dan", "primary-individual-id": I_NOPHONE}),
            line("individuals", I_APP, {"first-name": "Alice", "owner-id": U_APP}),
            line("individuals", I_SMS, {"first-name": "Bob", "owner-id": U_SMS}),
            line("individuals", I_ES, {"first-name": "Carla", "owner-id": U_ES}),
            line("individuals", I_NOPHONE, {"first-name": "Dan", "owner-id": U_NOPHONE}),
            line("users", U_NEW, {"username": "eve", "first-name": "Eve", "phone": PHONE_NEW, "primary-individual-id": I_NEW}),
            line("individuals", I_NEW, {"first-name": "Eve", "owner-id": U_NEW}),
        ],
    )
    assert summary.invalid == []


def app_device(handler, tenant_id, user=U_APP, token=APN_TOKEN):
    """An APNs credential (once) and a device of ``user``: that user has the app."""
    from parley.dal import push as store

    def call(fn, user_, doc):
        ev = api_event(f"courier_notifications/{fn}", tenant_id=tenant_id, body=doc,
                       headers={"Content-Type": "application/vnd.api+json", "X-User-ID": user_})  # fmt: skip
        out = handler(f"CourierNotificationsApi.{fn.title().replace('_', '')}Function")(ev)
        assert out["statusCode"] == 201, out["body"]
        return body(out)["data"]

    if not store.credentials(tenant_id):
        call("create_app_credential", None, {"data": {"type": "app-credentials", "attributes": {
            "app-name": "clinic", "type": "apn", "store-id": "com.example.clinic", "data": APN_DATA}}})  # fmt: skip
    return call("create_user_device", user, {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": token,
                                                                                           "app-name": "clinic"}}})  # fmt: skip


@pytest.fixture
def world(tenant, twilio, handler, events_queue, app_env):
    """A care team of four in one channel: Alice (the app), Bob (a phone, en_US), Carla (a phone, es-US), Dan (no
    phone); the organization's text number."""
    from parley.domain import channels

    t, _ = tenant
    directory(t.id)
    acct = make_account(t.id, twilio, organization_id=ORG)
    device = app_device(handler, t.id)
    chan, created = channels.create_channel(t.id, organization_id=ORG, creator_individual_id=I_APP, name="Care team",
                                            individual_ids=[I_SMS, I_ES, I_NOPHONE], floating=True)  # fmt: skip
    assert created
    return t, acct, chan, device


def caller(t):
    from parley.domain.context import Caller

    return Caller.of(t)


def sms_jobs(drain, send_queue):
    """The SMS messages waiting in the send pipeline: {recipient: [body, ...]}."""
    from parley.dal import messages

    out: dict[str, list[str]] = {}
    for m in drain(send_queue[1]):
        job = json.loads(m["Body"])
        msg = messages.get(job["tenant_id"], job["message_id"])
        assert msg.channel == "sms" and msg.provider == "twilio"
        out.setdefault(msg.recipient, []).append(msg.body)
    return out


def run_events(handler, drain, events_queue, *, times=1):
    """Apply every waiting channel event through ChannelEventsFunction (``times`` > 1: each delivered again, as SQS
    may); the events applied."""
    from parley_local.workers import _sqs_record

    msgs = drain(events_queue[1])
    for _ in range(times):
        for m in msgs:
            out = handler(EVENTS)({"Records": [_sqs_record(m, events_queue[0])]})
            assert out == {"batchItemFailures": []}, out
    return [json.loads(m["Body"]) for m in msgs]


def member(tenant_id, channel_id, individual_id):
    from parley.dal import channels

    return channels.get_member(tenant_id, channel_id, individual_id, consistent=True)


def endpoint_messages(tenant_id, device_id):
    from moto.sns.models import sns_backends

    from parley.dal import push as store

    arn = store.get_device(tenant_id, device_id)["endpoint_arn"]
    return [json.loads(json.loads(m)["APNS"]) for m in sns_backends["123456789012"]["us-east-1"].platform_endpoints[arn].messages.values()]


def switch_on(t, chan, **kw):
    from parley.domain import channel_bridge

    args = {"active": True, "initial_message": "You are in the care team chat. Reply here.",
            "initial_message_js": {"es_US": "Está en el chat del equipo. Responda aquí."}, **kw}  # fmt: skip
    return channel_bridge.switch(caller(t), chan["id"], I_APP, **args)


def test_switching_the_bridge_on_bridges_members_without_the_app_once_with_the_localized_initial_message(world, send_queue, drain,
                                                                                                      events_queue):  # fmt: skip
    from parley.dal import channel_bridge as store
    from parley.dal import channels

    t, acct, chan, _ = world
    drain(events_queue[1])
    assert sorted(switch_on(t, chan)) == sorted([I_SMS, I_ES])
    assert sms_jobs(drain, send_queue) == {PHONE_SMS: ["You are in the care team chat. Reply here."],
                                           PHONE_ES: ["Está en el chat del equipo. Responda aquí."]}  # fmt: skip
    stored = channels.get_channel(t.id, chan["id"], consistent=True)["sms"]
    assert stored["active"] is True and stored["text_number"] == acct.phone and stored["text_number_id"] == acct.number_id
    assert (member(t.id, chan["id"], I_SMS)["sms"], member(t.id, chan["id"], I_SMS)["sms_phone"]) == (True, PHONE_SMS)
    assert member(t.id, chan["id"], I_ES)["sms"] is True
    assert "sms" not in member(t.id, chan["id"], I_APP) and "sms" not in member(t.id, chan["id"], I_NOPHONE)  # the app; no phone
    assert [r["channel_id"] for r in store.routes(t.id, acct.phone, PHONE_SMS)] == [chan["id"]]
    (event,) = [json.loads(m["Body"]) for m in drain(events_queue[1])]
    assert event["kind"] == "channel-updated" and event["data"]["sms"]["active"] is True

    # switched on again: nobody is greeted twice
    assert switch_on(t, chan) == []
    assert sms_jobs(drain, send_queue) == {}

    # off: every bridge ends, the routes go
    from parley.domain import channel_bridge

    channel_bridge.switch(caller(t), chan["id"], I_APP, active=False, initial_message=None, initial_message_js=None)
    assert member(t.id, chan["id"], I_SMS)["sms"] is False and store.routes(t.id, acct.phone, PHONE_SMS) == []
    assert channels.get_channel(t.id, chan["id"], consistent=True)["sms"]["active"] is False
    assert sms_jobs(drain, send_queue) == {}


def test_an_opted_out_phone_is_not_bridged_and_a_channel_without_a_number_is_a_422(world, send_queue, drain, tenant):
    from parley.domain import channel_bridge, channels, optins
    from parley.errors import NotFound, Unprocessable

    t, _, chan, _ = world
    optins.update(t.id, phone=PHONE_ES, email=None, opt_in=False, reason="keyword STOP")
    assert switch_on(t, chan) == [I_SMS]
    assert list(sms_jobs(drain, send_queue)) == [PHONE_SMS]

    other, _ = channels.create_channel(t.id, organization_id="org-without-numbers", creator_individual_id=I_APP, individual_ids=[I_SMS])
    with pytest.raises(Unprocessable) as err:
        channel_bridge.switch(caller(t), other["id"], I_APP, active=True, initial_message="hi", initial_message_js=None)
    assert err.value.code == "no-text-number"
    with pytest.raises(NotFound):  # not a member: the channel is not found
        channel_bridge.switch(caller(t), other["id"], I_ES, active=True, initial_message="hi", initial_message_js=None)


def test_a_posted_message_is_one_sms_per_bridged_member_but_the_author_even_when_the_event_is_redelivered(
    world, handler, send_queue, drain, events_queue
):
    from parley.dal import channel_bridge as store
    from parley.domain import channel_messages

    t, acct, chan, _ = world
    switch_on(t, chan)
    sms_jobs(drain, send_queue)
    run_events(handler, drain, events_queue)
    channel_messages.post(t.id, chan["id"], I_APP, "Visit moved to 3 pm")
    run_events(handler, drain, events_queue, times=3)
    assert sms_jobs(drain, send_queue) == {PHONE_SMS: ["Alice: Visit moved to 3 pm"], PHONE_ES: ["Alice: Visit moved to 3 pm"]}
    # a bridged author is not texted their own message
    channel_messages.post(t.id, chan["id"], I_SMS, "Thanks")
    run_events(handler, drain, events_queue, times=2)
    assert sms_jobs(drain, send_queue) == {PHONE_ES: ["Bob: Thanks"]}
    assert store.routes(t.id, acct.phone, PHONE_ES)[0]["last_sent_at"] >= store.routes(t.id, acct.phone, PHONE_ES)[0]["bridged_at"]


def test_a_reply_threads_back_into_the_channel_and_stop_ends_the_bridge(world, handler, send_queue, drain, events_queue):

    from parley.dal import channel_bridge as store
    from parley.dal import optins
    from parley.dal import texts as logs
    from parley.domain import channel_messages

    t, acct, chan, _ = world
    switch_on(t, chan)
    sms_jobs(drain, send_queue)
    run_events(handler, drain, events_queue)

    out = handler(INBOUND)(inbound(acct, PHONE_SMS, "On my way", sid="SMreply1"))
    assert out["statusCode"] == 200, out
    items, _, _ = channel_messages.page(t.id, chan["id"], I_SMS, offset=0, limit=10)
    (msg,) = [i for i in items if i.get("message") == "On my way"]
    assert msg["source"] == "sms" and msg["individual_id"] == I_SMS and msg["channel_id"] == chan["id"]
    assert logs.get_log(t.id, "SMreply1")["outcome"] == f"channel:{chan['id']}:{msg['id']}"
    # the reply goes on to the other bridged member (not back to Bob)
    run_events(handler, drain, events_queue)
    assert sms_jobs(drain, send_queue) == {PHONE_ES: ["Bob: On my way"]}

    # STOP: Carla's bridge ends, the consent store records the opt-out, her phone gets nothing more
    out = handler(INBOUND)(inbound(acct, PHONE_ES, "STOP", sid="SMstop1"))
    assert out["statusCode"] == 200
    assert member(t.id, chan["id"], I_ES)["sms"] is False and store.routes(t.id, acct.phone, PHONE_ES) == []
    assert optins.get_state(t.id, PHONE_ES)["opted_in"] is False
    assert logs.get_log(t.id, "SMstop1")["outcome"] == "channel-bridge:stop"
    channel_messages.post(t.id, chan["id"], I_APP, "Anyone?")
    run_events(handler, drain, events_queue)
    assert sms_jobs(drain, send_queue) == {PHONE_SMS: ["Alice: Anyone?"]}
    # an SMS from a phone no channel bridges is the texting rules' (the unknown-number rule here)
    out = handler(INBOUND)(inbound(acct, "+15555550999", "hello?", sid="SMunknown"))
    assert logs.get_log(t.id, "SMunknown")["outcome"].startswith("unknown-number")


def test_one_push_per_offline_device_none_for_connected_or_notify_off_and_a_burst_is_one(world, handler, drain, events_queue, send_queue):
    from parley.dal import channels, table
    from parley.domain import channel_messages

    t, _, chan, device = world
    switch_on(t, chan)
    run_events(handler, drain, events_queue)
    # Bob (SMS-bridged) posts: Alice is offline with the app → one push, badge = her unread total
    channel_messages.post(t.id, chan["id"], I_SMS, "Can someone call me?")
    run_events(handler, drain, events_queue, times=2)
    (push,) = endpoint_messages(t.id, device["id"])
    assert push["aps"]["alert"] == {"title": "Care team", "body": "Bob: Can someone call me?"} and push["aps"]["badge"] == 1
    assert push["channel-id"] == chan["id"]
    # a burst: two more messages before she reads → still one push
    channel_messages.post(t.id, chan["id"], I_SMS, "It is urgent")
    channel_messages.post(t.id, chan["id"], I_ES, "Me too")
    run_events(handler, drain, events_queue)
    assert len(endpoint_messages(t.id, device["id"])) == 1
    # she reads the channel: the next message pushes again (badge 1: only it is unread)
    last, _, _ = channel_messages.page(t.id, chan["id"], I_APP, offset=0, limit=1)
    channel_messages.ack(t.id, last[0]["id"], I_APP)
    channel_messages.post(t.id, chan["id"], I_SMS, "Thanks")
    run_events(handler, drain, events_queue)
    pushes = endpoint_messages(t.id, device["id"])
    assert len(pushes) == 2 and pushes[-1]["aps"]["badge"] == 1
    # connected on the WebSocket API: no push
    table.ddb().update_item(TableName=table.table_name(), Key=table.key(channels.channel_pk(t.id, chan["id"]), channels.member_sk(I_APP)),
                            UpdateExpression="REMOVE push_at")  # fmt: skip
    import time

    from parley.dal import live as connections

    connections.put(t.id, I_APP, "conn-1", connected_at="2026-11-01T09:00:00.000Z", now_epoch=int(time.time()))  # as $connect stores it
    channel_messages.post(t.id, chan["id"], I_SMS, "Hello?")
    run_events(handler, drain, events_queue)
    assert len(endpoint_messages(t.id, device["id"])) == 2
    connections.delete(t.id, I_APP, "conn-1")
    # notify off for the channel: no push
    key = table.key(channels.channel_pk(t.id, chan["id"]), channels.member_sk(I_APP))
    table.ddb().update_item(TableName=table.table_name(), Key=key, UpdateExpression="SET notify = :f REMOVE push_at",
                            ExpressionAttributeValues={":f": {"BOOL": False}})  # fmt: skip
    channel_messages.post(t.id, chan["id"], I_SMS, "Still there?")
    run_events(handler, drain, events_queue)
    assert len(endpoint_messages(t.id, device["id"])) == 2
    # the author never gets a push of their own message
    channel_messages.post(t.id, chan["id"], I_APP, "Here")
    run_events(handler, drain, events_queue)
    assert len(endpoint_messages(t.id, device["id"])) == 2


def sms_route(handler, tenant_id, channel_id, doc, *, user=U_APP):
    ev = api_event("courier_messaging/set_messaging_channel_sms", tenant_id=tenant_id, body=doc,
                   headers={"X-User-ID": user, "Content-Type": "application/json"})  # fmt: skip
    ev["pathParameters"] = {"id": channel_id}
    ev["path"] = ev["path"].replace("11111111-1111-1111-1111-111111111111", channel_id)
    out = handler("CourierMessagingApi.SetMessagingChannelSmsFunction")(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def test_the_sms_route_answers_the_channel_and_refuses_bad_input_strangers_and_non_members(world, handler, send_queue, drain,
                                                                                        other_tenant):  # fmt: skip
    from parley.dal import channels

    t, acct, chan, _ = world
    for doc, status, where in (
        ({}, 400, None), ({"active": "yes"}, 400, None), ({"active": True, "initial-message": "x" * 1025}, 400, None),
        ({"active": True, "initial-message-js": {"english": "hi"}}, 400, None),
        ({"active": True, "text-number-id": "not-a-number-of-ours"}, 422, "/text-number-id"),
    ):  # fmt: skip
        got, out = sms_route(handler, t.id, chan["id"], doc)
        assert got == status, (doc, out)
        assert out["errors"][0]["status"] == status
        if where:
            assert out["errors"][0]["source"]["pointer"] == where
    assert "sms" not in channels.get_channel(t.id, chan["id"], consistent=True) and sms_jobs(drain, send_queue) == {}
    # another tenant's caller (its directory has the same people), and an unknown channel: not found
    directory(other_tenant[0].id)
    got, out = sms_route(handler, other_tenant[0].id, chan["id"], {"active": True})
    assert got == 404 and out["errors"][0]["code"] == "not-found"
    got, out = sms_route(handler, t.id, "no-such-channel", {"active": True})
    assert got == 404

    got, out = sms_route(handler, t.id, chan["id"], {"active": True, "initial-message": "Hi from the care team",
                                                      "text-number-id": acct.number_id})  # fmt: skip
    assert got == 201, out
    attrs = out["data"]["attributes"]
    assert out["data"]["type"] == "messaging-channels" and out["data"]["id"] == chan["id"]
    assert attrs["with-sms"] is True and attrs["text-number"] == {"id": acct.number_id} and attrs["can-enable-sms"] is True
    assert sms_jobs(drain, send_queue) == {PHONE_SMS: ["Hi from the care team"], PHONE_ES: ["Hi from the care team"]}
    got, out = sms_route(handler, t.id, chan["id"], {"active": False})
    assert got == 201 and out["data"]["attributes"]["with-sms"] is False


def test_the_purge_erases_a_persons_bridge_routes_and_phone(world, send_queue, drain):
    from parley.dal import channel_bridge as store
    from parley.domain import channel_bridge

    t, acct, chan, _ = world
    switch_on(t, chan)
    assert store.routes(t.id, acct.phone, PHONE_SMS) and member(t.id, chan["id"], I_SMS)["sms_phone"] == PHONE_SMS
    done = channel_bridge.purge(t.id, individual_ids={I_SMS}, phones={PHONE_SMS})
    assert done == {"channel_sms_routes": 1, "channel_sms_members": 1}
    assert store.routes(t.id, acct.phone, PHONE_SMS) == [] and "sms_phone" not in member(t.id, chan["id"], I_SMS)
    assert member(t.id, chan["id"], I_SMS)["sms"] is False
    assert store.routes(t.id, acct.phone, PHONE_ES) and member(t.id, chan["id"], I_ES)["sms_phone"] == PHONE_ES  # others untouched
    assert channel_bridge.purge(t.id, individual_ids={I_SMS}, phones={PHONE_SMS}) == {"channel_sms_routes": 0, "channel_sms_members": 0}


def test_a_member_added_while_the_bridge_is_on_is_bridged_and_greeted_once(world, handler, send_queue, drain, events_queue):
    from parley.domain import channels

    t, _acct, chan, _ = world
    switch_on(t, chan)
    run_events(handler, drain, events_queue)
    sms_jobs(drain, send_queue)
    channels.subscribe(t.id, chan["id"], I_APP, [I_NEW])
    run_events(handler, drain, events_queue, times=2)  # members-added, delivered twice
    assert sms_jobs(drain, send_queue) == {PHONE_NEW: ["You are in the care team chat. Reply here."]}
    assert member(t.id, chan["id"], I_NEW)["sms"] is True and member(t.id, chan["id"], I_NEW)["sms_phone"] == PHONE_NEW


def test_a_reply_to_an_archived_channel_is_logged_as_refused_and_stores_no_message(world, handler, send_queue, drain, events_queue):
    from parley.dal import texts as logs
    from parley.domain import channel_messages, channels

    t, acct, chan, _ = world
    switch_on(t, chan)
    channels.set_archived(t.id, chan["id"], I_APP, True)
    out = handler(INBOUND)(inbound(acct, PHONE_SMS, "Hello?", sid="SMarchived"))
    assert out["statusCode"] == 200
    assert logs.get_log(t.id, "SMarchived")["outcome"] == f"channel:{chan['id']}:refused (channel-archived)"
    items, total, _ = channel_messages.page(t.id, chan["id"], I_APP, offset=0, limit=10)
    assert total == 0 and items == []


def test_a_join_message_is_neither_texted_nor_pushed(world, handler, send_queue, drain, events_queue):
    from parley.domain import channel_messages, channels

    t, _acct, chan, device = world
    switch_on(t, chan)
    run_events(handler, drain, events_queue)
    sms_jobs(drain, send_queue)
    channels.update(t.id, chan["id"], I_APP, {"event_settings": {"enabled": True}}, [])
    channels.subscribe(t.id, chan["id"], I_APP, [I_NEW])
    run_events(handler, drain, events_queue, times=2)
    [notice], _, _ = channel_messages.page(t.id, chan["id"], I_APP, offset=0, limit=5)
    assert notice["source"] == "system" and notice["message"].endswith(" joined")  # posted, unread for Alice …
    assert member(t.id, chan["id"], I_APP)["unread"] == 1
    assert sms_jobs(drain, send_queue) == {PHONE_NEW: ["You are in the care team chat. Reply here."]}  # … the greeting only
    assert endpoint_messages(t.id, device["id"]) == []  # and no push
