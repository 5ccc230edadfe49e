"""GET /communications/sms/v1/optIn — the SMS opt-in status of a phone number (or email)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import optins
from parley.models.candidate import OptInDetails, OptInStatusResponse, Phone

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/sms/v1/optIn",
    summary="SMS opt-in status",
    description="A read: `status` is OPTED_IN or OPTED_OUT (no record = OPTED_OUT). PUT changes it.",
    responses={200: {"description": "The opt-in status."}, **candidate_errors()},
    tags=["SMS Communications"],
)
def sms_optin_get(
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
    phoneNumber: Annotated[Phone | None, Query()] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> OptInStatusResponse:
    who = caller(router)
    opted_in, address = optins.status(who.tenant_id, phone=phoneNumber, email=email, region=who.default_country)
    verdict = "opted in to" if opted_in else "not opted in to"
    return OptInStatusResponse(details=OptInDetails(message=f"{address} is {verdict} SMS"), status="OPTED_IN" if opted_in else "OPTED_OUT")


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
