"""GET /api/v1/communications/templates/{templateId} — one email template of the tenant."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import templates
from parley.models.crm import EmailTemplate

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/templates/<templateId>",
    summary="Get an email template",
    description="The template with its bodies and the placeholder names it uses (`variables`).",
    responses={200: {"description": "The template."}, **crm_errors(403)},
    tags=["Templates"],
)
def get_template(templateId: str) -> EmailTemplate:
    return templates.get(crm_caller(router).tenant_id, templateId)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
