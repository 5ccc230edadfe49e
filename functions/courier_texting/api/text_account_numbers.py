"""The courier texting API's numbers (seed 003, docs/courier.md "Texting" → "Accounts, numbers, lookups"): phone
numbers bought into a text account, their settings and debug logs.

- GET /v1/text-account-numbers/ — list (``account-id``, ``filter[phone-number]`` / ``phone-number``)
- POST /v1/text-account-numbers/ — buy a number in ``area-code``
- GET /v1/text-account-numbers/{id}/ — one
- PATCH /v1/text-account-numbers/{id}/ — ``forward-to``, ``alert``, ``logging``, ``events.unknown-number``, ``notes``
- POST /v1/text-account-numbers/{id}/reset-logs/ — clear its text-number-logs
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import idempotency_key
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import text_numbers
from parley.errors import BadRequest
from parley.models.courier_text_numbers import NUMBERS, EmptyBody, TextNumberAttributes, TextNumberCreate, TextNumberUpdate
from parley.models.jsonapi import RequestDocument

api = Api("courier_texting", tags=["Text account numbers"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
AccountId = Annotated[str | None, Query(alias="account-id", min_length=1, max_length=128, description="Only this account's numbers.")]
FilterPhone = jsonapi.filter_param(
    "phone-number", max_length=64, description="Only the number with this phone number (E.164, or national)."
)
Phone = Annotated[str | None, Query(alias="phone-number", min_length=1, max_length=64, description="The same as `filter[phone-number]`.")]
SAMPLE_ACCOUNT = "44444444-4444-4444-4444-444444444444"


@api.get(
    "/v1/text-account-numbers",
    responses={200: jsonapi.list_doc(TextNumberAttributes, "A page of the tenant's numbers, newest first.")},
    example=Example(query={"account-id": SAMPLE_ACCOUNT}),
)
def list_text_account_numbers(
    account_id: AccountId = None,
    filter_phone: FilterPhone = None,
    phone_number: Phone = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List text account numbers

    The tenant's numbers, newest first; `account-id` keeps one account's; `filter[phone-number]` (or
    `phone-number`, the seed shows both; E.164 or national in the tenant's country, 400 naming the parameter when it
    is no phone number) the one number with that phone number.
    """
    who = courier_caller(api)
    if filter_phone is not None and phone_number is not None and filter_phone != phone_number:
        raise BadRequest(
            "give filter[phone-number] or phone-number, not two different numbers", parameter="phone-number", code="invalid-filter"
        )
    phone, parameter = (filter_phone, "filter[phone-number]") if filter_phone is not None else (phone_number, "phone-number")
    items, total = text_numbers.page(
        who.tenant_id, who.caller.default_country, account_id=account_id, phone=phone, parameter=parameter, offset=offset, limit=limit
    )
    return jsonapi.listing(NUMBERS, items, TextNumberAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/text-account-numbers",
    responses={201: jsonapi.single_doc(TextNumberAttributes, "The number bought.")},
    errors=(409, 422, 502, 503),
    access=("table:write", "texting-secrets", "text-inbound-url"),
    example=Example(body={"data": {"type": NUMBERS, "attributes": {"account-id": SAMPLE_ACCOUNT, "area-code": "415", "notes": "Support"}}}),
)
def create_text_account_number(body: RequestDocument[TextNumberCreate]) -> Response[str]:
    """Buy a number for a text account

    Buys an SMS-capable number into `account-id` (required, the tenant's account; 422 otherwise), in `area-code`
    (3 digits) when given, with `forward-to` (a phone number: 400 when it is none), `alert`, `logging` and `notes`.
    Twilio sends its inbound SMS and status webhooks to Parley. 422 when Twilio has no number for sale there; 502 when
    Twilio fails (nothing is stored). An `Idempotency-Key` header makes a retry answer the first number (one
    purchase).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, NUMBERS)
    created = text_numbers.create(
        who.tenant_id, who.caller.default_country, attrs, idempotency_key=idempotency_key(api), lambda_context=api.lambda_context
    )
    return jsonapi.single(NUMBERS, *created, status=201)


@api.get("/v1/text-account-numbers/<id>", responses={200: jsonapi.single_doc(TextNumberAttributes, "The number.")})
def get_text_account_number(id: ResourceId) -> Response[str]:
    """Get one text account number

    Its capabilities, Twilio SID (`twilio-id`), location data and settings. 404 when the tenant has no such number.
    """
    who = courier_caller(api)
    return jsonapi.single(NUMBERS, *text_numbers.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/text-account-numbers/<id>",
    responses={200: jsonapi.single_doc(TextNumberAttributes, "The number as changed.")},
    errors=(409, 422),
    access=("table:write",),
    example=Example(
        body={
            "data": {
                "type": NUMBERS,
                "id": SAMPLE.path["id"],
                "attributes": {"logging": True, "forward-to": "+15555550123", "events": {"unknown-number": {"action": "forward"}}},
            }
        }
    ),
)
def update_text_account_number(id: ResourceId, body: RequestDocument[TextNumberUpdate]) -> Response[str]:
    """Modify a text account number

    `alert`, `logging` (record inbound SMS in text-number-logs), `notes`, `forward-to` (a phone number, `null`
    clears it) and `events.unknown-number`: what an inbound SMS that is no reply, consent answer or STOP/START does —
    `{"action": "ignore"}`, `{"action": "forward", "to"?}` (to `to`, else `forward-to`) or
    `{"action": "reply", "message"}`. Only the attributes sent change.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, NUMBERS, id)
    return jsonapi.single(NUMBERS, *text_numbers.update(who.tenant_id, who.caller.default_country, id, attrs))


@api.post(
    "/v1/text-account-numbers/<id>/reset-logs",
    responses={201: jsonapi.single_doc(TextNumberAttributes, "The number; its logs are gone.")},
    access=("table:write",),
    example=Example(body={}),
)
def reset_text_account_number_logs(id: ResourceId, body: EmptyBody) -> Response[str]:
    """Clear a number's logs

    Deletes every text-number-logs entry of the number (the body is `{}`) and answers the number. 404 when the
    tenant has no such number.
    """
    who = courier_caller(api)
    return jsonapi.single(NUMBERS, *text_numbers.reset_logs(who.tenant_id, id), status=201)
