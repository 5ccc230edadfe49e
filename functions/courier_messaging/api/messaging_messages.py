"""The courier channel messages (seed 003 ``messaging-messages``; docs/courier.md "Messages and the inbox").

- GET /v1/messaging-messages/ — a channel's posted messages, newest first (``channel-id`` required)
- POST /v1/messaging-messages/ — post a message (or store a draft)
- GET /v1/messaging-messages/{id}/ — one
- PATCH /v1/messaging-messages/{id}/ — edit the text, publish a draft, ``removed`` (soft delete); the author only
- POST /v1/messaging-messages/{id}/ack/ — move the caller's read marker to the message
- POST /v1/messaging-messages/{id}/add-reaction/, /delete-reaction/ — one reaction per individual and type
- GET /v1/messaging-messages/{id}/get-receipts/ — ``{read: [...], unread: [...]}`` from the members' markers

Every route acts for an individual of the acting user (``individual-id``, else the user's primary individual) and
answers only a member of the message's channel: anyone else, and another tenant, gets 404.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import channel_messages as messages
from parley.errors import Unprocessable
from parley.models.channel_messages import MESSAGE_TYPE, AckBody, MessageAttributes, MessageCreate, MessageUpdate, ReactionBody, Receipts
from parley.models.jsonapi import RequestDocument

api = Api("courier_messaging", tags=["Messages"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
ChannelId = Annotated[str, Query(alias="channel-id", min_length=1, max_length=128, description="The channel (required).")]
IndividualId = Annotated[
    str | None,
    Query(alias="individual-id", min_length=1, max_length=128, description="The acting individual (default: the user's primary)."),
]
Flag = Annotated[bool, Query(description="Accepted as the seed declares it.")]
WRITE_ACCESS = ("table:write", "channel-events-queue")
SAMPLE_CHANNEL = "33333333-3333-3333-3333-333333333333"
PLAIN = "application/json"


def _answer(who: Any, item: dict, individual: str, *, status: int = 200, member: dict | None = None) -> Response[str]:
    from parley.domain import channels

    if member is None:
        _channel, member = channels.require_member(who.tenant_id, item["channel_id"], individual)
    ((mid, attrs),) = messages.attributes(who.tenant_id, [item], member)
    return jsonapi.single(MESSAGE_TYPE, mid, attrs, status=status)


@api.get(
    "/v1/messaging-messages",
    responses={200: jsonapi.list_doc(MessageAttributes, "A page of the channel's posted messages, newest first.")},
    example=Example(query={"channel-id": SAMPLE_CHANNEL}),
)
def list_messaging_messages(
    channel_id: ChannelId,
    individual_id: IndividualId = None,
    user_id: Annotated[str | None, Query(alias="user-id", min_length=1, max_length=128, description="Only this user's posts.")] = None,
    acknowledged: Annotated[bool | None, Query(description="true: only messages within the caller's read marker; false: after it.")] = None,
    text: Annotated[
        str | None, Query(alias="filter[text]", min_length=1, max_length=255, description="Case-insensitive substring.")
    ] = None,
    posted: jsonapi.window_param("posted-time") = None,
    modified: jsonapi.window_param("last-modified-time") = None,
    include_read_receipts: Annotated[bool, Query(alias="include-read-receipts", description="Answer `read-receipts`.")] = False,
    include_phrases: Annotated[bool, Query(alias="include-phrases", description="Accepted; `phrases` is null.")] = False,
    thumbnail: Annotated[bool, Query(description="Accepted; attachments carry no link in a list.")] = False,
    drafts: Annotated[
        bool, Query(alias="filter[draft]", description="Our extension: true lists the caller's own drafts of the channel instead.")
    ] = False,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List a channel's messages

    The posted messages of `channel-id` (required; 404 unless the caller is a member), newest first. `acknowledged`
    keeps those within (true) or after (false) the caller's read marker (a key range); `user-id` keeps one author's;
    `filter[text]` a case-insensitive substring; `filter[cmp-posted-time]` / `filter[cmp-last-modified-time]` windows.
    `filter[draft]=true` (our extension) lists the caller's own drafts of the channel instead, newest first (with
    `filter[text]` and the windows; `acknowledged` and `user-id` do not apply: 400). `include-read-receipts` adds
    each message's readers. `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    messages.require_channel(who.tenant_id, channel_id, parameter="channel-id")
    me = who.individual(individual_id, parameter="individual-id")
    items, total, member = messages.page(
        who.tenant_id, channel_id, me, offset=offset, limit=limit, text=text, author_user=user_id, acknowledged=acknowledged,
        posted=jsonapi.parse_window(posted, "posted-time") if posted else None,
        modified=jsonapi.parse_window(modified, "last-modified-time") if modified else None, drafts=drafts,
    )  # fmt: skip
    out = messages.attributes(who.tenant_id, items, member, read_receipts=include_read_receipts)
    return jsonapi.listing(MESSAGE_TYPE, out, MessageAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-messages",
    responses={201: jsonapi.single_doc(MessageAttributes, "The message (posted, or a draft).")},
    errors=(403, 404, 422),
    access=WRITE_ACCESS,
    example=Example(body={"data": {"type": MESSAGE_TYPE, "attributes": {"channel-id": SAMPLE_CHANNEL, "message": "On my way."}}}),
)
def create_messaging_message(body: RequestDocument[MessageCreate]) -> Response[str]:
    """Post a message

    `channel-id` and `message` are required (422 naming the member); the caller must be a member (404 otherwise),
    and the channel not archived (409). `draft: true` stores it for its author only (publish it with PATCH `draft:
    false`). `source`: api (default), app, web or auto-responder. `attachments`: ids of ready attachments of this
    channel (messaging-attachments), moved to the message. The author's read marker moves to the post unless
    `auto-ack` is false. `include-destinations` is accepted and not used (the seed does not say what it does).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, MESSAGE_TYPE)
    for name, member in (("channel_id", "channel-id"), ("message", "message")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=f"/data/attributes/{member}", code="missing-member")
    me = who.individual(attrs.individual_id, pointer="/data/attributes/individual-id")  # then post: 404 unless a member
    auto_ack = attrs.auto_ack not in (False, "false")
    out: dict = {}
    item = messages.post(who.tenant_id, attrs.channel_id, me, attrs.message, source=attrs.source or "api", user_id=who.user_id,
                         draft=attrs.draft, attachment_ids=list(attrs.attachments or ()), auto_ack=auto_ack, out=out)  # fmt: skip
    return _answer(who, item, me, status=201, member=out.get("member"))


@api.get("/v1/messaging-messages/<id>", responses={200: jsonapi.single_doc(MessageAttributes, "The message.")})
def get_messaging_message(
    id: ResourceId,
    individual_id: IndividualId = None,
    include_phrases: Annotated[bool, Query(alias="include-phrases", description="Accepted; `phrases` is null.")] = False,
    thumbnail: Annotated[bool, Query(description="Accepted; an attachment's thumbnail link is on the attachment.")] = False,
) -> Response[str]:
    """Get one message

    404 unless the caller is a member of its channel (a draft: its author only).
    """
    who = courier_caller(api)
    messages.stored(who.tenant_id, id)
    me = who.individual(individual_id, parameter="individual-id")
    item, _channel = messages.require_message(who.tenant_id, id, me)
    return _answer(who, item, me)


@api.route(
    "PATCH",
    "/v1/messaging-messages/<id>",
    responses={200: jsonapi.single_doc(MessageAttributes, "The message as changed.")},
    errors=(403, 404, 422),
    access=WRITE_ACCESS,
    example=Example(body={"data": {"type": MESSAGE_TYPE, "attributes": {"message": "Edited."}}}),
)
def update_messaging_message(id: ResourceId, body: RequestDocument[MessageUpdate]) -> Response[str]:
    """Change a message

    The author only (403 for another member, 404 for anyone else): `message` edits the text, `draft: false`
    publishes a draft (it takes its place in the channel then), `removed: true` is the soft delete (the text is
    answered as "" from then on; a removed message cannot be edited: 409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, MESSAGE_TYPE, id)
    messages.stored(who.tenant_id, id)
    me = who.individual(attrs.individual_id, pointer="/data/attributes/individual-id")
    item = messages.edit(who.tenant_id, id, me, message=attrs.message, draft=attrs.draft, removed=attrs.removed)
    return _answer(who, item, me)


@api.post(
    "/v1/messaging-messages/<id>/ack",
    responses={201: jsonapi.single_doc(MessageAttributes, "The message, acknowledged.")},
    errors=(403, 404, 422),
    access=WRITE_ACCESS,
    example=Example(body={"allow-past": False}),
)
def ack_messaging_message(id: ResourceId, body: Annotated[AckBody | None, Body()] = None) -> Response[str]:
    """Acknowledge a message, and all messages before this

    Moves the caller's read marker in the channel to this message (a flat body: `individual-id`, `allow-past`); a
    marker already past it stays unless `allow-past` is true. The channel's unread count for the caller follows.
    """
    who = courier_caller(api)
    body = body or AckBody()
    messages.stored(who.tenant_id, id)
    me = who.individual(body.individual_id, pointer="/individual-id")
    item, state = messages.ack(who.tenant_id, id, me, allow_past=body.allow_past)
    return _answer(who, item, me, status=201, member=state)


def _react(id: str, body: ReactionBody, *, add: bool) -> Response[str]:
    who = courier_caller(api)
    messages.stored(who.tenant_id, id)
    me = who.individual(body.individual_id, pointer="/individual-id")
    item = messages.react(who.tenant_id, id, me, body.reaction_type, add=add)
    return _answer(who, item, me, status=201)


@api.post(
    "/v1/messaging-messages/<id>/add-reaction",
    responses={201: jsonapi.single_doc(MessageAttributes, "The message with its reactions.")},
    errors=(403, 404, 422),
    access=WRITE_ACCESS,
    example=Example(body={"reaction-type": "like"}),
)
def add_reaction_messaging_message(id: ResourceId, body: ReactionBody) -> Response[str]:
    """Add a reaction to a message

    `reaction-type` (dislike, like, lol, love, sad, wow) for the caller; one per individual and type (adding it again
    changes nothing). 409 on a removed message.
    """
    return _react(id, body, add=True)


@api.post(
    "/v1/messaging-messages/<id>/delete-reaction",
    responses={201: jsonapi.single_doc(MessageAttributes, "The message with its reactions.")},
    errors=(403, 404, 422),
    access=WRITE_ACCESS,
    example=Example(body={"reaction-type": "like"}),
)
def delete_reaction_messaging_message(id: ResourceId, body: ReactionBody) -> Response[str]:
    """Delete a reaction from a message

    Removes the caller's reaction of `reaction-type` (nothing to remove changes nothing).
    """
    return _react(id, body, add=False)


@api.get(
    "/v1/messaging-messages/<id>/get-receipts",
    responses={200: {"description": "Who has read the message (plain JSON, as the seed shows).", "content": {PLAIN: {"model": Receipts}}}},
)
def get_receipts_messaging_message(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get the read receipts of a message

    `read`: the members whose read marker is at or past the message (with `ack-time`, when the marker moved there);
    `unread`: the others. Plain JSON, not JSON:API.
    """
    who = courier_caller(api)
    messages.stored(who.tenant_id, id)
    me = who.individual(individual_id, parameter="individual-id")
    item, _channel = messages.require_message(who.tenant_id, id, me)
    answer = Receipts.model_validate(messages.receipts_body(who.tenant_id, item))
    return Response(status_code=200, content_type=PLAIN, body=answer.model_dump_json(by_alias=True))
