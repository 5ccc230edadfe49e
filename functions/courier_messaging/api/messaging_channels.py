"""The courier messaging channels (seed 003, docs/courier.md "Messaging" → "Channels"): conversations between an
organization's individuals.

- GET /v1/messaging-channels/ — the acting individual's channels
- POST /v1/messaging-channels/ — create one (group-bound, direct or floating)
- GET /v1/messaging-channels/{id}/ — one
- PATCH /v1/messaging-channels/{id}/ — change it (a partial object, or the seed's patch operations)
- POST /v1/messaging-channels/{id}/archive/, /unarchive/
- POST /v1/messaging-channels/{id}/subscribe/, /unsubscribe/ — add or remove members
- POST /v1/messaging-channels/{id}/preferences/ — the acting individual's own preferences (notify, pinned)
- GET /v1/messaging-channels/{id}/get-profile/ — another member's photo

Every route acts for an individual (``individual-id``, else the acting user's primary individual: docs/courier.md
"The acting user and individual-id") and answers only its channels: another tenant's channel, an unknown one and one
the individual is not a member of are the same 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import channels
from parley.domain.channel_views import Views
from parley.models.jsonapi import RequestDocument
from parley.models.messaging_channels import (
    CHANNEL_TYPE,
    PROFILE_TYPE,
    ChannelAttributes,
    ChannelCreate,
    ChannelPatchDocument,
    EmptyBody,
    Preferences,
    ProfileAttributes,
    Subscription,
)

api = Api("courier_messaging", tags=["Messaging channels"], access=("table:read",), example=SAMPLE)
WRITE = ("table:write", "channel-events-queue")

IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
Limit = jsonapi.page_limit(maximum=50, default=50)
IndividualId = Annotated[
    str | None,
    Query(
        alias="individual-id",
        min_length=1,
        max_length=128,
        pattern=IdPattern,
        description="The acting individual (one of the acting user's; default: the user's primary individual).",
    ),
]
UseGroupName = Annotated[bool, Query(alias="use-group-name", description="A group-bound channel is named after its individual-group.")]
SAMPLE_ORG = "22222222-2222-2222-2222-222222222222"
SAMPLE_INDIVIDUAL = "33333333-3333-3333-3333-333333333333"


def _acting(who: CourierCaller, individual_id: str | None, *, pointer: str | None = None) -> str:
    return who.individual(individual_id, pointer=pointer) if pointer else who.individual(individual_id, parameter="individual-id")


def _answer(
    who: CourierCaller, channel: dict, individual_id: str, *, status: int = 200, use_group_name: bool = True, include_group: bool = False
) -> Response[str]:
    from parley.dal import channels as store

    member = store.get_member(who.tenant_id, channel["id"], individual_id, consistent=True)
    attrs = Views(who.tenant_id, use_group_name=use_group_name, include_group=include_group).render(channel, member)
    return jsonapi.single(CHANNEL_TYPE, channel["id"], attrs, status=status)


@api.get(
    "/v1/messaging-channels",
    responses={200: jsonapi.list_doc(ChannelAttributes, "A page of the acting individual's channels, most recent activity first.")},
    errors=(404, 422),
)
def list_messaging_channels(
    individual_id: IndividualId = None,
    organization_id: Annotated[
        str | None,
        Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="Only this organization's channels."),
    ] = None,
    archived: Annotated[bool | None, Query(alias="filter[archived]", description="Only archived (true) or active (false) ones.")] = None,
    floating: Annotated[bool | None, Query(alias="filter[floating]", description="Only floating (true) or not (false) ones.")] = None,
    group_id: Annotated[
        str | None,
        Query(
            alias="filter[individual-group-id]",
            min_length=1,
            max_length=128,
            pattern=IdPattern,
            description="Only the channels bound to this individual-group.",
        ),
    ] = None,
    modified: jsonapi.window_param("last-modified-time") = None,
    participant_id: Annotated[
        str | None,
        Query(
            alias="participant-id",
            min_length=1,
            max_length=128,
            pattern=IdPattern,
            description="Only channels this individual is also a member of.",
        ),
    ] = None,
    use_group_name: UseGroupName = True,
    limit: Limit = 50,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """Returns channels

    The channels the acting individual is a member of, most recent activity first: `organization-id`,
    `filter[archived]`, `filter[floating]`, `filter[individual-group-id]`, `filter[cmp-last-modified-time]` and
    `participant-id` (channels shared with that individual) narrow them. `page[limit]` 1..50 (default 50); `meta` has
    `page[total]`. An unknown `organization-id` is a 404.
    """
    who = courier_caller(api)
    me = _acting(who, individual_id)
    window = jsonapi.parse_window(modified, "last-modified-time") if modified else None
    if organization_id:
        channels.require_organization(who.tenant_id, organization_id, parameter="organization-id")
    pairs, total = channels.listing(
        who.tenant_id,
        me,
        organization_id=organization_id,
        archived=archived,
        floating=floating,
        group_id=group_id,
        participant_id=participant_id,
        window=window,
        offset=offset,
        limit=limit,
    )
    views = Views(who.tenant_id, use_group_name=use_group_name)
    items = [(c["id"], views.render(c, m)) for c, m in pairs]
    return jsonapi.listing(CHANNEL_TYPE, items, ChannelAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-channels",
    access=WRITE,
    responses={
        201: jsonapi.single_doc(ChannelAttributes, "The new channel."),
        200: jsonapi.single_doc(ChannelAttributes, "The existing direct channel of the same people (nothing was created)."),
    },
    errors=(404, 422),
    example=Example(
        body={
            "data": {
                "type": CHANNEL_TYPE,
                "attributes": {"organization-id": SAMPLE_ORG, "individual-ids": [SAMPLE_INDIVIDUAL], "name": "Care team"},
            }
        }
    ),
)
def create_messaging_channel(body: RequestDocument[ChannelCreate], individual_id: IndividualId = None) -> Response[str]:
    """Creates a new channel

    `organization-id` is required (404 when unknown). With `individual-group-id` the channel is bound to that group:
    its members are the group's individuals, kept in step when the directory changes the group. With `floating: true`
    members come by subscribe only. Otherwise it is a direct channel of `individual-ids` and the acting individual:
    the same set of people in the organization answers the existing channel with 200 (a new one is a 201). Every
    individual named must be the tenant's (404 naming it). The acting individual is a member and an admin.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, CHANNEL_TYPE)
    me = _acting(who, individual_id)
    channel, created = channels.create(who.tenant_id, me, attrs, user_id=who.user_id)
    return _answer(who, channel, me, status=201 if created else 200)


@api.get("/v1/messaging-channels/<id>", responses={200: jsonapi.single_doc(ChannelAttributes, "The channel.")}, errors=(404, 422))
def get_messaging_channel(
    id: ResourceId,
    individual_id: IndividualId = None,
    include_group: Annotated[
        bool, Query(alias="include-individual-group", deprecated=True, description="Answer `individual-group` (its members and leaders).")
    ] = False,
    use_group_name: UseGroupName = True,
) -> Response[str]:
    """Returns specific channel

    A channel the acting individual is a member of (404 otherwise: an unknown id, another tenant's, or a channel it is
    not in). `include-individual-group` (deprecated) adds the group's members and leaders.
    """
    who = courier_caller(api)
    me = _acting(who, individual_id)
    channel, member = channels.require_member(who.tenant_id, id, me, parameter="id")
    attrs = Views(who.tenant_id, use_group_name=use_group_name, include_group=include_group).render(channel, member)
    return jsonapi.single(CHANNEL_TYPE, channel["id"], attrs)


@api.route(
    "PATCH",
    "/v1/messaging-channels/<id>",
    access=WRITE,
    responses={200: jsonapi.single_doc(ChannelAttributes, "The channel, changed.")},
    errors=(404, 409, 422),
    example=Example(
        body={
            "data": {
                "type": CHANNEL_TYPE,
                "id": "11111111-1111-1111-1111-111111111111",
                "attributes": [{"op": "replace", "path": "name", "value": "Night shift"}],
            }
        }
    ),
)
def update_messaging_channel(id: ResourceId, body: ChannelPatchDocument, individual_id: IndividualId = None) -> Response[str]:
    """Modifies an existing channel

    `data.attributes` is either the seed's list of operations, `[{"op": "replace", "path": "name", "value": "…"}]`
    (`replace` only, on `name`, `label`, `subscription-type`, `event-settings`, `event-settings/enabled`,
    `observation-id`, `text-number-id`, `archived`; any other path is a 422 naming the operation), or a partial object
    of the same attributes. `null` clears `name`, `label`, `observation-id`, `text-number-id`. Any member may change
    a channel; `data.id` must be the path's (409).
    """
    from parley.errors import Conflict

    who = courier_caller(api)
    if body.data.type != CHANNEL_TYPE:
        raise Conflict(f"data.type must be {CHANNEL_TYPE!r}, not {body.data.type!r}", pointer="/data/type", code="type-mismatch")
    if body.data.id is not None and body.data.id != id:
        raise Conflict(f"data.id must be the path's id {id!r}", pointer="/data/id", code="id-mismatch")
    me = _acting(who, individual_id)
    attrs = body.data.attributes
    ops, partial = (attrs, None) if isinstance(attrs, list) else (None, attrs)
    sets, removes = channels.patch_fields(ops, partial)
    channel = channels.update(who.tenant_id, id, me, sets, removes)
    return _answer(who, channel, me)


def _archive(id: str, body: EmptyBody | None, archived: bool) -> Response[str]:
    who = courier_caller(api)
    me = _acting(who, body.individual_id if body else None, pointer="/individual-id")
    channel = channels.set_archived(who.tenant_id, id, me, archived)
    return _answer(who, channel, me, status=201)


@api.post(
    "/v1/messaging-channels/<id>/archive",
    access=WRITE,
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel, archived.")},
    errors=(404, 415, 422),
    example=Example(body={}),
)
def archive_messaging_channel(id: ResourceId, body: EmptyBody | None = None) -> Response[str]:
    """Archive a channel

    The channel is archived for all its members (`archived: true`); archiving an archived channel changes nothing.
    The body is `{}` (or the acting `individual-id`).
    """
    return _archive(id, body, True)


@api.post(
    "/v1/messaging-channels/<id>/unarchive",
    access=WRITE,
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel, active again.")},
    errors=(404, 415, 422),
    example=Example(body={}),
)
def unarchive_messaging_channel(id: ResourceId, body: EmptyBody | None = None) -> Response[str]:
    """Unarchive a channel

    The channel is active again for all its members; unarchiving an active channel changes nothing.
    """
    return _archive(id, body, False)


@api.post(
    "/v1/messaging-channels/<id>/subscribe",
    access=WRITE,
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel with its new members.")},
    errors=(404, 409, 422),
    example=Example(body={"individual-ids": [SAMPLE_INDIVIDUAL]}),
)
def subscribe_messaging_channel(id: ResourceId, body: Subscription) -> Response[str]:
    """Add subscriber to the channel

    `individual-ids` join the channel (a member already in is left as it is; an individual the tenant does not have
    is a 404 naming it). A direct channel's people are its identity: adding to it makes it the direct channel of the
    new set (409 when the organization already has one for that set).
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id, pointer="/individual-id")
    channel = channels.subscribe(who.tenant_id, id, me, body.individual_ids)
    return _answer(who, channel, me, status=201)


@api.post(
    "/v1/messaging-channels/<id>/unsubscribe",
    access=WRITE,
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel without those members.")},
    errors=(403, 404, 409, 422),
    example=Example(body={"individual-ids": [SAMPLE_INDIVIDUAL]}),
)
def unsubscribe_messaging_channel(id: ResourceId, body: Subscription) -> Response[str]:
    """Remove subscriber from the channel

    `individual-ids` leave the channel. An individual may remove itself; only an admin of the channel removes others
    (403). A member that the channel's individual-group brought in leaves when it leaves the group (422 here). Ids
    that are not members are ignored. A member that removed itself gets 404 for the channel from then on.
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id, pointer="/individual-id")
    channel = channels.unsubscribe(who.tenant_id, id, me, body.individual_ids)
    from parley.dal import channels as store

    if store.get_member(who.tenant_id, id, me, consistent=True) is None:  # the caller left: answer what it saw last
        attrs = Views(who.tenant_id).render(channel, None)
        return jsonapi.single(CHANNEL_TYPE, channel["id"], attrs, status=201)
    return _answer(who, channel, me, status=201)


@api.post(
    "/v1/messaging-channels/<id>/preferences",
    access=("table:write",),
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel (`notify`: the acting individual's preference).")},
    errors=(404, 422),
    example=Example(body={"individual-id": SAMPLE_INDIVIDUAL, "values": [{"name": "notify", "value": "false"}]}),
)
def set_messaging_channel_preferences(id: ResourceId, body: Preferences) -> Response[str]:
    """Modify channel preferences

    The acting individual's own preferences in the channel: `values=[{"name": "notify", "value": "false"}]` (pushes
    for this channel's messages) and `pinned`; a value is `true`/`false` (a string, as the seed samples it, or a
    boolean). Answered as the channel, with `notify` and the member's `pinned` in `subscribers`.
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id, pointer="/individual-id")
    channel = channels.set_preferences(who.tenant_id, id, me, body.values)
    return _answer(who, channel, me, status=201)


@api.get(
    "/v1/messaging-channels/<id>/get-profile",
    responses={200: jsonapi.single_doc(ProfileAttributes, "The member's profile: its `photo` (null when the directory has none).")},
    errors=(404, 422),
    example=Example(query={"profile-individual-id": SAMPLE_INDIVIDUAL}),
)
def get_messaging_channel_profile(
    id: ResourceId,
    profile_individual_id: Annotated[
        str,
        Query(
            alias="profile-individual-id",
            min_length=1,
            max_length=128,
            pattern=IdPattern,
            description="The member whose profile to answer.",
        ),
    ],
    individual_id: IndividualId = None,
) -> Response[str]:
    """Get the profile of a channel member

    Type `individual-profiles`, id `profile-individual-id`, `photo`: the directory's photo of that individual. Both the
    acting individual and `profile-individual-id` must be members of the channel (404 naming the parameter otherwise).
    """
    who = courier_caller(api)
    me = _acting(who, individual_id)
    photo = channels.profile_photo(who.tenant_id, id, me, profile_individual_id)
    return jsonapi.single(PROFILE_TYPE, profile_individual_id, ProfileAttributes(photo=photo))
