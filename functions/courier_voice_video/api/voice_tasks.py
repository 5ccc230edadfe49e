"""The courier voice lines' tasks (seed 003, docs/courier.md "Voice (issue 20)" → "Voice lines").

- GET /v1/voice-tasks/{id}/ — one task (state, result, error-message)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api
from parley.domain import voice_lines
from parley.models.voice_lines import TASKS, VoiceTaskAttributes

api = Api("courier_voice_video", tags=["Voice tasks"], example=SAMPLE)

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]


@api.get("/v1/voice-tasks/<id>", responses={200: jsonapi.single_doc(VoiceTaskAttributes, "The task.")})
def get_voice_task(id: ResourceId) -> Response[str]:
    """Get one voice task

    A task run on a voice setting (`run-task`): `state` (`completed` or `failed`), `result`, `error-message`. 404
    when the tenant has no such task (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TASKS, *voice_lines.get_task(who.tenant_id, id))
