"""GET /api/v1/communications/page — one page of the tenant's communication records, sorted."""

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
    "/api/v1/communications/page",
    summary="Get a page of communication records",
    description=(
        "Spring Data page (0-based). `sortBy=created` (the default) reads the page straight from the index. Any other sortable "
        f"field sorts in memory and is served for tenants with up to {crm_search.MAX_READ} records (400 beyond)."
    ),
    responses={200: {"description": "The page."}, **crm_errors(403)},
    tags=["Communications"],
)
def page(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
    sortBy: Annotated[str | None, Query(max_length=64, description=f"One of: {', '.join(crm_search.SORTABLE)}")] = None,
    direction: Annotated[str | None, Query(max_length=8, description="ASC or DESC (default DESC)")] = None,
) -> RecordPage:
    return crm_search.page(crm_caller(router).tenant_id, page=page, size=size, sort_by=sortBy, direction=direction)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
