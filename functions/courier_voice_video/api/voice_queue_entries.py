"""The callers in a voice line's queue (seed 003, docs/courier.md "Voice (issue 20)" → "Voice lines"), fed by
Twilio's queue callbacks and the ``refresh_queue_entries`` task.

- GET /v1/voice-queue-entries/ — list (``setting-id`` required)
- GET /v1/voice-queue-entries/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api
from parley.domain import voice_lines
from parley.models.voice_lines import ENTRIES, QueueEntryAttributes

api = Api("courier_voice_video", tags=["Voice queue entries"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
SettingId = Annotated[str, Query(alias="setting-id", min_length=1, max_length=128, description="The voice line's entries.")]


@api.get(
    "/v1/voice-queue-entries", responses={200: jsonapi.list_doc(QueueEntryAttributes, "A page of the line's queue entries, newest first.")}
)
def list_voice_queue_entries(setting_id: SettingId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List voice queue entries

    The callers who entered the queue of the voice line `setting-id` (required; 404 when the tenant has no such
    line), newest first: `phone-number`, `position` (while waiting), `queue-time` (seconds waited), `state`
    (`waiting`, then how the call left the queue: Twilio's `bridged`, `hangup`, `leave`, `redirected`, `queue-full`,
    `error`, `system-error`, or `left` when a refresh found it gone). `meta` carries the page.
    """
    who = courier_caller(api)
    items, total = voice_lines.entry_page(who.tenant_id, setting_id, offset=offset, limit=limit)
    return jsonapi.listing(ENTRIES, items, QueueEntryAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/voice-queue-entries/<id>", responses={200: jsonapi.single_doc(QueueEntryAttributes, "The entry.")})
def get_voice_queue_entry(id: ResourceId) -> Response[str]:
    """Get one voice queue entry

    404 when the tenant has no such entry (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(ENTRIES, *voice_lines.get_entry(who.tenant_id, id))
