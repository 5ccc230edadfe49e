"""GET /api/v1/communications/find-list — the tenant's communication records with the given ids."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller, ids_param
from parley.api.docs import crm_errors
from parley.domain import crm_search
from parley.models.crm import CommunicationRecord

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/find-list",
    summary="Find a list of communication records by their ids",
    description=(
        "`ids` repeated (`?ids=a&ids=b`) or comma-separated (`?ids=a,b`), at most 100. Returns the records in the order asked; "
        "unknown ids, other tenants' ids and messages that are not records are left out. No ids: `[]`."
    ),
    responses={200: {"description": "The records found."}, **crm_errors(403)},
    tags=["Communications"],
)
def find(
    ids: Annotated[list[str] | None, Query(description="Record ids: repeated or comma-separated")] = None,
) -> list[CommunicationRecord]:
    return crm_search.find_by_ids(crm_caller(router).tenant_id, ids_param(router))


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
