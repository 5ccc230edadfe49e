"""POST /api/v1/communications/schedule — store an email to be sent at a given time."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, idempotency_key
from parley.api.crm import crm_caller, public_base_url
from parley.api.docs import crm_errors
from parley.domain import crm_send
from parley.models.crm import CommunicationRecord, ScheduleEmailRequest

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/schedule",
    summary="Schedule an email",
    description=(
        "Stores the email with `status: SCHEDULED` and sends it at `scheduledAt` (an ISO-8601 time with an offset or `Z`; "
        "without one, `timeZone` (IANA, e.g. `Europe/Amsterdam`) names the zone of the wall-clock time). `timeZone` is kept "
        "with the record. A time in the past (or less than 5 s ahead) gives 400. Until it is sent, `POST /{id}/cancel` "
        "cancels it. An `Idempotency-Key` header makes retries safe."
    ),
    responses={200: {"description": "The email was scheduled: its record."}, **crm_errors(403, 409, 415, 422)},
    tags=["Communications"],
)
def schedule(body: ScheduleEmailRequest) -> CommunicationRecord:
    return crm_send.schedule(
        crm_caller(router),
        body,
        base_url=public_base_url(router),
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
