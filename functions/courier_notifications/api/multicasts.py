"""The courier notifications API (seed 003): multicasts, one fan-out pipeline with four entry points
(docs/courier.md "Multicasts"; ``parley.domain.multicasts``).

- GET /v1/multicasts/ — the tenant's multicasts (created-at window, individual-group-id, template-id)
- POST /v1/multicasts/ — a multicast to an organization's audience (filter-type + filter-value)
- GET /v1/multicasts/{id}/ — one, with its status and progress
- GET /v1/user-multicasts/ — what an individual received
- POST /v1/user-multicasts/ — to individual-ids and/or individual-group-ids → {task-id, message-data}
- POST /v1/users/{id}/multicast/ — to one user → {task-id, message-data}
- POST /v1/individuals/{id}/multicast/ — to one individual → {task-id, message-data}
- POST /v1/users/{id}/validate-multicast-params/ — a dry run → {success, info}

Sending is the tenant's (an API key, or a user token: the acting user is recorded as `created-by`); every id is
scoped to the caller's tenant (another tenant's id is a 404).
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import multicasts
from parley.models.jsonapi import RequestDocument
from parley.models.multicasts import (
    TYPE,
    USER_TYPE,
    IndividualGroup,
    IndividualMulticast,
    MulticastAttributes,
    MulticastCreate,
    Progress,
    TaskAnswer,
    UserMulticast,
    UserMulticastAttributes,
    UserMulticastCreate,
    ValidateMulticastParams,
    ValidationAnswer,
)

api = Api("courier_notifications", tags=["Multicasts"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
CreatedAt = jsonapi.window_param("created-at")
IncludeGroup = Annotated[bool, Query(alias="include-individual-group", description="Answer `individual-group` (its members and leaders).")]
IncludeIds = Annotated[bool, Query(alias="include-individual-ids", description="Answer `individual-ids` (the ids the request named).")]
GroupFilter = Annotated[
    str | None, Query(alias="individual-group-id", min_length=1, max_length=128, description="Only multicasts to this individual-group.")
]
TemplateFilter = Annotated[
    str | None, Query(alias="template-id", min_length=1, max_length=255, description="Only multicasts of this template.")
]
IndividualId = Annotated[
    str, Query(alias="individual-id", min_length=1, max_length=128, description="The individual whose received multicasts to list.")
]
SEND_ACCESS = ("table:write", "multicast-queue")
SAMPLE_TEMPLATE = "0b7c5a52-8f9e-4d1a-b1b3-6a4e2d9c7f10"
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"
PLAIN = "application/json"


def _plain(model: Any, status: int = 201) -> Response[str]:
    return Response(status_code=status, content_type=PLAIN, body=model.model_dump_json(by_alias=True))


def _plain_doc(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {PLAIN: {"model": model}}}


def _attributes(
    tenant_id: str, mc: dict[str, Any], *, include_group: bool, include_ids: bool, seen: dict[str, Any] | None = None
) -> MulticastAttributes:
    groups = mc.get("group_ids") or []
    group = None
    if include_group and groups:
        views = {} if seen is None else seen  # a list's multicasts to the same group read it once
        if groups[0] not in views:
            views[groups[0]] = multicasts.group_view(tenant_id, groups[0])
        view = views[groups[0]]
        group = IndividualGroup.model_validate(view) if view else None
    return MulticastAttributes(
        created_at=mc["created_at"],
        created_by=mc.get("created_by"),
        data=mc.get("data") or {},
        template_args=mc.get("data") or {},
        template_id=mc["template_id"],
        status=mc["status"],
        individual_group=group,
        individual_group_id=groups[0] if groups else None,
        individual_id=mc.get("individual_id"),
        individual_ids=(mc.get("individual_ids") or []) if include_ids else None,
        kind=mc["kind"],
        filter_type=mc.get("filter_type"),
        filter_value=mc.get("filter_value"),
        organization_id=mc.get("organization_id"),
        progress=Progress(**{k: int(mc.get(k) or 0) for k in ("audience", "notified", "skipped", "failed")}),
    )


@api.get(
    "/v1/multicasts",
    responses={200: jsonapi.list_doc(MulticastAttributes, "A page of the tenant's multicasts, newest first.")},
    example=Example(query={"template-id": SAMPLE_TEMPLATE}),
)
def list_multicasts(
    created_at: CreatedAt = None,
    include_group: IncludeGroup = False,
    include_ids: IncludeIds = False,
    individual_group_id: GroupFilter = None,
    template_id: TemplateFilter = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List multicasts

    The tenant's multicasts (every entry point's), newest first, with their `status` and `progress`.
    `filter[cmp-created-at]` (one or two of `>`, `<`, `>=`, `<=` with an ISO-8601 time) bounds `created-at`;
    `individual-group-id` and `template-id` narrow the list. `meta` carries `page[total]`, `page[limit]` and
    `page[offset]`.
    """
    who = courier_caller(api)
    window = jsonapi.parse_window(created_at, "created-at")
    items, total = multicasts.page(who.tenant_id, after=_bound(window.after, window.after_inclusive, lower=True),
                                         before=_bound(window.before, window.before_inclusive, lower=False), offset=offset,
                                         limit=limit, template_id=template_id, group_id=individual_group_id)  # fmt: skip
    seen: dict[str, Any] = {}
    shown = [(i["id"], _attributes(who.tenant_id, i, include_group=include_group, include_ids=include_ids, seen=seen)) for i in items]
    return jsonapi.listing(TYPE, shown, MulticastAttributes, total=total, limit=limit, offset=offset)


def _bound(at: Any, inclusive: bool, *, lower: bool) -> str:
    """A window's bound as a bound of GSI3SK (``<created_at>#<id>``, fixed-width UTC): ``>= t`` from ``t``, ``> t``
    after every ``t#…``, ``<= t`` up to every ``t#…``, ``< t`` below them. An open side: ``0`` / ``9``."""
    if at is None:
        return "0" if lower else "9"
    from parley import clock

    return clock.iso(at) + ("#\uffff" if lower != inclusive else "")


@api.post(
    "/v1/multicasts",
    access=SEND_ACCESS,
    responses={201: jsonapi.single_doc(MulticastAttributes, "The multicast, queued: its fan-out runs asynchronously.")},
    errors=(404,),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "template-id": SAMPLE_TEMPLATE,
                    "data": {"clinic": "Northside"},
                    "filter-type": "all-participants",
                    "filter-value": {},
                },
            }
        }
    ),
)
def create_multicast(body: RequestDocument[MulticastCreate]) -> Response[str]:
    """Create a multicast

    Sends the CRM template `template-id` (required: 400 without it), with `data` as its variables, to an audience:
    `filter-type` `all-participants` (every individual of the tenant, or with `organization-id` the members of the
    organization's individual-groups), `individual-group` (`filter-value: {"individual-group-id": …}`) or
    `individuals` (`filter-value: {"individual-ids": […]}`). Each recipient's user gets one user-notification (push,
    SMS and email per the user's settings). A variable the template needs and `data` lacks is a 400 naming each one;
    an unknown template or individual-group a 404. Answers the multicast `queued`; `GET /v1/multicasts/{id}/` shows
    its progress.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    if attrs.template_id is None:
        from parley.errors import BadRequest

        raise BadRequest("template-id: required", pointer="/data/attributes/template-id", code="invalid-member")
    req = multicasts.Request(
        kind="multicasts", template_id=attrs.template_id, data=attrs.data, created_by=who.user_id, organization_id=attrs.organization_id,
        filter_type=attrs.filter_type, filter_value=attrs.filter_value, data_pointer="/data/attributes/data",
        template_pointer="/data/attributes/template-id",
    )  # fmt: skip
    mc, _ = multicasts.accept(who.tenant_id, req)
    return jsonapi.single(TYPE, mc["id"], _attributes(who.tenant_id, mc, include_group=False, include_ids=False), status=201)


@api.get("/v1/multicasts/<id>", responses={200: jsonapi.single_doc(MulticastAttributes, "The multicast and its progress.")})
def get_multicast(id: ResourceId, include_group: IncludeGroup = False, include_ids: IncludeIds = False) -> Response[str]:
    """Get a multicast

    Its `status` (`queued`, `running`, `done`, `failed`) and `progress` (ours: `audience`, `notified`, `skipped`,
    `failed`), for any entry point's multicast (the `task-id` they answer). `include-individual-group` adds the
    individual-group (members and leaders with their names), `include-individual-ids` the ids the request named.
    404 when the tenant has no such multicast.
    """
    who = courier_caller(api)
    mc = multicasts.get(who.tenant_id, id)
    return jsonapi.single(TYPE, id, _attributes(who.tenant_id, mc, include_group=include_group, include_ids=include_ids))


@api.get(
    "/v1/user-multicasts",
    responses={200: jsonapi.list_doc(UserMulticastAttributes, "A page of what the individual received, newest first.")},
    errors=(403,),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def list_user_multicasts(
    individual_id: IndividualId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List the multicasts an individual received

    `individual-id` (required) must be one of the acting user's individuals (403 otherwise). Each item is a multicast
    (its id is the `task-id`) with its `template-id`, `template-data` and our `status` (the recipient's outcome:
    `notified`, `skipped`, `failed`). Newest first; `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    items, total = multicasts.received(who.tenant_id, individual, offset=offset, limit=limit)
    out = []
    for i, mc in items:
        out.append((i["multicast_id"], UserMulticastAttributes(
            created_at=i["created_at"], individual_id=individual, organization_id=mc.get("organization_id"),
            template_data=mc.get("data") or {}, template_id=mc.get("template_id") or "", status=i.get("state"),
        )))  # fmt: skip
    return jsonapi.listing(USER_TYPE, out, UserMulticastAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/user-multicasts",
    access=SEND_ACCESS,
    responses={201: _plain_doc(TaskAnswer, "`task-id` (the multicast: `GET /v1/multicasts/{task-id}/`) and `message-data`.")},
    errors=(404,),
    example=Example(body={"template-id": SAMPLE_TEMPLATE, "template-data": {"clinic": "Northside"}, "individual-ids": [SAMPLE_INDIVIDUAL]}),
)
def create_user_multicast(body: UserMulticastCreate) -> Response[str]:
    """Send a multicast to individuals and groups

    A flat body (not JSON:API): `template-id`, `template-data`, and `individual-ids` and/or `individual-group-ids`
    (at least one of them; 400 otherwise). An unknown template, individual-group, organization or individual is a 404
    (another tenant's included). A group member deleted before the fan-out reaches it is skipped (its recipient record
    says so). Answers `task-id` and `message-data` (the template
    rendered with `template-data`; each recipient's `recipient.*` variables are filled in per recipient).
    """
    who = courier_caller(api)
    if not body.individual_ids and not body.individual_group_ids:
        from parley.errors import BadRequest

        raise BadRequest("individual-ids or individual-group-ids: give at least one", pointer="/individual-ids", code="no-audience")
    req = multicasts.Request(
        kind="user-multicasts", template_id=body.template_id, data=body.template_data, created_by=who.user_id,
        organization_id=body.organization_id, individual_ids=list(dict.fromkeys(body.individual_ids or [])) or None,
        group_ids=list(dict.fromkeys(body.individual_group_ids or [])) or None, data_pointer="/template-data",
    )  # fmt: skip
    mc, message = multicasts.accept(who.tenant_id, req)
    return _plain(TaskAnswer(task_id=mc["id"], message_data=message))


@api.post(
    "/v1/users/<id>/multicast",
    access=SEND_ACCESS,
    responses={201: _plain_doc(TaskAnswer, "`task-id` (the multicast) and `message-data` (the template rendered for this user).")},
    errors=(404,),
    example=Example(body={"template-id": SAMPLE_TEMPLATE, "data": {"clinic": "Northside"}}),
)
def multicast_to_user(id: ResourceId, body: UserMulticast) -> Response[str]:
    """Send a multicast to a user

    The template rendered for user `id` (404 when the tenant has no such user) with `data`; `individual-id` (one of
    the user's individuals, else 404) gives the recipient's names. Answers `task-id` and `message-data`.
    """
    who = courier_caller(api)
    req = multicasts.Request(
        kind="user", template_id=body.template_id, data=body.data, created_by=who.user_id, organization_id=body.organization_id,
        user_id=id, individual_id=body.individual_id,
    )  # fmt: skip
    mc, message = multicasts.accept(who.tenant_id, req)
    return _plain(TaskAnswer(task_id=mc["id"], message_data=message))


@api.post(
    "/v1/individuals/<id>/multicast",
    access=SEND_ACCESS,
    responses={201: _plain_doc(TaskAnswer, "`task-id` (the multicast) and `message-data` (the template rendered for this individual).")},
    errors=(404,),
    example=Example(body={"template-id": SAMPLE_TEMPLATE, "template-data": {"clinic": "Northside"}}),
)
def multicast_to_individual(id: ResourceId, body: IndividualMulticast) -> Response[str]:
    """Send a multicast to an individual

    The template rendered for individual `id` (404 when the tenant has no such individual) with `template-data`,
    notified to the individual's user (its owner). Answers `task-id` and `message-data`.
    """
    who = courier_caller(api)
    req = multicasts.Request(
        kind="individual", template_id=body.template_id, data=body.template_data, created_by=who.user_id,
        organization_id=body.organization_id, individual_ids=[id], data_pointer="/template-data",
    )  # fmt: skip
    mc, message = multicasts.accept(who.tenant_id, req)
    return _plain(TaskAnswer(task_id=mc["id"], message_data=message))


@api.post(
    "/v1/users/<id>/validate-multicast-params",
    responses={201: _plain_doc(ValidationAnswer, "`success`, and `info`: what is wrong (every missing variable), or that it renders.")},
    errors=(404,),
    example=Example(
        body={
            "template-id": SAMPLE_TEMPLATE,
            "data": {"clinic": "Northside"},
            "individual-id": SAMPLE_INDIVIDUAL,
            "organization-id": "33333333-3333-3333-3333-333333333333",
        }
    ),
)
def validate_multicast_params(id: ResourceId, body: ValidateMulticastParams) -> Response[str]:
    """Check multicast parameters for a user

    A dry run: whether template `template-id` renders for user `id` with `data` and `individual-id`. `success: false`
    with `info` naming every missing variable (or the unknown template, or an individual not the user's); nothing is
    stored or sent. 404 when the tenant has no such user.
    """
    who = courier_caller(api)
    ok, info = multicasts.validate(who.tenant_id, id, body.template_id, body.data, body.individual_id, body.organization_id)
    return _plain(ValidationAnswer(success=ok, info=info))
