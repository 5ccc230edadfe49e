"""The inbox (seed 003 ``GET /v1/communication-messages/``; docs/courier.md "Messages and the inbox"): the calling
individual's channels, answered as ``messaging-channels``, with exact unread counts from the per-member state kept
when messages are posted and acknowledged (parley.domain.channel_inbox)."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api
from parley.domain import channel_inbox
from parley.models.channel_messages import CHANNEL_TYPE, InboxChannelAttributes

api = Api("courier_messaging", tags=["Inbox"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit(maximum=100, default=100)  # the seed: 1..100 (no default given: 100)
ChannelType = Literal["direct-message", "group-message", "multicast", "none", "open", "single"]
IndividualId = Annotated[str | None, Query(alias="individual-id", min_length=1, max_length=128, description="The acting individual.")]
OrgId = Annotated[
    str | None, Query(alias="organization-id", min_length=1, max_length=128, description="Only this organization's channels.")
]
Archived = Annotated[bool | None, Query(alias="filter[archived]", description="Only (un)archived channels.")]
Bookmarked = Annotated[bool | None, Query(alias="filter[bookmarked]", description="Only channels with (without) a bookmark.")]
GroupId = Annotated[str | None, Query(alias="filter[individual-group-id]", min_length=1, max_length=128, description="Only this group's.")]
Text = Annotated[
    str | None, Query(alias="filter[text]", min_length=1, max_length=512, description="Substring of the name, label or last message.")
]
Kind = Annotated[ChannelType | None, Query(alias="filter[type]", description="direct-message, group-message, or the subscription type.")]
UseGroupName = Annotated[bool, Query(alias="use-group-name", description="Accepted (the stored name is answered).")]
SORTABLE = ("ack-timestamp", "last-timestamp", "unread-count")


@api.get(
    "/v1/communication-messages",
    responses={200: jsonapi.list_doc(InboxChannelAttributes, "A page of the caller's channels.")},
    errors=(403, 422),
)
def list_communication_messages(
    individual_id: IndividualId = None,
    organization_id: OrgId = None,
    archived: Archived = None,
    bookmarked: Bookmarked = None,
    group_id: GroupId = None,
    text: Text = None,
    kind: Kind = None,
    modified: jsonapi.window_param("last-modified-time") = None,
    use_group_name: UseGroupName = True,
    sort: jsonapi.Sort = None,
    limit: Limit = 100,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """The caller's inbox

    Every channel of the acting individual (`individual-id`, else the user's primary) with `caller-has-new-message`
    and `caller-new-message-count` (exact: the caller's read marker against the channel's posts), `last-message` and
    `bookmark`. `sort`: one of `last-timestamp` (default `-last-timestamp`: latest activity first), `unread-count`,
    `ack-timestamp` (a `-` prefix sorts descending), each served by an index. Filters: `organization-id`,
    `filter[archived]`, `filter[bookmarked]`, `filter[type]`, `filter[text]`, `filter[individual-group-id]`,
    `filter[cmp-last-modified-time]`. `subscribers` and `individual-group` are not expanded here (GET the channel).
    `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    me = who.individual(individual_id, parameter="individual-id")
    order = jsonapi.parse_sort(sort, SORTABLE, default=[("last-timestamp", True)])
    if len(order) > 1:
        from parley.errors import BadRequest

        raise BadRequest("sort by one field (ack-timestamp, last-timestamp or unread-count)", parameter="sort", code="invalid-sort")
    ((field, descending),) = order
    window = jsonapi.parse_window(modified, "last-modified-time") if modified else None
    keep = channel_inbox.channel_filter(archived=archived, bookmarked=bookmarked, kind=kind, text=text, group_id=group_id, modified=window)
    rows, total, _cost = channel_inbox.page(who.tenant_id, me, sort=field, descending=descending, offset=offset, limit=limit,
                                            organization_id=organization_id, keep=keep)  # fmt: skip
    out = [(channel["id"], channel_inbox.attributes(channel, member)) for channel, member in rows]
    return jsonapi.listing(CHANNEL_TYPE, out, InboxChannelAttributes, total=total, limit=limit, offset=offset)
