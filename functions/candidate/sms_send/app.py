"""POST /communications/sms/v1/send — send one SMS to an opted-in candidate (queued, or held for quiet hours)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller, idempotency_key
from parley.api.docs import candidate_errors
from parley.domain import sms
from parley.models.sms import SendSMSData, SendSMSRequest, SendSMSResponse

logger = Logger(service="candidate")
router = Router()


@router.post(
    "/communications/sms/v1/send",
    summary="Send an SMS to a candidate",
    description=(
        "The number must be opted in (PUT /communications/sms/v1/optIn), else 400. The SMS is queued; with the tenant's "
        "quiet hours on, an SMS outside 08:00-21:00 in the recipient's time zone is held until the next 08:00 (see its "
        "activity). `messageSID` is the `activityId` of GET /communications/sms/v1/activity. An `Idempotency-Key` "
        "header makes retries safe."
    ),
    responses={200: {"description": "The SMS was accepted (status SUCCESS)."}, **candidate_errors(409, 415, 422)},
    tags=["SMS Communications"],
)
def send_sms(
    body: SendSMSRequest,
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> SendSMSResponse:
    message_id = sms.send_candidate_sms(
        caller(router),
        recruiter_id=x_ph_userid,
        phone=body.phoneNumber,
        text=body.message,
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )
    return SendSMSResponse(data=SendSMSData(messageSID=message_id, message=body.message), status="SUCCESS")


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
