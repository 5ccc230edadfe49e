"""The courier voice API's surveys (seed 003, docs/courier.md "Voice (issue 20)" → "Voice media"): automated phone
surveys with an individual, one outbound call whose TwiML asks each question and records each answer.

- GET /v1/voice-surveys/ — list (``organization-id``; filters individual, states)
- POST /v1/voice-surveys/ — create (the call is asked of Twilio at once)
- GET /v1/voice-surveys/{id}/ — one, with its answers
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_surveys
from parley.errors import BadRequest
from parley.models.courier_voice_media import SURVEYS, VoiceSurveyAttributes, VoiceSurveyCreate
from parley.models.jsonapi import RequestDocument

api = Api("courier_voice_video", tags=["Voice surveys"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IdQuery = dict(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
OrganizationId = Annotated[str, Query(alias="organization-id", description="The organization whose surveys to list.", **IdQuery)]
ByIndividual = Annotated[str | None, Query(alias="filter[individual-id]", description="Only this individual's.", **IdQuery)]
ByStates = Annotated[
    str | None,
    Query(alias="filter[states]", max_length=64, description="Only these states, comma-separated: completed, created, failed, running."),
]
IndividualId = Annotated[str | None, Query(alias="individual-id", description="The survey's individual (else 404).", **IdQuery)]
STATES = ("completed", "created", "failed", "running")
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"


@api.get(
    "/v1/voice-surveys",
    responses={200: jsonapi.list_doc(VoiceSurveyAttributes, "A page of the organization's surveys, newest first.")},
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_voice_surveys(
    organization_id: OrganizationId,
    individual_id: ByIndividual = None,
    states: ByStates = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List surveys

    The surveys of `organization-id` (required; 404 when the tenant has no such organization), newest first.
    `filter[states]` is comma-separated.
    """
    who = courier_caller(api)
    wanted = None
    if states is not None:
        wanted = [s.strip() for s in states.split(",") if s.strip()]
        if not wanted or any(s not in STATES for s in wanted):
            detail = f"filter[states] must name states among {', '.join(STATES)}"
            raise BadRequest(detail, parameter="filter[states]", code="invalid-filter")
    items, total = voice_surveys.page(
        who.tenant_id, organization_id, individual_id=individual_id, states=wanted, offset=offset, limit=limit
    )
    return jsonapi.listing(SURVEYS, items, VoiceSurveyAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/voice-surveys",
    responses={201: jsonapi.single_doc(VoiceSurveyAttributes, "The survey: `running` (the call asked of Twilio) or `failed`.")},
    errors=(403, 422, 503),
    access=("table:write", "texting-secrets", "voice-callback-url"),
    example=Example(
        body={
            "data": {
                "type": SURVEYS,
                "attributes": {
                    "organization-id": SAMPLE_ORG,
                    "individual-id": "22222222-2222-2222-2222-222222222222",
                    "spec": {
                        "account-id": "44444444-4444-4444-4444-444444444444",
                        "phone-number": "+14155550123",
                        "questions": [{"prompt": "How do you feel today, from 1 to 5?", "input": "dtmf", "num-digits": 1}],
                    },
                },
            }
        }
    ),
)
def create_voice_survey(body: RequestDocument[VoiceSurveyCreate]) -> Response[str]:
    """Create a survey

    An automated phone survey with `individual-id` (one of the acting user's individuals, else 403; default the
    user's primary individual) in `organization-id` (required). `spec` (ours; the seed leaves it free-form):
    `account-id` (a text account of the organization: the call goes out through its Twilio account), `phone-number`
    (whom to call), optional `from-number` (one of the account's numbers; default the account's sender),
    `greeting`, `goodbye`, `language` (e.g. `en-US`) and `questions` (1..20: `prompt`, `input` `dtmf` | `speech` |
    `dtmf speech`, `num-digits`). The call is asked of Twilio at once: the survey is `running`, or `failed` with
    `error-message` when Twilio refused (201 either way: the survey exists). Each answer is recorded as it comes
    (`answers`); the survey is `completed` when every question has one.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, SURVEYS)
    user = who.acting_user()
    individual = who.individual(attrs.individual_id, pointer="/data/attributes/individual-id")
    created = voice_surveys.create(who.tenant_id, user, individual, who.caller.default_country, attrs)
    return jsonapi.single(SURVEYS, *created, status=201)


@api.get("/v1/voice-surveys/<id>", responses={200: jsonapi.single_doc(VoiceSurveyAttributes, "The survey and its answers.")})
def get_voice_survey(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get one survey

    Its state, `spec` and `answers` (one per answered question, in order). 404 when the tenant has no such survey
    (another tenant's included), or when `individual-id` is not its individual.
    """
    who = courier_caller(api)
    return jsonapi.single(SURVEYS, *voice_surveys.get(who.tenant_id, id, individual_id=individual_id))
