"""The courier voice API (seed 003): voice-queue-agents, the individuals taking a voice-setting's queued calls, in the
browser (a Voice access token) or on a phone (``use-pstn``) (docs/courier.md "Voice (issue 20)" → "Agents, conferences
and dial logs").

- GET /v1/voice-queue-agents/ — the agents of one setting (``setting-id`` required)
- POST /v1/voice-queue-agents/ — sign an agent in (``setting-id``, ``individual-id``, ``use-pstn``, ``phone-number``)
- GET /v1/voice-queue-agents/{id}/ — one

Signing in acts for a user (the bearer token's subject, or ``X-User-ID`` with the API key) and for one of that user's
individuals; reading is the tenant's. Another tenant's ids are 404s.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_calls
from parley.models.jsonapi import RequestDocument
from parley.models.voice_calls import AGENTS, AgentAttributes, AgentCreate

api = Api("courier_voice_video", tags=["Voice queue agents"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
SettingId = Annotated[
    str, Query(alias="setting-id", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The voice-setting (queue).")
]
SAMPLE_SETTING = "55555555-5555-5555-5555-555555555555"


@api.get(
    "/v1/voice-queue-agents",
    responses={200: jsonapi.list_doc(AgentAttributes, "A page of the queue's agents, newest sign-in first.")},
    errors=(404,),
    example=Example(query={"setting-id": SAMPLE_SETTING}),
)
def list_voice_queue_agents(setting_id: SettingId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List a queue's agents

    The agents signed in to `setting-id` (required; 404 when the tenant has no such voice-setting). `call` is an
    agent's current call (a voice-dial-log) while one rings or is in progress. `access-token` is answered only by
    the sign-in (null here). `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = voice_calls.agents_page(who.tenant_id, setting_id, offset=offset, limit=limit)
    return jsonapi.listing(AGENTS, items, AgentAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/voice-queue-agents",
    responses={201: jsonapi.single_doc(AgentAttributes, "The agent, signed in; a browser agent with its access token.")},
    access=("table:write", "texting-secrets"),
    errors=(403, 404, 422, 502),
    example=Example(
        body={
            "data": {
                "type": AGENTS,
                "attributes": {"setting-id": SAMPLE_SETTING, "individual-id": "22222222-2222-2222-2222-222222222222", "use-pstn": False},
            }
        }
    ),
)
def create_voice_queue_agent(body: RequestDocument[AgentCreate]) -> Response[str]:
    """Sign an agent in to a queue

    `setting-id` (required; 404 when the tenant has no such voice-setting) and `individual-id` (one of the acting
    user's individuals, 403 otherwise; defaults to the user's primary individual). A browser agent (`use-pstn`
    false) gets `access-token`: a Twilio Voice access token (JWT) for the identity `individual-id`, incoming calls
    allowed, valid one hour, signed with the setting's Twilio account's API key. A PSTN agent (`use-pstn` true)
    gives `phone-number` (E.164, or national in the US; required then) and gets no token. One agent per individual
    and queue: signing in again replaces the first (same id).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, AGENTS)
    user = who.acting_user()
    individual = who.individual(attrs.individual_id, pointer=voice_calls.pointer("individual-id"))
    return jsonapi.single(AGENTS, *voice_calls.create_agent(who.tenant_id, user, individual, attrs), status=201)


@api.get("/v1/voice-queue-agents/<id>", responses={200: jsonapi.single_doc(AgentAttributes, "The agent.")}, errors=(404,))
def get_voice_queue_agent(id: ResourceId) -> Response[str]:
    """Get one queue agent

    404 when the tenant has no such agent (another tenant's included). `access-token` is null (answered only by the
    sign-in).
    """
    who = courier_caller(api)
    return jsonapi.single(AGENTS, *voice_calls.get_agent(who.tenant_id, id))
