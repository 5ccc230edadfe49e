"""The ats API: applicant messages.

- GET /company/{companyID}/applicant/{applicantID}/messages — the email exchanged with one applicant (seed 002).
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import caller
from parley.api.endpoint import Api, Example
from parley.domain import ats
from parley.models.ats import AtsError, AtsMessage

api = Api("ats", tags=["Messages"])


_ERRORS = {
    400: "Unknown name in `fields`.",
    401: "Missing or invalid API key.",
    404: "No such company (not the caller's tenant) or applicant.",
    500: "An unexpected error occurred on the server.",
}


@api.get(
    "/company/<companyID>/applicant/<applicantID>/messages",
    responses={
        200: {"description": "The messages.", "content": {"application/json": {"model": list[AtsMessage]}}},
        **{c: {"description": d, "content": {"application/json": {"model": AtsError}}} for c, d in _ERRORS.items()},
    },
    access=("table:read", "bodies:read"),  # a GET never writes (the recruiters are numbered when they send)
    example=Example(
        path={"companyID": "tenant-example", "applicantID": "V41QG8eja5pK6XeV"},
        query={"fields": "author,replied,mail,attachments,candidate"},
    ),
)
def applicant_messages(
    companyID: Annotated[str, Path(description="Company identifier (your tenant id)")],
    applicantID: Annotated[str, Path(description="Candidate id")],
    fields: Annotated[str | None, Query(max_length=200, description="author,replied,mail,attachments,candidate")] = None,
) -> list[dict[str, Any]]:
    """Retrieve messages exchanged with an applicant

    A bare array of the applicant's email (both directions, whatever API sent it), oldest first. `companyID` is your
    tenant id and `applicantID` a candidate id. `fields` (comma-separated) adds author, replied, mail, attachments,
    candidate.
    """
    wanted = ats.parse_fields(fields)
    return ats.applicant_messages(caller(api).tenant_id, companyID, applicantID, wanted)
