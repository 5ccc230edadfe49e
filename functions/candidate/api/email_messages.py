"""The candidate API: email messages.

- POST /communications/email/v1/send — accept one email to a candidate and queue it.
- GET /communications/email/v1/activity — the events recorded so far for one email.
- GET /communications/email/v1/history — a tenant's email (both directions) in a time window.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import caller, sender
from parley.api.endpoint import Api, Example
from parley.api.params import SAMPLE_WINDOW, CandidateId, Count, FromTime, Recruiter, ToTime
from parley.domain import emails, history
from parley.models.candidate import (
    EmailAck,
    EmailActivityItem,
    EmailActivityResponse,
    EmailHistoryResponse,
    SendEmailRequest,
    SendEmailResponse,
)

api = Api("candidate", tags=["Email Communications"])


@api.send(
    "/communications/email/v1/send",
    ok="The email was accepted for delivery.",
    access=("table:write", "send-queue", "bodies:write"),
    example=Example(
        headers={"Idempotency-Key": "7b1f5c1e-send-1"},
        body={
            "subject": "Your interview on Tuesday",
            "emailContent": "<p>Hi Ada,</p><p>See you on Tuesday at 10:00.</p>",
            "toEmail": "ada@example.com",
        },
    ),
)
def send_email(
    body: SendEmailRequest,
    x_ph_userid: Recruiter,
) -> SendEmailResponse:
    """Send an email to a candidate

    Queues the email for delivery. An `Idempotency-Key` header makes retries safe.
    """
    activity_id = emails.send_candidate_email(sender(api, x_ph_userid), to=body.toEmail, subject=body.subject, content=body.emailContent)
    return SendEmailResponse(data=EmailAck(emailActivityId=activity_id, message="Email accepted for delivery"), status=200)


@api.get(
    "/communications/email/v1/activity",
    ok="The email's activity events, oldest first.",
    errors=(404,),
    example=Example(query={"emailActivityId": "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"}),
)
def email_activity(
    emailActivityId: Annotated[str, Query(min_length=1, max_length=64)],
    x_ph_userid: Recruiter,
) -> EmailActivityResponse:
    """Get the activity of an email"""
    msg, events = emails.email_activity(caller(api).tenant_id, emailActivityId)
    return EmailActivityResponse(
        data=[
            EmailActivityItem(
                emailActivityId=msg.id,
                event=e.event,
                email=e.email or msg.recipient,
                ip=e.ip,
                createdDate=e.created_ms,
                response=e.response,
            )
            for e in events
        ],
        status=200,
    )


@api.get(
    "/communications/email/v1/history",
    ok="A page of email history.",
    access=("table:read", "bodies:read"),
    example=Example(query={"email": "ada@example.com", **SAMPLE_WINDOW, "limit": "20", "offset": "0"}),
)
def email_history(
    fromTime: FromTime,
    toTime: ToTime,
    limit: Count,
    offset: Count,
    email: Annotated[str | None, Query(max_length=254, description="Only email exchanged with this address")] = None,
    candidateId: CandidateId = None,
) -> EmailHistoryResponse:
    """Email history in a time window

    Inbound and outbound email, oldest first. `offset` counts records; `currentPage` = offset / limit.
    """
    return history.email_history(caller(api), fromTime, toTime, limit, offset, address=email, candidate_id=candidateId)
