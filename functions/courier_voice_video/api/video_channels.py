"""The courier video visits (seed 003 §6, docs/courier.md "## Video (issue 20)" → "### Video visits"): telehealth
visits in Twilio Video rooms.

- GET /v1/video-channels/ — the acting individual's visits (`filter[states]`, `organization-id`)
- POST /v1/video-channels/ — create one (appointment, appless, with-email invitations, recorded, a linked channel)
- GET /v1/video-channels/{id}/ — one
- PATCH /v1/video-channels/{id}/ — appointment-start, appointment-duration, note, recorded
- GET /v1/video-channels/{id}/get-credentials/ — a Video access token and the room's name (inside the join window)
- POST /v1/video-channels/{id}/participant-audio-states/ — the host mutes or unmutes participants
- POST /v1/video-channels/{id}/reminder-timer/ — (re)arm the "visit starting" reminder
- POST /v1/video-channels/{id}/terminate/ — end the visit (the room completed)
- POST /v1/video-channels/{id}/finalize-encounter/, /v2/video-channels/{id}/finalize-encounter/ — the encounter to
  the platform (one signed webhook)

Every route acts for an individual (`individual-id`, else the acting user's primary individual) and answers only the
visits it takes part in: another tenant's visit, an unknown one and one it is not in are the same 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import video_channels
from parley.models.courier_video import (
    TYPE,
    AudioStates,
    Credentials,
    Empty,
    FinalizeEncounter,
    FinalizeEncounterV2,
    VideoChannelAttributes,
    VideoChannelCreate,
    VideoChannelUpdate,
)
from parley.models.jsonapi import RequestDocument

api = Api("courier_voice_video", tags=["Video channels"], access=("table:read", "texting-secrets"), example=SAMPLE)
WRITE = ("table:write", "texting-secrets")
SEND = ("table:write", "texting-secrets", "send-queue")

IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
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
SAMPLE_ORG = "22222222-2222-2222-2222-222222222222"
SAMPLE_INDIVIDUAL = "33333333-3333-3333-3333-333333333333"
STATES = ("open", "scheduled", "terminated")


def _acting(who: CourierCaller, individual_id: str | None, *, pointer: str | None = None) -> str:
    return who.individual(individual_id, pointer=pointer) if pointer else who.individual(individual_id, parameter="individual-id")


@api.get(
    "/v1/video-channels",
    responses={200: jsonapi.list_doc(VideoChannelAttributes, "A page of the individual's visits, newest first.")},
    errors=(403, 404, 422),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def list_video_channels(
    individual_id: Annotated[
        str,
        Query(alias="individual-id", min_length=1, max_length=128, pattern=IdPattern, description="The individual whose visits to list."),
    ],
    states: Annotated[
        list[str] | None,
        Query(
            alias="filter[states]", description="Only visits in these states (open, scheduled, terminated; repeated or comma-separated)."
        ),
    ] = None,
    organization_id: Annotated[
        str | None, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="Only this organization's.")
    ] = None,
    limit: jsonapi.page_limit() = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """Returns channels

    The visits `individual-id` (required; one of the acting user's, else 403) takes part in, newest first.
    `filter[states]` (open, scheduled, terminated) and `organization-id` (404 when unknown) narrow them. `meta` has
    `page[total]`.
    """
    from parley.errors import BadRequest

    who = courier_caller(api)
    me = who.individual(individual_id, parameter="individual-id")
    wanted = {s.strip() for v in states or [] for s in v.split(",") if s.strip()}
    unknown = sorted(wanted - set(STATES))
    if unknown:
        raise BadRequest(f"filter[states]: unknown state {unknown[0]!r} (open, scheduled, terminated)", parameter="filter[states]",
                         code="invalid-filter")  # fmt: skip
    if organization_id:
        from parley.domain import channels

        channels.require_organization(who.tenant_id, organization_id, parameter="organization-id")
    items, total = video_channels.listing(
        who.tenant_id, me, states=wanted or None, organization_id=organization_id, offset=offset, limit=limit
    )
    return jsonapi.listing(TYPE, items, VideoChannelAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/video-channels",
    access=SEND,
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The new visit.")},
    errors=(403, 404, 422, 429),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "organization-id": SAMPLE_ORG,
                    "participants": [SAMPLE_INDIVIDUAL],
                    "appointment": {"start": "2026-12-01T15:00:00Z", "duration": 30},
                    "appless": True,
                },
            }
        }
    ),
)
def create_video_channel(body: RequestDocument[VideoChannelCreate], individual_id: IndividualId = None) -> Response[str]:
    """Creates a new channel

    A video visit of the acting individual (its host: `account-type: provider`) with `participants` (individuals of
    the tenant; 404 naming an unknown one). `organization-id` is required (404 when unknown; 422 when it has no
    text-account, whose Twilio project hosts the rooms). `appointment` {start, duration (minutes), id} sets the join
    window: `join-start` is 10 minutes before `start`, and no token is issued before it. `appless` answers a browser
    `join-url`; `with-email` invites the other participants by email; `messaging-channel-id` links a messaging channel
    of the organization that the acting individual is in; `recorded` records the room.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    me = _acting(who, individual_id)
    return jsonapi.single(TYPE, *video_channels.create(who.caller, me, attrs), status=201)


@api.get("/v1/video-channels/<id>", responses={200: jsonapi.single_doc(VideoChannelAttributes, "The visit.")}, errors=(403, 404, 422))
def get_video_channel(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Returns specific channel

    A visit the acting individual takes part in (404 otherwise: an unknown id, another tenant's, one it is not in).
    """
    who = courier_caller(api)
    me = _acting(who, individual_id)
    return jsonapi.single(TYPE, *video_channels.answer(video_channels.require_participant(who.tenant_id, id, me)))


@api.route(
    "PATCH",
    "/v1/video-channels/<id>",
    access=WRITE,
    responses={200: jsonapi.single_doc(VideoChannelAttributes, "The visit, changed.")},
    errors=(403, 404, 409, 422),
    example=Example(body={"data": {"type": TYPE, "id": "11111111-1111-1111-1111-111111111111", "attributes": {"note": "follow-up"}}}),
)
def update_video_channel(id: ResourceId, body: RequestDocument[VideoChannelUpdate], individual_id: IndividualId = None) -> Response[str]:
    """Modifies an existing video-channel

    `appointment-start`, `appointment-duration` (minutes), `note` (`null` clears it) and `recorded` (not once the
    room exists: 409). Moving the appointment moves its join window. An ended visit is not changed (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    me = _acting(who, individual_id)
    return jsonapi.single(TYPE, *video_channels.update(who.tenant_id, id, me, attrs, attrs.model_fields_set))


@api.get(
    "/v1/video-channels/<id>/get-credentials",
    access=(*WRITE, "video-callback-url"),
    responses={200: {"description": "A Video access token and the room's name.", "content": {"application/json": {"model": Credentials}}}},
    errors=(403, 404, 409, 422, 502),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def get_video_channel_credentials(
    id: ResourceId,
    individual_id: Annotated[
        str, Query(alias="individual-id", min_length=1, max_length=128, pattern=IdPattern, description="The participant who joins.")
    ],
) -> Response[str]:
    """Get a video access token

    `{access-token, name}` (plain JSON): a Twilio access token (JWT, a VideoGrant for the room, identity the
    individual) and the room's name. 409 `before-join-window` before the appointment's `join-start`; 409
    `visit-terminated` once the visit ended. The first token of a visit opens its room at Twilio.
    """
    who = courier_caller(api)
    me = who.individual(individual_id, parameter="individual-id")
    out = Credentials.model_validate(video_channels.credentials(who.tenant_id, id, me))
    return Response(status_code=200, content_type="application/json", body=out.model_dump_json(by_alias=True))


@api.post(
    "/v1/video-channels/<id>/participant-audio-states",
    access=WRITE,
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The visit, its participants' audio changed.")},
    errors=(403, 404, 409, 422),
    example=Example(body={"participants": [{"id": SAMPLE_INDIVIDUAL, "audio-state": "muted"}]}),
)
def set_video_channel_audio_states(id: ResourceId, body: AudioStates) -> Response[str]:
    """Mute or unmute participants

    `participants` [{id (the participant's individual id), audio-state (muted, unmuted)}] as `individual-id` (the
    acting individual), who must be the visit's host (403 otherwise).
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id, pointer="/individual-id")
    changes = [(p.id, p.audio_state) for p in body.participants]
    return jsonapi.single(TYPE, *video_channels.set_audio_states(who.tenant_id, id, me, changes), status=201)


@api.send(
    "/v1/video-channels/<id>/reminder-timer",
    access=(*SEND, "scheduler"),
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The visit, its reminder armed (`scheduler-id`).")},
    errors=(403, 404),
    example=Example(body={}),
)
def video_channel_reminder_timer(id: ResourceId, body: Empty | None = None) -> Response[str]:
    """Restart the reminder timer

    (Re)arms the "visit starting" reminder: an email to each participant with an address, 15 minutes before the
    appointment (at once when that has passed), through EventBridge Scheduler; the previous reminder is cancelled.
    409 without an appointment, after its start, or once the visit ended.
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id if body else None, pointer="/individual-id")
    return jsonapi.single(TYPE, *video_channels.rearm_reminder(who.caller, id, me), status=201)


@api.post(
    "/v1/video-channels/<id>/terminate",
    access=WRITE,
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The visit, ended.")},
    errors=(403, 404, 422, 502),
    example=Example(body={}),
)
def terminate_video_channel(id: ResourceId, body: Empty | None = None) -> Response[str]:
    """End the video visit

    The room is completed at Twilio (every participant disconnected) and `channel-state` becomes `terminated`.
    Idempotent: an ended visit is answered as it is.
    """
    who = courier_caller(api)
    me = _acting(who, body.individual_id if body else None, pointer="/individual-id")
    return jsonapi.single(TYPE, *video_channels.terminate(who.tenant_id, id, me), status=201)


def _finalize(id: str, individual_id: str | None, service_type_id: str | None, use_author_note: bool, version: int) -> Response[str]:
    who = courier_caller(api)
    me = _acting(who, individual_id)
    out = video_channels.finalize(who.tenant_id, id, me, service_type_id=service_type_id, use_author_note=use_author_note, version=version)
    return jsonapi.single(TYPE, *out, status=201)


@api.post(
    "/v1/video-channels/<id>/finalize-encounter",
    access=(*WRITE, "provider-secrets"),
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The visit, its encounter delivered (`encounter-id`).")},
    errors=(403, 404, 409, 422, 502),
    example=Example(body={"service-type-id": "44444444-4444-4444-4444-444444444444", "use-note-from-author-participant": True}),
)
def finalize_video_channel_encounter(
    id: ResourceId, body: FinalizeEncounter | None = None, individual_id: IndividualId = None
) -> Response[str]:
    """Finalize the encounter

    Writes the ended visit (409 before `terminate`) to the platform as an encounter: one signed POST to the tenant's
    encounter webhook (`Parley-Signature`, as the texts' callbacks). `service-type-id` is passed on;
    `use-note-from-author-participant` takes the host participant's note. A retry answers the visit as it is and
    delivers nothing again; an undelivered encounter is a 502 and may be finalized again.
    """
    body = body or FinalizeEncounter()
    return _finalize(id, individual_id, body.service_type_id, body.use_note_from_author_participant, 1)


@api.post(
    "/v2/video-channels/<id>/finalize-encounter",
    access=(*WRITE, "provider-secrets"),
    responses={201: jsonapi.single_doc(VideoChannelAttributes, "The visit, its encounter delivered (`encounter-id`).")},
    errors=(403, 404, 409, 422, 502),
    example=Example(body={"service-type-id": "44444444-4444-4444-4444-444444444444"}),
)
def finalize_video_channel_encounter_v2(
    id: ResourceId, body: FinalizeEncounterV2 | None = None, individual_id: IndividualId = None
) -> Response[str]:
    """Finalize the encounter (v2)

    As v1 with `service-type-id` only: the visit's own note goes with the encounter.
    """
    body = body or FinalizeEncounterV2()
    return _finalize(id, individual_id, body.service_type_id, False, 2)
