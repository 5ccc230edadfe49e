"""The courier video API (seed 003): video-participants, who joined a video visit and their audio, fed by Twilio
Video's room callbacks (docs/courier.md "Video (issue 20)" → "Participants, compositions and Twilio Video's callbacks").

- GET /v1/video-participants/ — a channel's participants (``video-channel-id`` required; ``individual-id`` narrows)
- GET /v1/video-participants/{id}/ — one
- PATCH /v1/video-participants/{id}/ — ``audio-state``, ``disconnected``, ``note``

Tenant-scoped: another tenant's channel or participant is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import video_participants
from parley.models.jsonapi import RequestDocument
from parley.models.video import PARTICIPANTS, ParticipantAttributes, ParticipantPatchAttributes

api = Api("courier_voice_video", tags=["Video participants"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
_ID = r"^[A-Za-z0-9._:-]+$"
ChannelId = Annotated[str, Query(alias="video-channel-id", min_length=1, max_length=128, pattern=_ID, description="The video channel.")]
IndividualId = Annotated[
    str | None,
    Query(alias="individual-id", min_length=1, max_length=128, pattern=_ID, description="Only this individual's participant."),
]
SAMPLE_CHANNEL = "44444444-4444-4444-4444-444444444444"


@api.get(
    "/v1/video-participants",
    responses={200: jsonapi.list_doc(ParticipantAttributes, "A page of the channel's participants.")},
    errors=(404, 422),
    example=Example(query={"video-channel-id": SAMPLE_CHANNEL}),
)
def list_video_participants(
    video_channel_id: ChannelId,
    individual_id: IndividualId = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """Returns participants

    The video channel's participants (`video-channel-id`, required: 404 when the tenant has no such channel), by
    individual id; `individual-id` narrows the list to that individual's participant. `meta` carries `page[total]`,
    `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = video_participants.page(who.tenant_id, video_channel_id, individual_id=individual_id, offset=offset, limit=limit)
    return jsonapi.listing(PARTICIPANTS, items, ParticipantAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/video-participants/<id>", responses={200: jsonapi.single_doc(ParticipantAttributes, "The participant.")}, errors=(404,))
def get_video_participant(id: ResourceId) -> Response[str]:
    """Returns specific participant

    404 when the tenant has no such participant (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(PARTICIPANTS, *video_participants.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/video-participants/<id>",
    responses={200: jsonapi.single_doc(ParticipantAttributes, "The participant as changed.")},
    access=("table:write",),
    errors=(404, 409, 422),
    example=Example(body={"data": {"type": PARTICIPANTS, "id": SAMPLE.path["id"], "attributes": {"audio-state": "muted", "note": "ok"}}}),
)
def update_video_participant(id: ResourceId, body: RequestDocument[ParticipantPatchAttributes]) -> Response[str]:
    """Modify participant

    `audio-state` (`muted` | `unmuted`), `disconnected` (`true` marks the participant as having left; `false` for one
    who left is a 409 `not-connected`: only joining the room connects again) and `note` (`null` removes it). An absent
    attribute is kept. `data.id` must be the path's id (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, PARTICIPANTS, id)
    return jsonapi.single(PARTICIPANTS, *video_participants.update(who.tenant_id, id, attrs, by=who.user_id))
