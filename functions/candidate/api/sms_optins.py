"""The candidate API: sms optins.

- GET /communications/sms/v1/optIn — the SMS opt-in status of a phone number (or email).
- PUT /communications/sms/v1/optIn — opt a phone number (or email) in to SMS, or out.
- GET /communications/sms/v1/optIn/history — a phone number's opt-in changes, as a Spring Page.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import caller
from parley.api.endpoint import Api, Example
from parley.api.params import CandidateId, Count, Recruiter
from parley.domain import optins
from parley.models.candidate import OptInDetails, OptInHistoryPage, OptInHistoryResponse, OptInRequest, OptInStatusResponse, Phone

api = Api("candidate", tags=["SMS Communications"])


@api.get(
    "/communications/sms/v1/optIn",
    ok="The opt-in status.",
    example=Example(query={"phoneNumber": "+15555550100"}),
)
def sms_optin_get(
    x_ph_userid: Recruiter,
    phoneNumber: Annotated[Phone | None, Query()] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> OptInStatusResponse:
    """SMS opt-in status

    A read: `status` is OPTED_IN or OPTED_OUT (no record = OPTED_OUT). PUT changes it.
    """
    who = caller(api)
    opted_in, address = optins.status(who.tenant_id, phone=phoneNumber, email=email, region=who.default_country)
    verdict = "opted in to" if opted_in else "not opted in to"
    return OptInStatusResponse(details=OptInDetails(message=f"{address} is {verdict} SMS"), status="OPTED_IN" if opted_in else "OPTED_OUT")


@api.put(
    "/communications/sms/v1/optIn",
    ok="Consent recorded.",
    access=("table:write",),
    example=Example(
        body={"phoneNumber": "+15555550100", "email": "ada@example.com", "optIn": True},
    ),
)
def sms_optin_put(
    body: OptInRequest,
    x_ph_userid: Recruiter,
) -> OptInStatusResponse:
    """Set SMS opt-in

    Sets consent for the phone number and/or email given; each change is added to the opt-in history.
    """
    who = caller(api)
    addresses = optins.update(
        who.tenant_id, phone=body.phoneNumber, email=body.email, opt_in=body.optIn, reason=f"Updated via API by {x_ph_userid}",
        region=who.default_country,
    )  # fmt: skip
    verb = "opted in to" if body.optIn else "opted out of"
    return OptInStatusResponse(details=OptInDetails(message=f"{' and '.join(addresses)} {verb} SMS"), status="SUCCESS")


@api.get(
    "/communications/sms/v1/optIn/history",
    ok="A page of opt-in changes.",
    example=Example(query={"phoneNumber": "+15555550100", "offset": "0", "size": "20"}),
)
def sms_optin_history(
    phoneNumber: Annotated[Phone, Query()],
    x_ph_userid: Recruiter,
    offset: Count = 0,
    size: Count = 20,
    communicationId: CandidateId = None,
) -> OptInHistoryResponse:
    """SMS opt-in history

    Newest first. `offset` is the page index and `size` the page size (Spring's PageRequest.of(offset, size)).
    """
    who = caller(api)
    page = optins.history(
        who.tenant_id, phone=phoneNumber, page=offset, size=size, communication_id=communicationId, region=who.default_country
    )
    return OptInHistoryResponse(status="SUCCESS", details=OptInHistoryPage.model_validate(page))
