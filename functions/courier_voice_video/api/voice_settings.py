"""The courier voice lines (seed 003, docs/courier.md "Voice (issue 20)" → "Voice lines"): an organization's phone
line and call queue on a number of one of its text-accounts.

- GET /v1/voice-settings/ — list (``organization-id`` required)
- POST /v1/voice-settings/ — create (a Twilio queue; the number's voice webhooks pointed at Parley)
- GET /v1/voice-settings/{id}/ — one
- PATCH /v1/voice-settings/{id}/ — forward number, recording, messages, another number of the account
- POST /v1/voice-settings/{id}/run-task/ — ``refresh_queue_entries`` → a voice-tasks record
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.app import request_base_url
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import voice_lines
from parley.models.jsonapi import RequestDocument
from parley.models.voice_lines import (
    SETTINGS,
    TASKS,
    RunTask,
    VoiceSettingAttributes,
    VoiceSettingCreate,
    VoiceSettingUpdate,
    VoiceTaskAttributes,
)

api = Api("courier_voice_video", tags=["Voice settings"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[str, Query(alias="organization-id", min_length=1, max_length=128, description="The organization's lines.")]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_ACCOUNT = "44444444-4444-4444-4444-444444444444"
TWILIO_ACCESS = ("table:write", "texting-secrets", "voice-callback-url")


def public_base_url() -> str:
    """The URL this request came in at (scheme, host and the stage or base path before the route): where Twilio
    reaches ``/v1/voice-ivrs/{id}/twiml/``."""
    return request_base_url(api)


@api.get(
    "/v1/voice-settings",
    responses={200: jsonapi.list_doc(VoiceSettingAttributes, "A page of the organization's voice lines, newest first.")},
)
def list_voice_settings(
    organization_id: OrganizationId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0
) -> Response[str]:
    """List voice settings

    The voice lines of `organization-id` (required; 404 when it is not an organization of the tenant), newest first.
    `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = voice_lines.page(who.tenant_id, organization_id, offset=offset, limit=limit)
    return jsonapi.listing(SETTINGS, items, VoiceSettingAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/voice-settings",
    responses={201: jsonapi.single_doc(VoiceSettingAttributes, "The line.")},
    errors=(409, 422, 502, 503),
    access=TWILIO_ACCESS,
    example=Example(
        body={
            "data": {
                "type": SETTINGS,
                "attributes": {"account-id": SAMPLE_ACCOUNT, "phone-number": "+14155550100", "wait-message": "Please hold."},
            }
        }
    ),
)
def create_voice_setting(body: RequestDocument[VoiceSettingCreate]) -> Response[str]:
    """Create a voice setting

    A voice line on `phone-number` (E.164 or national in the tenant's country), a number of the text-account
    `account-id` (both required; 404 for an unknown account, 422 for a number not of the account), in the account's
    organization; 409 when another line has the number. A Twilio call queue is made and the number's voice webhook
    and call status callback point at Parley. `forward-number`: calls are forwarded there instead of queued; `recording-enabled` with
    `recording-message` (said first); `wait-message` (said to callers waiting in the queue). 502 when Twilio fails
    (nothing stored).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, SETTINGS)
    created = voice_lines.create(who.tenant_id, who.caller.default_country, attrs, base_url=public_base_url())
    return jsonapi.single(SETTINGS, *created, status=201)


@api.get("/v1/voice-settings/<id>", responses={200: jsonapi.single_doc(VoiceSettingAttributes, "The line.")})
def get_voice_setting(id: ResourceId) -> Response[str]:
    """Get one voice setting

    404 when the tenant has no such line (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(SETTINGS, *voice_lines.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/voice-settings/<id>",
    responses={200: jsonapi.single_doc(VoiceSettingAttributes, "The line as changed.")},
    errors=(409, 422, 502, 503),
    access=TWILIO_ACCESS,
    example=Example(
        body={"data": {"type": SETTINGS, "id": SAMPLE.path["id"], "attributes": {"forward-number": None, "recording-enabled": True}}}
    ),
)
def update_voice_setting(id: ResourceId, body: RequestDocument[VoiceSettingUpdate]) -> Response[str]:
    """Modify a voice setting

    Any of `forward-number`, `recording-enabled`, `recording-message`, `wait-message` (`null` clears all but
    `recording-enabled`), and `phone-number`: another number of the line's text-account (422 otherwise), which then
    gets the voice webhooks (409 when another line has it; the old one's are cleared). The TwiML follows at once (it is built per call).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, SETTINGS, id)
    return jsonapi.single(SETTINGS, *voice_lines.update(who.tenant_id, who.caller.default_country, id, attrs))


@api.post(
    "/v1/voice-settings/<id>/run-task",
    responses={201: jsonapi.single_doc(VoiceTaskAttributes, "The task, run to its end.")},
    access=("table:write", "texting-secrets"),
    example=Example(body={"method": "refresh_queue_entries", "kwargs": {}}),
)
def run_voice_setting_task(id: ResourceId, body: RunTask) -> Response[str]:
    """Run a task on a voice setting

    A plain body `{"method": "refresh_queue_entries", "kwargs": {}}` (the one method): the line's queue entries are
    reconciled with the callers Twilio holds in its queue (each one's position and queue time; an entry no longer
    there becomes `left`). The task runs at once; its record (`voice-tasks`, also at `/v1/voice-tasks/{id}/`) says
    `completed` with `result` (`members`, `updated`, `left`) or `failed` with `error-message` (Twilio failed).
    """
    who = courier_caller(api)
    return jsonapi.single(TASKS, *voice_lines.run_task(who.tenant_id, id, body, created_by=who.user_id), status=201)
