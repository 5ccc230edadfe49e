"""POST /api/v1/communications/send-template/{templateId} — render a template and send it."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, idempotency_key
from parley.api.crm import crm_caller, public_base_url
from parley.api.docs import crm_errors
from parley.domain import crm_send
from parley.models.crm import CommunicationRecord, SendTemplateRequest

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/send-template/<templateId>",
    summary="Send an email from a template",
    description=(
        "Renders the tenant's template `templateId` with `variables` and queues the email, as `/send` does: the answer is the "
        "record as accepted (`PENDING`) with `templateId`, `templateName` and `type` (the template's, unless the request gives "
        "`type`). An unknown template gives 404; a placeholder without a value in `variables` gives 400 naming it."
    ),
    responses={200: {"description": "The email was accepted: its record."}, **crm_errors(403, 409, 415, 422)},
    tags=["Communications"],
)
def send_template(templateId: str, body: SendTemplateRequest) -> CommunicationRecord:
    return crm_send.send_template(
        crm_caller(router),
        templateId,
        body,
        base_url=public_base_url(router),
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
