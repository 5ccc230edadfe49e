"""Start the whole local stack: emulator, resources, gateway, pollers, scheduler, demo tenant."""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from parley_local import families, moto_patches, ses_simulator
from parley_local.console import Console
from parley_local.fake_alexa import FakeAlexa
from parley_local.fake_twilio import FakeTwilio
from parley_local.gateway import Gateway
from parley_local.invoke import FunctionPool
from parley_local.keepalive import KeepAliveRequestHandler
from parley_local.stack import Provisioner, Stack
from parley_local.templates import ACCOUNT, REGION
from parley_local.websocket import WebSocketGateway, localize
from parley_local.workers import SchedulerFirer, SqsPoller, StreamPoller

log = logging.getLogger("parley_local")
DEFAULT_SENDER_DOMAIN = "parley.example"
INBOUND_EMAIL_HELP = (
    "POST {to, tenantId?, raw? | from?, subject?, text?, inReplyTo?, spamVerdict?, virusVerdict?}: a reply received by SES "
    "for `to` (the tenant's reply domain) lands in the inbound bucket and is threaded by InboundMailFunction"
)


# User tokens the local stack mints (``POST /_local/user-token``): their audience, and each tenant's issuer.
LOCAL_AUDIENCE = "parley-local"
MINT_HELP = (
    "POST {sub, tenantId?, expiresIn?}: a user bearer token (JWT, HS256) for `sub`, of tenantId (default: the demo "
    "tenant), valid for expiresIn seconds (default 3600; negative: already expired); send it as Authorization: Bearer <token>"
)


# The texting inbound Function URL's function (helper E's, functions/courier_texting/template.yaml): a bought number's
# SMS and status webhooks point at it (TEXT_INBOUND_URL).
TEXT_INBOUND = "TextInboundFunction"
VIDEO_CALLBACK = "VideoCallbackFunction"  # Twilio Video's room and composition callbacks (VIDEO_CALLBACK_URL)
TWILIO_HELP = (
    "GET: what the fake Twilio holds and was asked (accounts, subaccounts, numbers, requests); POST /_local/twilio/account "
    "{tenantId?}: give the tenant (default: the demo tenant) a main Twilio account in the fake (its provider secret)"
)

ALEXA_HELP = (
    "GET /_local/alexa: what the fake Amazon holds and was asked (proactive events, reminders, requests); POST "
    "/_local/alexa/skill {tenantId, organizationId, alexaAppId?, development?}: register the tenant's skill with LWA "
    "credentials the fake knows; POST /_local/alexa/sign {body, chain?, url?}: the headers Alexa would send with body"
)


def local_issuer(tenant_id: str) -> str:
    return f"https://parley.local/idp/{tenant_id}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on a free port, held until its server takes it over. A port only looked up (``free_port``)
    and bound later can be taken meanwhile — by another process, or as the source port of one of this process's own
    outgoing connections (provisioning makes thousands) — and the server then fails to start."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(128)
    return s


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=2, default=str), status=status, content_type="application/json")


class BadBody(Exception):
    """A /_local tool's request body is not the JSON object it takes (400, saying why)."""


def json_object(request: Request) -> dict[str, Any]:
    """The JSON object of a tool's request body, whatever its Content-Type: ``curl -d '{…}'`` sends JSON
    labelled as a form, and the tools take nothing but JSON, so the body is read as JSON regardless.
    Never a silent default: an empty, malformed or non-object body raises ``BadBody``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadBody("request body must be a JSON object, got an empty body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadBody(f"request body is not valid JSON ({err})") from None
    if not isinstance(body, dict):
        raise BadBody(f"request body must be a JSON object, got a JSON {type(body).__name__}")
    return body


def json_tool(usage: str, methods: tuple[str, ...] = ("POST",), *, optional: bool = False) -> Any:
    """A ``/_local`` tool taking a JSON object: another method is a 405 that says how to call it (``usage``), a body
    that is not a JSON object a 400 saying why (``optional``: an empty body is ``{}``); the tool gets ``(request,
    body)``."""

    def wrap(fn: Any) -> Any:
        def tool(request: Request) -> Response:
            if request.method not in methods:
                return _json({"message": usage}, 405)
            try:
                body = json_object(request) if not optional or request.get_data(cache=True).strip() else {}
            except BadBody as err:
                return _json({"status": 400, "message": str(err)}, 400)
            return fn(request, body)

        return tool

    return wrap


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    root_template: Path | None = None
    stack: Stack | None = None
    api_url: str = ""
    moto_url: str = ""
    max_instances: int = 12  # warm instances per function, each serving one event at a time (4 held 20 clients to ~16 req/s)
    idle_timeout: float = 60.0  # seconds before an idle function instance is shut down (Lambda does the same, later)
    parameters: dict[str, str] = field(default_factory=dict)  # the root template's parameter overrides
    demo_tenant_id: str | None = None  # the tenant /_local/user-token mints for when no tenantId is given
    _threads: list[threading.Thread] = field(default_factory=list)
    websockets: list[WebSocketGateway] = field(default_factory=list)  # the WebSocket APIs' local gateways
    stream_pollers: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    web_pushes: list[dict[str, Any]] = field(default_factory=list)  # what the fake web push service received

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_patches.apply()  # DynamoDB one request at a time, cheap transactions and queries, bounded memory
        ses_simulator.install()  # mail to …@simulator.amazonses.com gets the events SES publishes for it
        self.moto_port = self.moto_port or free_port(self.host)
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()
        self.moto_url = f"http://{self.host}:{self.moto_port}"
        aws_env = {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
        # known before provisioning (Function URLs name it), and held from now on: see reserve_port
        reserved = None if self.port else reserve_port(self.host)
        self.port = self.port or reserved.getsockname()[1]
        # web push subscriptions may name the local fake push service over plain http (parley.providers.web_push)
        aws_env["PARLEY_WEB_PUSH_HTTP_HOSTS"] = f"{self.host}:{self.port}"
        self.prov = Provisioner(
            self.moto_url, root_template=self.root_template, url_base=f"http://{self.host}:{self.port}", parameters=self.parameters
        )
        self.stack = stack = self.prov.build()
        # The WebSocket APIs (parley_local.websocket): a port each, known before any function starts, since the
        # functions' environment names them (their declared URLs point at API Gateway's host).
        self.websockets = [WebSocketGateway(api, None, self.host, sock=reserve_port(self.host)) for api in stack.websocket_apis]
        for fn in stack.functions.values():
            localize(fn.env, self.websockets)
        # This process also runs Parley's admin code (tenants); point it at the emulator and table.
        os.environ.update(aws_env)
        if stack.table_names:
            os.environ["TABLE_NAME"] = stack.table_names[0]
        self.verify_sender_domain(DEFAULT_SENDER_DOMAIN)

        # Twilio REST for every function (accounts, numbers, lookups, SMS sends): the fake inside this stack
        # (docs/courier.md "Texting"); bought numbers send their SMS webhooks to the texting inbound Function URL.
        self.twilio = FakeTwilio(composition_callbacks=True).start(self.host)  # Video compositions post their progress
        twilio_env = {"TWILIO_API_URL": self.twilio.url, "TEXT_INBOUND_URL": f"http://{self.host}:{self.port}/_url/{TEXT_INBOUND}/",
                      # the voice callbacks (surveys' TwiML and events): VoiceCallbackFunction's Function URL
                      "VOICE_CALLBACK_URL": f"http://{self.host}:{self.port}/_url/VoiceCallbackFunction/",
                      "VIDEO_CALLBACK_URL": f"http://{self.host}:{self.port}/_url/{VIDEO_CALLBACK}/"}  # fmt: skip
        # Alexa (docs/courier.md "Alexa (issue 20)"): the fake signing-certificate host with its test CA, Login with Amazon,
        # the Proactive Events and Reminders APIs; the CA is trusted only with this loopback fetch URL (parley.providers.alexa)
        self.alexa = FakeAlexa().start(self.host)
        twilio_env.update(self.alexa.env())
        os.environ.update(twilio_env)
        base_env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ", "VIRTUAL_ENV") if k in os.environ}
        # Local only: the texts' signed callbacks may reach receivers on this machine (docs/courier.md "Signed callbacks";
        # deployed, every loopback and private address is refused).
        base_env["TEXT_CALLBACK_ALLOW"] = os.environ.get("TEXT_CALLBACK_ALLOW", "127.0.0.1:*,localhost:*")
        self.pool = FunctionPool({**base_env, **aws_env, **twilio_env}, max_instances=self.max_instances, idle_timeout=self.idle_timeout)
        self.console = Console(self)  # the page at / and /_local/simulate/*; records the webhooks the gateway receives
        self.gateway = Gateway(stack, self.pool, {**self.local_routes(), **self.console.routes()})
        self.server: BaseWSGIServer = make_server(
            self.host, self.port, self.console.wrap(self.gateway), threaded=True, request_handler=KeepAliveRequestHandler,
            fd=reserved.fileno() if reserved is not None else None,
        )  # fmt: skip
        if reserved is not None:
            reserved.close()  # the server listens on its own duplicate of it
        self.server.block_on_close = False  # stop() must not wait for clients' idle keep-alive connections
        self.port = self.server.socket.getsockname()[1]
        self.api_url = f"http://{self.host}:{self.port}"
        self._spawn(threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True))
        for ws_gateway in self.websockets:
            ws_gateway.pool = self.pool
            ws_gateway.start()
        for source in stack.sqs_sources:
            for n in range(source.pollers):
                self._spawn(SqsPoller(self.prov, stack, self.pool, source, self._stop, n))
        self.stream_pollers = [StreamPoller(self.prov, stack, self.pool, source, self._stop) for source in stack.stream_sources]
        for poller in self.stream_pollers:
            self._spawn(poller)
        self.gateway.before_read = self.settle_streams
        self._spawn(SchedulerFirer(self.prov, stack, self.pool, self._stop))
        return self

    def websocket(self, family: str = "CourierMessagingApi") -> WebSocketGateway:
        """The local gateway of the WebSocket API a family (its nested application's logical id) declares."""
        for gw in self.websockets:
            if gw.api.template.name == family:
                return gw
        raise KeyError(family)

    def settle_streams(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` s) until the stream consumers have taken every record written so far."""
        for poller in self.stream_pollers:
            poller.settle(timeout)

    def _spawn(self, thread: threading.Thread) -> None:
        thread.start()
        self._threads.append(thread)

    def warm(self) -> None:
        """Start one instance of every function now, so the first requests are not cold."""
        assert self.stack is not None
        threads = [threading.Thread(target=self.pool.warm, args=(fn,)) for fn in self.stack.functions.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def stop(self) -> None:
        """Stop everything now: the gateway, every function instance (busy ones too), the emulator."""
        t0 = time.monotonic()
        self._stop.set()
        self.pool.close()  # first: requests waiting on a function end at once
        for ws_gateway in self.websockets:
            ws_gateway.stop()
        self.server.shutdown()
        self.server.server_close()
        self.twilio.stop()
        self.alexa.stop()
        self.moto.stop()
        log.info("stopped in %.2f s", time.monotonic() - t0)

    # ── tenants and SES identities ──
    def verify_sender_domain(self, domain: str) -> None:
        self.prov.client("ses").verify_domain_identity(Domain=domain)

    def create_tenant(self, name: str, sender_email: str | None = None, sender_name: str = "", created_by: str = "") -> dict[str, str]:
        from parley.domain.auth import create_tenant

        sender_email = sender_email or f"no-reply@{DEFAULT_SENDER_DOMAIN}"
        self.verify_sender_domain(sender_email.rsplit("@", 1)[1])
        tenant, key = create_tenant(name, sender_email, sender_name)
        self.console.remember_key(tenant.id, key, name, sender_email, created_by)
        return {"tenantId": tenant.id, "name": name, "apiKey": key, "senderEmail": sender_email}

    # ── user bearer tokens (decision S5): a local identity provider for a tenant ──
    def enable_user_tokens(self, tenant_id: str) -> dict[str, str]:
        """Make this stack the identity provider of ``tenant_id``'s user tokens: a random HS256 secret in (the
        emulator's) Secrets Manager, and the tenant configured to take tokens signed with it. Idempotent: a tenant
        already set up this way keeps its secret. The demo tenant gets this on start."""
        import secrets as random

        from parley.dal import secrets, tenants
        from parley.domain.auth import configure_tenant
        from parley.errors import Conflict, NotFound

        tenant = tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id}")
        issuer, name = local_issuer(tenant_id), f"parley/{tenant_id}/local-user-tokens"
        if tenant.jwt_issuer and (tenant.jwt_issuer, tenant.jwt_secret_name) != (issuer, name):
            raise Conflict(f"tenant {tenant_id}'s user tokens come from its own identity provider ({tenant.jwt_issuer}), not this stack")
        if not tenant.jwt_issuer:
            secrets.put_tenant_secret(name, {"jwt_secret": random.token_urlsafe(48)})
            configure_tenant(tenant_id, jwt_issuer=issuer, jwt_audience=LOCAL_AUDIENCE, jwt_secret_name=name)
        return {"issuer": issuer, "audience": LOCAL_AUDIENCE, "secretName": name}

    def mint_user_token(self, tenant_id: str, subject: str, expires_in: int = 3600) -> dict[str, Any]:
        """A user token of ``tenant_id`` for ``subject``, signed as its identity provider would (``enable_user_tokens``)."""
        import jwt

        from parley import clock
        from parley.dal import secrets

        config = self.enable_user_tokens(tenant_id)
        now = int(clock.now().timestamp())
        claims = {"iss": config["issuer"], "aud": config["audience"], "sub": subject, "iat": now, "exp": now + expires_in}
        token = jwt.encode(claims, secrets.named_secret(config["secretName"])["jwt_secret"], algorithm="HS256")
        expires_at = clock.iso(datetime.fromtimestamp(claims["exp"], tz=UTC))
        return {"token": token, "tenantId": tenant_id, "sub": subject, "expiresAt": expires_at, "issuer": config["issuer"]}

    def give_alexa_skill(self, body: dict[str, Any]) -> Response:
        """Register a tenant's Alexa skill (``parley.domain.ask.register_skill``) with LWA credentials of the fake."""
        import uuid

        from parley.domain import ask
        from parley.errors import ParleyError

        tenant_id, org = body.get("tenantId"), body.get("organizationId")
        app_id = body.get("alexaAppId") or f"amzn1.ask.skill.{uuid.uuid4()}"
        if not isinstance(tenant_id, str) or not isinstance(org, str) or not isinstance(app_id, str):
            return _json({"status": 400, "message": ALEXA_HELP}, 400)
        client_id, secret = self.alexa.add_client()
        try:
            skill_id = ask.register_skill(tenant_id, org, app_id, client_id, secret, development=bool(body.get("development")))
        except ParleyError as err:
            return _json({"status": err.status, "message": err.message}, err.status)
        endpoint = f"http://{self.host}:{self.port}/v1/ask-entries/?tenant={tenant_id}"
        return _json({"skillId": skill_id, "alexaAppId": app_id, "clientId": client_id, "endpoint": endpoint}, 201)

    def give_twilio_account(self, tenant_id: str) -> dict[str, str]:
        """A main Twilio account in the fake for ``tenant_id``, in its provider secret (``twilio_account_sid``,
        ``twilio_auth_token``; the secret's other keys kept), under a new secret name so no function holds a stale
        cached copy. Texting accounts are its subaccounts."""
        import uuid

        from parley.dal import secrets, tenants
        from parley.domain.auth import configure_tenant

        if tenants.get(tenant_id) is None:
            raise LookupError(f"no tenant {tenant_id}")
        sid, token = self.twilio.add_account()
        current = secrets.tenant_secret(tenant_id)
        name = f"parley/{tenant_id}-twilio-{uuid.uuid4().hex[:6]}"
        secrets.put_tenant_secret(name, {**current, "twilio_account_sid": sid, "twilio_auth_token": token})
        configure_tenant(tenant_id, secret_name=name)
        return {"tenantId": tenant_id, "accountSid": sid, "secretName": name, "twilioUrl": self.twilio.url}

    # ── /_local tools ──
    def outbox(self) -> dict[str, Any]:
        """What the providers were asked to deliver (moto's record of SES and SNS sends)."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        emails = []
        for m in ses_backends[ACCOUNT][REGION].sent_messages:
            raw = getattr(m, "raw_data", None)
            destinations = getattr(m, "destinations", None)
            if isinstance(destinations, list):  # a raw message: moto keeps one list of every recipient
                destinations = {"ToAddresses": destinations}
            emails.append(
                {
                    "id": m.id,
                    "source": m.source,
                    "destinations": destinations,
                    "subject": getattr(m, "subject", None),
                    "body": getattr(m, "body", None),
                    "raw": raw,
                }
            )
        backend = sns_backends[ACCOUNT][REGION]
        sms = [{"id": mid, "to": to, "message": text} for mid, (to, text, *_rest) in backend.sms_messages.items()]
        # mobile push (docs/courier.md "Push credentials and devices"): what was published to each SNS platform endpoint,
        # the platform's JSON parsed ({"APNS": {...}} / {"GCM": {...}}); the device is the endpoint's CustomUserData
        push = []
        for endpoint in list(backend.platform_endpoints.values()):
            for mid, message in list(endpoint.messages.items()):
                try:
                    parsed = {k: json.loads(v) if isinstance(v, str) else v for k, v in json.loads(message).items()}
                except (ValueError, AttributeError):
                    parsed = message
                push.append({"id": mid, "endpointArn": endpoint.arn, "deviceId": endpoint.custom_user_data,
                             "platform": endpoint.application.platform, "message": parsed})  # fmt: skip
        return {"email": emails, "sms": sms, "push": push, "webPush": list(self.web_pushes)}

    def receive_web_push(self, request: Request) -> Response:
        """The local fake web push service (``/_local/webpush/<subscription id>``): takes a push as a browser vendor's
        service would (``aes128gcm`` body, VAPID ``Authorization``, ``TTL``, ``Topic``), records it for the outbox —
        the body still encrypted, base64 — and answers 201. A subscription id starting with ``gone-`` answers 410, as a
        service does for an unsubscribed browser."""
        import base64

        if request.method != "POST":
            return _json({"message": "POST a web push here (the local push service)"}, 405)
        subscription = request.path.rstrip("/").rsplit("/", 1)[-1]
        gone = subscription.startswith("gone-")
        headers = {
            k.lower(): v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-encoding", "ttl", "topic", "urgency")
        }
        record = {
            "subscription": subscription,
            "headers": headers,
            "body": base64.b64encode(request.get_data()).decode(),
            "status": 410 if gone else 201,
        }
        self.web_pushes.append(record)
        del self.web_pushes[:-500]  # the latest 500
        return Response(b"", status=record["status"])

    def simulate_reply(self, tenant_id: str | None, to_address: str, raw_mime: bytes, **verdicts: str) -> dict[str, str]:
        """A reply received by SES for ``to_address`` (``parley_local.inbound``): it lands in the inbound bucket
        and goes the deployed way from there (S3 event → inbound queue → InboundMailFunction)."""
        from parley.dal import tenants
        from parley_local.inbound import SimulationError, simulate_reply

        assert self.stack is not None
        tenant = None
        if tenant_id:
            tenant = tenants.get(tenant_id)
            if tenant is None:
                raise SimulationError(f"no tenant {tenant_id}")
        return simulate_reply(self.prov.client("s3"), self.stack.receipt_rules, to_address, raw_mime, tenant=tenant, **verdicts)

    def simulate_reply_request(self, body: dict[str, Any]) -> dict[str, str]:
        """``POST /_local/inbound-email``: ``raw`` (the MIME text), or ``from``/``subject``/``text``/``inReplyTo``."""
        from parley_local.inbound import SimulationError, compose

        to = str(body.get("to") or "")
        if body.get("raw"):
            raw = str(body["raw"]).encode("utf-8", errors="surrogateescape")
        else:
            raw = compose(
                to=to, frm=str(body.get("from") or "candidate@example.com"), subject=str(body.get("subject") or "Re: your email"),
                text=str(body.get("text") or ""), in_reply_to=body.get("inReplyTo"),
            )  # fmt: skip
        verdicts = {k: str(body[f"{k}Verdict"]).upper() for k in ("spam", "virus") if body.get(f"{k}Verdict")}
        if not to:
            raise SimulationError("to is required")
        return self.simulate_reply(body.get("tenantId"), to, raw, **verdicts)

    def local_routes(self) -> dict[str, Any]:
        def index(_: Request) -> Response:
            assert self.stack is not None
            return _json(
                {
                    "api": self.api_url,
                    "emulator": self.moto_url,
                    "routes": [
                        {
                            "api": api.template.name,
                            "method": r.method,
                            "path": r.path,
                            "function": r.function.logical_id,
                            "authorizer": r.authorizer.function.logical_id if r.authorizer else None,
                        }
                        for api in self.stack.apis
                        for r in api.routes
                    ],
                    "functionUrls": [f"{self.api_url}/_url/{fn.logical_id}/" for fn in self.stack.functions.values() if fn.url_auth],
                    "websockets": [gw.describe() for gw in self.websockets],  # the WebSocket APIs (parley_local.websocket)
                    "tools": [
                        "/ (the console)",
                        "/_local/outbox",
                        "/_local/webpush/<subscription id> (POST: the fake web push service; gone-* answers 410)",
                        "/_local/keys (GET; POST {tenantId, apiKey})",
                        "/_local/simulate/{reply,sms,stop,bounce,text-reply} (POST)",
                        "/_local/tenants (POST)",
                        "/_local/tenant-settings (POST)",
                        "/_local/user-token (POST {sub, tenantId?, expiresIn?})",
                        "/_local/throttle (GET; POST {rate, burst} or {})",
                        "/_local/candidates (POST)",
                        "/_local/users (POST)",
                        "/_local/inbound-email (POST)",
                        "/_local/twilio (GET), /_local/twilio/account (POST {tenantId?})",
                        "/_local/twilio/queue-member (POST/DELETE), /_local/twilio/recording (POST)",
                        "/_local/alexa (GET), /_local/alexa/skill (POST), /_local/alexa/sign (POST)",
                        "/_local/health",
                        "/_local/docs",
                        "/_local/openapi/<family>.json",
                    ],
                }
            )

        def outbox(_: Request) -> Response:
            return _json(self.outbox())

        @json_tool("POST {name, senderEmail?, senderName?} to create a tenant")
        def tenants(request: Request, body: dict[str, Any]) -> Response:
            name, sender_email, sender_name = body.get("name"), body.get("senderEmail"), body.get("senderName", "")
            if not isinstance(name, str) or not name.strip():
                return _json({"status": 400, "message": "name is required (a non-empty string)"}, 400)
            if sender_email is not None and (not isinstance(sender_email, str) or "@" not in sender_email):
                return _json({"status": 400, "message": "senderEmail must be an email address"}, 400)
            if not isinstance(sender_name, str):
                return _json({"status": 400, "message": "senderName must be a string"}, 400)
            return _json(self.create_tenant(name.strip(), sender_email, sender_name, "POST /_local/tenants"), 201)

        @json_tool(MINT_HELP)
        def user_token(request: Request, body: dict[str, Any]) -> Response:
            from parley.errors import ParleyError

            unknown = set(body) - {"sub", "tenantId", "expiresIn"}
            sub, tenant_id, expires_in = body.get("sub"), body.get("tenantId", self.demo_tenant_id), body.get("expiresIn", 3600)
            if unknown:
                return _json({"status": 400, "message": f"unknown fields: {', '.join(sorted(unknown))}"}, 400)
            if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
                return _json({"status": 400, "message": "sub is required (the user id, a non-empty string of at most 255 characters)"}, 400)
            if not isinstance(tenant_id, str) or not tenant_id:
                return _json({"status": 400, "message": "tenantId is required (this stack has no demo tenant)"}, 400)
            if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not -86400 <= expires_in <= 86400:
                return _json({"status": 400, "message": "expiresIn must be an integer number of seconds within ±86400"}, 400)
            try:
                return _json(self.mint_user_token(tenant_id, sub, expires_in), 201)
            except ParleyError as err:
                return _json({"status": err.status, "message": err.message}, err.status)

        @json_tool("POST {tenantId, settings: {...}} to change a tenant's settings")
        def tenant_settings(request: Request, body: dict[str, Any]) -> Response:
            from parley.domain.auth import configure_tenant
            from parley.errors import ParleyError

            settings = body.get("settings")
            if not isinstance(body.get("tenantId"), str) or not isinstance(settings, dict):
                return _json({"status": 400, "message": "body must be {tenantId: string, settings: {name: value, …}}"}, 400)
            try:
                tenant = configure_tenant(body["tenantId"], **settings)
            except ParleyError as err:
                return _json({"message": err.message}, err.status)
            return _json(tenant.model_dump(mode="json"))

        def directory(kind: str) -> Any:
            what = "candidateId?, email, phone, firstname, lastname, …" if kind == "candidates" else "userId, firstname, lastname"

            @json_tool(f"POST {{tenantId, {what}}} to create or update one")
            def tool(request: Request, body: dict[str, Any]) -> Response:
                from parley.domain import users
                from parley.errors import ParleyError

                fields = {k: v for k, v in body.items() if k != "tenantId"}
                try:
                    if kind == "candidates":
                        cid = fields.pop("candidateId", None)
                        if "profileUrl" in fields:
                            fields["profile_url"] = fields.pop("profileUrl")
                        out = users.upsert_candidate(str(body.get("tenantId", "")), candidate_id=cid, **fields)
                    else:
                        unknown = set(fields) - {"userId", "firstname", "lastname"}
                        if unknown:
                            return _json({"status": 400, "message": f"unknown fields: {', '.join(sorted(unknown))}"}, 400)
                        out = users.upsert_user(
                            str(body.get("tenantId", "")), str(fields.get("userId") or ""), firstname=fields.get("firstname"),
                            lastname=fields.get("lastname"),
                        )  # fmt: skip
                except ParleyError as err:
                    return _json({"status": err.status, "message": err.message}, err.status)
                return _json(out)

            return tool

        def inbound_email(request: Request) -> Response:
            if request.method != "POST":
                return _json({"message": INBOUND_EMAIL_HELP}, 405)
            body = request.get_json(silent=True, force=True)
            if not isinstance(body, dict):
                return _json({"status": 400, "message": "request body must be a JSON object"}, 400)
            from parley_local.inbound import SimulationError

            try:
                return _json(self.simulate_reply_request(body), 202)
            except SimulationError as err:
                return _json({"status": 400, "message": str(err)}, 400)

        def twilio_state(request: Request) -> Response:
            if request.method != "GET":
                return _json({"message": TWILIO_HELP}, 405)
            return _json(self.twilio.snapshot())

        @json_tool(TWILIO_HELP, optional=True)
        def twilio_account(request: Request, body: dict[str, Any]) -> Response:
            tenant_id = body.get("tenantId", self.demo_tenant_id)
            if not isinstance(tenant_id, str) or set(body) - {"tenantId"}:
                return _json({"status": 400, "message": "body is {tenantId?}: the tenant to give a Twilio account"}, 400)
            try:
                return _json(self.give_twilio_account(tenant_id), 201)
            except LookupError as err:
                return _json({"status": 404, "message": str(err)}, 404)

        @json_tool("POST {accountSid, text?, duration?}: a recording in the fake Twilio")
        def twilio_recording(request: Request, body: dict[str, Any]) -> Response:
            """POST {accountSid, text?, duration?}: a recording of that (sub)account in the fake Twilio, whose audio
            (``text`` as bytes) ``GET …/Recordings/{RE}.mp3`` serves — what a caller's voicemail would leave."""
            sid, text, duration = body.get("accountSid"), body.get("text", "a voicemail"), body.get("duration", 7)
            known = sid in self.twilio.accounts or sid in self.twilio.subaccounts
            if not isinstance(sid, str) or not known or not isinstance(text, str) or not isinstance(duration, int):
                return _json({"status": 400, "message": "body is {accountSid (a fake Twilio account), text?, duration?}"}, 400)
            return _json({"recordingSid": self.twilio.add_recording(sid, audio=text.encode(), duration=duration)}, 201)

        def alexa_state(request: Request) -> Response:
            if request.method != "GET":
                return _json({"message": ALEXA_HELP}, 405)
            return _json(self.alexa.snapshot())

        @json_tool(ALEXA_HELP)
        def alexa_skill(request: Request, body: dict[str, Any]) -> Response:
            return self.give_alexa_skill(body)

        @json_tool(ALEXA_HELP)
        def alexa_sign(request: Request, body: dict[str, Any]) -> Response:
            payload, chain, url = body.get("body"), body.get("chain", "echo-api-cert.pem"), body.get("url")
            if not isinstance(payload, str) or chain not in self.alexa.chains or not isinstance(url, str | None):
                return _json({"status": 400, "message": f"body is {{body: str, chain?: one of {sorted(self.alexa.chains)}, url?}}"}, 400)
            return _json(self.alexa.sign(payload.encode(), chain=chain, url=url))

        @json_tool("POST {queueSid, callSid?, waitTime?} or DELETE {queueSid, callSid}", ("POST", "DELETE"))
        def twilio_queue_member(request: Request, body: dict[str, Any]) -> Response:
            """A caller enters (POST {queueSid, callSid?, waitTime?}) or leaves (DELETE {queueSid, callSid}) a queue of
            the fake Twilio, as a call to a voice line would (issue 20; what refresh_queue_entries reads)."""
            queue_sid, call_sid, wait = body.get("queueSid"), body.get("callSid"), body.get("waitTime", 0)
            if not isinstance(queue_sid, str) or queue_sid not in self.twilio.queues or not isinstance(wait, int):
                return _json({"status": 400, "message": "queueSid must name a queue of the fake Twilio; waitTime an integer"}, 400)
            if call_sid is not None and not isinstance(call_sid, str):
                return _json({"status": 400, "message": "callSid must be a string"}, 400)
            if request.method == "DELETE":
                if not call_sid:
                    return _json({"status": 400, "message": "callSid is required"}, 400)
                self.twilio.dequeue(queue_sid, call_sid)
                return _json({"queueSid": queue_sid, "callSid": call_sid})
            return _json({"queueSid": queue_sid, "callSid": self.twilio.enqueue(queue_sid, call_sid, wait)}, 201)

        def health(_: Request) -> Response:
            return _json({"ok": True})

        def throttle(request: Request) -> Response:
            """API Gateway's account-level throttle, as the gateway applies it (``gateway.AccountThrottle``): GET it,
            POST ``{rate, burst}`` to lower it (to see the APIs' 429s), POST ``{}`` for AWS's defaults again."""
            bucket = self.gateway.throttle
            if request.method == "POST":
                try:
                    body = json_object(request)
                except BadBody as err:
                    return _json({"status": 400, "message": str(err)}, 400)
                rate, burst = body.get("rate", bucket.DEFAULT_RATE), body.get("burst", bucket.DEFAULT_BURST)
                if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
                    return _json({"status": 400, "message": "rate must be a positive number (requests per second)"}, 400)
                if isinstance(burst, bool) or not isinstance(burst, int) or burst < 0:
                    return _json({"status": 400, "message": "burst must be a non-negative integer"}, 400)
                bucket.set(rate, burst)
            return _json({"rate": bucket.rate, "burst": bucket.burst})

        # The API docs: each family's OpenAPI document, generated from the handlers (once, on first use:
        # it imports every handler of the family), and the pages over them.
        from parley_local import openapi

        docs_lock = threading.Lock()
        documents: dict[str, str] = {}

        def document(family: str) -> str:
            with docs_lock:
                if family not in documents:
                    documents[family] = openapi.render(family)
                return documents[family]

        def openapi_json(family: str) -> Any:
            return lambda _: Response(document(family), content_type="application/json")

        def docs_page(family: str) -> Any:
            def page(_: Request) -> Response:
                html = openapi.family_page(family, json.loads(document(family)))
                return Response(html, content_type="text/html; charset=utf-8")

            return page

        def docs_index(_: Request) -> Response:
            return Response(openapi.index_page(), content_type="text/html; charset=utf-8")

        def docs_other(request: Request) -> Response:
            """/_local/docs/assets/<file> (Swagger UI, from an installed package); anything else: 404 naming the families."""
            rest = request.path.removeprefix("/_local/docs/").rstrip("/")
            if rest.startswith("assets/"):
                asset = openapi.swagger_asset(rest.removeprefix("assets/"))
                if asset is not None:
                    return Response(asset[0], content_type=asset[1], headers={"Cache-Control": "max-age=3600"})
                return _json({"message": f"no such docs asset: {rest}"}, 404)
            known = ", ".join(f"/_local/docs/{f}" for f in families.names())
            return _json({"message": f"no API family {rest!r}: the documented families are {known} (index: /_local/docs)"}, 404)

        return {
            "/_local": index,
            "/_local/outbox": outbox,
            "/_local/webpush/*": self.receive_web_push,
            "/_local/tenants": tenants,
            "/_local/tenant-settings": tenant_settings,
            "/_local/user-token": user_token,
            "/_local/throttle": throttle,
            "/_local/candidates": directory("candidates"),
            "/_local/users": directory("users"),
            "/_local/inbound-email": inbound_email,
            "/_local/twilio": twilio_state,
            "/_local/twilio/account": twilio_account,
            "/_local/twilio/recording": twilio_recording,
            "/_local/alexa": alexa_state,
            "/_local/alexa/skill": alexa_skill,
            "/_local/alexa/sign": alexa_sign,
            "/_local/twilio/queue-member": twilio_queue_member,
            "/_local/health": health,
            "/_local/docs": docs_index,
            "/_local/docs/*": docs_other,
            **{f"/_local/docs/{family}": docs_page(family) for family in families.names()},
            **{f"/_local/openapi/{family}.json": openapi_json(family) for family in families.names()},
        }

    def state(self) -> dict[str, Any]:
        """What a client or test of the running stack needs: URLs and the emulator's resource names."""
        assert self.stack is not None
        root = self.stack.root
        return {
            "api": self.api_url,
            "emulator": self.moto_url,
            "region": REGION,
            "pid": os.getpid(),
            "parameters": dict(root.params),  # the root template's, overrides included (AuthorizerCacheSeconds, …)
            # the WebSocket APIs (parley_local.websocket), by family: where clients connect, and the @connections endpoint
            "websockets": {gw.api.template.name: {"url": gw.url, "managementUrl": gw.management_url} for gw in self.websockets},
            "resources": {
                "TABLE_NAME": root.ref("Table"),
                "BODY_BUCKET": root.ref("BodyBucket"),
                "SEND_QUEUE_URL": root.ref("SendQueue"),
                "SEND_QUEUE_ARN": root.get_att("SendQueue", "Arn"),
                "SEND_DLQ_URL": root.ref("SendDLQ"),
                # every dead-letter queue, for `python -m parley.admin dlq` (parley.domain.dead_letters.QUEUES)
                "SES_EVENTS_DLQ_URL": root.ref("SesEventsDLQ"),
                "INBOUND_MAIL_DLQ_URL": root.ref("InboundMailDLQ"),
                "PROVIDER_EVENTS_DLQ_URL": root.ref("ProviderEventsDLQ"),
                "PURGE_DLQ_URL": root.ref("PurgeDLQ"),
                "MULTICAST_DLQ_URL": root.ref("MulticastDLQ"),
                "TALLY_DLQ_URL": root.ref("TallyDLQ"),
                "DIRECTORY_EVENTS_DLQ_URL": root.ref("DirectoryEventsDLQ"),
                "TEXT_CALLBACK_DLQ_URL": root.ref("TextCallbackDLQ"),
                "CHANNEL_EVENTS_DLQ_URL": root.ref("ChannelEventsDLQ"),
                "AUTOMATION_DLQ_URL": root.ref("AutomationDLQ"),
                "THUMBNAILS_DLQ_URL": root.ref("ThumbnailsDLQ"),
                "CHANNEL_EVENTS_QUEUE_URL": root.ref("ChannelEventsQueue"),  # import-directory: a group's channels' events
                "DIRECTORY_BUS_NAME": root.ref("DirectoryBus"),
                "COURIER_EVENTS_BUS_NAME": root.ref("CourierEventsBus"),  # import-directory: individual-shared, …
                "REPLICATOR_SCHEDULE_GROUP_NAME": root.ref("ReplicatorScheduleGroup"),
                "REPLICATOR_FUNCTION_ARN": root.resolve({"Ref": "ReplicatorFunction.Alias"}),
                "SCHEDULE_GROUP_NAME": root.ref("ScheduleGroup"),
                "SCHEDULER_ROLE_ARN": root.get_att("SchedulerRole", "Arn"),
                "INBOUND_BUCKET": root.ref("InboundMailBucket"),
                "INBOUND_QUEUE_URL": root.ref("InboundMailQueue"),
            },
        }


GC_THRESHOLDS = (10_000, 10, 10)  # CPython's defaults: (700, 10, 10)


def tune_gc() -> None:
    """For the stack's main process once it is up: what exists now (moto, botocore's models, Flask, the templates:
    objects that live as long as the process) is collected once and then frozen out of the cyclic collector, and
    a young generation is collected every 10,000 allocations instead of 700. Under 20 clients the collector had taken
    ~6 % of the process's time, in pauses of up to 0.5 s that stopped every thread (a full collection walked the whole
    heap); after this, ~2.5 % and no full collection in a load test's minute. Cycles made later are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    log.info("garbage collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), GC_THRESHOLDS)


def write_state(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
