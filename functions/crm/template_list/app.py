"""GET /api/v1/communications/templates — every email template of the tenant, by name (no bodies)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import templates
from parley.models.crm import EmailTemplateSummary

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/templates",
    summary="List the email templates",
    description=(
        "Every template of the tenant (at most 500), ordered by name. Bodies and variables are left out; "
        "`GET /api/v1/communications/templates/{templateId}` returns them."
    ),
    responses={200: {"description": "The tenant's templates (an empty array when it has none)."}, **crm_errors(403)},
    tags=["Templates"],
)
def list_templates() -> list[EmailTemplateSummary]:
    return templates.list_all(crm_caller(router).tenant_id)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
