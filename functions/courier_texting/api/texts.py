"""The courier texts (seed 003, docs/courier.md "Texts, replies and consents"): outbound SMS from an account's number
whose replies and status changes are routed back to the caller as signed callbacks.

- GET /v1/texts/ — an account's texts (``account-id`` required; ``filter[number-id]``, ``filter[target]``)
- POST /v1/texts/ — send one
- GET /v1/texts/{id}/ — one
- POST /v1/texts/{id}/callback/ — Twilio's status callback for the text (form-encoded, ``X-Twilio-Signature``)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import header, idempotency_key, request_base_url
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import texts
from parley.models.jsonapi import RequestDocument
from parley.models.texts import TEXT_TYPE, TextAttributes, TextCreate

api = Api("courier_texting", tags=["Texts"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IdPattern = r"^[A-Za-z0-9._:-]+$"
AccountId = Annotated[
    str, Query(alias="account-id", min_length=1, max_length=128, pattern=IdPattern, description="The text-account (required).")
]
NumberFilter = Annotated[
    str | None,
    Query(alias="filter[number-id]", min_length=1, max_length=128, pattern=IdPattern, description="Only texts from this number."),
]
TargetFilter = Annotated[
    str | None, Query(alias="filter[target]", min_length=3, max_length=40, description="Only texts to this phone (E.164).")
]
SEND_ACCESS = ("table:write", "send-queue", "scheduler")
SAMPLE_ACCOUNT = "44444444-4444-4444-4444-444444444444"


def public_base_url() -> str:
    """The URL this request came in at (scheme, host and the stage or base path before the route): where Twilio
    reaches ``/v1/texts/{id}/callback/``."""
    return request_base_url(api)


@api.send(
    "/v1/texts",
    responses={201: jsonapi.single_doc(TextAttributes, "The text, queued for sending.")},
    access=SEND_ACCESS,
    example=Example(
        body={
            "data": {
                "type": TEXT_TYPE,
                "attributes": {
                    "account-id": SAMPLE_ACCOUNT,
                    "target": "+15555550100",
                    "message": "Can you take the 10:00 shift tomorrow? Reply YES or NO.",
                    "expected-responses": ["YES", "NO"],
                    "callback-url": "https://example.com/parley/replies",
                    "callback-json": {"shift": "2026-12-08T10:00"},
                    "callback-one-off": True,
                },
            }
        }
    ),
)
def create_text(body: RequestDocument[TextCreate]) -> Response[str]:
    """Send a text

    `account-id`, `target` (a phone number, stored in E.164; 400 naming it when it cannot be one) and `message` are
    required. The sender is `number-id` (one of the account's numbers) or else the account's stable sender for the target.
    The text goes out through the send pipeline (quiet hours, the tenant's send rate, exactly one provider send) with the
    account's Twilio credentials; a target that opted out (STOP) is a 422. A reply that is one of `expected-responses`
    (case- and space-insensitive; any reply when there are none) is POSTed, signed, to `callback-url` with
    `callback-json`; `callback-one-off` takes only the first reply. Status changes are POSTed to `callback-status-url`.
    An `Idempotency-Key` header makes a retry return the first text.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TEXT_TYPE)
    texts.check_complete(attrs)
    created = texts.create(
        who.caller, who.user_id, attrs, base_url=public_base_url(), idempotency_key=idempotency_key(api), lambda_context=api.lambda_context
    )
    return jsonapi.single(TEXT_TYPE, *created, status=201)


@api.get(
    "/v1/texts",
    responses={200: jsonapi.list_doc(TextAttributes, "A page of the account's texts, newest first.")},
    example=Example(query={"account-id": SAMPLE_ACCOUNT}),
)
def list_texts(
    account_id: AccountId,
    number_id: NumberFilter = None,
    target: TargetFilter = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List an account's texts

    The texts of `account-id` (required), newest first; `filter[number-id]` keeps one sender's, `filter[target]` one
    target's (read as E.164; 400 naming it when it cannot be a phone number). `meta` carries `page[total]`,
    `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    wanted = texts.phone(target, who.caller.default_country, parameter="filter[target]") if target else None
    items, total = texts.page(who.tenant_id, account_id, number_id=number_id, target=wanted, offset=offset, limit=limit)
    return jsonapi.listing(TEXT_TYPE, items, TextAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/texts/<id>", responses={200: jsonapi.single_doc(TextAttributes, "The text.")})
def get_text(id: ResourceId) -> Response[str]:
    """Get one text

    Its `status` (Twilio's: accepted, queued, sending, sent, delivered, undelivered, failed …; only ever moving forward),
    `twilio-sid` and `error`. 404 when the tenant has no such text (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TEXT_TYPE, *texts.get(who.tenant_id, id))


@api.post(
    "/v1/texts/<id>/callback",
    responses={204: {"description": "The status was recorded (or was not newer than the text's: nothing changed).", "content": {}}},
    errors=(403,),
    access=("table:write", "texting-secrets", "text-callback-queue"),
    json_body=False,
    public=True,
    example=Example(query={"tenant": "sample-tenant"}, headers={"Content-Type": "application/x-www-form-urlencoded"}),
)
def text_status_callback(id: ResourceId):
    """Twilio status callback of a text

    Called by Twilio (form-encoded `MessageSid`, `MessageStatus`, `ErrorCode`), at the URL the text was sent with
    (`?tenant=` included); needs no API key: `X-Twilio-Signature`, made with the text-account's auth token over that
    exact URL and the form, is the credential (403 otherwise, and for an unknown text). The status only moves forward
    (a late `sent` after `delivered` changes nothing); a change is relayed, signed, to `callback-status-url`.
    """
    from parley.domain import sms_webhooks, text_inbound

    event = api.current_event.raw_event
    form = sms_webhooks.parse_form(event)
    tenant = _tenant(event)
    signature = (header(api, "X-Twilio-Signature") or "").strip()
    text_inbound.status_callback(event, id, tenant, form, signature)
    return Response(status_code=204, content_type="text/plain", body="")


def _tenant(event: dict) -> str | None:
    """The ``tenant`` query parameter (the last one if repeated), if it looks like a tenant id."""
    import re

    values = (event.get("multiValueQueryStringParameters") or {}).get("tenant") or []
    if not values and (event.get("queryStringParameters") or {}).get("tenant"):
        values = [event["queryStringParameters"]["tenant"]]
    value = values[-1] if values else ""
    return value if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value) else None
