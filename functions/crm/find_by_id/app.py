"""GET /api/v1/communications/find/{id} — one communication record of the tenant."""

from aws_lambda_powertools import Logger
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
    "/api/v1/communications/find/<id>",
    summary="Find a communication record by id",
    description="The record `id` of the caller's tenant. Unknown ids, other tenants' ids and messages that are not records give 404.",
    responses={200: {"description": "The record."}, **crm_errors(403)},
    tags=["Communications"],
)
def find_by_id(id: str) -> CommunicationRecord:
    return crm_search.find_by_id(crm_caller(router).tenant_id, id)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
