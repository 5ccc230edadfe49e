"""The live updates' WebSocket API as declared (docs/courier.md "Live updates", docs/architecture.md "The WebSocket
API"): its routes on the functions' aliases, API Gateway's permission to invoke each, and ChannelEventsFunction's
management endpoint and permission."""

from __future__ import annotations

from typing import Any

from cfnlint.decode import decode

from helpers import ROOT


def _doc(path: str) -> dict[str, Any]:
    out, matches = decode(str(ROOT / path))
    assert out is not None, matches
    return out


def test_the_courier_messaging_stack_declares_a_websocket_api_with_connect_disconnect_and_default():
    res = _doc("functions/courier_messaging/template.yaml")["Resources"]
    (api_id,) = [k for k, r in res.items() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert res[api_id]["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert res[api_id]["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in res.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    functions = {"$connect": "WsConnectFunction", "$disconnect": "WsDisconnectFunction", "$default": "WsDefaultFunction"}
    for key, props in routes.items():
        assert props["ApiId"] == {"Ref": api_id}
        integration = res[props["Target"]["Fn::Sub"].removeprefix("integrations/${").removesuffix("}")]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["IntegrationUri"]["Fn::Sub"][1] == {"Alias": {"Ref": f"{functions[key]}.Alias"}}  # SnapStart: the alias
        (permission,) = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                         and r["Properties"]["FunctionName"] == {"Ref": f"{functions[key]}.Alias"}]  # fmt: skip
        assert permission["Principal"] == "apigateway.amazonaws.com" and f"${{{api_id}}}/*/{key}" in permission["SourceArn"]["Fn::Sub"]
    # the default route answers on the connection (a ping's pong)
    (response,) = [r["Properties"] for r in res.values() if r["Type"] == "AWS::ApiGatewayV2::RouteResponse"]
    assert response["RouteId"] == {"Ref": "WebSocketDefaultRoute"} and response["RouteResponseKey"] == "$default"
    (stage,) = [r["Properties"] for r in res.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stage["StageName"] == {"Ref": "Stage"} and stage["AutoDeploy"] is True
    outputs = _doc("functions/courier_messaging/template.yaml")["Outputs"]
    assert outputs["WebSocketUrl"]["Value"]["Fn::Sub"].startswith("wss://${WebSocketApi}.execute-api.")
    assert outputs["WebSocketManagementUrl"]["Value"]["Fn::Sub"].startswith("https://${WebSocketApi}.execute-api.")


def test_channel_events_function_posts_to_the_connections_at_once():
    fn = _doc("template.yaml")["Resources"]["ChannelEventsFunction"]["Properties"]
    assert fn["Environment"]["Variables"]["WEBSOCKET_MANAGEMENT_URL"] == {
        "Fn::GetAtt": ["CourierMessagingApi", "Outputs.WebSocketManagementUrl"]
    }
    statements = [s for p in fn["Policies"] if isinstance(p, dict) and "Statement" in p for s in p["Statement"]]
    (manage,) = [s for s in statements if s["Action"] == ["execute-api:ManageConnections"]]
    assert "${CourierMessagingApi.Outputs.WebSocketApiId}/${Stage}/" in manage["Resource"]["Fn::Sub"]
    # no batching window: an event is applied (and posted) as soon as it is queued ("within a second")
    assert fn["Events"]["ChannelEventsQueue"]["Properties"]["MaximumBatchingWindowInSeconds"] == 0
