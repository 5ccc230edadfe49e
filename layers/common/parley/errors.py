"""Domain exceptions. ``parley.api.errors`` maps each to an HTTP status in one place."""

from __future__ import annotations


class ParleyError(Exception):
    """Base class; ``status`` is the HTTP status the API layer answers with."""

    status = 500

    def __init__(self, message: str, *, pointer: str | None = None, parameter: str | None = None, code: str | None = None) -> None:
        """``pointer`` (a JSON Pointer into the request body), ``parameter`` (a query parameter's name) and ``code``
        (a stable machine-readable reason) are the courier API's JSON:API error ``source`` and ``code``; the
        families whose error shape has no place for them ignore them (``parley.api.errors``)."""
        super().__init__(message)
        self.message = message
        self.pointer, self.parameter, self.code = pointer, parameter, code


class BadRequest(ParleyError):
    status = 400


class Unauthorized(ParleyError):
    status = 401


class NotFound(ParleyError):
    status = 404


class Conflict(ParleyError):
    """A request that clashes with the resource's state (or an in-flight identical request)."""

    status = 409


class UnsupportedMediaType(ParleyError):
    status = 415


class Unprocessable(ParleyError):
    """Same Idempotency-Key re-used with a different request body."""

    status = 422


class Suppressed(BadRequest):
    """The recipient is on the tenant's suppression list."""


class Forbidden(ParleyError):
    status = 403


class TooManyRequests(ParleyError):
    """A per-tenant limit is reached (docs/architecture.md §6.4): 429, with ``Retry-After: retry_after`` (seconds)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
