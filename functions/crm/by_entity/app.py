"""GET /api/v1/communications/by-entity — every email (either direction) linked to one CRM entity."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_threads
from parley.models.crm import EntityCommunication

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/by-entity",
    summary="Communications of one CRM entity",
    description=(
        "Inbound and outbound emails linked to the entity (`relatedEntityType` + `relatedEntityId` of a send; a reply joins its "
        "record's entity), newest first by `date`, at most 1000. `direction` is `INBOUND` or `OUTBOUND`."
    ),
    responses={200: {"description": "The entity's emails, newest first (empty when none)."}, **crm_errors(403)},
    tags=["Communications"],
)
def by_entity(
    entityType: Annotated[str, Query(min_length=1, max_length=128, description="The entity's type, e.g. contact")],
    entityId: Annotated[str, Query(min_length=1, max_length=128, description="The entity's id")],
) -> list[EntityCommunication]:
    return crm_threads.by_entity(crm_caller(router).tenant_id, entityType, entityId)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
