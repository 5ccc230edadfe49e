"""DELETE /api/v1/communications/{id} — delete one communication record."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_edit

logger = Logger(service="crm")
router = Router()


@router.delete(
    "/api/v1/communications/<id>",
    summary="Delete a communication record",
    description=(
        "Deletes the record, its events, tracking and stored body (a scheduled one is cancelled first). Unknown ids, other "
        "tenants' ids and inbound replies give 404; a record being handed to the provider right now gives 409."
    ),
    responses={200: {"description": "Deleted (no body).", "content": {}}, **crm_errors(403, 409)},
    tags=["Communications"],
)
def delete(id: str) -> Response[None]:
    crm_edit.delete(crm_caller(router).tenant_id, id)
    return Response(status_code=200, body="")


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
