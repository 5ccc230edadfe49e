"""POST /api/v1/communications/dynamic-search — search records with a JSON body."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_search
from parley.models.crm import DynamicSearchRequest, RecordPage

logger = Logger(service="crm")
router = Router()


@router.post(
    "/api/v1/communications/dynamic-search",
    summary="Search communication records (JSON body)",
    description=(
        "`filters`: field → value, all must hold (an array = any of its values, null = the field is null; `variables.<name>` "
        "filters on a variable). `search`: every term must occur, case-insensitively, in subject, body, senderEmail, recipients "
        "or cc. `sort`: `[{field, ascending}]`, applied in order; default newest first. `size` 0 means 20. Filters on status, an "
        "entity or a conversation read that index; other conditions are applied to what it holds, up to "
        f"{crm_search.MAX_READ} records (400 beyond)."
    ),
    responses={200: {"description": "The page of matches."}, **crm_errors(403, 415)},
    tags=["Communications"],
)
def dynamic_search(body: DynamicSearchRequest) -> RecordPage:
    return crm_search.search_post(crm_caller(router).tenant_id, body)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
