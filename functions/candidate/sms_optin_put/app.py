"""PUT /communications/sms/v1/optIn — opt a phone number (or email) in to SMS, or out."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import optins
from parley.models.candidate import OptInDetails, OptInRequest, OptInStatusResponse

logger = Logger(service="candidate")
router = Router()


@router.put(
    "/communications/sms/v1/optIn",
    summary="Set SMS opt-in",
    description="Sets consent for the phone number and/or email given; each change is added to the opt-in history.",
    responses={200: {"description": "Consent recorded."}, **candidate_errors(415)},
    tags=["SMS Communications"],
)
def sms_optin_put(
    body: OptInRequest,
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> OptInStatusResponse:
    who = caller(router)
    addresses = optins.update(
        who.tenant_id, phone=body.phoneNumber, email=body.email, opt_in=body.optIn, reason=f"Updated via API by {x_ph_userid}",
        region=who.default_country,
    )  # fmt: skip
    verb = "opted in to" if body.optIn else "opted out of"
    return OptInStatusResponse(details=OptInDetails(message=f"{' and '.join(addresses)} {verb} SMS"), status="SUCCESS")


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
