"""POST /communications/email/v1/reply — SendGrid Inbound Parse: accept a candidate's email at once; InboundMailFunction stores it."""

import base64
import binascii

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app, caller, header
from parley.api.docs import candidate_errors
from parley.domain import inbound_email
from parley.errors import BadRequest
from parley.models.inbound import ReplyAck, WebhookEmailReplyResponse

logger = Logger(service="candidate")
router = Router()

# The body is parsed from the raw bytes (inbound_email.parse_request), so it is documented here
# rather than declared as a model.
_FORM = {
    "type": "object",
    "required": ["to", "from", "envelope", "subject", "charsets"],
    "properties": {
        "to": {"type": "string"},
        "from": {"type": "string"},
        "cc": {"type": "string"},
        "subject": {"type": "string"},
        "envelope": {"type": "string", "description": 'JSON: {"to": ["…"], "from": "…"}'},
        "charsets": {"type": "string", "description": 'JSON: field name → charset, e.g. {"text": "UTF-8"}'},
        "email": {"type": "string", "description": "raw mode: the full MIME message"},
        "text": {"type": "string"},
        "html": {"type": "string"},
        "headers": {"type": "string"},
    },
}
_EXAMPLE = {
    "to": "Recruiter <reply+0b7e@parley.example>",
    "from": "Ada Lovelace <ada@example.com>",
    "subject": "Re: Interview invite",
    "envelope": '{"to": ["reply+0b7e@parley.example"], "from": "ada@example.com"}',
    "charsets": '{"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "UTF-8"}',
    "text": "Thursday works for me.",
}
_BODY = {
    "required": True,
    "description": "SendGrid Inbound Parse post: raw mode (`email`) or parsed mode (`text`/`html`/`headers`).",
    "content": {
        "multipart/form-data": {"schema": _FORM, "example": _EXAMPLE},
        "application/x-www-form-urlencoded": {"schema": _FORM, "example": _EXAMPLE},
    },
}


def _raw_body() -> bytes:
    event = router.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as err:
            raise BadRequest("request body is not valid base64") from err
    return body.encode("utf-8", errors="surrogateescape")


@router.post(
    "/communications/email/v1/reply",
    summary="Inbound email reply (SendGrid Inbound Parse)",
    description=(
        "multipart/form-data (or application/x-www-form-urlencoded) in SendGrid Inbound Parse's shape: raw mode (`email` = the full "
        "MIME message) or parsed mode (`text`/`html`/`headers`). Required: to, from, envelope, subject, charsets and email "
        "(or text/html). Answered at once, whatever the attachments weigh: the post is validated, kept and queued, and the "
        "email is stored asynchronously (within seconds) as an inbound message, threaded by its reply+<conversationId>@ "
        "address or its In-Reply-To/References; a retried post with the same Message-ID returns the same MessageSid and is "
        "stored once. Authorization: "
        "`Bearer <key>`, or `Basic` with the key as the password (credentials in the webhook URL)."
    ),
    responses={200: {"description": "The reply was processed successfully."}, **candidate_errors()},
    tags=["Webhook Events"],
    openapi_extensions={"requestBody": _BODY},
)
def email_reply() -> WebhookEmailReplyResponse:
    message_sid = inbound_email.accept_reply(caller(router), content_type=header(router, "Content-Type"), body=_raw_body())
    return WebhookEmailReplyResponse(status=200, data=ReplyAck(MessageSid=message_sid))


app = build_app("candidate", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
