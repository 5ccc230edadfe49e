"""DELETE /api/v1/communications/templates/{templateId} — delete an email template (200, empty body)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import templates

logger = Logger(service="crm")
router = Router()


@router.delete(
    "/api/v1/communications/templates/<templateId>",
    summary="Delete an email template",
    description="200 with an empty body, like the CRM's other deletes. Records sent with the template keep its id and name.",
    responses={200: {"description": "The template was deleted (no body).", "content": {}}, **crm_errors(403)},
    tags=["Templates"],
)
def delete_template(templateId: str):  # no return annotation: powertools would validate the empty body against one
    templates.delete(crm_caller(router).tenant_id, templateId)
    return Response(status_code=200, body="")


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
