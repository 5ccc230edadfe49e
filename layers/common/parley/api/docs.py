"""OpenAPI response declarations shared by routes (so the generated documents show error shapes)."""

from __future__ import annotations

from typing import Any

from parley.models.candidate import CandidateError

_DESCRIPTIONS = {
    400: "The request was malformed or invalid.",
    401: "The request is missing valid authentication credentials.",
    404: "No such resource for this tenant.",
    415: "The request body is not JSON.",
    409: "A request with the same Idempotency-Key is still in progress.",
    422: "The Idempotency-Key was used before with a different request.",
    500: "An unexpected error occurred on the server.",
}


def candidate_errors(*extra: int) -> dict[int, Any]:
    codes = sorted({400, 401, 500, *extra})
    return {c: {"description": _DESCRIPTIONS[c], "content": {"application/json": {"model": CandidateError}}} for c in codes}


def crm_errors(*extra: int) -> dict[int, Any]:
    """The CRM's error responses (``{title, detail, time}``): 400, 401, 404 and 500, plus ``extra``."""
    from parley.models.crm import CrmError  # only CRM functions load the CRM models

    descriptions = {**_DESCRIPTIONS, 403: "The X-Tenant-ID header names another tenant than the API key's."}
    codes = sorted({400, 401, 404, 500, *extra})
    return {c: {"description": descriptions[c], "content": {"application/json": {"model": CrmError}}} for c in codes}
