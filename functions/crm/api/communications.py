"""The crm API: communications.

- POST /api/v1/communications/send — accept an ad-hoc email for sending and return its record.
- POST /api/v1/communications/send-template/{templateId} — render a template and send it.
- POST /api/v1/communications/schedule — store an email to be sent at a given time.
- GET /api/v1/communications/scheduled — the tenant's emails waiting for their scheduled time.
- POST /api/v1/communications/{id}/cancel — cancel a scheduled email before it is sent.
- POST /api/v1/communications/{id}/resend — send a sent or failed email again, as a new record.
- DELETE /api/v1/communications/{id} — delete one communication record.
- DELETE /api/v1/communications/delete-list — delete several communication records.
- GET /api/v1/communications/find — the tenant's communication records with the given ids.
- GET /api/v1/communications/find-all — the tenant's communication records, newest first (capped).
- GET /api/v1/communications/find/{id} — one communication record of the tenant.
- GET /api/v1/communications/find-list — the tenant's communication records with the given ids.
- GET /api/v1/communications/page — one page of the tenant's communication records, sorted.
- GET /api/v1/communications/by-entity — every email (either direction) linked to one CRM entity.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api.crm import SAMPLE, Ids, crm_caller, crm_sender, ids_param
from parley.api.docs import crm_errors
from parley.api.endpoint import Api, Example
from parley.domain import crm_edit, crm_search, crm_send, crm_threads
from parley.models.crm import (
    CommunicationRecord,
    EntityCommunication,
    RecordPage,
    ScheduleEmailRequest,
    SendEmailRequest,
    SendTemplateRequest,
)
from parley.models.numbers import Int32

# The sample email (events/crm/send.json, schedule.json): /send relates it to a deal and tracks it.
_EMAIL = {
    "subject": "Your quote",
    "body": '<p>Hello, see <a href="https://example.com/quote/42">your quote</a>.</p>',
    "recipients": ["jan@example.com"],
}

api = Api("crm", tags=["Communications"], access=("table:read", "bodies:read"), example=SAMPLE)


@api.send(
    "/api/v1/communications/send",
    ok="The email was accepted: its record.",
    access=("table:write", "bodies:crud", "send-queue"),
    example=Example(
        body={
            **_EMAIL,
            "relatedEntityType": "deal",
            "relatedEntityId": "42",
            "type": "OFFERTE",
            "trackingEnabled": True,
            "linkTrackingEnabled": True,
        },
    ),
)
def send(body: SendEmailRequest) -> CommunicationRecord:
    """Send an email

    Stores the email as a communication record and queues it for immediate delivery. The answer is the record as
    accepted (`status: PENDING`); it becomes `SENT` (with `sentAt`, `messageId`) or `FAILED` (with `errorMessage`)
    moments later (`GET /find/{id}`), or `UNCONFIRMED` when the provider was handed it but its acceptance could not be
    recorded (never resent; the provider's events make it `SENT`). `recipients`, `cc` and `bcc` together hold at most 50
    addresses; an address on the tenant's suppression list gives 400 and nothing is sent. An `Idempotency-Key` header
    makes retries safe.
    """
    return crm_send.send(crm_sender(api), body)


@api.send(
    "/api/v1/communications/send-template/<templateId>",
    ok="The email was accepted: its record.",
    access=("table:write", "bodies:crud", "send-queue"),
    example=Example(
        body={"recipients": ["jan@example.com"], "variables": {"firstName": "Jan", "amount": "€ 1.200"}},
    ),
)
def send_template(templateId: str, body: SendTemplateRequest) -> CommunicationRecord:
    """Send an email from a template

    Renders the tenant's template `templateId` with `variables` and queues the email, as `/send` does: the answer is the
    record as accepted (`PENDING`) with `templateId`, `templateName` and `type` (the template's, unless the request
    gives `type`). An unknown template gives 404; a placeholder without a value in `variables` gives 400 naming it.
    """
    return crm_send.send_template(crm_sender(api), templateId, body)


@api.send(
    "/api/v1/communications/schedule",
    ok="The email was scheduled: its record.",
    access=("table:write", "bodies:crud", "scheduler"),
    example=Example(body={**_EMAIL, "scheduledAt": "2030-01-15T09:00:00+01:00", "timeZone": "Europe/Amsterdam"}),
)
def schedule(body: ScheduleEmailRequest) -> CommunicationRecord:
    """Schedule an email

    Stores the email with `status: SCHEDULED` and sends it at `scheduledAt` (an ISO-8601 time with an offset or `Z`;
    without one, `timeZone` (IANA, e.g. `Europe/Amsterdam`) names the zone of the wall-clock time). `timeZone` is kept
    with the record. A time in the past (or less than 5 s ahead) gives 400. Until it is sent, `POST /{id}/cancel`
    cancels it. An `Idempotency-Key` header makes retries safe.
    """
    return crm_send.schedule(crm_sender(api), body)


@api.get("/api/v1/communications/scheduled", ok="The scheduled records.")
def scheduled() -> list[CommunicationRecord]:
    """List scheduled emails

    The tenant's records with `status: SCHEDULED` (not yet sent, not cancelled), by `scheduledAt`, earliest first. At
    most 1000, and no more than fit a 5 MB answer: the latest due are left out.
    """
    return crm_send.scheduled(crm_caller(api).tenant_id)


@api.post(
    "/api/v1/communications/<id>/cancel",
    ok="The cancelled record.",
    access=("table:write", "bodies:read", "scheduler"),
)
def cancel(id: str) -> CommunicationRecord:
    """Cancel a scheduled email

    `SCHEDULED` → `CANCELLED`: the email is not sent. Any other status (including one whose time came a moment ago and
    is being sent) gives 400; unknown ids and other tenants' ids give 404. The answer is the updated record.
    """
    return crm_send.cancel(crm_caller(api), id)


@api.send(
    "/api/v1/communications/<id>/resend",
    ok="The new record.",
    access=("table:write", "bodies:crud", "send-queue"),
)
def resend(id: str) -> CommunicationRecord:
    """Resend an email

    Sends a `SENT` or `FAILED` email again as a NEW record (answered, `PENDING`) in the same conversation: same subject,
    body as first submitted, recipients, cc, bcc, template, variables and related entity; tracked afresh. The original
    gets a `RESEND` event naming the new id. Other statuses give 400, `UNCONFIRMED` too (the provider may have sent it:
    a resend could deliver it twice); unknown ids and other tenants' ids give 404. An `Idempotency-Key` header makes
    retries safe.
    """
    return crm_send.resend(crm_sender(api), id)


@api.delete(
    "/api/v1/communications/<id>",
    responses={200: {"description": "Deleted (no body).", "content": {}}},
    errors=(409,),
    access=("table:write", "bodies:crud", "scheduler"),
)
def delete(id: str) -> Response[None]:
    """Delete a communication record

    Deletes the record, its events, tracking and stored body (a scheduled one is cancelled first). Unknown ids, other
    tenants' ids and inbound replies give 404; a record being handed to the provider right now gives 409.
    """
    crm_edit.delete(crm_caller(api).tenant_id, id)
    return Response(status_code=200, body="")


@api.delete(
    "/api/v1/communications/delete-list",
    responses={200: {"description": "Deleted (no body).", "content": {}}},
    errors=(409,),
    access=("table:write", "bodies:crud", "scheduler"),
    example=Example(query={"ids": "7d0c6a4e-2f1b-4c9a-9e55-0b8f3f6c1a20"}),
)
def delete_list(
    ids: Ids = None,
) -> Response[None]:
    """Delete several communication records

    `ids` repeated (`?ids=a&ids=b`) or comma-separated (`?ids=a,b`), at most 100. Ids that name no record of the tenant
    are ignored. Records being handed to the provider right now are left and named in a 409 (the others are deleted).
    """
    crm_edit.delete_many(crm_caller(api).tenant_id, ids_param(api))
    return Response(status_code=200, body="")


# /find and /find-list: the seed documents both, with the same answer.
_BY_IDS = {
    "description": (
        "`ids` repeated (`?ids=a&ids=b`) or comma-separated (`?ids=a,b`), at most 100. Returns the records in the order asked; "
        "unknown ids, other tenants' ids and messages that are not records are left out. No ids: `[]`."
    ),
    "responses": {200: {"description": "The records found."}, **crm_errors(403)},
    "example": Example(query={"ids": "7d0c6a4e-2f1b-4c9a-9e55-0b8f3f6c1a20"}),
}


@api.get("/api/v1/communications/find", **_BY_IDS)
def find(ids: Ids = None) -> list[CommunicationRecord]:
    """Find communication records by ids"""
    return crm_search.find_by_ids(crm_caller(api).tenant_id, ids_param(api))


@api.get(
    "/api/v1/communications/find-all",
    description=(
        f"Newest first, at most the newest {crm_search.FIND_ALL_LIMIT} (fewer if they would not fit in one 6 MB response). "
        "`X-Total-Count` is the tenant's real number of records: when it is larger than the array, use `/page`."
    ),
    responses={
        200: {
            "description": "The newest records.",
            "headers": {"X-Total-Count": {"description": "How many records the tenant has", "schema": {"type": "integer"}}},
            "content": {"application/json": {"model": list[CommunicationRecord]}},
        }
    },
)
def find_all() -> Response[list[CommunicationRecord]]:
    """All communication records of the tenant"""
    listing = crm_search.find_all(crm_caller(api).tenant_id)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=listing.records,
        headers={"X-Total-Count": str(listing.total)},
    )


@api.get("/api/v1/communications/find/<id>", ok="The record.")
def find_by_id(id: str) -> CommunicationRecord:
    """Find a communication record by id

    The record `id` of the caller's tenant. Unknown ids, other tenants' ids and messages that are not records give 404.
    """
    return crm_search.find_by_id(crm_caller(api).tenant_id, id)


@api.get("/api/v1/communications/find-list", **_BY_IDS)
def find_list(ids: Ids = None) -> list[CommunicationRecord]:
    """Find a list of communication records by their ids"""
    return find.fn(ids)


@api.get(
    "/api/v1/communications/page",
    description=(
        "Spring Data page (0-based). `sortBy=created` (the default) reads the page straight from the index. Any other sortable "
        f"field sorts in memory and is served for tenants with up to {crm_search.MAX_READ} records (400 beyond)."
    ),
    ok="The page.",
    example=Example(query={"page": "0", "size": "20", "sortBy": "created", "direction": "DESC"}),
)
def page(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
    sortBy: Annotated[str | None, Query(max_length=64, description=f"One of: {', '.join(crm_search.SORTABLE)}")] = None,
    direction: Annotated[str | None, Query(max_length=8, description="ASC or DESC (default DESC)")] = None,
) -> RecordPage:
    """Get a page of communication records"""
    return crm_search.page(crm_caller(api).tenant_id, page=page, size=size, sort_by=sortBy, direction=direction)


@api.get(
    "/api/v1/communications/by-entity",
    ok="The entity's emails, newest first (empty when none).",
    example=Example(query={"entityType": "deal", "entityId": "42"}),
)
def by_entity(
    entityType: Annotated[str, Query(min_length=1, max_length=128, description="The entity's type, e.g. contact")],
    entityId: Annotated[str, Query(min_length=1, max_length=128, description="The entity's id")],
) -> list[EntityCommunication]:
    """Communications of one CRM entity

    Inbound and outbound emails linked to the entity (`relatedEntityType` + `relatedEntityId` of a send; a reply joins
    its record's entity), newest first by `date`, at most 1000. `direction` is `INBOUND` or `OUTBOUND`.
    """
    return crm_threads.by_entity(crm_caller(api).tenant_id, entityType, entityId)
