"""The one place where exceptions become HTTP responses, in each API family's own error shape.

- candidate (seed 000): ``{"status": 400, "message": "..."}``
- ats (seed 002, undocumented): the same ``{status, message}`` shape
- crm (seed 001): ``{"title": "Bad Request", "detail": "...", "time": "<ISO-8601>"}``
- courier (seed 003, every ``courier_*`` family): JSON:API ``{"errors": [{"status": 400, "code": "bad-request",
  "detail": "...", "source": {"pointer": "/data/attributes/x"} | {"parameter": "page[limit]"}}]}`` — the seed's error
  object (``status`` an integer), one error per invalid member (``parley.api.jsonapi``)
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from parley import clock
from parley.api import jsonapi
from parley.errors import ParleyError, TooManyRequests

logger = Logger(child=True)


def body_for(
    family: str, status: int, message: str, *, pointer: str | None = None, parameter: str | None = None, code: str | None = None
) -> dict[str, Any]:
    if family == "crm":
        return {"title": HTTPStatus(status).phrase, "detail": message, "time": clock.iso(clock.now())}
    if jsonapi.is_courier(family):
        return {"errors": [error_object(status, message, pointer=pointer, parameter=parameter, code=code)]}
    return {"status": status, "message": message}


def error_object(
    status: int, detail: str, *, pointer: str | None = None, parameter: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """One JSON:API error object of the courier API (``parley.models.jsonapi.ErrorObject``)."""
    out: dict[str, Any] = {"status": status, "code": code or jsonapi.CODES.get(status, "error"), "detail": detail}
    source = {k: v for k, v in (("pointer", pointer), ("parameter", parameter)) if v is not None}
    if source:
        out["source"] = source
    return out


def response(
    family: str,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
    code: str | None = None,
) -> Response:
    ctype = jsonapi.MEDIA_TYPE if jsonapi.is_courier(family) else content_types.APPLICATION_JSON
    body = body_for(family, status, message, pointer=pointer, parameter=parameter, code=code)
    return Response(status_code=status, content_type=ctype, body=json.dumps(body), headers=headers)


def courier_validation(errors: list[dict[str, Any]]) -> Response:
    """A courier route's failed validation: one error object per invalid member, with its ``source``: a query
    parameter by name (``page[limit]``), a body member by JSON Pointer (``/data/attributes/name``)."""
    objects = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        where, rest = (loc[0], loc[1:]) if loc else ("body", ())
        if err.get("type") == "json_invalid":
            objects.append(error_object(400, "request body is not valid JSON", pointer="", code="invalid-json"))
            continue
        detail = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            detail = "unknown member"
        if where in ("query", "header", "path"):
            name = str(rest[0]) if rest else ""
            source = {"parameter": name} if where == "query" else {}
            objects.append(error_object(400, f"{name}: {detail}", code="invalid-parameter", **source))
        else:
            pointer = "".join(f"/{p}" for p in rest)
            objects.append(error_object(400, f"{pointer or 'body'}: {detail}", pointer=pointer, code="invalid-member"))
    unique = list({json.dumps(o, sort_keys=True): o for o in objects}.values()) or [error_object(400, "invalid request")]
    return Response(status_code=400, content_type=jsonapi.MEDIA_TYPE, body=json.dumps({"errors": unique}))


def describe_validation(errors: list[dict[str, Any]]) -> str:
    """``[{loc: ("body", "subject"), msg: ...}]`` → ``"subject: String should have at least 3 characters"``."""
    parts = []
    for err in errors:
        raw_loc = tuple(err.get("loc", ()))
        loc = [str(p) for p in raw_loc if p not in ("body", "query", "header", "path")]
        field = ".".join(loc)
        if err.get("type") == "json_invalid":
            parts.append("request body is not valid JSON")
            continue
        if raw_loc == ("body",) and err.get("type") == "missing":
            parts.append("request body is required")
            continue
        msg = str(err.get("msg", "invalid value"))
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{field}: {msg}" if field else msg)
    return "; ".join(dict.fromkeys(parts)) or "invalid request"


def _sent_as_non_json(app: APIGatewayRestResolver) -> bool:
    event = app.current_event
    if not event.body:
        return False
    ctype = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    return not (ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json")))


def media_type_message(family: str) -> str:
    """The 415's message: the courier API also takes JSON:API's media type."""
    if jsonapi.is_courier(family):
        return "Content-Type must be application/vnd.api+json or application/json"
    return "Content-Type must be application/json"


def install(app: APIGatewayRestResolver, family: str, *, json_body: bool = True) -> None:
    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        if json_body and _sent_as_non_json(app):
            return response(family, 415, media_type_message(family))
        if jsonapi.is_courier(family):
            return courier_validation(list(exc.errors()))
        return response(family, 400, describe_validation(list(exc.errors())))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response:
        return response(family, 415, media_type_message(family))

    @app.exception_handler(ParleyError)
    def _domain(exc: ParleyError) -> Response:
        if isinstance(exc, TooManyRequests):  # a per-tenant limit: when to try again, in seconds
            return response(family, exc.status, exc.message, {"Retry-After": str(exc.retry_after)})
        return response(family, exc.status, exc.message, pointer=exc.pointer, parameter=exc.parameter, code=exc.code)

    @app.exception_handler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        return response(family, exc.status_code, exc.msg)

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return response(family, 404, "no such route")

    @app.exception_handler([RecursionError, ValueError])
    def _json_limits(exc: Exception) -> Response:
        # The two ways json.loads refuses a body without a JSONDecodeError (which becomes a 400): nesting
        # deeper than the recursion limit, and an integer longer than Python's 4300-digit conversion limit.
        if isinstance(exc, RecursionError) and "JSON" in str(exc):
            return response(family, 400, "request body is nested too deeply")
        if type(exc) is ValueError and "integer string conversion" in str(exc):
            return response(family, 400, "request body holds a number with too many digits")
        logger.exception("unhandled error")
        return response(family, 500, "internal error")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return response(family, 500, "internal error")
