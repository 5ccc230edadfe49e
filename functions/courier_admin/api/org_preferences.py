"""The courier admin API (seed 003): organization preferences, three known names per organization.

- GET /v1/org-preferences/ — an organization's preferences (``organization-id`` required, ``filter[name]``)
- POST /v1/org-preferences/ — set one (an upsert per organization and name)
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import org_preferences
from parley.models.jsonapi import RequestDocument
from parley.models.org_preferences import NAMES, OrgPreferenceAttributes, OrgPreferenceInput

api = Api("courier_admin", tags=["Organization preferences"], example=SAMPLE)

TYPE = "org-preferences"
ORG = "0a3c1b6e-5d7f-4e2a-9b1c-8d6e5f4a3b21"  # the samples' organization
OrganizationId = Annotated[
    str,
    Query(alias="organization-id", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The organization (required)."),
]
ByName = Annotated[
    Literal["default-channel-title", "group-provider-ack", "initial-sms-message"] | None,
    Query(alias="filter[name]", description="Only this preference."),
]


@api.get(
    "/v1/org-preferences",
    responses={200: jsonapi.list_doc(OrgPreferenceAttributes, "The organization's preferences: each known name, set or default.")},
    example=Example(query={"organization-id": ORG}),
)
def list_org_preferences(organization_id: OrganizationId, name: ByName = None) -> Response[str]:
    """List an organization's preferences

    Every known name (`default-channel-title`, `group-provider-ack`, `initial-sms-message`), or only `filter[name]`:
    the organization's own value (`explicit: true`, with `created-at`) or the name's default (`explicit: false`,
    `created-at` null). Never paged: `meta` carries `page[total]`, `page[limit]` (3) and `page[offset]` (0). 404 when
    the tenant has no organization `organization-id`.
    """
    who = courier_caller(api)
    items = org_preferences.listing(who.tenant_id, organization_id, name)
    return jsonapi.listing(TYPE, items, OrgPreferenceAttributes, total=len(items), limit=len(NAMES), offset=0)


@api.post(
    "/v1/org-preferences",
    responses={201: jsonapi.single_doc(OrgPreferenceAttributes, "The preference as set.")},
    errors=(409,),
    access=("table:write",),
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={
            "data": {"type": TYPE, "attributes": {"name": "group-provider-ack", "organization-id": ORG, "type": "json", "value": "true"}}
        },
    ),
)
def set_org_preference(body: RequestDocument[OrgPreferenceInput]) -> Response[str]:
    """Set an organization preference

    An upsert per organization and name: setting it again replaces the value and keeps `created-at`. `value` is the
    preference's JSON text and `value-js` the same value as JSON: give either or both (they must agree; the answer has
    both). `group-provider-ack` takes a boolean, `default-channel-title` a string, `initial-sms-message` an object of
    locale to text. 404 when the tenant has no organization `organization-id`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *org_preferences.set_preference(who.tenant_id, attrs), status=201)
