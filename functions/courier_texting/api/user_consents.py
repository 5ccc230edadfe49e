"""The courier's SMS consent flows (seed 003 ``user-consents``, docs/courier.md "Texts, replies and consents").

- GET /v1/user-consents/ — the tenant's consents (``filter[organization-id]``, ``filter[user-id]``)
- POST /v1/user-consents/ — start one: sends ``args.messages.initial``
- GET /v1/user-consents/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import idempotency_key
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import user_consents
from parley.models.jsonapi import RequestDocument
from parley.models.texts import CONSENT_TYPE, ConsentAttributes, ConsentCreate

api = Api("courier_texting", tags=["User consents"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrgFilter = Annotated[
    str | None,
    Query(
        alias="filter[organization-id]",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Only this organization's.",
    ),
]
UserFilter = Annotated[str | None, Query(alias="filter[user-id]", min_length=1, max_length=255, description="Only this user's.")]
SEND_ACCESS = ("table:write", "send-queue", "scheduler")


@api.send(
    "/v1/user-consents",
    responses={201: jsonapi.single_doc(ConsentAttributes, "The consent, pending: its initial text is queued.")},
    access=SEND_ACCESS,
    example=Example(
        body={
            "data": {
                "type": CONSENT_TYPE,
                "attributes": {
                    "type": "sms",
                    "user-id": "9b2f6d3e-1c4a-4f7e-8a55-3d2e1f0c9b7a",
                    "organization-id": "33333333-3333-3333-3333-333333333333",
                    "args": {
                        "account-id": "44444444-4444-4444-4444-444444444444",
                        "messages": {
                            "initial": "Reply YES to get shift alerts by text.",
                            "accept": "Thanks, you are subscribed. Reply STOP to end.",
                            "invalid-response": "Please reply YES or NO.",
                        },
                    },
                },
            }
        }
    ),
)
def create_user_consent(body: RequestDocument[ConsentCreate]) -> Response[str]:
    """Start a consent flow

    `type` sms; the phone is the directory user's (`user-id`) or `target-id` (E.164; 400 naming it when it cannot be a
    phone number); `args.messages.initial` is sent at once from `args.account-id`'s number (`args.number-id`, else the
    account's stable sender). The reply moves `state` from `pending`: YES (and the like) → `accepted` (the number is
    opted in, and `accept` is sent), NO or STOP → `declined` (opted out), anything else → `invalid-response` (and
    `invalid-response` is sent; another reply may still accept). A number that said STOP is a 422.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, CONSENT_TYPE)
    created = user_consents.create(who.caller, who.user_id, attrs, idempotency_key=idempotency_key(api), lambda_context=api.lambda_context)
    return jsonapi.single(CONSENT_TYPE, *created, status=201)


@api.get("/v1/user-consents", responses={200: jsonapi.list_doc(ConsentAttributes, "A page of consents, newest first.")})
def list_user_consents(
    organization_id: OrgFilter = None, user_id: UserFilter = None, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List consents

    The tenant's consents, newest first; `filter[user-id]` keeps one user's, `filter[organization-id]` one
    organization's. `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = user_consents.page(who.tenant_id, organization_id=organization_id, user_id=user_id, offset=offset, limit=limit)
    return jsonapi.listing(CONSENT_TYPE, items, ConsentAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/user-consents/<id>", responses={200: jsonapi.single_doc(ConsentAttributes, "The consent.")})
def get_user_consent(id: ResourceId) -> Response[str]:
    """Get one consent

    Its `state` (pending, accepted, declined, invalid-response), `target-id` (the phone, E.164) and `args`. 404 when
    the tenant has no such consent (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(CONSENT_TYPE, *user_consents.get(who.tenant_id, id))
