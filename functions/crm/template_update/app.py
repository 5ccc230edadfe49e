"""PUT /api/v1/communications/templates/{templateId} — replace an email template's fields."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import templates
from parley.models.crm import EmailTemplate, TemplateRequest

logger = Logger(service="crm")
router = Router()


@router.put(
    "/api/v1/communications/templates/<templateId>",
    summary="Replace an email template",
    description=(
        "A full update: the body is the whole template, as for create (an omitted `bodyHtml`, `bodyText` or `type` is "
        "removed). `X-User-ID` becomes `updatedBy`. Records already sent with the template keep what they were sent with."
    ),
    responses={200: {"description": "The updated template."}, **crm_errors(403, 415)},
    tags=["Templates"],
)
def update_template(templateId: str, body: TemplateRequest) -> EmailTemplate:
    who = crm_caller(router)
    return templates.update(who.tenant_id, templateId, body, user_id=who.user_id)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
