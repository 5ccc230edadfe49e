"""GET /company/{companyID}/applicant/{applicantID}/messages — the email exchanged with one applicant (seed 002)."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.domain import ats
from parley.models.ats import AtsError, AtsMessage

logger = Logger(service="ats")
router = Router()

_ERRORS = {
    400: "Unknown name in `fields`.",
    401: "Missing or invalid API key.",
    404: "No such company (not the caller's tenant) or applicant.",
    500: "An unexpected error occurred on the server.",
}


@router.get(
    "/company/<companyID>/applicant/<applicantID>/messages",
    summary="Retrieve messages exchanged with an applicant",
    description=(
        "A bare array of the applicant's email (both directions, whatever API sent it), oldest first. `companyID` is your "
        "tenant id and `applicantID` a candidate id. `fields` (comma-separated) adds author, replied, mail, attachments, candidate."
    ),
    responses={
        200: {"description": "The messages.", "content": {"application/json": {"model": list[AtsMessage]}}},
        **{c: {"description": d, "content": {"application/json": {"model": AtsError}}} for c, d in _ERRORS.items()},
    },
    tags=["Messages"],
)
def applicant_messages(
    companyID: Annotated[str, Path(description="Company identifier (your tenant id)")],
    applicantID: Annotated[str, Path(description="Candidate id")],
    fields: Annotated[str | None, Query(max_length=200, description="author,replied,mail,attachments,candidate")] = None,
) -> list[dict[str, Any]]:
    wanted = ats.parse_fields(fields)
    return ats.applicant_messages(caller(router).tenant_id, companyID, applicantID, wanted)


app = build_app("ats", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
