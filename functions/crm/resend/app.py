"""POST /api/v1/communications/{id}/resend — send a sent or failed email again, as a new record."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, idempotency_key
from parley.api.crm import crm_caller, public_base_url
from parley.api.docs import crm_errors
from parley.domain import crm_send
from parley.models.crm import CommunicationRecord

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/<id>/resend",
    summary="Resend an email",
    description=(
        "Sends a `SENT` or `FAILED` email again as a NEW record (answered, `PENDING`) in the same conversation: same subject, "
        "body as first submitted, recipients, cc, bcc, template, variables and related entity; tracked afresh. The original "
        "gets a `RESEND` event naming the new id. Other statuses give 400, `UNCONFIRMED` too (the provider may have sent it: "
        "a resend could deliver it twice); unknown ids and other tenants' ids give 404. "
        "An `Idempotency-Key` header makes retries safe."
    ),
    responses={200: {"description": "The new record."}, **crm_errors(403, 409, 422)},
    tags=["Communications"],
)
def resend(id: str) -> CommunicationRecord:
    return crm_send.resend(
        crm_caller(router),
        id,
        base_url=public_base_url(router),
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )


# No request body is read.
app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
