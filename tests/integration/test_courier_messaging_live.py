"""Courier messaging live updates on moto (issue 18, area D): the WebSocket API's declared $connect / $disconnect /
$default handlers with API Gateway's events, the connection items they keep, and the channel-events hook
(``parley.domain.live``) posting to the members' connections through the local gateway's management API, a gone
connection deleted; stored state asserted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT

ORG = "org-1"
USER = "user-pat"
IND = "ind-pat"  # the user's primary individual
IND2 = "ind-sam"
IND3 = "ind-lee"  # not a member of the channel
EVENTS = ROOT / "events" / "courier_messaging"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def connect_event(connection_id: str, *, headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    ev = sample("ws_connect")
    ev["headers"] = {"Host": ev["headers"]["Host"], **(headers or {})}
    ev["multiValueHeaders"] = {k: [v] for k, v in ev["headers"].items()}
    ev["queryStringParameters"] = query or None
    ev["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    ev["requestContext"]["connectionId"] = connection_id
    return ev


def disconnect_event(connection_id: str) -> dict[str, Any]:
    ev = sample("ws_disconnect")
    ev["requestContext"]["connectionId"] = connection_id
    return ev


@pytest.fixture
def people(tenant):
    from parley.domain import directory

    t, key = tenant
    lines = [
        {"type": "organizations", "id": ORG, "attributes": {"name": "northside"}},
        {"type": "users", "id": USER, "attributes": {"username": "pat", "primary-individual-id": IND}},
        {"type": "individuals", "id": IND, "attributes": {"owner-id": USER}},
        {"type": "individuals", "id": IND2, "attributes": {}},
        {"type": "individuals", "id": IND3, "attributes": {}},
    ]
    assert directory.import_lines(t.id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]).invalid == []
    return t.id, key


def items_of(tenant_id: str, individual_id: str, connection_id: str) -> tuple[dict | None, dict | None]:
    from parley.dal import live as store
    from parley.dal import table

    return (
        table.get(store.individual_pk(tenant_id, individual_id), store.connection_sk(connection_id)),
        table.get(store.pointer_pk(connection_id), store.POINTER_SK),
    )


def test_connect_keeps_the_connection_for_the_named_individual_and_disconnect_forgets_it(handler, people):
    from parley.domain import live

    tenant_id, key = people
    connect = handler("CourierMessagingApi.WsConnectFunction")
    before = int(time.time())
    out = connect(connect_event("conn-A=", query={"token": key, "individual-id": IND2}))
    assert out == {"statusCode": 200}
    conn, pointer = items_of(tenant_id, IND2, "conn-A=")
    assert conn["type"] == "ws_connection" and conn["tenant_id"] == tenant_id and conn["individual_id"] == IND2
    assert conn["connection_id"] == "conn-A=" and conn.get("user_id") is None
    assert before + 2 * 3600 <= conn["ttl"] <= int(time.time()) + 2 * 3600 + 300  # API Gateway's 2 h, and a margin
    assert pointer["tenant_id"] == tenant_id and pointer["individual_id"] == IND2 and pointer["ttl"] == conn["ttl"]
    assert live.connected(tenant_id, IND2) and not live.connected(tenant_id, IND)
    assert not live.connected("other-tenant", IND2)

    # the Authorization header and an acting user (X-User-ID): the user's primary individual
    out = connect(connect_event("conn-B=", headers={"Authorization": f"Bearer {key}", "X-User-ID": USER}))
    assert out == {"statusCode": 200}
    conn, _ = items_of(tenant_id, IND, "conn-B=")
    assert conn["user_id"] == USER

    disconnect = handler("CourierMessagingApi.WsDisconnectFunction")
    assert disconnect(disconnect_event("conn-A=")) == {"statusCode": 200}
    assert items_of(tenant_id, IND2, "conn-A=") == (None, None)
    assert not live.connected(tenant_id, IND2) and live.connected(tenant_id, IND)
    assert disconnect(disconnect_event("conn-A=")) == {"statusCode": 200}  # again (API Gateway may repeat): harmless


@pytest.mark.parametrize(
    ("headers", "query", "status", "code"),
    [
        ({}, {"individual-id": IND}, 401, "unauthorized"),
        ({"Authorization": "Bearer prl_not-a-key"}, {"individual-id": IND}, 401, "unauthorized"),
        ({}, {"token": "prl_not-a-key", "individual-id": IND}, 401, "unauthorized"),
        ({"Authorization": "KEY"}, {}, 400, "missing-individual"),
        ({"Authorization": "KEY"}, {"individual-id": "nobody"}, 404, "not-found"),
        ({"Authorization": "KEY"}, {"user-id": USER, "individual-id": IND2}, 403, "not-owner"),
        ({"Authorization": "KEY"}, {"individual-id": "x" * 129}, 400, "invalid-parameter"),
    ],
)
def test_connect_refuses_with_the_rest_apis_status_and_stores_nothing(handler, people, table_items, headers, query, status, code):
    _tenant_id, key = people
    headers = {k: v.replace("KEY", key) for k, v in headers.items()}
    out = handler("CourierMessagingApi.WsConnectFunction")(connect_event("conn-X=", headers=headers, query=query))
    assert out["statusCode"] == status
    assert out["headers"]["Content-Type"] == "application/vnd.api+json"
    (error,) = json.loads(out["body"])["errors"]
    assert error["status"] == status and error["code"] == code
    assert not [i for i in table_items() if "WS#" in i["PK"] or i["PK"].startswith("WSCONN#")]


def test_connect_refuses_a_key_of_another_tenant_for_this_tenants_individual(handler, people, other_tenant):
    _, other_key = other_tenant
    out = handler("CourierMessagingApi.WsConnectFunction")(connect_event("conn-Y=", query={"token": other_key, "individual-id": IND}))
    assert out["statusCode"] == 404  # the other tenant has no such individual


def test_default_answers_a_ping_and_explains_anything_else(handler):
    default = handler("CourierMessagingApi.WsDefaultFunction")
    ev = sample("ws_default")
    assert json.loads(default(ev)["body"]) == {"type": "pong"}
    for body in ('{"action": "subscribe"}', "not json", "[]", ""):
        answer = json.loads(default({**ev, "body": body})["body"])
        assert answer["type"] == "error" and answer["code"] == "unknown-action"


# ── the hook, through the local gateway's management API ──
class InProcessPool:
    """Invokes the declared handlers in this process (moto in-process), as the local stack's pool does in workers."""

    def __init__(self, handler):
        self.handler = handler
        self.lock = threading.Lock()

    def invoke(self, fn, event):
        from parley_local.invoke import InvokeResult

        with self.lock:  # one environment at a time (each handler sets its declared environment)
            try:
                return InvokeResult(ok=True, payload=self.handler(fn.key)(event))
            except Exception as err:
                return InvokeResult(ok=False, error_type=type(err).__name__, error_message=str(err))


@pytest.fixture
def ws_gateway(aws, handler, monkeypatch):
    from parley_local.websocket import WebSocketGateway

    (api,) = aws.websocket_apis
    gw = WebSocketGateway(api, InProcessPool(handler)).start()
    yield gw
    gw.stop()


def channel_event(tenant_id: str, channel_id: str, kind: str = "message-posted", **kw: Any):
    from parley.domain import channel_events

    return channel_events.new(tenant_id, channel_id, kind, actor_individual_id=IND, message_id="msg-1",
                              data=kw.pop("data", {"seq": 1, "message": "hello", "individual_id": IND, "source": "api"}), **kw)  # fmt: skip


def test_the_hook_posts_each_event_to_the_members_connections_only_and_drops_gone_ones(aws, handler, people, ws_gateway, monkeypatch):
    import aiohttp

    from parley.dal import live as store
    from parley.domain import channels, live
    from parley.settings import get_settings

    tenant_id, key = people
    chan, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id=IND, individual_ids=[IND2], publish=False)
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", ws_gateway.management_url)
    get_settings.cache_clear()
    received: dict[str, list[dict]] = {IND: [], IND2: [], IND3: []}

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = {}
            for ind in (IND, IND2, IND3):
                sockets[ind] = await session.ws_connect(f"{ws_gateway.url}?token={key}&individual-id={ind}")
            assert len(ws_gateway.connections) == 3
            # a connection whose $disconnect never came: its items exist, API Gateway no longer knows it (410)
            store.put(tenant_id, IND2, "stale-conn=", connected_at="2026-12-07T10:00:00.000Z", now_epoch=int(time.time()))
            event = channel_event(tenant_id, chan["id"])
            await asyncio.get_running_loop().run_in_executor(None, live.apply, event)
            for ind, ws in sockets.items():
                try:
                    msg = await ws.receive(timeout=1 if ind != IND3 else 0.5)
                except TimeoutError:
                    continue
                received[ind].append(json.loads(msg.data))
            # a ping is answered on the connection ($default's route response)
            await sockets[IND].send_str('{"action": "ping"}')
            assert json.loads((await sockets[IND].receive(timeout=5)).data) == {"type": "pong"}
            await sockets[IND3].send_str('{"action": "ping"}')
            assert json.loads((await sockets[IND3].receive(timeout=5)).data) == {"type": "pong"}
            for ws in sockets.values():
                await ws.close()

    asyncio.run(scenario())
    expected = {"type": "message-posted", "channel-id": chan["id"], "message-id": "msg-1", "actor-individual-id": IND,
                "data": {"seq": 1, "message": "hello", "individual_id": IND, "source": "api"}}  # fmt: skip
    for ind in (IND, IND2):
        (got,) = received[ind]
        assert {k: got[k] for k in expected} == expected and got["id"] and got["at"]
    assert received[IND3] == []  # not a member
    assert items_of(tenant_id, IND2, "stale-conn=") == (None, None)  # gone → deleted
    # the closed connections' $disconnect forgot them
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(live.connected(tenant_id, i) for i in (IND, IND2, IND3)):
        time.sleep(0.05)
    assert not any(live.connected(tenant_id, i) for i in (IND, IND2, IND3))


def test_a_members_removed_event_reaches_the_removed_ones_too(aws, people, ws_gateway, monkeypatch):
    from parley.dal import live as store
    from parley.domain import channels, live

    tenant_id, _ = people
    chan, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id=IND, individual_ids=[IND2], publish=False)
    event = channel_event(tenant_id, chan["id"], "members-removed", data={"individual_ids": [IND3]})
    assert sorted(live.recipients(event)) == sorted([IND, IND2, IND3])
    batch = channel_event(tenant_id, chan["id"]).model_copy(update={"member_ids": [IND2]})
    assert live.recipients(batch) == [IND2]  # a member batch of a large channel: those members only
    # no WebSocket API configured: nothing is posted (and nothing is touched)
    store.put(tenant_id, IND2, "kept=", connected_at="2026-12-07T10:00:00.000Z", now_epoch=int(time.time()))
    monkeypatch.delenv("WEBSOCKET_MANAGEMENT_URL", raising=False)
    from parley.settings import get_settings

    get_settings.cache_clear()
    live.apply(batch)
    assert items_of(tenant_id, IND2, "kept=")[0] is not None


def test_expired_connections_do_not_count(aws, people):
    from parley.dal import live as store
    from parley.domain import live

    tenant_id, _ = people
    store.put(tenant_id, IND2, "old=", connected_at="2026-12-07T07:00:00.000Z", now_epoch=int(time.time()) - 3 * 3600)
    assert not live.connected(tenant_id, IND2)  # its ttl passed (DynamoDB deletes it later)
    assert store.connections(tenant_id, IND2, now_epoch=int(time.time())) == []


def test_the_hook_is_in_channel_events_hooks():
    from parley.domain import channel_events

    assert "parley.domain.live" in channel_events.HOOKS


def test_the_sample_events_are_api_gateways_websocket_shapes():
    for name, route, kind in (("ws_connect", "$connect", "CONNECT"), ("ws_disconnect", "$disconnect", "DISCONNECT"),
                              ("ws_default", "$default", "MESSAGE")):  # fmt: skip
        ctx = sample(name)["requestContext"]
        assert (ctx["routeKey"], ctx["eventType"]) == (route, kind) and ctx["connectionId"]
    assert Path(EVENTS / "ws_connect.json").exists()


def test_a_large_channels_event_reaches_every_members_connection_once(aws, people, ws_gateway, monkeypatch):
    """The fan-out runs on threads: every member's connection gets the frame exactly once."""
    import aiohttp

    from parley.domain import channels, directory, live
    from parley.settings import get_settings

    tenant_id, key = people
    crowd = [f"ind-{n:02d}" for n in range(30)]
    lines = [json.dumps({"type": "individuals", "id": i, "attributes": {}, "last-sync-time": "2026-11-01T09:00:00Z"}) for i in crowd]
    assert directory.import_lines(tenant_id, lines).invalid == []
    chan, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id=IND, floating=True, individual_ids=crowd,
                                      publish=False)  # fmt: skip
    assert len(channels.member_ids(tenant_id, chan["id"])) == 31
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", ws_gateway.management_url)
    get_settings.cache_clear()

    async def scenario() -> dict[str, list]:
        async with aiohttp.ClientSession() as session:
            sockets = {i: await session.ws_connect(f"{ws_gateway.url}?token={key}&individual-id={i}") for i in crowd}
            event = channel_event(tenant_id, chan["id"])
            await asyncio.get_running_loop().run_in_executor(None, live.apply, event)
            got: dict[str, list] = {}
            for ind, ws in sockets.items():
                got[ind] = [json.loads((await ws.receive(timeout=5)).data)]
                with contextlib.suppress(TimeoutError):
                    got[ind].append((await ws.receive(timeout=0.05)).data)  # a second frame would be a duplicate
                await ws.close()
            return got

    got = asyncio.run(scenario())
    assert sorted(got) == crowd
    assert all(len(frames) == 1 and frames[0]["channel-id"] == chan["id"] for frames in got.values())
