"""POST /api/v1/communications/send — accept an ad-hoc email for sending and return its record."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, idempotency_key
from parley.api.crm import crm_caller, public_base_url
from parley.api.docs import crm_errors
from parley.domain import crm_send
from parley.models.crm import CommunicationRecord, SendEmailRequest

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/send",
    summary="Send an email",
    description=(
        "Stores the email as a communication record and queues it for immediate delivery. The answer is the record as "
        "accepted (`status: PENDING`); it becomes `SENT` (with `sentAt`, `messageId`) or `FAILED` (with `errorMessage`) "
        "moments later (`GET /find/{id}`), or `UNCONFIRMED` when the provider was handed it but its acceptance could not be "
        "recorded (never resent; the provider's events make it `SENT`). `recipients`, `cc` and `bcc` together hold at most 50 "
        "addresses; an address on the "
        "tenant's suppression list gives 400 and nothing is sent. An `Idempotency-Key` header makes retries safe."
    ),
    responses={200: {"description": "The email was accepted: its record."}, **crm_errors(403, 409, 415, 422)},
    tags=["Communications"],
)
def send(body: SendEmailRequest) -> CommunicationRecord:
    return crm_send.send(
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
