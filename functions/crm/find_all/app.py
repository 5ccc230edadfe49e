"""GET /api/v1/communications/find-all — the tenant's communication records, newest first (capped)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_search
from parley.models.crm import CommunicationRecord

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/find-all",
    summary="All communication records of the tenant",
    description=(
        f"Newest first, at most the newest {crm_search.FIND_ALL_LIMIT} (fewer if they would not fit in one 6 MB response). "
        "`X-Total-Count` is the tenant's real number of records: when it is larger than the array, use `/page`."
    ),
    responses={
        200: {
            "description": "The newest records.",
            "headers": {"X-Total-Count": {"description": "How many records the tenant has", "schema": {"type": "integer"}}},
            "content": {"application/json": {"model": list[CommunicationRecord]}},
        },
        **crm_errors(403),
    },
    tags=["Communications"],
)
def find_all() -> Response[list[CommunicationRecord]]:
    listing = crm_search.find_all(crm_caller(router).tenant_id)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=listing.records,
        headers={"X-Total-Count": str(listing.total)},
    )


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
