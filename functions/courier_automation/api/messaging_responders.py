"""The courier messaging responders (seed 003, docs/courier.md "Messaging automation and scale" → "Responders"): an
individual-group's auto-replies on a calendar, in the responder's own time zone.

- GET /v1/messaging-responders/ — an organization's responders
- POST /v1/messaging-responders/ — create one (enabled)
- GET /v1/messaging-responders/{id}/ — one
- PATCH /v1/messaging-responders/{id}/ — change it
- POST /v1/messaging-responders/{id}/enable/, /disable/

Responders are the tenant's configuration: any caller of the tenant reads them; writes name the acting user
(``created-by``/``last-modified-by``). Another tenant's responder is a 404, as an unknown id. The replies themselves are
posted by the channel-events hook ``parley.domain.channel_responders``.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import responders
from parley.models.jsonapi import RequestDocument
from parley.models.messaging_responders import TYPE, EmptyBody, ResponderAttributes, ResponderCreate, ResponderPatch

api = Api("courier_automation", tags=["Messaging responders"], example=SAMPLE)
WRITE = ("table:write",)

IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
Limit = jsonapi.page_limit()
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_GROUP = "55555555-5555-5555-5555-555555555555"
SAMPLE_ATTRIBUTES = {
    "args": {"message": "We are closed: we will answer in the morning.", "message-js": {"es_US": "Estamos cerrados."}},
    "calendar-args": {"rules": [{"day": "weekdays", "start-time": "17:00:00", "end-time": "09:00:00"}], "timezone": "America/New_York"},
    "individual-group-id": SAMPLE_GROUP,
    "name": "After hours",
    "type": "message",
}


def _one(item: dict, status: int = 200) -> Response[str]:
    return jsonapi.single(TYPE, item["id"], responders.attributes(item), status=status)


@api.get(
    "/v1/messaging-responders",
    responses={200: jsonapi.list_doc(ResponderAttributes, "A page of the organization's responders.")},
    errors=(404, 422),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_messaging_responders(
    organization_id: Annotated[
        str, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="The organization (required).")
    ],
    end_at: jsonapi.window_param("end-at") = None,
    start_at: jsonapi.window_param("start-at") = None,
    enabled: Annotated[bool | None, Query(alias="filter[enabled]", description="Only enabled (true) or disabled (false) ones.")] = None,
    group_id: Annotated[
        str | None,
        Query(alias="filter[individual-group-id]", min_length=1, max_length=128, pattern=IdPattern, description="Only this group's."),
    ] = None,
    sort: jsonapi.Sort = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List auto-responders

    The organization's responders (404 for an unknown `organization-id`), oldest first unless `sort` (`created-at`,
    `start-at`, `end-at`, `-` for descending; comma-separated). `filter[cmp-start-at]` / `filter[cmp-end-at]` (one or
    two `<comparator><date-time>`) keep the responders whose bound lies in the window (a responder without that bound
    is left out); `filter[enabled]`, `filter[individual-group-id]`. `meta` has `page[total]`.
    """
    who = courier_caller(api)
    order = jsonapi.parse_sort(sort, responders.SORTABLE, default=[("created-at", False)])
    start_window = jsonapi.parse_window(start_at, "start-at") if start_at else None
    end_window = jsonapi.parse_window(end_at, "end-at") if end_at else None
    items, total = responders.listing(who.tenant_id, organization_id, enabled=enabled, group_id=group_id, start_window=start_window,
                                      end_window=end_window, order=order, offset=offset, limit=limit)  # fmt: skip
    pairs = [(i["id"], responders.attributes(i)) for i in items]
    return jsonapi.listing(TYPE, pairs, ResponderAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-responders",
    access=WRITE,
    responses={201: jsonapi.single_doc(ResponderAttributes, "The new responder (enabled).")},
    errors=(403, 404, 409, 422),
    example=Example(body={"data": {"type": TYPE, "attributes": {**SAMPLE_ATTRIBUTES, "organization-id": SAMPLE_ORG}}}),
)
def create_messaging_responder(body: RequestDocument[ResponderCreate]) -> Response[str]:
    """Create an auto-responder

    For `individual-group-id` (a group of `organization-id`; both required, 404 when unknown, 422
    `organization-mismatch`): `type` `message` (the default; another is a 422) with `args` `{message, message-js?}`
    (the reply's text, and its translations by locale); `calendar-args` `{timezone, rules[{day, start-time,
    end-time}]}` — an IANA zone (default UTC), `day` one of everyday, weekdays, weekends, monday … sunday, times
    `HH:MM[:SS]` in that zone (an end before the start runs overnight); no rules: active throughout its bounds.
    `start-at` / `end-at` bound when it is active. It starts enabled.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return _one(responders.create(who.tenant_id, who.acting_user(), attrs), 201)


@api.get("/v1/messaging-responders/<id>", responses={200: jsonapi.single_doc(ResponderAttributes, "The responder.")}, errors=(404, 422))
def get_messaging_responder(id: ResourceId) -> Response[str]:
    """Get one responder

    404 for an unknown id or another tenant's.
    """
    who = courier_caller(api)
    return _one(responders.require(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/messaging-responders/<id>",
    access=WRITE,
    responses={200: jsonapi.single_doc(ResponderAttributes, "The responder, changed.")},
    errors=(403, 404, 409, 422),
    example=Example(
        body={"data": {"type": TYPE, "id": "11111111-1111-1111-1111-111111111111", "attributes": {"name": "Weekend", "end-at": None}}}
    ),
)
def update_messaging_responder(id: ResourceId, body: RequestDocument[ResponderPatch]) -> Response[str]:
    """Modify a responder

    Only the attributes sent change, checked as at create. `start-at` / `end-at` null (or `{}`, as the seed's sample
    sends them) clear the bound. `calendar-args` replaces the calendar whole. `data.id` must be the path's (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    return _one(responders.update(who.tenant_id, who.acting_user(), id, attrs))


@api.post(
    "/v1/messaging-responders/<id>/enable",
    access=WRITE,
    responses={201: jsonapi.single_doc(ResponderAttributes, "The responder, enabled.")},
    errors=(403, 404, 422),
    example=Example(body={}),
)
def enable_messaging_responder(id: ResourceId, body: EmptyBody | None = None) -> Response[str]:
    """Enable a responder

    It replies again from now on. Enabling an enabled responder changes nothing. The body is `{}` (or none).
    """
    who = courier_caller(api)
    return _one(responders.set_enabled(who.tenant_id, who.acting_user(), id, True), 201)


@api.post(
    "/v1/messaging-responders/<id>/disable",
    access=WRITE,
    responses={201: jsonapi.single_doc(ResponderAttributes, "The responder, disabled.")},
    errors=(403, 404, 422),
    example=Example(body={}),
)
def disable_messaging_responder(id: ResourceId, body: EmptyBody | None = None) -> Response[str]:
    """Disable a responder

    It stops replying (kept, with its settings). Disabling a disabled responder changes nothing. The body is `{}`.
    """
    who = courier_caller(api)
    return _one(responders.set_enabled(who.tenant_id, who.acting_user(), id, False), 201)
