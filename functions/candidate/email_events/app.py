"""POST /communications/email/v1/events — SendGrid Event Webhook (seed 000 ``EmailEvent``) for the calling tenant.

Verify, validate, queue, answer: SendGrid posts up to 768 KB per batch and retries one that is not answered
in time, so the events are applied asynchronously (``parley.domain.provider_events``)."""

import base64

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller, header
from parley.api.docs import candidate_errors
from parley.domain import email_events, provider_events
from parley.errors import BadRequest
from parley.models.email_events import WebhookEmailEventsResponse

logger = Logger(service="candidate")
router = Router()

# The body is read raw (the signature covers its exact bytes), so it is documented here rather than
# declared as a model; email_events.verified_sendgrid validates it.
_EVENT = {
    "type": "object",
    "required": ["event", "email"],
    "properties": {
        "event": {"type": "string", "minLength": 1, "maxLength": 64, "description": "processed, delivered, open, click, bounce, …"},
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "timestamp": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**11 - 1, "description": "Unix time in seconds"},
        "sg_event_id": {"type": "string", "maxLength": 100},
        "sg_message_id": {"type": "string"},
        "type": {"type": "string", "description": "bounce: bounce or blocked"},
        "reason": {"type": "string"},
        "url": {"type": "string"},
        "category": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "custom_args": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_BODY = {
    "required": True,
    "description": "SendGrid Event Webhook batch: an array of events (one event object is accepted too).",
    "content": {"application/json": {"schema": {"oneOf": [{"type": "array", "minItems": 1, "items": _EVENT}, _EVENT]}}},
}


def _raw_body() -> bytes:
    """The body exactly as the sender sent it: the signature covers these bytes."""
    event = router.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body)
        except ValueError:
            raise BadRequest("request body is not valid base64") from None
    return body.encode("utf-8")


@router.post(
    "/communications/email/v1/events",
    summary="Receive email events (SendGrid Event Webhook)",
    description=(
        "A JSON array of SendGrid events (or one event object). When the tenant has a webhook verification key, "
        "the batch must carry a valid `X-Twilio-Email-Event-Webhook-Signature` over the timestamp and the raw body. "
        "The whole batch is verified and validated, then queued: 200 means it is accepted and will be applied "
        "(activity, delivery state, suppression list) within seconds, each event once (by `sg_event_id`)."
    ),
    responses={200: {"description": "The events were received and queued."}, **candidate_errors()},
    tags=["Webhook Events"],
    openapi_extensions={"requestBody": _BODY},
)
def receive_events() -> WebhookEmailEventsResponse:
    tenant_id = caller(router).tenant_id
    events = email_events.verified_sendgrid(
        tenant_id,
        _raw_body(),
        signature=header(router, email_events.SIGNATURE_HEADER),
        timestamp=header(router, email_events.TIMESTAMP_HEADER),
    )
    chunks = provider_events.queue_sendgrid(tenant_id, events)  # applied by ProviderEventsFunction
    logger.info("email events queued", extra={"tenant_id": tenant_id, "events": len(events), "chunks": chunks})
    return WebhookEmailEventsResponse(status=200)


app = build_app("candidate", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
