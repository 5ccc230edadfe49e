"""The candidate API: sms messages.

- POST /communications/sms/v1/send — send one SMS to an opted-in candidate (queued, or held for quiet hours).
- GET /communications/sms/v1/transactional/sms — the distinct candidates a tenant exchanged sms with in a time
  window (archival).
- GET /communications/sms/v1/activity — the latest state of one SMS (the messageSID of /sms/v1/send).
- GET /communications/sms/v1/history — a tenant's SMS (both directions) in a time window.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from parley import clock
from parley.api import caller, idempotency_key
from parley.api.docs import candidate_errors
from parley.api.endpoint import Api, Example
from parley.domain import history, sms, transactional
from parley.models.candidate import Pagination, Phone
from parley.models.numbers import Int32
from parley.models.profiles import SmsContact, TransactionalSmsResponse
from parley.models.sms import (
    SendSMSData,
    SendSMSRequest,
    SendSMSResponse,
    SmsActivityData,
    SmsActivityResponse,
    SmsCommunicationData,
    SmsHistoryResponse,
)

api = Api("candidate")


@api.post(
    "/communications/sms/v1/send",
    summary="Send an SMS to a candidate",
    description=(
        "The number must be opted in (PUT /communications/sms/v1/optIn), else 400. The SMS is queued; with the tenant's "
        "quiet hours on, an SMS outside 08:00-21:00 in the recipient's time zone is held until the next 08:00 (see its "
        "activity). `messageSID` is the `activityId` of GET /communications/sms/v1/activity. An `Idempotency-Key` "
        "header makes retries safe."
    ),
    responses={200: {"description": "The SMS was accepted (status SUCCESS)."}, **candidate_errors(409, 415, 422)},
    tags=["SMS Communications"],
    access=("table:write", "send-queue", "scheduler"),
    example=Example(
        headers={"Content-Type": "application/json", "x-ph-userid": "recruiter-42", "Idempotency-Key": "7b1f5c1e-sms-1"},
        body={"message": "Hi Ada, your interview is Tuesday 10:00.", "phoneNumber": "+15555550100"},
        authorizer={"smsProvider": "sns", "smsSender": "+15555550199", "quietHours": "false", "timezone": "America/New_York"},
    ),
)
def send_sms(
    body: SendSMSRequest,
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> SendSMSResponse:
    message_id = sms.send_candidate_sms(
        caller(api),
        recruiter_id=x_ph_userid,
        phone=body.phoneNumber,
        text=body.message,
        idempotency_key=idempotency_key(api),
        lambda_context=api.lambda_context,
    )
    return SendSMSResponse(data=SendSMSData(messageSID=message_id, message=body.message), status="SUCCESS")


@api.get(
    "/communications/sms/v1/transactional/sms",
    summary="Candidates communicated with by sms in a time window",
    description=(
        "Each candidate once, with at least one sms (either direction) in [fromTime, toTime], ordered by their first "
        "message in the window. `offset` counts records; `currentPage` = offset / pageLimit. At most 366 days per window."
    ),
    responses={200: {"description": "A paginated list of communicated candidates."}, **candidate_errors()},
    tags=["SMS Communications"],
    access=("table:read",),
    example=Example(query={"fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T23:59:59Z", "pageLimit": "10", "offset": "0"}),
)
def sms_transactional(
    fromTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    toTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    pageLimit: Annotated[Int32, Query()] = 10,
    offset: Annotated[Int32, Query()] = 0,
) -> TransactionalSmsResponse:
    found, page = transactional.contacted(caller(api).tenant_id, "sms", from_time=fromTime, to_time=toTime, limit=pageLimit, offset=offset)
    return TransactionalSmsResponse(
        pagination=Pagination(**page.as_pagination),
        data=[SmsContact(candidateId=c.candidate_id, candidatePhone=c.address) for c in found],
        status=200,
    )


@api.get(
    "/communications/sms/v1/activity",
    summary="Latest activity of an SMS",
    description=(
        "`status` is the provider's latest delivery state (DELIVERED, UNDELIVERED, READ, ...) once reported, else "
        "Parley's (QUEUED, SCHEDULED, SENT, FAILED, ...). 404 unless `activityId` is this tenant's SMS with `phoneNumber`."
    ),
    responses={200: {"description": "The SMS's latest state."}, **candidate_errors(404)},
    tags=["SMS Communications"],
    access=("table:read",),
    example=Example(
        query={"activityId": "01JD6Q0000EXAMPLE0000SMS01", "phoneNumber": "+15555550100"},
        headers={"x-ph-userid": "recruiter-42"},
        authorizer={"smsProvider": "sns", "smsSender": "+15555550199", "quietHours": "false", "timezone": "America/New_York"},
    ),
)
def sms_activity(
    activityId: Annotated[str, Query(min_length=1, max_length=128, description="The messageSID returned by /sms/v1/send")],
    phoneNumber: Annotated[Phone, Query(description="The number the SMS was exchanged with")],
    x_ph_userid: Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter")],
) -> SmsActivityResponse:
    who = caller(api)
    state, text = sms.sms_activity(who.tenant_id, activityId, phoneNumber, who.default_country)
    return SmsActivityResponse(data=SmsActivityData(message=text), status=state)


@api.get(
    "/communications/sms/v1/history",
    summary="SMS history in a time window",
    description="Inbound and outbound SMS, oldest first. `offset` counts records; `currentPage` = offset / limit.",
    responses={200: {"description": "A page of SMS history."}, **candidate_errors()},
    tags=["SMS Communications"],
    access=("table:read",),
    example=Example(
        query={"phone": "+15555550100", "fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T23:59:59Z", "limit": "20", "offset": "0"},
        authorizer={"smsProvider": "sns", "smsSender": "+15555550199", "quietHours": "false", "timezone": "America/New_York"},
    ),
)
def sms_history(
    fromTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    toTime: Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")],
    limit: Annotated[Int32, Query()],
    offset: Annotated[Int32, Query()],
    phone: Annotated[Phone | None, Query(description="Only SMS exchanged with this number")] = None,
    candidateId: Annotated[str | None, Query(max_length=128)] = None,
) -> SmsHistoryResponse:
    who = caller(api)
    found, page = history.channel_history(
        who.tenant_id,
        "sms",
        from_time=fromTime,
        to_time=toTime,
        limit=limit,
        offset=offset,
        address=phone,
        candidate_id=candidateId,
        region=who.default_country,
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
