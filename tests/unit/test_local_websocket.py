"""The local WebSocket gateway's pure parts (parley_local.websocket): route selection as API Gateway does it, the
events' shapes, pointing the functions' environment at the local server; and what a live update looks like
(parley.domain.live.message)."""

from __future__ import annotations

import base64
from types import SimpleNamespace

from parley_local.templates import WebSocketApi, WebSocketRoute
from parley_local.websocket import WebSocketGateway, connection_id, localize


def _gateway(selection: str = "$request.body.action", keys: tuple[str, ...] = ("$connect", "$disconnect", "$default")) -> WebSocketGateway:
    api = WebSocketApi(logical_id="WebSocketApi", template=SimpleNamespace(name="CourierMessagingApi"), api_id="abc123", stage="v1",
                       route_selection=selection)  # fmt: skip
    for key in keys:
        api.routes[key] = WebSocketRoute(route_key=key, function=SimpleNamespace(logical_id=key), has_route_response=key == "$default")
    return WebSocketGateway(api, None, port=4321)


def test_a_message_goes_to_the_route_its_selection_expression_names_else_to_default():
    gw = _gateway(keys=("$connect", "$default", "subscribe"))
    assert gw.select_route('{"action": "subscribe"}').route_key == "subscribe"
    assert gw.select_route('{"action": "ping"}').route_key == "$default"  # no such route
    assert gw.select_route('{"action": "$connect"}').route_key == "$default"  # a client cannot select a $ route
    assert gw.select_route("not json").route_key == "$default"
    assert gw.select_route('{"action": {"x": 1}}').route_key == "$default"
    nested = _gateway("$request.body.meta.kind", keys=("$default", "hello"))
    assert nested.select_route('{"meta": {"kind": "hello"}}').route_key == "hello"
    assert _gateway(keys=("$connect",)).select_route('{"action": "x"}') is None  # no $default: API Gateway's Forbidden


def test_connection_ids_look_like_api_gateways():
    ids = {connection_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 16 and cid.endswith("=") and len(base64.b64decode(cid)) == 11


def test_the_functions_environment_names_the_local_server_instead_of_api_gateways_host():
    gw = _gateway()
    env = {
        "WEBSOCKET_MANAGEMENT_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/v1",
        "WS_URL": "wss://abc123.execute-api.us-east-1.amazonaws.com/v1",
        "OTHER": "https://other.execute-api.us-east-1.amazonaws.com/v1",
    }
    localize(env, [gw])
    assert env == {
        "WEBSOCKET_MANAGEMENT_URL": "http://127.0.0.1:4321/v1",
        "WS_URL": "ws://127.0.0.1:4321/v1",
        "OTHER": "https://other.execute-api.us-east-1.amazonaws.com/v1",
    }
    assert gw.url == "ws://127.0.0.1:4321/v1" and gw.management_url == "http://127.0.0.1:4321/v1"


def test_message_and_disconnect_events_carry_api_gateways_request_context():
    gw = _gateway()
    conn = SimpleNamespace(id="L0SM9cOFvHcCIhw=", connected_at=1796643000.5, source_ip="127.0.0.1", user_agent="ua")
    ev = gw.message_event(conn, "$default", '{"action": "ping"}', False)
    ctx = ev["requestContext"]
    assert (ctx["routeKey"], ctx["eventType"], ctx["connectionId"], ctx["stage"], ctx["apiId"]) == (
        "$default", "MESSAGE", conn.id, "v1", "abc123")  # fmt: skip
    assert ctx["connectedAt"] == 1796643000500 and ctx["messageId"] and ctx["domainName"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert ev["body"] == '{"action": "ping"}' and ev["isBase64Encoded"] is False
    gone = gw.disconnect_event(conn, 1006, "Connection closed abnormally")["requestContext"]
    assert (gone["eventType"], gone["disconnectStatusCode"], gone["disconnectReason"]) == (
        "DISCONNECT",
        1006,
        "Connection closed abnormally",
    )


def test_a_live_update_names_the_event_its_channel_message_and_data():
    from parley.domain import channel_events, live

    event = channel_events.new("t-1", "chan-1", "reaction-added", actor_individual_id="ind-1", message_id="msg-1",
                               data={"type": "like"})  # fmt: skip
    assert live.message(event) == {
        "type": "reaction-added",
        "id": event.id,
        "at": event.at,
        "channel-id": "chan-1",
        "message-id": "msg-1",
        "actor-individual-id": "ind-1",
        "data": {"type": "like"},
    }
