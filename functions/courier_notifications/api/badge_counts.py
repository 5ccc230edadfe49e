"""The courier notifications API (seed 003): badge counters per individual and type (docs/courier.md "User notifications
and badges").

- GET /v1/badge-counts/ — an individual's counters (`individual-id` required)
- POST /v1/badge-counts/ — set one (an upsert per individual and type; the last write by `timestamp` wins)
- GET /v1/badge-counts/{id}/ — one
- POST /v1/bulk-badge-counts/ — set several (201, a `null` body)

With a user (bearer token, or `X-User-ID` with the API key) the individual must be one of the user's (403); the
tenant's server (the API key without `X-User-ID`) may set any individual of the tenant's directory.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.dal import directory
from parley.domain import badges, ownership
from parley.errors import Forbidden, Unprocessable
from parley.models.jsonapi import MEDIA_TYPE, RequestDocument
from parley.models.user_notifications import BADGE_TYPE, BULK_BADGE_TYPE, BadgeCountAttributes, BadgeCountInput, BulkBadgeCounts

api = Api("courier_notifications", tags=["Badge counts"], access=("table:read",), example=SAMPLE)

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IdPattern = r"^[A-Za-z0-9._:-]+$"
IndividualId = Annotated[str, Query(alias="individual-id", min_length=1, max_length=128, pattern=IdPattern, description="The individual.")]
OrganizationId = Annotated[
    str | None, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="Only this organization's.")
]
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"
SAMPLE_VALUE = {"count": 3, "individual-id": SAMPLE_INDIVIDUAL, "timestamp": "2026-01-05T10:00:00Z", "type": "appointment"}


def _check_individual(who: CourierCaller, individual_id: str, *, pointer: str | None = None, parameter: str | None = None) -> None:
    """A user may only touch its own individuals (403); the tenant's server any individual the tenant has (422)."""
    if who.user_id is not None:
        if not ownership.owns(who.tenant_id, who.user_id, individual_id):
            detail = f"individual {individual_id!r} is not one of user {who.user_id!r}'s individuals"
            raise Forbidden(detail, pointer=pointer, parameter=parameter, code="not-owner")
    elif directory.get(who.tenant_id, "individuals", individual_id) is None:
        raise Unprocessable(f"no individual {individual_id!r}", pointer=pointer, parameter=parameter, code="unknown-individual")


@api.get(
    "/v1/badge-counts",
    responses={200: jsonapi.list_doc(BadgeCountAttributes, "The individual's counters, by type.")},
    errors=(403,),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def list_badge_counts(individual_id: IndividualId, organization_id: OrganizationId = None) -> Response[str]:
    """List an individual's badge counters

    One counter per type (`appointment`, …) of `individual-id` (required; with a user, one of the user's
    individuals, else 403), only those set for `organization-id` when given. Never paged: `meta` carries
    `page[total]`, `page[limit]` (= the total) and `page[offset]` (0).
    """
    who = courier_caller(api)
    if who.user_id is not None:
        _check_individual(who, individual_id, parameter="individual-id")
    items = badges.listing(who.tenant_id, individual_id, organization_id)
    return jsonapi.listing(BADGE_TYPE, items, BadgeCountAttributes, total=len(items), limit=len(items), offset=0)


@api.post(
    "/v1/badge-counts",
    responses={201: jsonapi.single_doc(BadgeCountAttributes, "The counter as it stands (the stored one when this write was older).")},
    errors=(403, 409),
    access=("table:write",),
    example=Example(headers={"Content-Type": "application/vnd.api+json"}, body={"data": {"type": BADGE_TYPE, "attributes": SAMPLE_VALUE}}),
)
def create_badge_count(body: RequestDocument[BadgeCountInput]) -> Response[str]:
    """Set a badge counter

    An upsert per individual and `type`: `individual-id`, `type` and `count` (≥ 0) are required (422 naming the
    member); `timestamp` (when the count was true) defaults to now; `organization-id` is kept. The last write by
    `timestamp` wins: a write older than the stored counter changes nothing and is answered with the stored one.
    The individual's counters add up to the badge its pushes carry.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, BADGE_TYPE)
    badges.check(attrs)
    _check_individual(who, attrs.individual_id or "", pointer="/data/attributes/individual-id")
    return jsonapi.single(BADGE_TYPE, *badges.set_count(who.tenant_id, attrs), status=201)


@api.get("/v1/badge-counts/<id>", responses={200: jsonapi.single_doc(BadgeCountAttributes, "The counter.")}, errors=(403,))
def get_badge_count(id: ResourceId) -> Response[str]:
    """Get one badge counter

    404 when the tenant has no such counter; 403 when a user asks for one of another user's individuals.
    """
    who = courier_caller(api)
    stored = badges.stored(who.tenant_id, id)
    if who.user_id is not None:
        _check_individual(who, stored["individual_id"], parameter="id")
    return jsonapi.single(BADGE_TYPE, id, badges.view(stored))


@api.post(
    "/v1/bulk-badge-counts",
    responses={201: {"description": "Set. The body is `null`, as the seed shows.", "content": {MEDIA_TYPE: {"schema": {"type": "null"}}}}},
    errors=(403, 409),
    access=("table:write",),
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={"data": {"type": BULK_BADGE_TYPE, "attributes": {"values": [SAMPLE_VALUE]}}},
    ),
)
def create_bulk_badge_counts(body: RequestDocument[BulkBadgeCounts]) -> Response[str]:
    """Set several badge counters

    `values`: 1..100 counters, each as `POST /v1/badge-counts/` takes one (the same rules: upsert per individual and
    type, last write by `timestamp` wins). Every value is checked before any is written (422 or 403 naming
    `/data/attributes/values/<i>/…`). Answers 201 with a `null` body, as the seed shows.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, BULK_BADGE_TYPE)
    badges.set_many(
        who.tenant_id, attrs.values, check_individual=lambda individual, pointer: _check_individual(who, individual, pointer=pointer)
    )
    return Response(status_code=201, content_type=MEDIA_TYPE, body="null")
