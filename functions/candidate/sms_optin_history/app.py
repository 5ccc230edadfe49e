"""GET /communications/sms/v1/optIn/history — a phone number's opt-in changes, as a Spring Page."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import optins
from parley.models.candidate import OptInHistoryPage, OptInHistoryResponse, Phone
from parley.models.numbers import Int32

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/sms/v1/optIn/history",
    summary="SMS opt-in history",
    description="Newest first. `offset` is the page index and `size` the page size (Spring's PageRequest.of(offset, size)).",
    responses={200: {"description": "A page of opt-in changes."}, **candidate_errors()},
    tags=["SMS Communications"],
)
def sms_optin_history(
    phoneNumber: Annotated[Phone, Query()],
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
    offset: Annotated[Int32, Query()] = 0,
    size: Annotated[Int32, Query()] = 20,
    communicationId: Annotated[str | None, Query(max_length=128)] = None,
) -> OptInHistoryResponse:
    who = caller(router)
    page = optins.history(
        who.tenant_id, phone=phoneNumber, page=offset, size=size, communication_id=communicationId, region=who.default_country
    )
    return OptInHistoryResponse(status="SUCCESS", details=OptInHistoryPage.model_validate(page))


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
