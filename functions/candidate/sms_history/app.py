"""GET /communications/sms/v1/history — a tenant's SMS (both directions) in a time window."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import clock
from parley.api import build_app, caller
from parley.api.docs import candidate_errors
from parley.domain import history
from parley.models.candidate import Pagination, Phone
from parley.models.numbers import Int32
from parley.models.sms import SmsCommunicationData, SmsHistoryResponse

logger = Logger(service="candidate")
router = Router()


@router.get(
    "/communications/sms/v1/history",
    summary="SMS history in a time window",
    description="Inbound and outbound SMS, oldest first. `offset` counts records; `currentPage` = offset / limit.",
    responses={200: {"description": "A page of SMS history."}, **candidate_errors()},
    tags=["SMS Communications"],
)
def sms_history(
    fromTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    toTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    limit: Annotated[Int32, Query()],
    offset: Annotated[Int32, Query()],
    phone: Annotated[Phone | None, Query(description="Only SMS exchanged with this number")] = None,
    candidateId: Annotated[str | None, Query(max_length=128)] = None,
) -> SmsHistoryResponse:
    found, page = history.channel_history(
        caller(router).tenant_id,
        "sms",
        from_time=fromTime,
        to_time=toTime,
        limit=limit,
        offset=offset,
        address=phone,
        candidate_id=candidateId,
        region=caller(router).default_country,
    )
    return SmsHistoryResponse(
        pagination=Pagination(**page.as_pagination),
        data=[
            SmsCommunicationData(
                sender=m.sender,
                recipient=m.recipient,
                timeStamp=clock.iso(m.created_at),
                messageBody=m.body,
                messageType=m.direction,
                recruiterId=m.recruiter_id,
                candidateId=m.candidate_id,
            )
            for m in found
        ],
        status=200,
    )


app = build_app("candidate", router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
