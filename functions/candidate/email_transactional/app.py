"""GET /communications/email/v1/transactional/email — the distinct candidates a tenant exchanged email with in a time window (archival)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import transactional
from parley.models.candidate import Pagination
from parley.models.numbers import Int32
from parley.models.profiles import EmailContact, TransactionalEmailResponse

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/email/v1/transactional/email",
    summary="Candidates communicated with by email in a time window",
    description=(
        "Each candidate once, with at least one email (either direction) in [fromTime, toTime], ordered by their first "
        "message in the window. `offset` counts records; `currentPage` = offset / pageLimit. At most 366 days per window."
    ),
    responses={200: {"description": "A paginated list of communicated candidates."}, **candidate_errors()},
    tags=["Email Communications"],
)
def email_transactional(
    fromTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    toTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    pageLimit: Annotated[Int32, Query()] = 10,
    offset: Annotated[Int32, Query()] = 0,
) -> TransactionalEmailResponse:
    found, page = transactional.contacted(
        caller(router).tenant_id, "email", from_time=fromTime, to_time=toTime, limit=pageLimit, offset=offset
    )
    return TransactionalEmailResponse(
        pagination=Pagination(**page.as_pagination),
        data=[EmailContact(candidateId=c.candidate_id, candidateEmail=c.address) for c in found],
        status=200,
    )


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
