"""GET /api/v1/communications/analytics — the tenant's email metrics (totals, rates, by type, by template, per day)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import analytics
from parley.models.crm import CommunicationAnalytics

logger = Logger(service="crm")
router = Router()

_BOUND = "ISO-8601 date-time (UTC when it has no offset); selects whole UTC days, inclusive"


@router.get(
    "/api/v1/communications/analytics",
    summary="Get communication analytics",
    description=(
        "Totals of sent, opened and clicked emails with `openRate` = opened/sent, `clickRate` = clicked/sent and "
        "`failureRate` = failed/(sent+failed) (fractions 0..1; 0 when nothing was sent), the same per `type` and per "
        "template, and `sendVolumeByDay` (UTC days with sends, oldest first). Opens and clicks count once per email, on "
        "the day it was sent. `from`/`to` (or `startDate`/`endDate`) are optional; a bad date or `from` after `to` is 400."
    ),
    responses={200: {"description": "The metrics of the window (all time without from/to)."}, **crm_errors(403)},
    tags=["Communications"],
)
def get_analytics(
    from_: Annotated[str | None, Query(alias="from", max_length=64, description=f"First day: {_BOUND}")] = None,
    to: Annotated[str | None, Query(max_length=64, description=f"Last day: {_BOUND}")] = None,
    startDate: Annotated[str | None, Query(max_length=64, description="Alias of `from`")] = None,
    endDate: Annotated[str | None, Query(max_length=64, description="Alias of `to`")] = None,
) -> CommunicationAnalytics:
    tenant_id = crm_caller(router).tenant_id
    return analytics.report(tenant_id, from_=from_, to=to, start_date=startDate, end_date=endDate)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
