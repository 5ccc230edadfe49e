"""The candidate API: forward profiles.

- POST /communications/email/v1/forward-profile — email a candidate's profile to a colleague.
- GET /communications/email/v1/forward-profile/activity — the forwards of one candidate's profile.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import caller, sender
from parley.api.endpoint import Api, Example
from parley.api.params import Count, Recruiter
from parley.domain import profiles
from parley.models.candidate import EmailAck
from parley.models.profiles import (
    ForwardActivity,
    ForwardActivityResponse,
    ForwardPagination,
    ForwardProfileRequest,
    ForwardProfileResponse,
)

api = Api(
    "candidate",
    tags=["Email Communications"],
    access=("table:write", "send-queue", "bodies:write"),
)


@api.send(
    "/communications/email/v1/forward-profile",
    ok="The profile was forwarded successfully.",
    example=Example(
        headers={"Idempotency-Key": "7b1f5c1e-forward-1"},
        body={"subject": "Strong backend candidate", "toEmail": "hiring.manager@acme.example", "candidateEmail": "ada@example.com"},
    ),
)
def forward_profile(
    body: ForwardProfileRequest,
    x_ph_userid: Recruiter,
) -> ForwardProfileResponse:
    """Forward a candidate's profile by email

    Composes the profile email (name, contact details, headline, location, profile link, last contact) of the candidate
    with `candidateEmail` and queues it to `toEmail`. An `Idempotency-Key` header makes retries safe.
    """
    activity_id = profiles.forward_profile(
        sender(api, x_ph_userid), subject=body.subject, to_email=body.toEmail, candidate_email=body.candidateEmail, to_name=body.toName
    )
    return ForwardProfileResponse(data=EmailAck(emailActivityId=activity_id, message="Profile forwarded for delivery"), status=200)


@api.get(
    "/communications/email/v1/forward-profile/activity",
    ok="A paginated list of forward profile activities.",
    access=("table:read",),
    example=Example(query={"email": "ada@example.com", "offset": "0", "limit": "10"}),
)
def forward_profile_activity(
    email: Annotated[str, Query(min_length=3, max_length=254, description="The forwarded candidate's email address")],
    x_ph_userid: Recruiter,
    offset: Count = 0,
    limit: Count = 10,
    communicationId: Annotated[str | None, Query(max_length=128, description="Only the forward with this emailActivityId")] = None,
) -> ForwardActivityResponse:
    """Forward-profile activity of a candidate

    Newest first. `email` is the forwarded candidate's address; `offset` counts records; `currentPage` = offset / limit.
    """
    items, page = profiles.forward_activity(
        caller(api).tenant_id, email=email, offset=offset, limit=limit, communication_id=communicationId
    )
    pagination = {k: v for k, v in page.as_pagination.items() if k != "hasErrors"}
    return ForwardActivityResponse(pagination=ForwardPagination(**pagination), data=[ForwardActivity(**i) for i in items], status=200)
