"""Live updates end to end on the local stack (issue 18, area D): a real WebSocket client (aiohttp) on the WebSocket API
the courier_messaging template declares, served by the local gateway (parley_local.websocket), which invokes the
declared $connect / $disconnect / $default functions; a channel event published to ChannelEventsQueue goes through
ChannelEventsFunction's hook (parley.domain.live) and the management API to the members' connections.

Channels are made with the channels interface (parley.domain.channels) against the stack's emulator, and events
published as the API functions publish them (parley.domain.channel_events.publish): what arrives on the socket is
area D's whole path, from the queue on."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from typing import Any

import aiohttp
import pytest
import requests

ORG = "org-live"
USER = "user-live"
IND = "ind-live-a"  # the user's primary individual
IND2 = "ind-live-b"
IND3 = "ind-live-c"  # in the directory, not a member


@pytest.fixture
def world(local, emulator_env, monkeypatch):
    """A tenant with three individuals (one the user's primary) and a channel of the first two; the channel events
    queue in this process's environment (as the publishing functions have it)."""
    from parley.dal import aws
    from parley.domain import channels, directory
    from parley.settings import get_settings

    tenant = local.new_tenant("live")
    lines = [
        {"type": "organizations", "id": ORG, "attributes": {"name": "northside"}},
        {"type": "users", "id": USER, "attributes": {"username": "pat", "primary-individual-id": IND}},
        {"type": "individuals", "id": IND, "attributes": {"owner-id": USER}},
        {"type": "individuals", "id": IND2, "attributes": {}},
        {"type": "individuals", "id": IND3, "attributes": {}},
    ]
    stamped = [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]
    assert directory.import_lines(tenant["tenantId"], stamped).invalid == []
    queue = aws.client("sqs").get_queue_url(QueueName="parley-local-ChannelEventsQueue")["QueueUrl"]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", queue)
    get_settings.cache_clear()
    chan, _ = channels.create_channel(tenant["tenantId"], organization_id=ORG, creator_individual_id=IND, individual_ids=[IND2],
                                      publish=False)  # fmt: skip
    return {
        "tenant_id": tenant["tenantId"],
        "key": tenant["apiKey"],
        "channel_id": chan["id"],
        "url": local.websockets["CourierMessagingApi"]["url"],
    }


def publish(tenant_id: str, channel_id: str, kind: str = "message-posted", **data: Any) -> str:
    from parley.domain import channel_events

    event = channel_events.new(tenant_id, channel_id, kind, actor_individual_id=IND, message_id="msg-1",
                               data=data or {"seq": 1, "message": "hello there", "individual_id": IND, "source": "api"})  # fmt: skip
    channel_events.publish(event)
    return event.id


def connection_items(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    from parley.dal import live as store

    return store.connections(tenant_id, individual_id, now_epoch=int(time.time()))


def wait_until(predicate, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_member_receives_an_event_within_a_second_and_a_non_member_nothing(world):
    from parley.domain import live

    async def scenario() -> tuple[dict, float, list]:
        async with aiohttp.ClientSession() as session:
            member = await session.ws_connect(
                world["url"], params={"individual-id": IND2}, headers={"Authorization": f"Bearer {world['key']}"}
            )
            outsider = await session.ws_connect(world["url"], params={"token": world["key"], "individual-id": IND3})
            assert live.connected(world["tenant_id"], IND2) and live.connected(world["tenant_id"], IND3)
            # the stack's ChannelEventsFunction is warm once an event has passed (a cold start is not what is timed)
            await asyncio.to_thread(publish, world["tenant_id"], world["channel_id"], "channel-updated", changed=["name"])
            warm = json.loads((await member.receive(timeout=30)).data)
            assert warm["type"] == "channel-updated"
            sent = time.monotonic()
            event_id = await asyncio.to_thread(publish, world["tenant_id"], world["channel_id"])
            got = json.loads((await member.receive(timeout=5)).data)
            elapsed = time.monotonic() - sent
            assert got["id"] == event_id
            leaked = []
            with contextlib.suppress(TimeoutError):
                leaked.append(await outsider.receive(timeout=1.5))
            await member.close()
            await outsider.close()
            return got, elapsed, leaked

    got, elapsed, leaked = asyncio.run(scenario())
    assert elapsed < 1.0, f"the event took {elapsed:.2f} s"
    assert got["type"] == "message-posted" and got["channel-id"] == world["channel_id"] and got["message-id"] == "msg-1"
    assert got["actor-individual-id"] == IND and got["data"] == {"seq": 1, "message": "hello there", "individual_id": IND, "source": "api"}
    assert leaked == []  # the non-member's connection got nothing (all the channel's events included)


def test_a_user_token_in_the_query_string_listens_for_the_users_primary_individual_and_pings(local, world):
    out = requests.post(f"{local.api}/_local/user-token", json={"sub": USER, "tenantId": world["tenant_id"]}, timeout=30)
    assert out.status_code == 201, out.text
    token = out.json()["token"]

    async def scenario() -> tuple[dict, dict]:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(world["url"], params={"token": token})
            await ws.send_str('{"action": "ping"}')
            pong = json.loads((await ws.receive(timeout=10)).data)
            await asyncio.to_thread(publish, world["tenant_id"], world["channel_id"], "ack", ack_seq=1, ack_message_id="msg-1")
            got = json.loads((await ws.receive(timeout=30)).data)
            await ws.close()
            return pong, got

    pong, got = asyncio.run(scenario())
    assert pong == {"type": "pong"}
    assert got["type"] == "ack" and got["data"] == {"ack_seq": 1, "ack_message_id": "msg-1"}
    assert wait_until(lambda: not connection_items(world["tenant_id"], IND))  # closed: $disconnect forgot it


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"individual-id": IND}, {}, 401),
        ({"token": "prl_not-a-real-key", "individual-id": IND}, {}, 401),
        ({"individual-id": IND}, {"Authorization": "Bearer not-a-jwt.at.all"}, 401),
        ({"individual-id": "nobody"}, {"Authorization": "KEY"}, 404),
    ],
)
def test_a_bad_credential_or_individual_is_refused_at_connect(world, params, headers, status):
    headers = {k: v.replace("KEY", world["key"]) for k, v in headers.items()}

    async def scenario() -> aiohttp.WSServerHandshakeError:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(world["url"], params=params, headers=headers)
            return refused.value

    refused = asyncio.run(scenario())
    assert refused.status == status
    # the same handshake over plain HTTP shows the body: the courier API's JSON:API error
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13", **headers}
    out = requests.get(world["url"].replace("ws://", "http://"), params=params, headers=upgrade, timeout=30)
    assert out.status_code == status
    assert out.json()["errors"][0]["status"] == status
    assert not connection_items(world["tenant_id"], IND)


def _raw_handshake(url: str, query: str) -> socket.socket:
    """A WebSocket opened by hand, so that it can be dropped without a close frame (a client that vanished)."""
    host_port, _, path = url.removeprefix("ws://").partition("/")
    host, _, port = host_port.partition(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /{path}?{query} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")  # fmt: skip
    sock.sendall(request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def test_a_dropped_connection_is_cleaned_up(world, local):
    from parley.dal import live as store

    tenant_id = world["tenant_id"]
    # a client that vanishes (no close frame): the gateway sees the connection end and invokes $disconnect
    sock = _raw_handshake(world["url"], f"token={world['key']}&individual-id={IND2}")
    assert wait_until(lambda: connection_items(tenant_id, IND2))
    sock.close()
    assert wait_until(lambda: not connection_items(tenant_id, IND2)), "the dropped connection's items are still there"

    # a connection whose $disconnect never came (its items remain, API Gateway no longer knows it): the next event
    # for its individual finds it gone (410) and deletes it
    store.put(tenant_id, IND2, "vanished-conn=", connected_at="2026-12-07T10:00:00.000Z", now_epoch=int(time.time()))
    assert connection_items(tenant_id, IND2)
    publish(tenant_id, world["channel_id"])
    assert wait_until(lambda: not connection_items(tenant_id, IND2)), "a gone connection survived a post"
    assert store.pointer("vanished-conn=") is None


def test_the_management_api_describes_and_closes_a_connection(world):
    """What the functions call (botocore's apigatewaymanagementapi client): GET describes, DELETE closes, and the
    closed connection's $disconnect forgets it; an unknown one is GoneException."""
    import botocore.session
    from botocore.exceptions import ClientError

    management = world["url"].replace("ws://", "http://")
    client = botocore.session.get_session().create_client(
        "apigatewaymanagementapi", endpoint_url=management, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip

    async def scenario() -> tuple[dict, Any]:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(world["url"], params={"token": world["key"], "individual-id": IND2})
            (conn,) = await asyncio.to_thread(connection_items, world["tenant_id"], IND2)
            described = await asyncio.to_thread(client.get_connection, ConnectionId=conn["connection_id"])
            await asyncio.to_thread(client.post_to_connection, ConnectionId=conn["connection_id"], Data=b'{"hello": 1}')
            hello = json.loads((await ws.receive(timeout=10)).data)
            await asyncio.to_thread(client.delete_connection, ConnectionId=conn["connection_id"])
            closing = await ws.receive(timeout=10)
            return {"described": described, "hello": hello, "id": conn["connection_id"]}, closing

    out, closing = asyncio.run(scenario())
    assert out["described"]["Identity"]["SourceIp"] == "127.0.0.1" and out["described"]["ConnectedAt"]
    assert out["hello"] == {"hello": 1}
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert wait_until(lambda: not connection_items(world["tenant_id"], IND2))
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId=out["id"], Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"


def test_the_local_stack_serves_the_declared_websocket_api_and_lists_it(local):
    index = requests.get(f"{local.api}/_local", timeout=10).json()
    (served,) = [w for w in index["websockets"] if w["family"] == "CourierMessagingApi"]
    assert served["routes"] == ["$connect", "$default", "$disconnect"]  # the template's routes, nothing more
    assert served["url"] == local.websockets["CourierMessagingApi"]["url"] and served["url"].endswith("/v1")
    # an HTTP request that is no WebSocket handshake: API Gateway's 403
    assert requests.get(served["url"].replace("ws://", "http://"), timeout=10).status_code == 403
