"""Twilio's voice webhook of a courier voice line (seed 003, docs/courier.md "Voice (issue 20)" → "Voice lines"):
public (no API key), the ``X-Twilio-Signature`` of the line's text-account is the credential; the answer is TwiML.

- POST /v1/voice-ivrs/{id}/twiml/ — the call's TwiML (Twilio's form in the body)
- GET /v1/voice-ivrs/{id}/twiml/ — the same, Twilio's parameters in the query
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api.endpoint import Api, Example

api = Api("courier_voice_video", tags=["Voice IVRs"])

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="The voice setting's id")]
TWIML = {200: {"description": "TwiML (application XML) for the call's next step.", "content": {"text/xml": {"schema": {"type": "string"}}}}}
SAMPLE_QUERY = {"tenant": "sample-tenant"}


def _tenant() -> str | None:
    import re

    event = api.current_event.raw_event
    values = (event.get("multiValueQueryStringParameters") or {}).get("tenant") or []
    if not values and (event.get("queryStringParameters") or {}).get("tenant"):
        values = [event["queryStringParameters"]["tenant"]]
    value = values[-1] if values else ""
    return value if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value) else None


def _answer(id: str, method: str) -> Response[str]:
    from parley.domain import voice_lines

    xml = voice_lines.answer_webhook(api.current_event.raw_event, id, _tenant(), method)
    return Response(status_code=200, content_type="text/xml", body=xml)


@api.post(
    "/v1/voice-ivrs/<id>/twiml",
    responses=TWIML,
    errors=(403,),
    access=("table:read", "texting-secrets", "voice-callback-url"),
    json_body=False,
    public=True,
    example=Example(
        path={"id": "55555555-5555-5555-5555-555555555555"},
        query=SAMPLE_QUERY,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
)
def voice_ivr_twiml(id: ResourceId):
    """Twilio voice webhook of a voice line

    Called by Twilio when the line's number gets a call (form-encoded `CallSid`, `From`, `To`, …), at the URL the
    number was given (`?tenant=` included). Needs no API key: `X-Twilio-Signature`, made with the line's
    text-account auth token over that exact URL and the form, is the credential (403 otherwise, an unknown line
    included; nothing is written). Answers TwiML: the recording notice when recording is on, then a `<Dial>` of the
    forward number, or an `<Enqueue>` into the line's queue (its wait and action URLs Parley's voice callbacks).
    """
    return _answer(id, "POST")


@api.get(
    "/v1/voice-ivrs/<id>/twiml",
    responses=TWIML,
    errors=(403,),
    access=("table:read", "texting-secrets", "voice-callback-url"),
    public=True,
    example=Example(path={"id": "55555555-5555-5555-5555-555555555555"}, query=SAMPLE_QUERY),
)
def voice_ivr_twiml_get(id: ResourceId):
    """Twilio voice webhook of a voice line (GET)

    As the POST, for a number whose voice method is GET: Twilio's parameters in the query string, the signature over
    the URL we gave Twilio with them appended (in the order received).
    """
    return _answer(id, "GET")
