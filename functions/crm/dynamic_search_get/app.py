"""GET /api/v1/communications/dynamic-search — search records with query-string filters."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_search
from parley.models.crm import RecordPage
from parley.models.numbers import Int32

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/dynamic-search",
    summary="Search communication records (query string)",
    description=(
        "Every query parameter other than `page`, `size`, `search` and `sort` is an equality filter on a record field "
        "(`?status=SENT&relatedEntityType=deal&relatedEntityId=42`; repeated = any of the values; on `recipients`, `cc`, `bcc`: "
        "the list contains it; `variables.<name>` filters on a variable). `search` (repeatable): case-insensitive text in subject, "
        "body, senderEmail, recipients or cc. `sort=field[,asc|desc]` (repeatable); default newest first. Filters on status, "
        "an entity or a conversation read that index; other conditions are applied to what it holds, up to "
        f"{crm_search.MAX_READ} records (400 beyond)."
    ),
    responses={200: {"description": "The page of matches."}, **crm_errors(403)},
    tags=["Communications"],
)
def dynamic_search(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
) -> RecordPage:
    event = router.current_event
    params = event.multi_value_query_string_parameters or {k: [v] for k, v in (event.query_string_parameters or {}).items()}
    return crm_search.search_get(crm_caller(router).tenant_id, page=page, size=size, params=params)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
