"""The courier messaging API (seed 003): messaging-bulk-messages, one message posted into one direct channel per
recipient, asynchronously (docs/courier.md "Bulk messages").

- GET /v1/messaging-bulk-messages/ — the tenant's bulk messages: drafts, and posted ones with ``include-posted``
- POST /v1/messaging-bulk-messages/ — a draft (the default), or posted at once (``draft: false``)
- GET /v1/messaging-bulk-messages/{id}/ — one, with its posting's ``status`` and ``progress`` (ours)
- PATCH /v1/messaging-bulk-messages/{id}/ — edit a draft; ``draft: false`` posts it (a posted one: 409)

Another tenant's id is a 404 (the same body as an unknown id).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import bulk_messages
from parley.models.bulk_messages import TYPE, BulkMessageAttributes, BulkMessageCreate, BulkMessageUpdate
from parley.models.jsonapi import RequestDocument

api = Api("courier_messaging", tags=["Messaging bulk messages"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
CreatedBy = Annotated[
    str | None,
    Query(alias="filter[created-by]", min_length=1, max_length=128, pattern=IdPattern, description="Only those this individual created."),
]
IncludePosted = Annotated[bool, Query(alias="include-posted", description="Posted (and posting) bulk messages too, not only drafts.")]
IndividualId = Annotated[
    str | None,
    Query(
        alias="individual-id",
        min_length=1,
        max_length=128,
        pattern=IdPattern,
        description="The acting individual (one of the user's; default: the user's primary individual).",
    ),
]
WRITE_ACCESS = ("table:write", "automation-queue")
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"
SAMPLE_GROUP = "44444444-4444-4444-4444-444444444444"


@api.get(
    "/v1/messaging-bulk-messages",
    responses={200: jsonapi.list_doc(BulkMessageAttributes, "A page of bulk messages, newest first.")},
    errors=(400, 403, 422),
)
def list_messaging_bulk_messages(
    created_by: CreatedBy = None,
    include_posted: IncludePosted = False,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List bulk messages

    The tenant's bulk messages, newest first: drafts only, unless `include-posted` (then every one, posted and
    posting too). `filter[created-by]`: those the individual created. `meta` carries `page[total]`, `page[limit]` and
    `page[offset]`.
    """
    who = courier_caller(api)
    who.acting_user()
    items, total = bulk_messages.page(who.tenant_id, include_posted=include_posted, created_by=created_by, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, [(i["id"], bulk_messages.attributes(i)) for i in items], BulkMessageAttributes, total=total,
                           limit=limit, offset=offset)  # fmt: skip


@api.post(
    "/v1/messaging-bulk-messages",
    responses={201: jsonapi.single_doc(BulkMessageAttributes, "The new bulk message (a draft, or queued for posting).")},
    access=WRITE_ACCESS,
    errors=(400, 403, 404, 409, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "auto-create-channel": True,
                    "draft": True,
                    "individual-ids": [SAMPLE_INDIVIDUAL],
                    "individual-group-ids": [SAMPLE_GROUP],
                    "message": "The clinic is closed on Friday.",
                    "message-js": {"en_US": "The clinic is closed on Friday.", "es_US": "La clínica cierra el viernes."},
                },
            }
        }
    ),
)
def create_messaging_bulk_message(body: RequestDocument[BulkMessageCreate], individual_id: IndividualId = None) -> Response[str]:
    """Posts a new message to many channels

    One message into the direct channel between the sender and each individual of `individual-ids` and of the
    `individual-group-ids` (the directory's members when posting starts; once each; never the sender). A draft by
    default (`draft: true`: bulk attachments may be uploaded first); `draft: false` starts posting at once. Posting is
    asynchronous: `status` (ours) moves queued → posting → posted (or partially-failed) and `progress` (ours) counts
    the recipients posted, skipped (no direct channel and `auto-create-channel` false) and failed. Sent as the acting
    individual, or `sender-individual-id` (one of the user's: 403 otherwise), or for `sender-individual-group-id` as
    the acting individual, who must be in that group (403). `message-js` is chosen per recipient from the locale of
    the user who owns the recipient (else `message`). `organization-id` (ours, optional): else the sender group's or
    the first recipient group's organization (422 when neither names one). Unknown ids: 404 naming the member.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    me = who.individual(individual_id, parameter="individual-id")
    item = bulk_messages.create(who.tenant_id, me, who.acting_user(), attrs)
    return jsonapi.single(TYPE, item["id"], bulk_messages.attributes(item), status=201)


@api.get(
    "/v1/messaging-bulk-messages/<id>",
    responses={200: jsonapi.single_doc(BulkMessageAttributes, "The bulk message, with its posting's progress.")},
    errors=(400, 403, 404, 422),
)
def get_messaging_bulk_message(id: ResourceId) -> Response[str]:
    """Get a bulk message

    The bulk message with its posting's `status` and `progress` (ours; read it to follow the posting). 404 for an
    unknown id or another tenant's.
    """
    who = courier_caller(api)
    who.acting_user()
    item = bulk_messages.require_bulk(who.tenant_id, id)
    return jsonapi.single(TYPE, id, bulk_messages.attributes(item))


@api.route(
    "PATCH",
    "/v1/messaging-bulk-messages/<id>",
    responses={200: jsonapi.single_doc(BulkMessageAttributes, "The bulk message, changed (or queued for posting).")},
    access=WRITE_ACCESS,
    errors=(400, 403, 404, 409, 422),
    example=Example(body={"data": {"type": TYPE, "attributes": {"draft": False, "message": "The clinic is closed on Friday."}}}),
)
def update_messaging_bulk_message(id: ResourceId, body: RequestDocument[BulkMessageUpdate]) -> Response[str]:
    """Change a bulk message

    While it is a draft: `message`, `message-js`; `draft: false` posts it (asynchronously: follow `status` and
    `progress`). A posted bulk message cannot be changed (409). Only its creator's user may change it (403).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    item = bulk_messages.update(who.tenant_id, id, who.acting_user(), attrs)
    return jsonapi.single(TYPE, id, bulk_messages.attributes(item))
