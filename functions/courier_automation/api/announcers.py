"""The courier messaging API (seed 003): announcers, event-triggered announcements (docs/courier.md "Announcers and the
courier events bus").

- GET /v1/announcers/ — the tenant's announcers (``organization-id`` optional, ``filter[name]``)
- POST /v1/announcers/ — create one (``event``, ``name``, ``organization-id``, ``type``, ``args``)
- GET /v1/announcers/{id}/ — one
- PATCH /v1/announcers/{id}/ — change ``args``, ``event``, ``name``, ``type``

An announcer posts (``type`` ``message``) when the event it names is emitted on the courier events bus; the posting is
the ``announce`` job's (parley.domain.announcers.run). Tenant-scoped: another tenant's id is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import announcers
from parley.models.announcers import TYPE, AnnouncerAttributes, AnnouncerCreateAttributes, AnnouncerPatchAttributes
from parley.models.jsonapi import RequestDocument

api = Api("courier_automation", tags=["Announcers"], example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str | None,
    Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="Only this organization's announcers."),
]
NameFilter = Annotated[
    str | None, Query(alias="filter[name]", min_length=1, max_length=255, description="Only announcers of this name (case-insensitive).")
]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_ARGS = {"message": "Welcome, {first-name}!", "sender-individual-id": "55555555-5555-5555-5555-555555555555"}


@api.get(
    "/v1/announcers",
    responses={200: jsonapi.list_doc(AnnouncerAttributes, "A page of announcers, oldest first.")},
    errors=(404, 422),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_announcers(
    organization_id: OrganizationId = None, name: NameFilter = None, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List announcers

    The tenant's announcers, oldest first; with `organization-id` that organization's (404 when the tenant has no such
    organization); `filter[name]` equality, case-insensitive. `meta` carries `page[total]`, `page[limit]`, `page[offset]`.
    """
    who = courier_caller(api)
    items, total = announcers.page(who.tenant_id, organization_id=organization_id, name=name, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, AnnouncerAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/announcers",
    responses={201: jsonapi.single_doc(AnnouncerAttributes, "The new announcer.")},
    access=("table:write",),
    errors=(404, 409, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "event": "individual-shared",
                    "name": "welcome",
                    "organization-id": SAMPLE_ORG,
                    "type": "message",
                    "args": SAMPLE_ARGS,
                },
            }
        }
    ),
)
def create_announcer(body: RequestDocument[AnnouncerCreateAttributes]) -> Response[str]:
    """Create an announcer

    `event`: one Parley emits (`individual-shared`: an individual added to an individual-group by the directory;
    `individual-unshared`: removed from one); else 422. `type`: `message` (the one type; else 422), whose `args` are
    `{message, sender-individual-id, channel-ids? | individual-group-id?}`: without a target, the channels bound to the
    event's individual-group. `{first-name}`/`{last-name}` in `message` become the event's individual's. 404 for an
    organization, sender or group the tenant lacks.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *announcers.create(who.tenant_id, attrs, user_id=who.user_id), status=201)


@api.get(
    "/v1/announcers/<id>",
    responses={200: jsonapi.single_doc(AnnouncerAttributes, "The announcer.")},
    errors=(404, 422),
)
def get_announcer(id: ResourceId) -> Response[str]:
    """Get an announcer

    404 for an unknown id or another tenant's.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *announcers.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/announcers/<id>",
    responses={200: jsonapi.single_doc(AnnouncerAttributes, "The announcer as changed.")},
    access=("table:write",),
    errors=(404, 409, 422),
    example=Example(body={"data": {"type": TYPE, "id": "11111111-1111-1111-1111-111111111111", "attributes": {"name": "hello"}}}),
)
def update_announcer(id: ResourceId, body: RequestDocument[AnnouncerPatchAttributes]) -> Response[str]:
    """Modify an announcer

    Only the attributes sent change (`args` is replaced whole); the result is checked as a create is (422, 404).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    return jsonapi.single(TYPE, *announcers.update(who.tenant_id, id, attrs, user_id=who.user_id))
