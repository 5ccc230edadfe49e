"""The courier texting API's number lookups (seed 003, docs/courier.md "Texting" → "Accounts, numbers, lookups"):
carrier and line type from Twilio Lookup v2, cached per tenant and number with an expiry.

- GET /v1/text-number-info/ — the cached record of ``number`` (required)
- POST /v1/text-number-info/ — resolve a number (``reresolve`` forces a fresh lookup)
- GET /v1/text-number-info/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import number_info
from parley.models.courier_text_numbers import NUMBER_INFO, NumberInfoAttributes, NumberInfoCreate
from parley.models.jsonapi import RequestDocument

api = Api("courier_texting", tags=["Text number info"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
Number = Annotated[
    str, Query(alias="number", min_length=1, max_length=64, description="The phone number (E.164, or national in the tenant's country).")
]


@api.get(
    "/v1/text-number-info",
    responses={200: jsonapi.list_doc(NumberInfoAttributes, "The number's cached lookup (none or one).")},
    example=Example(query={"number": "+15555550100"}),
)
def list_text_number_info(number: Number, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """Look up cached number info

    The tenant's cached lookup of `number` (required; 400 naming it when it is no phone number), fresh or expired:
    an empty list when it was never resolved. Nothing is asked of Twilio.
    """
    who = courier_caller(api)
    items, total = number_info.page(who.tenant_id, who.caller.default_country, number, offset=offset, limit=limit)
    return jsonapi.listing(NUMBER_INFO, items, NumberInfoAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/text-number-info",
    responses={201: jsonapi.single_doc(NumberInfoAttributes, "The number's lookup (cached, or resolved now).")},
    errors=(422, 502),
    access=("table:write", "provider-secrets"),
    example=Example(body={"data": {"type": NUMBER_INFO, "attributes": {"number": "+15555550100", "reresolve": False}}}),
)
def create_text_number_info(body: RequestDocument[NumberInfoCreate]) -> Response[str]:
    """Resolve number info

    Carrier and line type of `number` (required; 400 naming it when it is no phone number) from Twilio Lookup v2
    with the tenant's Twilio account. A cached lookup younger than 30 days is answered as it is; an older one, or
    `reresolve: true`, asks Twilio again and replaces it (same id). `status` is `resolved`, or `failed` with `error`
    when Twilio cannot tell; 502 when Twilio fails (nothing changes).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, NUMBER_INFO)
    return jsonapi.single(NUMBER_INFO, *number_info.create(who.tenant_id, who.caller.default_country, attrs), status=201)


@api.get("/v1/text-number-info/<id>", responses={200: jsonapi.single_doc(NumberInfoAttributes, "The lookup.")})
def get_text_number_info(id: ResourceId) -> Response[str]:
    """Get one number-info record

    404 when the tenant has no such record.
    """
    who = courier_caller(api)
    return jsonapi.single(NUMBER_INFO, *number_info.get(who.tenant_id, id))
