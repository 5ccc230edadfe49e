"""The courier admin API (seed 003): organizations, replicated from the platform (``import-directory``), read here.

- GET /v1/organizations/ — list (``filter[name]``)
- GET /v1/organizations/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import directory
from parley.models.courier_directory import OrganizationAttributes

api = Api("courier_admin", tags=["Organizations"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]

TYPE = "organizations"
ByName = jsonapi.filter_param("name", description="Only the organization with this name (case-insensitive).")


@api.get(
    "/v1/organizations",
    responses={200: jsonapi.list_doc(OrganizationAttributes, "A page of the tenant's organizations, in id order.")},
    example=Example(query={"filter[name]": "northside-clinic", "page[limit]": "20"}),
)
def list_organizations(
    name: ByName = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List organizations

    The tenant's organizations (replicated from the platform), in id order; `meta` carries `page[total]`,
    `page[limit]` and `page[offset]`. Served at `/v1/organizations/` and `/v1/organizations`.
    """
    who = courier_caller(api)
    items, total = directory.page(who.tenant_id, TYPE, offset=offset, limit=limit, filters={"name": name} if name else None)
    return jsonapi.listing(TYPE, items, OrganizationAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/organizations/<id>", responses={200: jsonapi.single_doc(OrganizationAttributes, "The organization.")})
def get_organization(id: ResourceId) -> Response[str]:
    """Get one organization

    404 when the tenant has no organization with this id (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *directory.get(who.tenant_id, TYPE, id))
