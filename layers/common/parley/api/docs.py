"""OpenAPI response declarations shared by routes (so the generated documents show error shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_DESCRIPTIONS = {
    400: "The request was malformed or invalid.",
    401: "The request is missing valid authentication credentials.",
    404: "No such resource for this tenant.",
    415: "The request body is not JSON.",
    409: "A request with the same Idempotency-Key is still in progress.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "A per-tenant limit is reached: the send rate (requests per second) or the daily send quota, which the message names.",
    500: "An unexpected error occurred on the server.",
}
# A 429's answer says when to try again (docs/architecture.md §6.4).
_HEADERS = {
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again: 1 for the send rate, until 00:00 UTC for the daily quota.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
}


def _response(code: int, description: str, model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"model": model}}}
    if code in _HEADERS:
        out["headers"] = _HEADERS[code]
    return out


def candidate_errors(*extra: int) -> dict[int, Any]:
    from parley.models.candidate import CandidateError  # only candidate functions load the candidate models

    codes = sorted({400, 401, 500, *extra})
    return {c: _response(c, _DESCRIPTIONS[c], CandidateError) for c in codes}


def crm_errors(*extra: int, public: bool = False) -> dict[int, Any]:
    """The CRM's error responses (``{title, detail, time}``): 400, 401, 403, 404 and 500, plus ``extra``
    (no 401 or 403 for a ``public`` route, which takes no API key and reads no X-Tenant-ID)."""
    from parley.models.crm import CrmError, CrmGatewayError  # only CRM functions load the CRM models

    descriptions = {**_DESCRIPTIONS, 403: "The X-Tenant-ID header names another tenant than the API key's."}
    codes = sorted({400, 404, 500, *extra} | (set() if public else {401, 403}))
    # 401 comes from API Gateway (the authorizer refused the key), in its own rendering of the shape;
    # so does a 404 for a path no route matches (an id with an encoded "/", say), and a 429 of its own throttling.
    models: dict[int, Any] = {c: CrmError for c in codes}
    gateway = ((401, CrmGatewayError), (404, CrmError | CrmGatewayError), (429, CrmError | CrmGatewayError))
    models.update({c: m for c, m in gateway if c in models})
    return {c: _response(c, descriptions[c], models[c]) for c in codes}


def courier_errors(*extra: int) -> dict[int, Any]:
    """The courier API's error responses (JSON:API ``{"errors": [...]}``, ``application/vnd.api+json``): 400, 401,
    403, 404 and 500, plus ``extra``. 401 and 403 come from the authorizer through API Gateway's gateway responses, in
    the same shape."""
    from parley.models.jsonapi import MEDIA_TYPE, ErrorDocument

    descriptions = {
        **_DESCRIPTIONS,
        400: "The request was malformed or invalid: each error names its `source.parameter` or `source.pointer`.",
        403: "The credentials do not allow this.",
        404: "No such resource for this tenant (another tenant's id included), or no such route.",
        409: "The request conflicts with the resource (JSON:API: `data.type` or `data.id` does not match).",
        415: "The request body is not `application/vnd.api+json` or `application/json`.",
        422: "The request is well-formed but cannot be applied.",
        502: "An upstream provider (Twilio) failed or could not be reached: nothing was changed.",
        503: "The deployment lacks a setting the request needs (named in `detail`).",
    }
    codes = sorted({400, 401, 403, 404, 500, *extra})
    return {c: {"description": descriptions[c], "content": {MEDIA_TYPE: {"model": ErrorDocument}}} for c in codes}


def family_errors(family: str, extra: Sequence[int] = (), *, public: bool = False) -> dict[int, Any]:
    """The error responses every route of ``family`` documents, with the ``extra`` codes of one route (the
    ``errors=`` of its declaration). The ats family's one route declares its own (their descriptions are its own)."""
    if family == "crm":
        return crm_errors(*extra, public=public)
    if family == "candidate":
        return candidate_errors(*extra)
    if family.startswith("courier_"):
        return courier_errors(*extra)
    if extra:
        raise ValueError(f"the {family} family has no shared error responses: declare them in responses=")
    return {}


def transactional_doc(channel: str) -> dict[str, Any]:
    """The declaration shared by ``GET /communications/{email|sms}/v1/transactional/{channel}`` (seed 000 documents both)."""
    from parley.api.endpoint import Example
    from parley.api.params import SAMPLE_WINDOW

    return {
        "summary": f"Candidates communicated with by {channel} in a time window",
        "description": (
            f"Each candidate once, with at least one {channel} (either direction) in [fromTime, toTime], ordered by their first "
            "message in the window. `offset` counts records; `currentPage` = offset / pageLimit. At most 366 days per window."
        ),
        "ok": "A paginated list of communicated candidates.",
        "example": Example(query={**SAMPLE_WINDOW, "pageLimit": "10", "offset": "0"}),
    }
