"""POST /communications/email/v1/forward-profile — email a candidate's profile to a colleague."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller, idempotency_key
from parley.api.docs import candidate_errors
from parley.domain import profiles
from parley.models.candidate import EmailAck
from parley.models.profiles import ForwardProfileRequest, ForwardProfileResponse

logger = Logger(service="candidate")
router = Router()


@router.post(
    "/communications/email/v1/forward-profile",
    summary="Forward a candidate's profile by email",
    description=(
        "Composes the profile email (name, contact details, headline, location, profile link, last contact) of the "
        "candidate with `candidateEmail` and queues it to `toEmail`. An `Idempotency-Key` header makes retries safe."
    ),
    responses={200: {"description": "The profile was forwarded successfully."}, **candidate_errors(409, 415, 422)},
    tags=["Email Communications"],
)
def forward_profile(
    body: ForwardProfileRequest,
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> ForwardProfileResponse:
    activity_id = profiles.forward_profile(
        caller(router),
        recruiter_id=x_ph_userid,
        subject=body.subject,
        to_email=body.toEmail,
        candidate_email=body.candidateEmail,
        to_name=body.toName,
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )
    return ForwardProfileResponse(data=EmailAck(emailActivityId=activity_id, message="Profile forwarded for delivery"), status=200)


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
