"""The local API Gateway for WebSocket APIs: serves each ``AWS::ApiGatewayV2::Api`` (``ProtocolType: WEBSOCKET``) the
templates declare, on a port of its own on 127.0.0.1 (docs/architecture.md "The WebSocket API").

As API Gateway does:
- ``ws://127.0.0.1:<port>/<stage>``: a handshake invokes the ``$connect`` route's function with API Gateway's
  CONNECT event (headers, query string, a fresh ``connectionId``); a status other than 2xx refuses the handshake with
  that status and the function's body (no ``$connect`` route: every handshake is accepted);
- each message from the client is routed by the API's ``RouteSelectionExpression`` (``$request.body.<field>`` of a
  JSON body) to its route, else to ``$default``, and invokes its function with the MESSAGE event; the function's
  ``body`` goes back on the connection when the route declares a route response; no route: API Gateway's
  ``{"message": "Forbidden", …}``; a failing function: ``{"message": "Internal server error", …}``;
- when the connection ends (either side, or a ``DeleteConnection``), ``$disconnect`` is invoked with the DISCONNECT
  event;
- the management API at ``http://127.0.0.1:<port>/<stage>/@connections/{connectionId}`` (what botocore's
  ``apigatewaymanagementapi`` client calls): POST sends the body to the client (one text frame when it is UTF-8,
  else binary), GET describes the connection, DELETE closes it; an unknown connection is ``GoneException`` (410).
  Requests are not checked for a signature (IAM is not enforced locally).

The declared URLs name API Gateway's host (``<api id>.execute-api.<region>.amazonaws.com``); the local stack points
the functions' environment at this server instead (``LocalStack``, as it does for Function URLs). Not emulated: the
10-minute idle timeout and the 2-hour connection limit, the frame size limits beyond the 128 KB message limit.

Built on aiohttp (already pinned for the runtime layer, layers/deps/requirements.txt): its server speaks WebSocket,
which the werkzeug gateway does not.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from parley_local.invoke import FunctionPool
from parley_local.templates import ACCOUNT, WebSocketApi, WebSocketRoute

log = logging.getLogger("parley_local.websocket")
MAX_MESSAGE = 128 * 1024  # API Gateway's WebSocket message payload limit


def connection_id() -> str:
    """An id shaped like API Gateway's (16 characters of base64, e.g. ``L0SM9cOFvHcCIhw=``)."""
    return base64.b64encode(os.urandom(11)).decode()


def _request_time(now: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


@dataclass
class Connection:
    id: str
    ws: web.WebSocketResponse
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # the handshake's 101 is sent: frames may go out


class WebSocketGateway:
    def __init__(self, api: WebSocketApi, pool: FunctionPool | None, host: str = "127.0.0.1", port: int = 0,
                 sock: socket.socket | None = None) -> None:  # fmt: skip
        """``sock``: a listening socket reserved for it (``app.reserve_port``): its port, served from it."""
        self.api = api
        self.pool = pool
        self.host = host
        self._sock = sock
        self.port = sock.getsockname()[1] if sock is not None else port
        self.connections: dict[str, Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where clients connect (API Gateway's ``wss://<host>/<stage>``)."""
        return f"ws://{self.host}:{self.port}/{self.api.stage}"

    @property
    def management_url(self) -> str:
        """The management endpoint (API Gateway's ``https://<host>/<stage>``)."""
        return f"http://{self.host}:{self.port}/{self.api.stage}"

    # ── lifecycle ──
    def start(self) -> WebSocketGateway:
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as err:
                failed.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"websocket-{self.api.logical_id}", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed:
            raise failed[0]
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=MAX_MESSAGE)
        stage = self.api.stage
        app.router.add_get(f"/{stage}", self._handshake)
        app.router.add_get(f"/{stage}/", self._handshake)
        app.router.add_route("POST", f"/{stage}/@connections/{{id}}", self._post)
        app.router.add_route("GET", f"/{stage}/@connections/{{id}}", self._get)
        app.router.add_route("DELETE", f"/{stage}/@connections/{{id}}", self._delete)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.SockSite(self._runner, self._sock) if self._sock is not None else web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def shutdown() -> None:
            for conn in list(self.connections.values()):
                if conn.ready.is_set():  # (one still in its handshake ends with the runner's cleanup)
                    await conn.ws.close(code=1001, message=b"Going away")
            if self._runner is not None:
                await self._runner.cleanup()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        except Exception:
            log.debug("websocket gateway shutdown", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    # ── events, as API Gateway builds them ──
    def _context(
        self, conn_id: str, route_key: str, event_type: str, connected_at: float, source_ip: str, user_agent: str
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": base64.b64encode(os.urandom(12)).decode(),
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.api.stage,
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "requestId": base64.b64encode(os.urandom(12)).decode(),
            "domainName": self.api.aws_host,
            "connectionId": conn_id,
            "apiId": self.api.api_id,
            "accountId": ACCOUNT,
        }

    def connect_event(self, request: web.Request, conn_id: str, connected_at: float) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for k, v in request.headers.items():
            headers[k] = v
            multi_headers.setdefault(k, []).append(v)
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "requestContext": self._context(
                conn_id, "$connect", "CONNECT", connected_at, request.remote or "127.0.0.1", request.headers.get("User-Agent", "")
            ),
            "isBase64Encoded": False,
        }
        if request.query:
            query: dict[str, str] = {}
            multi_query: dict[str, list[str]] = {}
            for k, v in request.query.items():
                query[k] = v
                multi_query.setdefault(k, []).append(v)
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = multi_query
        return event

    def message_event(self, conn: Connection, route_key: str, body: str, is_binary: bool) -> dict[str, Any]:
        context = self._context(conn.id, route_key, "MESSAGE", conn.connected_at, conn.source_ip, conn.user_agent)
        context["messageId"] = base64.b64encode(os.urandom(12)).decode()
        return {"requestContext": context, "body": body, "isBase64Encoded": is_binary}

    def disconnect_event(self, conn: Connection, status: int, reason: str) -> dict[str, Any]:
        context = self._context(conn.id, "$disconnect", "DISCONNECT", conn.connected_at, conn.source_ip, conn.user_agent)
        context["disconnectStatusCode"] = status
        context["disconnectReason"] = reason
        return {
            "headers": {"Host": self.api.aws_host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
            "multiValueHeaders": {"Host": [self.api.aws_host]},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def select_route(self, body: str) -> WebSocketRoute | None:
        """The route a message goes to: the selection expression's value (``$request.body.<path>``), else ``$default``."""
        expression = self.api.route_selection
        if expression.startswith("$request.body."):
            try:
                value: Any = json.loads(body)
            except ValueError:
                value = None
            for part in expression.removeprefix("$request.body.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value in self.api.routes and not value.startswith("$"):
                return self.api.routes[value]
        return self.api.routes.get("$default")

    async def _invoke(self, route: WebSocketRoute, event: dict[str, Any]) -> Any:
        assert self.pool is not None, "the gateway's function pool is set before it starts"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.pool.invoke, route.function, event)

    # ── the WebSocket ──
    async def _handshake(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"message": "Forbidden"}, status=403)
        conn_id = connection_id()
        connected_at = time.time()
        route = self.api.routes.get("$connect")
        if route is not None:
            out = await self._invoke(route, self.connect_event(request, conn_id, connected_at))
            if not out.ok:
                return web.json_response({"message": "Internal server error"}, status=500)
            result = out.payload if isinstance(out.payload, dict) else {}
            status = result.get("statusCode") if isinstance(result.get("statusCode"), int) else 200
            if not 200 <= status < 300:
                headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
                return web.Response(status=status, body=(result.get("body") or "").encode(), headers=headers)
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, autoping=True)
        conn = Connection(
            id=conn_id,
            ws=ws,
            connected_at=connected_at,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            last_active=connected_at,
        )
        # known before the client learns it is connected (the 101): a post right after the client's connect finds it
        # (it waits for ``ready``) instead of a 410 that would make the live hook delete the connection's items
        self.connections[conn_id] = conn
        status, reason = 1006, "Connection closed abnormally"
        try:
            await ws.prepare(request)
            conn.ready.set()
            async for msg in ws:
                conn.last_active = time.time()
                if msg.type == WSMsgType.TEXT:
                    await self._message(conn, msg.data, is_binary=False)
                elif msg.type == WSMsgType.BINARY:
                    await self._message(conn, base64.b64encode(msg.data).decode(), is_binary=True)
                elif msg.type == WSMsgType.ERROR:
                    break
            if ws.close_code is not None:
                status, reason = ws.close_code, "Client-side close frame status not set" if ws.close_code == 1005 else "Going away"
        finally:
            self.connections.pop(conn_id, None)
            conn.closed.set()
            disconnect = self.api.routes.get("$disconnect")
            if disconnect is not None:
                out = await self._invoke(disconnect, self.disconnect_event(conn, status, reason))
                if not out.ok:
                    log.warning("$disconnect of %s failed: %s", conn_id, out.error_message)
        return ws

    async def _message(self, conn: Connection, body: str, *, is_binary: bool) -> None:
        route = None if is_binary else self.select_route(body)
        if route is None:
            await conn.ws.send_str(json.dumps({"message": "Forbidden", "connectionId": conn.id, "requestId": str(uuid.uuid4())}))
            return
        out = await self._invoke(route, self.message_event(conn, route.route_key, body, is_binary))
        if not out.ok:
            await conn.ws.send_str(
                json.dumps({"message": "Internal server error", "connectionId": conn.id, "requestId": str(uuid.uuid4())})
            )
            return
        result = out.payload if isinstance(out.payload, dict) else {}
        if route.has_route_response and result.get("body") is not None:
            await conn.ws.send_str(str(result["body"]))

    # ── the management API (@connections) ──
    def _gone(self, conn_id: str) -> web.Response:
        return web.json_response(
            {"message": None}, status=410, headers={"x-amzn-ErrorType": "GoneException", "x-amzn-RequestId": str(uuid.uuid4())}
        )

    async def _open(self, conn_id: str) -> Connection | None:
        """The connection, once its handshake has completed; None when unknown, closed, or not ready within 5 s."""
        conn = self.connections.get(conn_id)
        if conn is None:
            return None
        if not conn.ready.is_set():
            try:
                await asyncio.wait_for(conn.ready.wait(), 5)
            except TimeoutError:
                return None
        return None if conn.ws.closed else conn

    async def _post(self, request: web.Request) -> web.Response:
        conn = await self._open(request.match_info["id"])
        if conn is None:
            return self._gone(request.match_info["id"])
        data = await request.read()
        if len(data) > MAX_MESSAGE:
            return web.json_response(
                {"message": "Request Entity Too Large"}, status=413, headers={"x-amzn-ErrorType": "PayloadTooLargeException"}
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await conn.ws.send_bytes(data)
        else:
            await conn.ws.send_str(text)
        return web.Response(status=200, headers={"x-amzn-RequestId": str(uuid.uuid4())})

    async def _get(self, request: web.Request) -> web.Response:
        conn = await self._open(request.match_info["id"])
        if conn is None:
            return self._gone(request.match_info["id"])

        def iso(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"

        return web.json_response(
            {
                "connectedAt": iso(conn.connected_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                "lastActiveAt": iso(conn.last_active),
            }
        )

    async def _delete(self, request: web.Request) -> web.Response:
        conn = await self._open(request.match_info["id"])
        if conn is None:
            return self._gone(request.match_info["id"])
        await conn.ws.close(code=1000, message=b"Goodbye")  # the handshake's loop then invokes $disconnect
        return web.Response(status=204)

    # ── tools ──
    def describe(self) -> dict[str, Any]:
        return {
            "api": self.api.logical_id,
            "family": self.api.template.name,
            "url": self.url,
            "managementUrl": self.management_url,
            "routes": sorted(self.api.routes),
            "connections": sorted(self.connections),
        }


def localize(env: dict[str, str], gateways: list[WebSocketGateway]) -> None:
    """Point a function's environment at the local servers: ``wss://<api host>`` → ``ws://127.0.0.1:<port>``,
    ``https://<api host>`` → ``http://127.0.0.1:<port>`` (the declared URLs name API Gateway's host, which a name
    lookup cannot send here)."""
    for key, value in list(env.items()):
        for gw in gateways:
            host = gw.api.aws_host
            value = value.replace(f"wss://{host}", f"ws://{gw.host}:{gw.port}").replace(f"https://{host}", f"http://{gw.host}:{gw.port}")
        env[key] = value
