"""The courier email API (seed 003): user-emails, emails a user writes about one of their individuals and sends on an
organization's behalf through the send pipeline (docs/courier.md "Email").

- POST /v1/user-emails/ — create (a draft, or sent at once with `auto-send`)
- GET /v1/user-emails/ — the emails of one individual (`individual-id` required)
- GET /v1/user-emails/{id}/ — one
- POST /v1/user-emails/{id}/send/ — send a draft

Every route acts for a user (the bearer token's subject, or `X-User-ID` with the API key) and only on that user's
individuals (403 otherwise: parley.domain.ownership).
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import idempotency_key
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import user_emails
from parley.models.courier_email import TYPE, UserEmailAttributes, UserEmailCreate
from parley.models.jsonapi import RequestDocument

api = Api("courier_email", tags=["User emails"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IndividualId = Annotated[
    str, Query(alias="individual-id", min_length=1, max_length=128, description="The individual whose emails to list (the user's).")
]
SEND_ACCESS = ("table:write", "send-queue", "bodies:write")
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"


def _mine(who: CourierCaller, email_id: str) -> dict[str, Any]:
    """The stored email, answered only to a user it is about (its individual is one of theirs): 403 otherwise."""
    stored = user_emails.stored(who.tenant_id, email_id)
    who.individual(stored.get("individual_id"), parameter="id")
    return stored


@api.send(
    "/v1/user-emails",
    responses={201: jsonapi.single_doc(UserEmailAttributes, "The email: a draft, or queued for sending with `auto-send`.")},
    errors=(403,),
    access=SEND_ACCESS,
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "to": "pat@example.com",
                    "subject": "Your appointment",
                    "message": "See you on Tuesday at 10:00.",
                    "sender-organization-id": "33333333-3333-3333-3333-333333333333",
                    "auto-send": True,
                },
            }
        }
    ),
)
def create_user_email(body: RequestDocument[UserEmailCreate]) -> Response[str]:
    """Create an email

    `to` (one address; answered as an array), `subject`, `message` and/or `message-html`, and
    `sender-organization-id` (an organization of the tenant: the email goes out with its name) are required.
    `individual-id` must be one of the acting user's individuals (403), and defaults to the user's
    `primary-individual-id`. With `auto-send: true` the email is queued at once; otherwise it stays a `draft` until
    `POST /v1/user-emails/{id}/send/`. An `Idempotency-Key` header makes a retry return the first email.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    user = who.acting_user()
    user_emails.check_complete(attrs)
    individual = who.individual(attrs.individual_id, pointer=user_emails.pointer("individual-id"))
    created = user_emails.create(
        who.caller, user, individual, attrs, idempotency_key=idempotency_key(api), lambda_context=api.lambda_context
    )
    return jsonapi.single(TYPE, *created, status=201)


@api.get(
    "/v1/user-emails",
    responses={200: jsonapi.list_doc(UserEmailAttributes, "A page of the individual's emails, newest first.")},
    errors=(403,),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def list_user_emails(individual_id: IndividualId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List an individual's emails

    The emails about `individual-id` (required; one of the acting user's individuals, else 403), newest first. `meta`
    carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    items, total = user_emails.page(who.tenant_id, individual, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, UserEmailAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/user-emails/<id>", responses={200: jsonapi.single_doc(UserEmailAttributes, "The email.")}, errors=(403,))
def get_user_email(id: ResourceId) -> Response[str]:
    """Get one email

    Its content, `status` (draft, queued, sent, delivered, bounced, complained, failed), `result` (the provider's
    latest word) and `task-id` (the send's id). 404 when the tenant has no such email (another tenant's included);
    403 when it is not about one of the acting user's individuals.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *user_emails.answer(who.tenant_id, _mine(who, id)))


@api.send(
    "/v1/user-emails/<id>/send",
    responses={201: jsonapi.single_doc(UserEmailAttributes, "The email, queued (or as it was, if it was no longer a draft).")},
    errors=(403,),
    access=SEND_ACCESS,
    json_body=False,
)
def send_user_email(id: ResourceId) -> Response[str]:
    """Send a draft

    Queues the draft for sending (its body, `{}`, is ignored) and answers it with `status: queued`. Idempotent: an
    email that is no longer a draft is answered as it is with a 201 and is never sent twice. 404 when the tenant has no
    such email; 403 when it is not about one of the acting user's individuals.
    """
    who = courier_caller(api)

    def check(stored: dict[str, Any]) -> None:
        who.individual(stored.get("individual_id"), parameter="id")

    return jsonapi.single(TYPE, *user_emails.send(who.caller, id, check=check), status=201)
