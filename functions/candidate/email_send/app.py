"""POST /communications/email/v1/send — accept one email to a candidate and queue it."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller, idempotency_key
from parley.api.docs import candidate_errors
from parley.domain import emails
from parley.models.candidate import EmailAck, SendEmailRequest, SendEmailResponse

logger = Logger(service="candidate")
router = Router()


@router.post(
    "/communications/email/v1/send",
    summary="Send an email to a candidate",
    description="Queues the email for delivery. An `Idempotency-Key` header makes retries safe.",
    responses={200: {"description": "The email was accepted for delivery."}, **candidate_errors(409, 415, 422)},
    tags=["Email Communications"],
)
def send_email(
    body: SendEmailRequest,
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> SendEmailResponse:
    activity_id = emails.send_candidate_email(
        caller(router),
        recruiter_id=x_ph_userid,
        to=body.toEmail,
        subject=body.subject,
        content=body.emailContent,
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )
    return SendEmailResponse(data=EmailAck(emailActivityId=activity_id, message="Email accepted for delivery"), status=200)


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
