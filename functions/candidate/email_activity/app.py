"""GET /communications/email/v1/activity — the events recorded so far for one email."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import emails
from parley.models.candidate import EmailActivityItem, EmailActivityResponse

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/email/v1/activity",
    summary="Get the activity of an email",
    responses={200: {"description": "The email's activity events, oldest first."}, **candidate_errors(404)},
    tags=["Email Communications"],
)
def email_activity(
    emailActivityId: Annotated[str, Query(min_length=1, max_length=64)],
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> EmailActivityResponse:
    msg, events = emails.email_activity(caller(router).tenant_id, emailActivityId)
    return EmailActivityResponse(
        data=[
            EmailActivityItem(
                emailActivityId=msg.id,
                event=e.event,
                email=e.email or msg.recipient,
                ip=e.ip,
                createdDate=e.created_ms,
                response=e.response,
            )
            for e in events
        ],
        status=200,
    )


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
