"""POST /api/v1/communications/{id}/cancel — cancel a scheduled email before it is sent."""

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


@router.post(
    "/api/v1/communications/<id>/cancel",
    summary="Cancel a scheduled email",
    description=(
        "`SCHEDULED` → `CANCELLED`: the email is not sent. Any other status (including one whose time came a moment ago "
        "and is being sent) gives 400; unknown ids and other tenants' ids give 404. The answer is the updated record."
    ),
    responses={200: {"description": "The cancelled record."}, **crm_errors(403)},
    tags=["Communications"],
)
def cancel(id: str) -> CommunicationRecord:
    return crm_send.cancel(crm_caller(router), id)


# No request body is read.
app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
