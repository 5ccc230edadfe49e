"""DELETE /api/v1/communications/delete-list — delete several communication records."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller, ids_param
from parley.api.docs import crm_errors
from parley.domain import crm_edit

logger = Logger(service="crm")
router = Router()


@router.delete(
    "/api/v1/communications/delete-list",
    summary="Delete several communication records",
    description=(
        "`ids` repeated (`?ids=a&ids=b`) or comma-separated (`?ids=a,b`), at most 100. Ids that name no record of the tenant are "
        "ignored. Records being handed to the provider right now are left and named in a 409 (the others are deleted)."
    ),
    responses={200: {"description": "Deleted (no body).", "content": {}}, **crm_errors(403, 409)},
    tags=["Communications"],
)
def delete_list(
    ids: Annotated[list[str] | None, Query(description="Record ids: repeated or comma-separated")] = None,
) -> Response[None]:
    crm_edit.delete_many(crm_caller(router).tenant_id, ids_param(router))
    return Response(status_code=200, body="")


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
