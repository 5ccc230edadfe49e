"""The courier voice API (seed 003): voice-dial-logs, each call leg's status as Twilio's status callbacks report it
(docs/courier.md "Voice (issue 20)" → "Agents, conferences and dial logs").

- GET /v1/voice-dial-logs/ — an organization's call legs (``organization-id`` required; ``filter[conference-id]``,
  ``filter[individual-id]``)
- GET /v1/voice-dial-logs/{id}/ — one (``individual-id`` optional)

Written only by ``parley.domain.voice_calls.apply_status`` (the signature-checked status callbacks); another tenant's
ids are 404s.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_calls
from parley.models.voice_calls import DIAL_LOGS, DialLogAttributes

api = Api("courier_voice_video", tags=["Voice dial logs"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
_ID = r"^[A-Za-z0-9._:-]+$"
OrganizationId = Annotated[str, Query(alias="organization-id", min_length=1, max_length=128, pattern=_ID, description="The organization.")]
ConferenceFilter = Annotated[
    str | None, Query(alias="filter[conference-id]", min_length=1, max_length=128, pattern=_ID, description="Only this conference's legs.")
]
IndividualFilter = Annotated[
    str | None, Query(alias="filter[individual-id]", min_length=1, max_length=128, pattern=_ID, description="Only this individual's legs.")
]
IndividualId = Annotated[str | None, Query(alias="individual-id", min_length=1, max_length=128, pattern=_ID, description="The individual.")]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"


@api.get(
    "/v1/voice-dial-logs",
    responses={200: jsonapi.list_doc(DialLogAttributes, "A page of the organization's call legs, newest first.")},
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_voice_dial_logs(
    organization_id: OrganizationId,
    conference_id: ConferenceFilter = None,
    individual_id: IndividualFilter = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List dial logs

    The call legs of `organization-id` (required), newest first: `status` is Twilio's latest call status (queued,
    initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled; never moves back), `call-duration`
    seconds once it ended. `filter[conference-id]` (a conference's legs) and `filter[individual-id]` narrow it.
    `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = voice_calls.dials_page(who.tenant_id, organization_id, conference_id, individual_id, offset=offset, limit=limit)
    return jsonapi.listing(DIAL_LOGS, items, DialLogAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/voice-dial-logs/<id>", responses={200: jsonapi.single_doc(DialLogAttributes, "The dial log.")}, errors=(404,))
def get_voice_dial_log(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get one dial log

    404 when the tenant has no such dial log (another tenant's included), or when `individual-id` is given and is not
    the leg's individual.
    """
    who = courier_caller(api)
    return jsonapi.single(DIAL_LOGS, *voice_calls.get_dial(who.tenant_id, id, individual_id))
