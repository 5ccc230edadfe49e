"""The candidate API: email webhooks.

- POST /communications/email/v1/events — SendGrid Event Webhook (seed 000 ``EmailEvent``) for the calling tenant.
- POST /communications/email/v1/reply — SendGrid Inbound Parse: accept a candidate's email at once;
  InboundMailFunction stores it.
"""

from aws_lambda_powertools import Logger

from parley.api import caller, header
from parley.api.app import raw_body
from parley.api.endpoint import Api, Example
from parley.domain import email_events, inbound_email, provider_events
from parley.models.email_events import WebhookEmailEventsResponse
from parley.models.inbound import ReplyAck, WebhookEmailReplyResponse

logger = Logger(service="candidate")
api = Api("candidate", tags=["Webhook Events"], access=("table:read", "provider-events-queue"))


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


@api.post(
    "/communications/email/v1/events",
    ok="The events were received and queued.",
    openapi_extensions={"requestBody": _BODY},
    example=Example(
        headers={
            "Content-Type": "application/json",
            "User-Agent": "SendGrid Event API",
            "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=",  # noqa: E501
            "X-Twilio-Email-Event-Webhook-Timestamp": "1795420800",
        },
        body=[
            {
                "email": "ada@example.com",
                "timestamp": 1795420790,
                "event": "delivered",
                "ip": "168.1.1.1",
                "response": "250 OK",
                "sg_event_id": "sg_event_id_delivered_1",
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
                "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
                "tls": 1,
                "category": ["3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"],
                "parley_message_id": "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
            },
            {
                "email": "ada@example.com",
                "timestamp": 1795420795,
                "event": "open",
                "ip": "192.168.0.1",
                "sg_content_type": "html",
                "sg_event_id": "sg_event_id_open_1",
                "sg_machine_open": False,
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
                "useragent": "Mozilla/5.0",
                "category": ["3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"],
            },
        ],
    ),
)
def receive_events() -> WebhookEmailEventsResponse:
    """Receive email events (SendGrid Event Webhook)

    A JSON array of SendGrid events (or one event object). When the tenant has a webhook verification key, the batch
    must carry a valid `X-Twilio-Email-Event-Webhook-Signature` over the timestamp and the raw body. The whole batch is
    verified and validated, then queued: 200 means it is accepted and will be applied (activity, delivery state,
    suppression list) within seconds, each event once (by `sg_event_id`).
    """
    tenant_id = caller(api).tenant_id
    events = email_events.verified_sendgrid(
        tenant_id,
        raw_body(api),
        signature=header(api, email_events.SIGNATURE_HEADER),
        timestamp=header(api, email_events.TIMESTAMP_HEADER),
    )
    chunks = provider_events.queue_sendgrid(tenant_id, events)  # applied by ProviderEventsFunction
    logger.info("email events queued", extra={"tenant_id": tenant_id, "events": len(events), "chunks": chunks})
    return WebhookEmailEventsResponse(status=200)


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


@api.post(
    "/communications/email/v1/reply",
    ok="The reply was processed successfully.",
    openapi_extensions={"requestBody": _BODY},
    access=("table:write", "inbound-mail"),
    example=Example(
        headers={
            "Authorization": "Basic YXBpOnBybF9leGFtcGxl",
            "Content-Type": "multipart/form-data; boundary=xYzZY",
            "User-Agent": "Sendlib/1.0 mx.sendgrid.net",
        },
        body='--xYzZY\r\nContent-Disposition: form-data; name="dkim"\r\n\r\n{@example.com : pass}\r\n--xYzZY\r\nContent-Disposition: form-data; name="email"\r\n\r\nReceived: by mx.sendgrid.net with SMTP id abc123\r\nFrom: Ada Lovelace <ada@example.com>\r\nTo: Acme Talent Team <reply+6f1c3a52-2d7e-4a51-9b1e-0c8f7d2a9e11@reply.parley.example>\r\nSubject: Re: Your interview on Tuesday\r\nDate: Tue, 21 Jul 2026 09:15:00 +0200\r\nMessage-ID: <CAF=ada-reply-1@mail.example.com>\r\nIn-Reply-To: <010001900a1b2c3d-11111111-2222-3333-4444-555555555555-000000@email.amazonses.com>\r\nReferences: <010001900a1b2c3d-11111111-2222-3333-4444-555555555555-000000@email.amazonses.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nTuesday at 10:00 works for me. See you then!\r\n\r\nAda\r\n\r\n--xYzZY\r\nContent-Disposition: form-data; name="to"\r\n\r\nAcme Talent Team <reply+6f1c3a52-2d7e-4a51-9b1e-0c8f7d2a9e11@reply.parley.example>\r\n--xYzZY\r\nContent-Disposition: form-data; name="from"\r\n\r\nAda Lovelace <ada@example.com>\r\n--xYzZY\r\nContent-Disposition: form-data; name="sender_ip"\r\n\r\n192.168.1.1\r\n--xYzZY\r\nContent-Disposition: form-data; name="spam_report"\r\n\r\nSpam detection software, running on the system ...\r\n--xYzZY\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n{"to": ["reply+6f1c3a52-2d7e-4a51-9b1e-0c8f7d2a9e11@reply.parley.example"], "from": "ada@example.com"}\r\n--xYzZY\r\nContent-Disposition: form-data; name="subject"\r\n\r\nRe: Your interview on Tuesday\r\n--xYzZY\r\nContent-Disposition: form-data; name="spam_score"\r\n\r\n0.1\r\n--xYzZY\r\nContent-Disposition: form-data; name="charsets"\r\n\r\n{"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}\r\n--xYzZY\r\nContent-Disposition: form-data; name="SPF"\r\n\r\npass\r\n--xYzZY--\r\n',  # noqa: E501
        authorizer={"replyDomain": "reply.parley.example"},
    ),
)
def email_reply() -> WebhookEmailReplyResponse:
    """Inbound email reply (SendGrid Inbound Parse)

    multipart/form-data (or application/x-www-form-urlencoded) in SendGrid Inbound Parse's shape: raw mode (`email` =
    the full MIME message) or parsed mode (`text`/`html`/`headers`). Required: to, from, envelope, subject, charsets and
    email (or text/html). Answered at once, whatever the attachments weigh: the post is validated, kept and queued, and
    the email is stored asynchronously (within seconds) as an inbound message, threaded by its reply+<conversationId>@
    address or its In-Reply-To/References; a retried post with the same Message-ID returns the same MessageSid and is
    stored once. Authorization: `Bearer <key>`, or `Basic` with the key as the password (credentials in the webhook
    URL).
    """
    message_sid = inbound_email.accept_reply(caller(api), content_type=header(api, "Content-Type"), body=raw_body(api))
    return WebhookEmailReplyResponse(status=200, data=ReplyAck(MessageSid=message_sid))
