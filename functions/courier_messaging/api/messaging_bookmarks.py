"""The courier messaging API (seed 003): messaging-bookmarks, messages pinned in a channel (docs/courier.md
"Attachments and bookmarks").

- GET /v1/messaging-bookmarks/ — an organization's bookmarks in the caller's channels (``filter[channel-id]``)
- POST /v1/messaging-bookmarks/ — pin a message (``allow-multi-message=false``, the default: one per channel)
- GET /v1/messaging-bookmarks/{id}/ — one

Only the channel's members see its bookmarks: anyone else gets 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import channel_bookmarks
from parley.models.channel_bookmarks import TYPE, BookmarkAttributes, BookmarkCreateAttributes
from parley.models.jsonapi import RequestDocument

api = Api("courier_messaging", tags=["Messaging bookmarks"], example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="The organization (required).")
]
ChannelFilter = Annotated[
    str | None,
    Query(alias="filter[channel-id]", min_length=1, max_length=128, pattern=IdPattern, description="Only this channel's bookmarks."),
]
IndividualId = Annotated[
    str | None,
    Query(
        alias="individual-id",
        min_length=1,
        max_length=128,
        pattern=IdPattern,
        description="The acting individual (one of the user's; default: the user's primary individual).",
    ),
]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_CHANNEL = "44444444-4444-4444-4444-444444444444"
SAMPLE_MESSAGE = "22222222-2222-2222-2222-222222222222"


@api.get(
    "/v1/messaging-bookmarks",
    responses={200: jsonapi.list_doc(BookmarkAttributes, "A page of bookmarks, oldest first.")},
    errors=(403, 404, 422),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_messaging_bookmarks(
    organization_id: OrganizationId,
    channel_id: ChannelFilter = None,
    individual_id: IndividualId = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List bookmarks

    The organization's bookmarks in the channels the acting individual is a member of, oldest first; with
    `filter[channel-id]` that channel's (404 unless a member). 404 when the tenant has no such organization. `meta`
    carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    items, total = channel_bookmarks.page(who.tenant_id, individual, organization_id, channel_id=channel_id, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, BookmarkAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-bookmarks",
    responses={
        201: jsonapi.single_doc(BookmarkAttributes, "The new bookmark."),
        200: jsonapi.single_doc(BookmarkAttributes, "The message was pinned in the channel already: its bookmark."),
    },
    access=("table:write",),
    errors=(403, 404, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {"allow-multi-message": False, "channel-id": SAMPLE_CHANNEL, "message-id": SAMPLE_MESSAGE},
            }
        }
    ),
)
def create_messaging_bookmark(body: RequestDocument[BookmarkCreateAttributes], individual_id: IndividualId = None) -> Response[str]:
    """Bookmark a message

    Pins `message-id` in `channel-id` (both required; the message must be in that channel: 422). With
    `allow-multi-message` false (the default) the channel keeps this one bookmark only: its others are deleted. The
    channel's `bookmark` becomes this one. The same message pinned again answers its bookmark (200). 404 unless the
    acting individual is a member of the channel.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    individual = who.individual(individual_id, parameter="individual-id")
    (bookmark_id, out), created = channel_bookmarks.create(who.tenant_id, individual, attrs, user_id=who.user_id)
    return jsonapi.single(TYPE, bookmark_id, out, status=201 if created else 200)


@api.get(
    "/v1/messaging-bookmarks/<id>",
    responses={200: jsonapi.single_doc(BookmarkAttributes, "The bookmark.")},
    errors=(403, 404, 422),
)
def get_messaging_bookmark(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get a bookmark

    404 unless the acting individual is a member of its channel (an unknown id, another tenant's, a non-member's).
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    return jsonapi.single(TYPE, *channel_bookmarks.get(who.tenant_id, individual, id))
