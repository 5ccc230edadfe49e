'''Endpoints declared once (issue 12): a route is one decorated function in a module per resource.

    api = Api("crm")

    @api.post("/api/v1/communications/<id>/cancel", ok="The cancelled record.", access=("table:write", "scheduler"),
              example=Example(path={"id": "…"}))
    def cancel(id: str) -> CommunicationRecord:
        """Cancel a scheduled email

        `SCHEDULED` → `CANCELLED`: the email is not sent. …
        """
        return crm_send.cancel(crm_caller(api), id)

The docstring is the route's OpenAPI summary (its first line) and description (the rest); ``ok`` describes the
200 answer (``responses=`` declares any other: a 201, a redirect, headers), and the family's error responses
(``parley.api.docs.family_errors``) are added with the codes in ``errors=`` (409, 422, 429 …) beyond the usual, and
415 for a route that takes a JSON body model.
The decorated name is the Lambda handler of its own function (SAM ``Handler: <module>.cancel``): on its first
event it builds a validating resolver holding that one route (``build_app``), with the family's Logger
(correlation id from the API Gateway request id), and EMF metrics per family and route. Everything else —
the SAM Function block (path, method, policies, environment), the sample event in ``events/`` and the
family's OpenAPI document — is generated from the declaration (``make generate``; CI fails when stale).

Inside a route, ``api`` stands in for powertools' Router: ``api.current_event`` / ``api.lambda_context``
are those of the resolver serving the request.
'''

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# What a function may touch in AWS, by name: the generator turns each into its SAM policy (and environment).
ACCESS = frozenset(
    {
        "table:read",
        "table:write",
        "bodies:read",
        "bodies:write",
        "bodies:crud",
        "send-queue",
        "scheduler",
        "provider-events-queue",
        "provider-secrets",
        "inbound-mail",
        "sniffer-logs",  # every courier function: PutItem of sniffer logs only (parley.domain.sniffers), added by Api
        "purge-queue",
        "push",  # SNS mobile push (platform applications and endpoints, Publish) and the push secrets (parley/push/*)
        "multicast-queue",
        "texting-secrets",  # the texting accounts' Twilio credentials (parley/texting/*): create, rotate, read
        "text-callback-queue",
        "text-inbound-url",  # TEXT_INBOUND_URL: the texting numbers' inbound SMS webhook (no permission)
        "channel-events-queue",  # what follows a write to a channel (parley.domain.channel_events.publish)
        "automation-queue",  # the messaging automation's jobs (parley.domain.automation_jobs.queue)
        "alexa",  # the Alexa skills' Login-with-Amazon credentials (parley/alexa/*: read) and Amazon's APIs (parley.domain.ask)
    }
)

# The boto3 clients each access uses (primed before a SnapStart snapshot; idempotency records are in the table).
_SERVICES = {
    "table:read": ("dynamodb",),
    "table:write": ("dynamodb",),
    "bodies:read": ("s3",),
    "bodies:write": ("s3",),
    "bodies:crud": ("s3",),
    "send-queue": ("sqs",),
    "scheduler": ("scheduler",),
    "provider-events-queue": ("sqs",),
    "provider-secrets": ("secretsmanager",),
    "inbound-mail": ("s3", "sqs"),
    "sniffer-logs": ("dynamodb",),
    "purge-queue": ("sqs",),
    "push": ("sns", "secretsmanager"),
    "multicast-queue": ("sqs",),
    "texting-secrets": ("secretsmanager",),
    "text-callback-queue": ("sqs",),
    "text-inbound-url": (),
    "channel-events-queue": ("sqs",),
    "automation-queue": ("sqs",),
    "alexa": ("secretsmanager",),
}
assert set(_SERVICES) == ACCESS


@dataclass(frozen=True)
class Example:
    """A sample request: the path parameters, query, headers and body of the endpoint's event in ``events/``."""

    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None  # a str is sent as is, anything else as JSON
    base64: bool = False
    authorizer: Mapping[str, Any] = field(default_factory=dict)  # tenant settings beyond the sample tenant's (its context)


@dataclass
class Endpoint:
    """One route and its Lambda function. Calling it with ``(event, context)`` is the Lambda handler."""

    api: Api
    method: str
    path: str  # powertools form: /things/<id>
    fn: Callable[..., Any]
    doc: dict[str, Any]
    access: tuple[str, ...]
    json_body: bool
    example: Example
    public: bool = False  # no authorizer (the tracking pixel and link: the token in the URL is the credential)
    _handler: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
    _app: Any = None  # the resolver ``_build`` made

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def module(self) -> str:
        return self.fn.__module__.rsplit(".", 1)[-1]

    @property
    def sam_path(self) -> str:
        import re

        return re.sub(r"<(\w+)>", r"{\1}", self.path)

    @property
    def logical_id(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_")) + "Function"

    def register(self, app: Any) -> None:
        """Add the route to a resolver (its own, or a family's for the OpenAPI document)."""
        app.route(self.path, self.method, **self.doc)(self.fn)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self._handler is None:
            self._handler = self._build()
        return self._handler(event, context)

    def prime(self) -> None:
        """Build now what the first request would build (the SnapStart before-snapshot hook, ``parley.snapstart``):
        the resolver with its route, and the route's validators — its parameters, its body model and its response."""
        from parley import snapstart

        def build() -> None:
            if self._handler is None:
                self._handler = self._build()
            for route in [*self._app._static_routes, *self._app._dynamic_routes]:
                route.dependant  # noqa: B018 (cached properties: building them is the point)
                route.body_field  # noqa: B018

        snapstart.prime(services=[svc for name in self.access for svc in _SERVICES[name]], then=build)

    def is_handler(self, handler: str) -> bool:
        """Whether Lambda's ``_HANDLER`` (``<module>.<function>``, e.g. ``communications.cancel``) names this endpoint."""
        module, _, attr = handler.rpartition(".")
        source = getattr(getattr(self.fn, "__code__", None), "co_filename", "")
        return attr == self.name and os.path.splitext(os.path.basename(source))[0] == module

    def _build(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        from aws_lambda_powertools import Logger, Metrics
        from aws_lambda_powertools.logging import correlation_paths

        from parley.api.app import build_app

        app = build_app(self.api.family, json_body=self.json_body)
        self.register(app)
        logger = Logger(service=self.api.family)
        metrics = Metrics(namespace="Parley", service=self.api.family)  # shares its metric set with parley.metrics.count
        route = f"{self.method} {self.sam_path}"
        api = self.api
        from parley.api.jsonapi import is_courier

        sniffers: Any = None
        if is_courier(api.family):  # every courier function records a sniffed user's traffic (docs/courier.md, "Sniffers")
            from parley.domain import sniffers as sniffing

            sniffers = sniffing

        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            api.app = app
            started, status = time.perf_counter(), 500  # an exception reaches Lambda as a 5xx
            seen = sniffers.before(event) if sniffers is not None else None  # None, without a call, for an unsniffed tenant
            out = None
            try:
                out = app.resolve(event, context)
                status = int(out.get("statusCode", 200))
                return out
            finally:
                if seen is not None:
                    sniffers.record(event, seen, out)
                _record(metrics, route, status, started)

        self._app = app
        return handler


def _record(metrics: Any, route: str, status: int, started: float) -> None:
    """EMF: the request's latency, and whether it failed (4xx: the caller's; 5xx: ours), by family and route."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_dimension(name="route", value=route)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=round((time.perf_counter() - started) * 1000, 1))
    metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=int(400 <= status < 500))
    metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=int(status >= 500))
    # The metric set is shared by the process's Metrics instances: a Lambda process serves one request at a time, but
    # handlers run in threads (the idempotency battery's 10 concurrent calls) may find it flushed by another already.
    metrics.flush_metrics(raise_on_empty_metrics=False)


def _takes_body(fn: Callable[..., Any]) -> bool:
    """Whether the route takes a body model (powertools validates a pydantic parameter as the JSON body): with
    ``json_body``, a body sent as another media type gets 415 (``parley.api.app``)."""
    import inspect

    from pydantic import BaseModel

    return any(isinstance(p.annotation, type) and issubclass(p.annotation, BaseModel) for p in inspect.signature(fn).parameters.values())


def _takes_json_api_document(fn: Callable[..., Any]) -> bool:
    """Whether the route takes a JSON:API request document: its ``data.type``/``data.id`` may not match (409,
    ``parley.api.jsonapi.attributes_of``), so every such route documents the 409."""
    import inspect

    from parley.models.jsonapi import RequestDocument

    return any(
        isinstance(p.annotation, type) and issubclass(p.annotation, RequestDocument) for p in inspect.signature(fn).parameters.values()
    )


def _documented(fn: Callable[..., Any], summary: str | None, description: str | None) -> dict[str, str | None]:
    """The route's OpenAPI summary and description: the arguments given, else the function's docstring's."""
    import inspect

    paragraphs = [" ".join(line.strip() for line in p.splitlines()) for p in (inspect.getdoc(fn) or "").split("\n\n") if p.strip()]
    if paragraphs and summary is None:
        summary, paragraphs = paragraphs[0], paragraphs[1:]
    if paragraphs and description is not None:
        raise ValueError(f"{fn.__name__}: a description both in the docstring and as an argument")
    if not summary:
        raise ValueError(f"{fn.__name__}: no summary (the docstring's first line, or summary=)")
    return {"summary": summary, "description": description if description is not None else "\n\n".join(paragraphs) or None}


class Api:
    """The endpoints of one resource module of a family (see the module doc)."""

    def __init__(
        self,
        family: str,
        *,
        tags: Sequence[str] = (),
        access: Sequence[str] = ("table:read",),
        example: Example | None = None,
    ) -> None:
        """``tags``, ``access`` and ``example``: the module's defaults, which an endpoint's own arguments replace
        (``tags``, ``access``) or extend (the example's headers, authorizer context and path parameters; a path
        parameter only where the route has it: ``{"id": "…"}`` serves every route with an ``<id>``)."""
        self.family = family
        self.tags, self.access = tuple(tags), tuple(access)
        self.example = example or Example()
        if self.example.body is not None or self.example.query is not None:
            raise ValueError("a module's default example holds headers, authorizer context and path parameters only")
        self.endpoints: list[Endpoint] = []
        self.app: Any = None  # the resolver serving the current request

    @property
    def current_event(self) -> Any:
        return self.app.current_event

    @property
    def lambda_context(self) -> Any:
        return self.app.lambda_context

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        ok: str | None = None,
        errors: Sequence[int] = (),
        responses: dict[int, Any] | None = None,
        tags: Sequence[str] | None = None,
        access: Sequence[str] | None = None,
        json_body: bool = True,
        example: Example | None = None,
        public: bool = False,
        **doc: Any,
    ) -> Callable[[Callable[..., Any]], Endpoint]:
        """Declare the decorated function as the route ``method path``, its own Lambda.

        ``summary`` and ``description`` default to the function's docstring: its first paragraph is the summary,
        the rest the description (a paragraph's lines are joined with spaces). The documented answers are
        ``ok`` (the 200's description), any others in ``responses`` (a 201, a 302, a 200 with headers or another
        content type), then the family's error responses (``parley.api.docs.family_errors``) with the ``errors``
        codes beyond the family's usual ones, and 415 when the route takes a JSON body model."""
        access = self.access if access is None else tuple(access)
        from parley.api.jsonapi import is_courier

        if is_courier(self.family) and not {"sniffer-logs", "table:write"} & set(access):  # every courier route may record
            access = (*access, "sniffer-logs")  # (parley.domain.sniffers); table:write covers it
        tags = self.tags if tags is None else tuple(tags)
        unknown = set(access) - ACCESS
        if unknown:
            raise ValueError(f"{path}: unknown access {sorted(unknown)} (known: {sorted(ACCESS)})")

        def decorate(fn: Callable[..., Any]) -> Endpoint:
            from parley.api.docs import family_errors

            documented = _documented(fn, summary, description)
            answers = {**({200: {"description": ok}} if ok is not None else {}), **(responses or {})}
            extra = (*((415,) if json_body and _takes_body(fn) else ()), *((409,) if _takes_json_api_document(fn) else ()))
            failures = family_errors(self.family, (*errors, *extra), public=public)
            if failures and not any(200 <= code < 400 for code in answers):  # powertools' default 200 needs no responses
                raise ValueError(f"{method} {path}: no success response documented (give ok= or responses=)")
            kwargs = {**documented, "responses": {**answers, **failures} or None, "tags": list(tags), **doc}
            ep = Endpoint(
                api=self,
                method=method.upper(),
                path=path,
                fn=fn,
                doc={k: v for k, v in kwargs.items() if v is not None},
                access=tuple(access),
                json_body=json_body,
                example=self._example(path, example or Example()),
                public=public,
            )
            self.endpoints.append(ep)
            _ENDPOINTS.append(ep)
            _register_snapstart()
            return ep

        return decorate

    def _example(self, route: str, example: Example) -> Example:
        from dataclasses import replace

        default = self.example
        path = {name: value for name, value in default.path.items() if f"<{name}>" in route and name not in example.path}
        return replace(
            example,
            path={**path, **example.path},
            headers={**default.headers, **example.headers},
            authorizer={**default.authorizer, **example.authorizer},
        )

    def get(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Endpoint]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Endpoint]:
        return self.route("POST", path, **kw)

    def send(self, path: str, *, errors: Sequence[int] = (), **kw: Any) -> Callable[[Callable[..., Any]], Endpoint]:
        """A POST that sends (``parley.api.sender``): safe to retry with an ``Idempotency-Key`` (409 while the first
        request is in progress, 422 for a key reused with another request) and counted against the tenant's send rate
        and daily quota (429)."""
        return self.route("POST", path, errors=(*errors, 409, 422, 429), **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Endpoint]:
        return self.route("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Endpoint]:
        return self.route("DELETE", path, **kw)


_ENDPOINTS: list[Endpoint] = []  # every endpoint declared in this process
_snapstart_registered = False


def _register_snapstart() -> None:
    """Once per process: the SnapStart hooks, priming the endpoint this function runs (Lambda's ``_HANDLER``)."""
    global _snapstart_registered
    if _snapstart_registered:
        return
    _snapstart_registered = True
    from parley import snapstart

    snapstart.register_hook(prime_handler)


def prime_handler() -> None:
    """Prime the endpoint Lambda's ``_HANDLER`` names (its module is imported by then); nothing when none matches."""
    handler = os.environ.get("_HANDLER", "")
    for ep in reversed(_ENDPOINTS):  # the latest declaration, should a module be imported twice
        if ep.is_handler(handler):
            ep.prime()
            return


def family_app(family: str, apis: Sequence[Api]) -> Any:
    """One validating resolver holding every endpoint of ``apis`` (the OpenAPI document; the bench's monolith)."""
    from parley.api.app import build_app

    app = build_app(family)  # type: ignore[arg-type]
    for api in apis:
        api.app = app
        for ep in api.endpoints:
            ep.register(app)
    return app
