"""The courier texting API's accounts (seed 003, docs/courier.md "Texting" → "Accounts, numbers, lookups"): an
organization's Twilio subaccount, its credentials in Secrets Manager.

- GET /v1/text-accounts/ — list (``organization-id``)
- POST /v1/text-accounts/ — create (a Twilio subaccount of the tenant's main account)
- GET /v1/text-accounts/{id}/ — one
- PATCH /v1/text-accounts/{id}/ — ``allow-custom-number``, ``phone-number`` (the default sender)
- POST /v1/text-accounts/{id}/claim-number/ — buy a number into the account (a text-account-numbers resource)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import idempotency_key
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import text_accounts
from parley.models.courier_text_numbers import (
    ACCOUNTS,
    NUMBERS,
    ClaimNumber,
    TextAccountAttributes,
    TextAccountCreate,
    TextAccountUpdate,
    TextNumberAttributes,
)
from parley.models.jsonapi import RequestDocument

api = Api("courier_texting", tags=["Text accounts"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str | None, Query(alias="organization-id", min_length=1, max_length=128, description="Only the accounts of this organization.")
]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"


@api.get(
    "/v1/text-accounts", responses={200: jsonapi.list_doc(TextAccountAttributes, "A page of the tenant's text accounts, newest first.")}
)
def list_text_accounts(
    organization_id: OrganizationId = None, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List text accounts

    The tenant's SMS (Twilio) accounts, newest first; `organization-id` keeps one organization's. `meta` carries
    `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = text_accounts.page(who.tenant_id, organization_id, offset=offset, limit=limit)
    return jsonapi.listing(ACCOUNTS, items, TextAccountAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/text-accounts",
    responses={201: jsonapi.single_doc(TextAccountAttributes, "The account: a new Twilio subaccount.")},
    errors=(409, 422, 502),
    access=("table:write", "provider-secrets", "texting-secrets"),
    example=Example(body={"data": {"type": ACCOUNTS, "attributes": {"organization-id": SAMPLE_ORG, "allow-custom-number": False}}}),
)
def create_text_account(body: RequestDocument[TextAccountCreate]) -> Response[str]:
    """Create a text account

    A Twilio subaccount of the tenant's main Twilio account (the tenant's provider credentials; 422 when it has
    none) for `organization-id` (required, an organization of the tenant). Its auth token is kept in Secrets
    Manager and never answered; `twilio-id` is the subaccount's SID. 502 when Twilio fails (nothing is stored). An
    `Idempotency-Key` header makes a retry answer the first account.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, ACCOUNTS)
    created = text_accounts.create(who.tenant_id, attrs, idempotency_key=idempotency_key(api), lambda_context=api.lambda_context)
    return jsonapi.single(ACCOUNTS, *created, status=201)


@api.get("/v1/text-accounts/<id>", responses={200: jsonapi.single_doc(TextAccountAttributes, "The account.")})
def get_text_account(id: ResourceId) -> Response[str]:
    """Get one text account

    404 when the tenant has no such account (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(ACCOUNTS, *text_accounts.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/text-accounts/<id>",
    responses={200: jsonapi.single_doc(TextAccountAttributes, "The account as changed.")},
    errors=(409, 422),
    access=("table:write",),
    example=Example(body={"data": {"type": ACCOUNTS, "id": SAMPLE.path["id"], "attributes": {"allow-custom-number": True}}}),
)
def update_text_account(id: ResourceId, body: RequestDocument[TextAccountUpdate]) -> Response[str]:
    """Modify a text account

    `allow-custom-number`, and `phone-number`: the account's default sender, one of its numbers (E.164, or national
    in the tenant's country; 400 when it is no phone number, 422 when it is not this account's); `null` clears it.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, ACCOUNTS, id)
    return jsonapi.single(ACCOUNTS, *text_accounts.update(who.tenant_id, who.caller.default_country, id, attrs))


@api.post(
    "/v1/text-accounts/<id>/claim-number",
    responses={201: jsonapi.single_doc(TextNumberAttributes, "The number bought into the account.")},
    errors=(409, 422, 502, 503),
    access=("table:write", "texting-secrets", "text-inbound-url"),
    example=Example(body={"notes": "Front desk line"}),
)
def claim_text_account_number(id: ResourceId, body: ClaimNumber) -> Response[str]:
    """Claim a number for a text account

    Buys an SMS-capable number into the account (a plain body: `notes`, required, at most 255 characters; optionally
    `area-code`) and answers it as a `text-account-numbers` resource. Its inbound SMS and status webhooks point at
    Parley. The account's first number becomes its default sender (`phone-number`). 422 when Twilio has no number
    for sale there; 502 when Twilio fails. An `Idempotency-Key` header makes a retry answer the first number (one
    purchase).
    """
    who = courier_caller(api)
    claimed = text_accounts.claim_number(who.tenant_id, id, body, idempotency_key=idempotency_key(api), lambda_context=api.lambda_context)
    return jsonapi.single(NUMBERS, *claimed, status=201)
