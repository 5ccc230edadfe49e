"""Twilio's voice callbacks (Lambda Function URL ``VoiceCallbackFunction``): queue, call status, recording and survey
callbacks of the courier's voice lines, calls and surveys, routed by path (``parley.domain.voice_callbacks``).
Signature-checked with the text-account's auth token the URL names; answers TwiML."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from parley import snapstart
from parley.api import errors
from parley.domain import voice_callbacks

logger = Logger(service="courier_voice_video")
app = LambdaFunctionUrlResolver()
errors.install(app, "courier_voice_video", json_body=False)
snapstart.register(services=("dynamodb", "secretsmanager", "s3"))  # SnapStart: primed before the snapshot


@app.post("/<kind>")
def callback(kind: str) -> Response:
    return Response(status_code=200, content_type="text/xml", body=voice_callbacks.handle(app.current_event.raw_event))


@app.post("/<kind>/<sub>")
def callback_sub(kind: str, sub: str) -> Response:
    return Response(status_code=200, content_type="text/xml", body=voice_callbacks.handle(app.current_event.raw_event))


@app.post("/<kind>/<sub>/<leaf>")
def callback_leaf(kind: str, sub: str, leaf: str) -> Response:
    return Response(status_code=200, content_type="text/xml", body=voice_callbacks.handle(app.current_event.raw_event))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
