"""GET /communications/email/v1/forward-profile/activity — the forwards of one candidate's profile."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import profiles
from parley.models.numbers import Int32
from parley.models.profiles import ForwardActivity, ForwardActivityResponse, ForwardPagination

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/email/v1/forward-profile/activity",
    summary="Forward-profile activity of a candidate",
    description="Newest first. `email` is the forwarded candidate's address; `offset` counts records; `currentPage` = offset / limit.",
    responses={200: {"description": "A paginated list of forward profile activities."}, **candidate_errors()},
    tags=["Email Communications"],
)
def forward_profile_activity(
    email: Annotated[str, Query(min_length=3, max_length=254, description="The forwarded candidate's email address")],
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
    offset: Annotated[Int32, Query()] = 0,
    limit: Annotated[Int32, Query()] = 10,
    communicationId: Annotated[str | None, Query(max_length=128, description="Only the forward with this emailActivityId")] = None,
) -> ForwardActivityResponse:
    items, page = profiles.forward_activity(
        caller(router).tenant_id, email=email, offset=offset, limit=limit, communication_id=communicationId
    )
    pagination = {k: v for k, v in page.as_pagination.items() if k != "hasErrors"}
    return ForwardActivityResponse(pagination=ForwardPagination(**pagination), data=[ForwardActivity(**i) for i in items], status=200)


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
