"""GET /api/v1/communications/scheduled — the tenant's emails waiting for their scheduled time."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_send
from parley.models.crm import CommunicationRecord

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/scheduled",
    summary="List scheduled emails",
    description=(
        "The tenant's records with `status: SCHEDULED` (not yet sent, not cancelled), by `scheduledAt`, earliest first. "
        "At most 1000, and no more than fit a 5 MB answer: the latest due are left out."
    ),
    responses={200: {"description": "The scheduled records."}, **crm_errors(403)},
    tags=["Communications"],
)
def scheduled() -> list[CommunicationRecord]:
    return crm_send.scheduled(crm_caller(router).tenant_id)


app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
