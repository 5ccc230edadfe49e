"""GET /api/v1/communications/{id}/thread — the conversation a communication belongs to."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_threads
from parley.models.crm import ConversationThread

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/<id>/thread",
    summary="Conversation thread of a communication",
    description=(
        "The conversation the email `id` (a record or an inbound reply) belongs to: `outbound` = its emails as records, by send "
        "time; `inbound` = the replies, by receipt. Unknown ids and other tenants' ids give 404."
    ),
    responses={200: {"description": "The conversation."}, **crm_errors(403)},
    tags=["Communications"],
)
def thread(id: str) -> ConversationThread:
    return crm_threads.thread(crm_caller(router).tenant_id, id)


app = build_app("crm", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
