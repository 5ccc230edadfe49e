"""Twilio Video's status callbacks (Lambda Function URL ``VideoCallbackFunction``): ``POST /room`` (a room's
participant and room events) and ``POST /composition`` (a recording's composition progress).

Verified with the room's account auth token (``X-Twilio-Signature`` over the exact URL and the form; 403 and nothing
written otherwise) and applied at once, forward only (``parley.domain.video_callbacks``). Twilio wants a 2xx and no
body.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from parley import snapstart
from parley.api import errors
from parley.domain import video_callbacks

logger = Logger(service="courier_voice_video")
app = LambdaFunctionUrlResolver()
errors.install(app, "courier_voice_video", json_body=False)
snapstart.register(services=("dynamodb", "secretsmanager"))  # SnapStart: primed before the snapshot


@app.post("/room")
def room() -> Response:
    outcome = video_callbacks.room(app.current_event.raw_event)
    logger.info("video room callback", extra={"outcome": outcome})
    return Response(status_code=204, body="")


@app.post("/composition")
def composition() -> Response:
    outcome = video_callbacks.composition(app.current_event.raw_event)
    logger.info("video composition callback", extra={"outcome": outcome})
    return Response(status_code=204, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
