"""The one place where exceptions become HTTP responses, in each API family's own error shape.

- candidate (seed 000): ``{"status": 400, "message": "..."}``
- ats (seed 002, undocumented): the same ``{status, message}`` shape
- crm (seed 001): ``{"title": "Bad Request", "detail": "...", "time": "<ISO-8601>"}``
- courier (seed 003): JSON:API ``{"errors": [{"status": "400", "title": "...", "detail": "..."}]}``
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
from parley.errors import ParleyError, TooManyRequests

logger = Logger(child=True)


def body_for(family: str, status: int, message: str) -> dict[str, Any]:
    if family == "crm":
        return {"title": HTTPStatus(status).phrase, "detail": message, "time": clock.iso(clock.now())}
    if family == "courier":
        return {"errors": [{"status": str(status), "title": HTTPStatus(status).phrase, "detail": message}]}
    return {"status": status, "message": message}


def response(family: str, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    ctype = "application/vnd.api+json" if family == "courier" else content_types.APPLICATION_JSON
    return Response(status_code=status, content_type=ctype, body=json.dumps(body_for(family, status, message)), headers=headers)


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


def install(app: APIGatewayRestResolver, family: str, *, json_body: bool = True) -> None:
    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        if json_body and _sent_as_non_json(app):
            return response(family, 415, "Content-Type must be application/json")
        return response(family, 400, describe_validation(list(exc.errors())))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response:
        return response(family, 415, "Content-Type must be application/json")

    @app.exception_handler(ParleyError)
    def _domain(exc: ParleyError) -> Response:
        if isinstance(exc, TooManyRequests):  # a per-tenant limit: when to try again, in seconds
            return response(family, exc.status, exc.message, {"Retry-After": str(exc.retry_after)})
        return response(family, exc.status, exc.message)

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
