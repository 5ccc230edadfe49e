"""The courier video API (seed 003): video-compositions, a recorded visit's room composed into one file by Twilio
Video (docs/courier.md "Video (issue 20)" → "Participants, compositions and Twilio Video's callbacks").

- GET /v1/video-compositions/ — a channel's compositions (``video-channel-id`` required)
- GET /v1/video-compositions/{id}/ — one: status and percent, size, duration, and a short-lived link to the file

Tenant-scoped: another tenant's channel or composition is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import video_compositions
from parley.models.video import COMPOSITIONS, CompositionAttributes

api = Api("courier_voice_video", tags=["Video compositions"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
ChannelId = Annotated[
    str, Query(alias="video-channel-id", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The video channel.")
]
SAMPLE_CHANNEL = "44444444-4444-4444-4444-444444444444"


@api.get(
    "/v1/video-compositions",
    responses={200: jsonapi.list_doc(CompositionAttributes, "A page of the channel's compositions, oldest first.")},
    errors=(404, 422),
    example=Example(query={"video-channel-id": SAMPLE_CHANNEL}),
)
def list_video_compositions(
    video_channel_id: ChannelId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List the compositions of a video channel

    One per recorded room that ended (`video-channel-id`, required: 404 when the tenant has no such channel), oldest
    first. `media-url` is answered by the get only. `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = video_compositions.page(who.tenant_id, video_channel_id, offset=offset, limit=limit)
    return jsonapi.listing(COMPOSITIONS, items, CompositionAttributes, total=total, limit=limit, offset=offset)


@api.get(
    "/v1/video-compositions/<id>",
    responses={200: jsonapi.single_doc(CompositionAttributes, "The composition.")},
    access=("table:read", "texting-secrets"),
    errors=(404,),
)
def get_video_composition(id: ResourceId) -> Response[str]:
    """Get one composition

    `status` and `processing-status` (`enqueued`, `processing`, `completed`, `failed`), `processing-pct`, `size`
    (bytes) and `duration` (seconds) from Twilio's callbacks. Once completed, `media-url` is a link to the MP4 valid
    10 minutes (`media-url-expires-at`); null before, or when Twilio cannot be reached. 404 when the tenant has no
    such composition (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(COMPOSITIONS, *video_compositions.get(who.tenant_id, id))
