"""GET /api/v1/communications/csv-export — one page of communication records as CSV."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_search
from parley.models.numbers import Int32

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/csv-export",
    summary="Download a page of communication records as CSV",
    description=(
        "The page `page`/`size` in `/page`'s default order (newest first) as `text/csv`: a header row of the 37 record fields, "
        "lists joined with `;`, `events`/`clickedLinks`/`variables` as JSON, and cells a spreadsheet would run as a formula "
        "(starting with = + - @, tab or CR) prefixed with a single quote."
    ),
    responses={
        200: {"description": "The CSV file.", "content": {"text/csv": {"schema": {"type": "string"}}}},
        **crm_errors(403),
    },
    tags=["Communications"],
)
def csv_export(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
) -> Response[str]:
    text = crm_search.csv_export(crm_caller(router).tenant_id, page=page, size=size)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=text,
        headers={"Content-Disposition": 'attachment; filename="communication-records.csv"'},
    )


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
