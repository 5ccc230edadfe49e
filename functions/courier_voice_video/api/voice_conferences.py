"""The courier voice API (seed 003): voice-conferences, calls between a provider and an individual through a Twilio
conference (docs/courier.md "Voice (issue 20)" → "Agents, conferences and dial logs").

- GET /v1/voice-conferences/ — an organization's conferences (``organization-id`` required; ``filter[individual-id]``,
  ``filter[states]``)
- POST /v1/voice-conferences/ — start one (``organization-id``, ``individual-id``; ours: ``phone-number``)
- GET /v1/voice-conferences/{id}/ — one (``individual-id`` optional)
- GET /v1/voice-conferences/{id}/get-credentials/ — a Voice access token for ``individual-id`` (plain JSON)

A conference is the tenant's: another tenant's id is a 404.
"""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import StringConstraints

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_calls
from parley.errors import BadRequest
from parley.models.jsonapi import RequestDocument
from parley.models.voice_calls import CONFERENCE_STATES, CONFERENCES, ConferenceAttributes, ConferenceCreate, Credentials

api = Api("courier_voice_video", tags=["Voice conferences"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
_ID = r"^[A-Za-z0-9._:-]+$"
OrganizationId = Annotated[str, Query(alias="organization-id", min_length=1, max_length=128, pattern=_ID, description="The organization.")]
IndividualFilter = Annotated[
    str | None, Query(alias="filter[individual-id]", min_length=1, max_length=128, pattern=_ID, description="Only this individual's.")
]
States = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None,
    Query(alias="filter[states]", max_length=4, description="Only conferences in these states (repeated or comma-separated): "
          "created, running, completed, failed."),
]  # fmt: skip
IndividualId = Annotated[str | None, Query(alias="individual-id", min_length=1, max_length=128, pattern=_ID, description="The individual.")]
RequiredIndividual = Annotated[
    str, Query(alias="individual-id", min_length=1, max_length=128, pattern=_ID, description="Whose token (its identity).")
]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"


def _states(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    states = sorted({s.strip() for v in values for s in v.split(",") if s.strip()})
    unknown = [s for s in states if s not in CONFERENCE_STATES]
    if unknown:
        raise BadRequest(f"filter[states]: unknown state(s) {', '.join(unknown)} (one of {', '.join(CONFERENCE_STATES)})",
                         parameter="filter[states]", code="invalid-parameter")  # fmt: skip
    return states or None


@api.get(
    "/v1/voice-conferences",
    responses={200: jsonapi.list_doc(ConferenceAttributes, "A page of the organization's conferences, newest first.")},
    errors=(400,),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_voice_conferences(
    organization_id: OrganizationId,
    individual_id: IndividualFilter = None,
    states: States = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List voice conferences

    The conferences of `organization-id` (required), newest first; `filter[individual-id]` narrows to one
    individual's, `filter[states]` to some states (created, running, completed, failed; an unknown one is a 400).
    `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = voice_calls.conferences_page(who.tenant_id, organization_id, individual_id, _states(states), offset=offset, limit=limit)
    return jsonapi.listing(CONFERENCES, items, ConferenceAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/voice-conferences",
    responses={201: jsonapi.single_doc(ConferenceAttributes, "The conference, `created`: Twilio is calling the individual.")},
    access=("table:write", "texting-secrets", "voice-callback-url"),
    errors=(404, 422, 502, 503),
    example=Example(
        body={"data": {"type": CONFERENCES, "attributes": {"organization-id": SAMPLE_ORG, "individual-id": SAMPLE_INDIVIDUAL}}}
    ),
)
def create_voice_conference(body: RequestDocument[ConferenceCreate]) -> Response[str]:
    """Start a voice conference

    `organization-id` and `individual-id` (both required; 404 when the tenant's directory has no such organization
    or individual). Twilio calls the individual into a conference of its own, from the organization's first
    text-account's number (422 when the organization has no text-account or it has no number): in the browser
    (`client:<individual-id>`, whose Voice SDK holds a token from `get-credentials`), or on `phone-number` (ours,
    optional, E.164). `state` moves forward with the call's status callbacks: `created` → `running` (answered) →
    `completed`, or `failed` (not answered, busy, refused). A refusal by Twilio leaves the conference `failed` and
    answers 422 (the request's fault) or 502.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, CONFERENCES)
    return jsonapi.single(CONFERENCES, *voice_calls.create_conference(who.tenant_id, who.user_id, attrs), status=201)


@api.get("/v1/voice-conferences/<id>", responses={200: jsonapi.single_doc(ConferenceAttributes, "The conference.")}, errors=(404,))
def get_voice_conference(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get one conference

    404 when the tenant has no such conference (another tenant's included), or when `individual-id` is given and is
    not the conference's individual.
    """
    who = courier_caller(api)
    return jsonapi.single(CONFERENCES, *voice_calls.get_conference(who.tenant_id, id, individual_id))


@api.get(
    "/v1/voice-conferences/<id>/get-credentials",
    responses={200: {"description": "The access token (plain JSON).", "content": {"application/json": {"model": Credentials}}}},
    access=("table:read", "texting-secrets"),
    errors=(404, 409, 502),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def get_voice_conference_credentials(id: ResourceId, individual_id: RequiredIndividual) -> Response[str]:
    """Get a voice client access token

    `{"access-token": …}`: a Twilio Voice access token (JWT, HS256, valid one hour) for the identity `individual-id`
    (required; 404 when the tenant's directory has no such individual), incoming calls allowed, signed with an API key
    of the conference's Twilio account (created once per account through Twilio's `Keys.json`). 404 for an unknown
    conference; 409 when it is `completed` or `failed`.
    """
    who = courier_caller(api)
    token = voice_calls.credentials(who.tenant_id, id, individual_id)
    return Response(status_code=200, content_type="application/json", body=json.dumps({"access-token": token}))
