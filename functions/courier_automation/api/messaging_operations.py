"""The courier messaging API (seed 003): messaging-operations, asynchronous organization jobs (docs/courier.md
"Operations: move-group").

- GET /v1/messaging-operations/ — an organization's operations (``filter[type]``, ``include-args``)
- POST /v1/messaging-operations/ — start one (``type`` ``move-group``): ``queued``, then run by AutomationFunction
- GET /v1/messaging-operations/{id}/ — one, with its ``status`` and ``logs`` (progress)

Tenant-scoped: another tenant's id is a 404.
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import messaging_operations
from parley.models.jsonapi import RequestDocument
from parley.models.messaging_operations import TYPE, OperationAttributes, OperationCreateAttributes

api = Api("courier_automation", tags=["Messaging operations"], example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="The organization (required).")
]
TypeFilter = Annotated[Literal["move-group"] | None, Query(alias="filter[type]", description="Only operations of this type.")]
IncludeArgs = Annotated[bool, Query(alias="include-args", description="Answer each operation's args (default false: null).")]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"


@api.get(
    "/v1/messaging-operations",
    responses={200: jsonapi.list_doc(OperationAttributes, "A page of operations, newest first.")},
    errors=(404, 422),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_messaging_operations(
    organization_id: OrganizationId,
    type_: TypeFilter = None,
    include_args: IncludeArgs = False,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List operations

    The organization's operations, newest first (404 when the tenant has no such organization). `args` is null
    unless `include-args`. `meta` carries `page[total]`, `page[limit]`, `page[offset]`.
    """
    who = courier_caller(api)
    items, total = messaging_operations.page(
        who.tenant_id, organization_id, kind=type_, include_args=include_args, offset=offset, limit=limit
    )
    return jsonapi.listing(TYPE, items, OperationAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-operations",
    responses={201: jsonapi.single_doc(OperationAttributes, "The operation, queued.")},
    access=("table:write", "automation-queue"),
    errors=(404, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "organization-id": SAMPLE_ORG,
                    "type": "move-group",
                    "args": {
                        "from-individual-group-id": "66666666-6666-6666-6666-666666666666",
                        "to-individual-group-id": "77777777-7777-7777-7777-777777777777",
                    },
                },
            }
        }
    ),
)
def create_messaging_operation(body: RequestDocument[OperationCreateAttributes]) -> Response[str]:
    """Start an operation

    `type` `move-group` (the one type; else 422) with `args` `{from-individual-group-id, to-individual-group-id}`
    (groups of the organization, not the same: 404 / 422): every channel bound to the first is re-homed to the second,
    its members follow the target group, members who stay keep their state, messages are untouched. Answers the
    operation `queued` (with its args); `status` goes `running`, then `completed` (or `failed`, `logs.error`), and
    `logs` counts `channels-total`, `channels-moved`, `members-added`, `members-removed`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *messaging_operations.create(who.tenant_id, attrs, user_id=who.user_id), status=201)


@api.get(
    "/v1/messaging-operations/<id>",
    responses={200: jsonapi.single_doc(OperationAttributes, "The operation.")},
    errors=(404, 422),
)
def get_messaging_operation(id: ResourceId, include_args: IncludeArgs = False) -> Response[str]:
    """Get an operation

    Its `status` and `logs` (progress); `args` with `include-args`. 404 for an unknown id or another tenant's.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *messaging_operations.get(who.tenant_id, id, include_args=include_args))
