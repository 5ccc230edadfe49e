"""The candidate API: sms messages.

- POST /communications/sms/v1/send — send one SMS to an opted-in candidate (queued, or held for quiet hours).
- GET /communications/sms/v1/activity — the latest state of one SMS (the messageSID of /sms/v1/send).
- GET /communications/sms/v1/history — a tenant's SMS (both directions) in a time window.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import caller, sender
from parley.api.endpoint import Api, Example
from parley.api.params import SAMPLE_WINDOW, CandidateId, Count, FromTime, Recruiter, ToTime
from parley.domain import history, sms
from parley.models.candidate import Phone
from parley.models.sms import (
    SendSMSData,
    SendSMSRequest,
    SendSMSResponse,
    SmsActivityData,
    SmsActivityResponse,
    SmsHistoryResponse,
)

api = Api(
    "candidate",
    tags=["SMS Communications"],
    example=Example(authorizer={"smsProvider": "sns", "smsSender": "+15555550199", "quietHours": "false", "timezone": "America/New_York"}),
)


@api.send(
    "/communications/sms/v1/send",
    ok="The SMS was accepted (status SUCCESS).",
    access=("table:write", "send-queue", "scheduler"),
    example=Example(
        headers={"Idempotency-Key": "7b1f5c1e-sms-1"},
        body={"message": "Hi Ada, your interview is Tuesday 10:00.", "phoneNumber": "+15555550100"},
    ),
)
def send_sms(
    body: SendSMSRequest,
    x_ph_userid: Recruiter,
) -> SendSMSResponse:
    """Send an SMS to a candidate

    The number must be opted in (PUT /communications/sms/v1/optIn), else 400. The SMS is queued; with the tenant's quiet
    hours on, an SMS outside 08:00-21:00 in the recipient's time zone is held until the next 08:00 (see its activity).
    `messageSID` is the `activityId` of GET /communications/sms/v1/activity. An `Idempotency-Key` header makes retries
    safe.
    """
    message_id = sms.send_candidate_sms(sender(api, x_ph_userid), phone=body.phoneNumber, text=body.message)
    return SendSMSResponse(data=SendSMSData(messageSID=message_id, message=body.message), status="SUCCESS")


@api.get(
    "/communications/sms/v1/activity",
    ok="The SMS's latest state.",
    errors=(404,),
    example=Example(query={"activityId": "01JD6Q0000EXAMPLE0000SMS01", "phoneNumber": "+15555550100"}),
)
def sms_activity(
    activityId: Annotated[str, Query(min_length=1, max_length=128, description="The messageSID returned by /sms/v1/send")],
    phoneNumber: Annotated[Phone, Query(description="The number the SMS was exchanged with")],
    x_ph_userid: Recruiter,
) -> SmsActivityResponse:
    """Latest activity of an SMS

    `status` is the provider's latest delivery state (DELIVERED, UNDELIVERED, READ, ...) once reported, else Parley's
    (QUEUED, SCHEDULED, SENT, FAILED, ...). 404 unless `activityId` is this tenant's SMS with `phoneNumber`.
    """
    who = caller(api)
    state, text = sms.sms_activity(who.tenant_id, activityId, phoneNumber, who.default_country)
    return SmsActivityResponse(data=SmsActivityData(message=text), status=state)


@api.get(
    "/communications/sms/v1/history",
    ok="A page of SMS history.",
    example=Example(
        query={"phone": "+15555550100", **SAMPLE_WINDOW, "limit": "20", "offset": "0"},
    ),
)
def sms_history(
    fromTime: FromTime,
    toTime: ToTime,
    limit: Count,
    offset: Count,
    phone: Annotated[Phone | None, Query(description="Only SMS exchanged with this number")] = None,
    candidateId: CandidateId = None,
) -> SmsHistoryResponse:
    """SMS history in a time window

    Inbound and outbound SMS, oldest first. `offset` counts records; `currentPage` = offset / limit.
    """
    return history.sms_history(caller(api), fromTime, toTime, limit, offset, address=phone, candidate_id=candidateId)
