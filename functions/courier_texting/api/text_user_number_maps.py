"""The courier texting API's user number maps (seed 003, docs/courier.md "Texting" → "Accounts, numbers, lookups"):
a user's stable sender number in an organization.

- GET /v1/text-user-number-maps/ — list (``filter[number-id]``, ``filter[organization-id]``, ``filter[user-id]``)
- POST /v1/text-user-number-maps/ — create
- GET /v1/text-user-number-maps/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import text_numbers
from parley.models.courier_text_numbers import NUMBER_MAPS, NumberMapAttributes, NumberMapCreate
from parley.models.jsonapi import RequestDocument

api = Api("courier_texting", tags=["Text user number maps"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
ByNumber = jsonapi.filter_param("number-id", max_length=128)
ByOrganization = jsonapi.filter_param("organization-id", max_length=128)
ByUser = jsonapi.filter_param("user-id", max_length=128)


@api.get("/v1/text-user-number-maps", responses={200: jsonapi.list_doc(NumberMapAttributes, "A page of the tenant's user number maps.")})
def list_text_user_number_maps(
    number_id: ByNumber = None,
    organization_id: ByOrganization = None,
    user_id: ByUser = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List user number maps

    The tenant's maps, newest first (by organization alone: in user-id order), filtered by `filter[number-id]`,
    `filter[organization-id]` and `filter[user-id]` (all that are given).
    """
    who = courier_caller(api)
    items, total = text_numbers.map_page(
        who.tenant_id, number_id=number_id, organization_id=organization_id, user_id=user_id, offset=offset, limit=limit
    )
    return jsonapi.listing(NUMBER_MAPS, items, NumberMapAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/text-user-number-maps",
    responses={201: jsonapi.single_doc(NumberMapAttributes, "The map.")},
    errors=(409, 422),
    access=("table:write",),
    example=Example(
        body={
            "data": {
                "type": NUMBER_MAPS,
                "attributes": {
                    "number-id": "55555555-5555-5555-5555-555555555555",
                    "organization-id": "33333333-3333-3333-3333-333333333333",
                    "user-id": "9b2f6d3e-1c4a-4f7e-8a55-3d2e1f0c9b7a",
                },
            }
        }
    ),
)
def create_text_user_number_map(body: RequestDocument[NumberMapCreate]) -> Response[str]:
    """Assign a number to a user

    The user's stable sender in the organization: texts the user sends from that organization's account go out from
    `number-id`. `number-id` (a number of the organization's account), `organization-id` and `user-id` (the tenant's)
    are required (422 naming the member); one map per user and organization (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, NUMBER_MAPS)
    return jsonapi.single(NUMBER_MAPS, *text_numbers.create_map(who.tenant_id, attrs), status=201)


@api.get("/v1/text-user-number-maps/<id>", responses={200: jsonapi.single_doc(NumberMapAttributes, "The map.")})
def get_text_user_number_map(id: ResourceId) -> Response[str]:
    """Get one user number map

    404 when the tenant has no such map.
    """
    who = courier_caller(api)
    return jsonapi.single(NUMBER_MAPS, *text_numbers.get_map(who.tenant_id, id))
