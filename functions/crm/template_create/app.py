"""POST /api/v1/communications/templates — create an email template (201, with its Location)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller, public_base_url
from parley.api.docs import crm_errors
from parley.domain import templates
from parley.models.crm import EmailTemplate, TemplateRequest

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/templates",
    summary="Create an email template",
    description=(
        "A name, a one-line subject, `bodyHtml` and/or `bodyText`, and an optional `type`. Subject and bodies may use "
        "placeholders `{{name}}` or `{{nested.name}}`; malformed placeholder syntax is a 400. `X-User-ID` becomes `createdBy`."
    ),
    responses={201: {"description": "The template was created; `Location` is its URL."}, **crm_errors(403, 415)},
    tags=["Templates"],
)
def create_template(body: TemplateRequest) -> Response[EmailTemplate]:
    who = crm_caller(router)
    created = templates.create(who.tenant_id, body, user_id=who.user_id)
    location = f"{public_base_url(router)}/api/v1/communications/templates/{created.id}"
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created, headers={"Location": location})


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
