"""The courier admin API (seed 003): sniffers — record one user's traffic through every courier API for a while
(``parley.domain.sniffers``; docs/courier.md, "Sniffers").

- POST /v1/sniffers/ — start one (201)
- GET /v1/sniffers/{id}/ — one
- GET /v1/sniffers/{id}/get-logs/ — its recorded requests and responses, redacted, oldest first
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import sniffers
from parley.models.jsonapi import RequestDocument
from parley.models.sniffers import NewSnifferAttributes, SnifferAttributes, SnifferLogAttributes

api = Api("courier_admin", tags=["Sniffers"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]

TYPE, LOG_TYPE = "sniffers", "sniffer-logs"
NEW = {"data": {"type": TYPE, "attributes": {"user-id": "9b2f6d3e-1c4a-4f7e-8a55-3d2e1f0c9b7a", "valid-until": "2026-12-08T12:00:00Z"}}}


@api.post(
    "/v1/sniffers",
    access=("table:write",),
    errors=(404, 409, 422),
    responses={201: jsonapi.single_doc(SnifferAttributes, "The sniffer, recording from now on (within the authorizer's cache time).")},
    example=Example(body=NEW, headers={"Content-Type": "application/vnd.api+json"}),
)
def create_sniffer(body: RequestDocument[NewSnifferAttributes]) -> Response[str]:
    """Start a sniffer

    Records the user's requests and responses through every courier API, secrets redacted, until `valid-until`
    (in the future, at most 7 days ahead: else 422). `user-id` must be a user of the tenant's directory (else 404).
    A new sniffer takes effect within the authorizer's cache time (30 s); at most 20 run at once per tenant (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *sniffers.create(who.tenant_id, attrs), status=201)


@api.get("/v1/sniffers/<id>", responses={200: jsonapi.single_doc(SnifferAttributes, "The sniffer.")})
def get_sniffer(id: ResourceId) -> Response[str]:
    """Get one sniffer

    404 when the tenant has no sniffer with this id (another tenant's included), or when it ended more than 7 days
    ago (its logs have expired).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *sniffers.get(who.tenant_id, id))


@api.get(
    "/v1/sniffers/<id>/get-logs",
    responses={200: jsonapi.list_doc(SnifferLogAttributes, "A page of the sniffer's logs, oldest first.")},
    example=Example(query={"page[limit]": "20"}),
)
def get_sniffer_logs(id: ResourceId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """Page through a sniffer's logs

    Its user's requests through the courier APIs while it ran, oldest first: method, path, redacted query string and
    body, `message` (the request line, the status and the request's headers, credentials redacted: `Authorization:
    Bearer [redacted]`), the redacted `response`. `content_type` keeps the seed's underscore. Logs are kept 7 days.
    """
    who = courier_caller(api)
    items, total = sniffers.logs(who.tenant_id, id, offset=offset, limit=limit)
    return jsonapi.listing(LOG_TYPE, items, SnifferLogAttributes, total=total, limit=limit, offset=offset)
