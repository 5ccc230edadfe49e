"""The courier notifications API (seed 003): ask-reminders, an individual's reminders synced to Alexa (docs/courier.md
"Alexa (issue 20)"; ``parley.domain.ask``).

- GET /v1/ask-reminders/ — an individual's reminders (``individual-id`` required)
- POST /v1/ask-reminders/ — create one (synced to the Alexa Reminders API)
- GET /v1/ask-reminders/{id}/ — one
- PATCH /v1/ask-reminders/{id}/ — change it (synced again)

A reminder is of one of the acting user's individuals (``individual-id``: the user's own, else 403); another user's or
tenant's reminder is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import ask
from parley.models.ask import REMINDER_TYPE as TYPE
from parley.models.ask import ReminderAttributes, ReminderCreateAttributes, ReminderPatchAttributes
from parley.models.jsonapi import RequestDocument

api = Api("courier_notifications", tags=["Alexa"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IndividualId = Annotated[
    str, Query(alias="individual-id", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The individual.")
]
WRITE = ("table:write", "alexa")
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"
SAMPLE_ATTRS = {"name": "Blood pressure", "reminder-content": "Time to take your blood pressure",
                "reminder-rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "reminder-time-local": "2026-12-08T09:00:00",
                "tz-info": "America/New_York"}  # fmt: skip


@api.get(
    "/v1/ask-reminders",
    responses={200: jsonapi.list_doc(ReminderAttributes, "A page of the individual's reminders, oldest first.")},
    errors=(403,),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL}),
)
def list_ask_reminders(individual_id: IndividualId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List an individual's Alexa reminders

    Oldest first; `individual-id` must be one of the acting user's individuals (403 otherwise). `meta` carries
    `page[total]`, `page[limit]`, `page[offset]`.
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    items, total = ask.list_reminders(who.tenant_id, individual, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, ReminderAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/ask-reminders",
    responses={201: jsonapi.single_doc(ReminderAttributes, "The reminder, with `synced-to-alexa`.")},
    errors=(403, 422),
    access=WRITE,
    example=Example(body={"data": {"type": TYPE, "attributes": {"individual-id": SAMPLE_INDIVIDUAL, **SAMPLE_ATTRS}}}),
)
def create_ask_reminder(body: RequestDocument[ReminderCreateAttributes]) -> Response[str]:
    """Create an Alexa reminder

    `reminder-content` (what Alexa says), `reminder-time-local` (a local date and time, no offset) and `tz-info` (an
    IANA zone) are required; `reminder-rrule` (an RFC 5545 RRULE, e.g. `FREQ=WEEKLY;BYDAY=MO,TH`) makes it recur;
    `name` is a label. `individual-id`: one of the acting user's individuals (omitted: the user's primary one). The
    reminder is created at Alexa for the Alexa account the acting user linked (`account-id`: that ask-subscription)
    and `alexa-reminder-id` is Alexa's id; without a linked account, or when Amazon refuses, it is kept with
    `synced-to-alexa: false` (a later PATCH syncs it again).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    individual = who.individual(attrs.individual_id, pointer="/data/attributes/individual-id")
    return jsonapi.single(TYPE, *ask.create_reminder(who.tenant_id, attrs, user_id=who.acting_user(), individual_id=individual), status=201)


@api.get("/v1/ask-reminders/<id>", responses={200: jsonapi.single_doc(ReminderAttributes, "The reminder.")}, errors=(404,))
def get_ask_reminder(id: ResourceId) -> Response[str]:
    """Get one Alexa reminder

    404 when it is not a reminder of one of the acting user's individuals (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, id, ask.reminder_view(ask.require_reminder(who.tenant_id, id, user_id=who.acting_user())))


@api.route(
    "PATCH",
    "/v1/ask-reminders/<id>",
    responses={200: jsonapi.single_doc(ReminderAttributes, "The reminder as changed, with `synced-to-alexa`.")},
    errors=(404, 422),
    access=WRITE,
    example=Example(body={"data": {"type": TYPE, "id": SAMPLE.path["id"], "attributes": {"reminder-rrule": "FREQ=WEEKLY;BYDAY=MO,TH"}}}),
)
def update_ask_reminder(id: ResourceId, body: RequestDocument[ReminderPatchAttributes]) -> Response[str]:
    """Modify an Alexa reminder

    Any of `name`, `reminder-content`, `reminder-rrule` (null: no recurrence), `reminder-time-local`, `tz-info`; the
    reminder is updated at Alexa (or created there, when it was not synced yet) and `synced-to-alexa` tells whether
    that went through. 404 when it is not a reminder of one of the acting user's individuals; 409 when `data.id` is
    not the path's id.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    return jsonapi.single(TYPE, id, ask.update_reminder(who.tenant_id, id, attrs, user_id=who.acting_user()))
