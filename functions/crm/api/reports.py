"""The crm API: reports.

- GET /api/v1/communications/analytics — the tenant's email metrics (totals, rates, by type, by template, per day).
- GET /api/v1/communications/csv-export — one page of communication records as CSV.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api.crm import SAMPLE, crm_caller
from parley.api.endpoint import Api, Example
from parley.domain import analytics, crm_search
from parley.models.crm import CommunicationAnalytics
from parley.models.numbers import Int32

api = Api("crm", tags=["Communications"], example=SAMPLE)


_BOUND = "ISO-8601 date-time (UTC when it has no offset); selects whole UTC days, inclusive"


@api.get(
    "/api/v1/communications/analytics",
    ok="The metrics of the window (all time without from/to).",
    example=Example(query={"from": "2030-01-01T00:00:00Z", "to": "2030-01-31T23:59:59Z"}),
)
def get_analytics(
    from_: Annotated[str | None, Query(alias="from", max_length=64, description=f"First day: {_BOUND}")] = None,
    to: Annotated[str | None, Query(max_length=64, description=f"Last day: {_BOUND}")] = None,
    startDate: Annotated[str | None, Query(max_length=64, description="Alias of `from`")] = None,
    endDate: Annotated[str | None, Query(max_length=64, description="Alias of `to`")] = None,
) -> CommunicationAnalytics:
    """Get communication analytics

    Totals of sent, opened and clicked emails with `openRate` = opened/sent, `clickRate` = clicked/sent and
    `failureRate` = failed/(sent+failed) (fractions 0..1; 0 when nothing was sent), the same per `type` and per
    template, and `sendVolumeByDay` (UTC days with sends, oldest first). Opens and clicks count once per email, on the
    day it was sent. `from`/`to` (or `startDate`/`endDate`) are optional; a bad date or `from` after `to` is 400.
    """
    tenant_id = crm_caller(api).tenant_id
    return analytics.report(tenant_id, from_=from_, to=to, start_date=startDate, end_date=endDate)


@api.get(
    "/api/v1/communications/csv-export",
    responses={200: {"description": "The CSV file.", "content": {"text/csv": {"schema": {"type": "string"}}}}},
    access=("table:read", "bodies:read"),
    example=Example(query={"page": "0", "size": "20"}),
)
def csv_export(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
) -> Response[str]:
    """Download a page of communication records as CSV

    The page `page`/`size` in `/page`'s default order (newest first) as `text/csv`: a header row of the 37 record
    fields, lists joined with `;`, `events`/`clickedLinks`/`variables` as JSON, and cells a spreadsheet would run as a
    formula (starting with = + - @, tab or CR) prefixed with a single quote.
    """
    text = crm_search.csv_export(crm_caller(api).tenant_id, page=page, size=size)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=text,
        headers={"Content-Disposition": 'attachment; filename="communication-records.csv"'},
    )
