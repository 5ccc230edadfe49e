"""The courier voice API's recordings (seed 003, docs/courier.md "Voice (issue 20)" → "Voice media"): recordings and
voicemails of an organization's lines, fed by Twilio's recording callbacks, the audio in S3.

- GET /v1/voice-recordings/ — list (``organization-id``; filters individual, setting, states)
- GET /v1/voice-recordings/{id}/ — one, with a short-lived link to its audio (counted as a download)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_recordings
from parley.errors import BadRequest
from parley.models.courier_voice_media import RECORDINGS, VoiceRecordingAttributes

api = Api("courier_voice_video", tags=["Voice recordings"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier (Twilio's RecordingSid)")]
IdQuery = dict(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
OrganizationId = Annotated[str, Query(alias="organization-id", description="The organization whose recordings to list.", **IdQuery)]
ByIndividual = Annotated[str | None, Query(alias="filter[individual-id]", description="Only this individual's.", **IdQuery)]
BySetting = Annotated[str | None, Query(alias="filter[setting-id]", description="Only this voice setting's.", **IdQuery)]
ByStates = Annotated[
    str | None, Query(alias="filter[states]", max_length=64, description="Only these states, comma-separated: completed, inprogress.")
]
IndividualId = Annotated[str | None, Query(alias="individual-id", description="The recording's individual (else 404).", **IdQuery)]
STATES = ("completed", "inprogress")
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"


def states_of(value: str | None, allowed: tuple[str, ...]) -> list[str] | None:
    if value is None:
        return None
    states = [s.strip() for s in value.split(",") if s.strip()]
    wrong = [s for s in states if s not in allowed]
    if wrong or not states:
        raise BadRequest(f"filter[states] must name states among {', '.join(allowed)}", parameter="filter[states]", code="invalid-filter")
    return list(dict.fromkeys(states))


@api.get(
    "/v1/voice-recordings",
    responses={200: jsonapi.list_doc(VoiceRecordingAttributes, "A page of the organization's recordings, newest first.")},
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_voice_recordings(
    organization_id: OrganizationId,
    individual_id: ByIndividual = None,
    setting_id: BySetting = None,
    states: ByStates = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List recordings

    The recordings and voicemails of `organization-id` (required; 404 when the tenant has no such organization),
    newest first, with their transcription when Twilio gave one. `filter[states]` is comma-separated (`completed`: the
    audio is stored; `inprogress`: not yet). No links here: a get answers one (and counts the download).
    """
    who = courier_caller(api)
    wanted = states_of(states, STATES)
    items, total = voice_recordings.page(
        who.tenant_id, organization_id, individual_id=individual_id, setting_id=setting_id, states=wanted, offset=offset, limit=limit
    )
    return jsonapi.listing(RECORDINGS, items, VoiceRecordingAttributes, total=total, limit=limit, offset=offset)


@api.get(
    "/v1/voice-recordings/<id>",
    responses={200: jsonapi.single_doc(VoiceRecordingAttributes, "The recording, with a link to its audio when it is completed.")},
    access=("table:write", "bodies:read"),
)
def get_voice_recording(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get one recording

    A `completed` recording is answered with `url`, a pre-signed link to its MP3 valid 15 minutes (`url-expires-at`),
    and counts as a download (`download-count` + 1, as answered). An `inprogress` one has no link and is not counted.
    404 when the tenant has no such recording (another tenant's included), or when `individual-id` is not its
    individual.
    """
    who = courier_caller(api)
    return jsonapi.single(RECORDINGS, *voice_recordings.download(who.tenant_id, id, individual_id=individual_id))
