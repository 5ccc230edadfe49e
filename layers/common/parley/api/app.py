"""One resolver per function (only its own routes), built the same way everywhere."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from parley import clock
from parley.api import errors, jsonapi
from parley.domain.context import Caller, Sender
from parley.errors import BadRequest, Unauthorized
from parley.models.validators import has_control_characters

Family = Literal[
    "candidate",
    "crm",
    "ats",
    "courier_admin",
    "courier_email",
    "courier_notifications",
    "courier_texting",
    "courier_messaging",
    "courier_automation",
    "courier_voice_video",
]

# Headers whose value is an identifier Parley stores, compares or echoes (decision S4): the candidate API's
# acting recruiter, the CRM's tenant and acting user, and the idempotency key of every family.
IDENTIFIER_HEADERS = ("x-ph-userid", "X-Tenant-ID", "X-User-ID", "Idempotency-Key")


class ParleyResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with the request's media type normalised before it is parsed:
    media types are case-insensitive (RFC 9110 §8.3.1), powertools compares them as written."""

    family: Family = "candidate"
    json_body = False  # routes with a body model take JSON only (set by build_app)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        for section in ("headers", "multiValueHeaders"):
            headers = event.get(section) or {}
            for name, value in headers.items():
                if name.lower() == "content-type":
                    headers[name] = [_media_type(v) for v in value] if isinstance(value, list) else _media_type(value)
                    if jsonapi.is_courier(self.family):  # JSON:API's media type is JSON: parsed as such by powertools
                        headers[name] = [_as_json(v) for v in headers[name]] if isinstance(value, list) else _as_json(headers[name])
        path = event.get("path")
        if jsonapi.is_courier(self.family) and isinstance(path, str) and len(path) > 1 and path.endswith("/"):
            # The courier API's paths end in "/" (seed 003: /v1/users/); API Gateway matches /v1/users/ to the
            # resource /v1/users, and so does the route here: the same answer with and without the slash.
            event["path"] = path.rstrip("/") or "/"
        return super().resolve(event, context)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder:
        refusal = (
            self._refuse_expired_key()
            or self._refuse_identifiers(route_arguments)
            or self._refuse_body(route)
            or self._refuse_parameters(route)
        )
        if refusal is not None:
            return self._response_builder_class(response=refusal, serializer=self._serializer, route=route)
        return super()._call_route(route, route_arguments)

    def _refuse_expired_key(self) -> Response | None:
        """401 for a key past its expiry (``create-key --expires-in``, the end of a rotation's overlap), or a user token
        past its ``exp`` (and the leeway). The authorizer
        refuses an expired key, but API Gateway serves its cached Allow for up to ``AuthorizerCacheSeconds``
        after; the answer carries the expiry (``keyExpiresAt``), so the key stops at that instant exactly."""
        context = (self.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
        expires = context.get("keyExpiresAt")
        if not expires:
            return None
        try:
            expired = clock.now() >= clock.parse_iso(str(expires))
        except ValueError:
            expired = True  # only the authorizer writes it: unreadable means something is wrong, so refuse
        if not expired:
            return None
        return errors.response(
            self.family, 401, "expired user token" if context.get("credential") == "user_token" else "missing or invalid API key"
        )

    def _refuse_identifiers(self, route_arguments: dict[str, str]) -> Response | None:
        """Identifiers taken from the path or from identifier headers must not hold control characters
        (a tab or a NUL in ``x-ph-userid`` would be stored as a ``recruiterId``): 400, before any validation."""
        event = self.current_event
        path_values = {**(event.path_parameters or {}), **route_arguments}
        for name, value in path_values.items():
            if isinstance(value, str) and has_control_characters(value):
                return errors.response(self.family, 400, f"{name} must not contain control characters")
        wanted = {h.lower(): h for h in IDENTIFIER_HEADERS}
        for section in ("headers", "multiValueHeaders"):
            for name, values in (event.raw_event.get(section) or {}).items():
                canonical = wanted.get(name.lower())
                if canonical is None:
                    continue
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, str) and has_control_characters(value):
                        return errors.response(self.family, 400, f"{canonical} must not contain control characters")
        return None

    def _refuse_parameters(self, route: Route) -> Response | None:
        """JSON:API: a ``filter[…]``, ``page[…]``, ``sort`` or ``include…`` parameter the route does not serve is a
        400 naming it (courier routes; the other families ignore unknown parameters, as their seeds' servers do)."""
        if not jsonapi.is_courier(self.family):
            return None
        declared = {param.alias or param.name for param in route.dependant.query_params}
        unknown = jsonapi.unknown_parameter(self.current_event.query_string_parameters, declared)
        if unknown is None:
            return None
        return errors.response(self.family, 400, f"{unknown} is not supported here", parameter=unknown, code="unsupported-parameter")

    def _refuse_body(self, route: Route) -> Response | None:
        """What powertools' validation would get wrong about a JSON route's body, answered first.

        It parses form and multipart bodies into the body model (a multipart type without a boundary
        even raises a bare ValueError), and decodes the body as UTF-8 without catching the error."""
        event = self.current_event
        if not (self.json_body and route.dependant.body_params and event.body):
            return None
        if not _declares_json(event.headers):
            return errors.response(self.family, 415, errors.media_type_message(self.family))
        try:
            event.decoded_body  # noqa: B018 (a cached property: decoding is the check)
        except ValueError:  # UnicodeDecodeError, binascii.Error
            return errors.response(self.family, 400, "request body is not valid JSON (UTF-8)")
        return None


def _declares_json(headers: dict[str, str] | None) -> bool:
    """No Content-Type (powertools reads the body as JSON then), application/json or application/*+json."""
    ctype = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    mtype = ctype.split(";")[0].strip().lower()
    return not mtype or mtype == "application/json" or (mtype.startswith("application/") and mtype.endswith("+json"))


def _as_json(value: str) -> str:
    mtype, sep, params = value.partition(";")
    return "application/json" + sep + params if mtype.strip() == jsonapi.MEDIA_TYPE else value


def _media_type(value: str) -> str:
    mtype, sep, params = (value or "").partition(";")
    return mtype.strip().lower() + (sep + params if sep else "")


def build_app(family: Family, *routers: Router, json_body: bool = True) -> APIGatewayRestResolver:
    """A validating REST resolver holding ``routers`` and the family's error shape.

    Each endpoint function builds one with just its own router; the OpenAPI generator and the
    benchmarks' "monolith" build one with every router of a family. With ``json_body`` a request
    whose body fails validation because it was sent as another media type gets 415, not a list
    of "Field required" errors.
    """
    app = ParleyResolver(enable_validation=True)
    app.family, app.json_body = family, json_body
    for router in routers:
        app.include_router(router)
    errors.install(app, family, json_body=json_body)
    if json_body:
        app.use([_body_must_be_an_object])
    return app


def _body_must_be_an_object(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Powertools' validation unwraps a one-element list into a model field (a convenience meant for
    repeated query parameters), so ``[{...}]`` would pass as ``{...}``: refuse anything but an object."""
    event = app.current_event
    route = app.context.get("_route")
    # Only a route that takes a body model: global middlewares also run for an unknown route (whose
    # body nobody parsed, so it may not be JSON at all), and that is a 404, whatever its body.
    if route is not None and route.dependant.body_params and event.body and not isinstance(event.json_body, dict):
        raise BadRequest("request body must be a JSON object")
    return next_middleware(app)


def header(router: Router, name: str) -> str | None:
    headers = router.current_event.headers or {}
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return None


def request_base_url(router: Router) -> str:
    """The URL this request came in at: scheme, host and the stage or base path before the route (what a provider
    or a mail client is given to reach this API back)."""
    event = router.current_event
    proto = (header(router, "X-Forwarded-Proto") or "https").split(",")[0].strip()
    ctx = event.raw_event.get("requestContext") or {}
    host = ctx.get("domainName") or header(router, "Host") or "localhost"  # API Gateway's, not a header the caller chose
    full, route = ctx.get("path") or event.path, event.path
    prefix = full[: len(full) - len(route)] if route and full.endswith(route) else ""
    return f"{proto}://{host}{prefix}"


def idempotency_key(router: Router) -> str | None:
    value = header(router, "Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > 255:
        raise BadRequest("Idempotency-Key must be at most 255 characters")
    return value


def sender(router: Router, user_id: str | None = None) -> Sender:
    """The caller of a send, its ``Idempotency-Key`` and the Lambda context (``user_id``: the acting user)."""
    return Sender(caller=caller(router), user_id=user_id, idempotency_key=idempotency_key(router), lambda_context=router.lambda_context)


def caller(router: Router) -> Caller:
    """The tenant the authorizer resolved (API Gateway puts its context in requestContext)."""
    ctx = (router.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    tenant_id = ctx.get("tenantId")
    if not tenant_id:
        raise Unauthorized("missing or invalid API key")
    return Caller.from_authorizer(ctx)


def raw_body(router: Router) -> bytes:
    """The request body exactly as the sender sent it (a webhook's signature covers these bytes): API Gateway hands
    binary media types over base64-encoded; 400 when that is not valid base64."""
    import base64
    import binascii

    event = router.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as err:
            raise BadRequest("request body is not valid base64") from err
    return body.encode("utf-8", errors="surrogateescape")
