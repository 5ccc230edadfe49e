"""The courier notifications API (seed 003): ask-entries, the Alexa skill endpoint (docs/courier.md "Alexa (issue 20)";
``parley.domain.ask``).

- POST /v1/ask-entries/?tenant=<tenant id> — Alexa's request envelope → an ASK response (200)

Public at the gateway (Amazon sends no API key): the request's signature, made by Amazon's certificate, is the
credential. Anything not signed by Amazon within 150 s, or seen before, is a 400 and nothing is recorded.
"""

import base64
import json
import re

from aws_lambda_powertools.event_handler import Response

from parley.api.endpoint import Api, Example

api = Api(
    "courier_notifications", tags=["Alexa"], access=("table:write", "provider-secrets")
)  # secrets: linked accounts' user tokens (HS256)
SAMPLE_BODY = {
    "version": "1.0",
    "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.11111111-1111-1111-1111-111111111111"},
                           "user": {"userId": "amzn1.ask.account.SAMPLE"}}},
    "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.SAMPLE", "timestamp": "2026-12-07T15:00:00Z",
                "locale": "en-US"},
}  # fmt: skip
ANSWER = {
    "description": "The skill's response (ASK response format: `version`, `response`).",
    "content": {"application/json": {"example": {"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": "Welcome."},
                                                                                     "shouldEndSession": True}}}},
}  # fmt: skip


@api.post(
    "/v1/ask-entries",
    responses={200: ANSWER},
    json_body=False,
    public=True,
    example=Example(
        query={"tenant": "sample-tenant"},
        headers={"Content-Type": "application/json", "SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
                 "Signature-256": "c2FtcGxl"},
        body=SAMPLE_BODY,
    ),
)  # fmt: skip
def handle_ask_entry() -> Response[str]:
    """Alexa skill endpoint

    Called by Alexa at the skill's endpoint `/v1/ask-entries/?tenant=<tenant id>` with the request envelope
    (`{version, session?, context, request {type, requestId, timestamp, …}}`); needs no API key. Verified as Amazon
    requires: `SignatureCertChainUrl` (https, host `s3.amazonaws.com`, port 443, path under `/echo.api/`), the
    certificate chain (valid now, SAN `echo-api.amazon.com`, ending at a trusted root), `Signature-256` (SHA-256 RSA
    over the raw body) and `request.timestamp` within 150 s; the skill (`applicationId`) must be one the tenant
    registered, and a request id is accepted once. Anything else is a 400 and nothing is recorded. Skill events create,
    change and remove **ask-subscriptions** (`SkillEnabled`, `ProactiveSubscriptionChanged`, `SkillDisabled`,
    `SkillAccountLinked`); the answer is an ASK response (speech for launch and intent requests).
    """
    from parley.domain import ask

    event = api.current_event.raw_event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = {k: v for k, v in (api.current_event.headers or {}).items() if isinstance(v, str)}
    answer = ask.handle(_tenant(event), body, headers)
    return Response(status_code=200, content_type="application/json", body=json.dumps(answer))


def _tenant(event: dict) -> str | None:
    """The ``tenant`` query parameter (the last one if repeated), if it looks like a tenant id."""
    values = (event.get("multiValueQueryStringParameters") or {}).get("tenant") or []
    if not values and (event.get("queryStringParameters") or {}).get("tenant"):
        values = [event["queryStringParameters"]["tenant"]]
    value = values[-1] if values else ""
    return value if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value) else None
