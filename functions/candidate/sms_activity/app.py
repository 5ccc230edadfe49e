"""GET /communications/sms/v1/activity — the latest state of one SMS (the messageSID of /sms/v1/send)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import sms
from parley.models.candidate import Phone
from parley.models.sms import SmsActivityData, SmsActivityResponse

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/sms/v1/activity",
    summary="Latest activity of an SMS",
    description=(
        "`status` is the provider's latest delivery state (DELIVERED, UNDELIVERED, READ, ...) once reported, else "
        "Parley's (QUEUED, SCHEDULED, SENT, FAILED, ...). 404 unless `activityId` is this tenant's SMS with `phoneNumber`."
    ),
    responses={200: {"description": "The SMS's latest state."}, **candidate_errors(404)},
    tags=["SMS Communications"],
)
def sms_activity(
    activityId: Annotated[str, Query(min_length=1, max_length=128, description="The messageSID returned by /sms/v1/send")],
    phoneNumber: Annotated[Phone, Query(description="The number the SMS was exchanged with")],
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> SmsActivityResponse:
    who = caller(router)
    state, text = sms.sms_activity(who.tenant_id, activityId, phoneNumber, who.default_country)
    return SmsActivityResponse(data=SmsActivityData(message=text), status=state)


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
