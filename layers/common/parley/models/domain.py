"""Records shared by every API family: a message sent through one API is the same record in all."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainSerializer, model_validator

from parley import clock
from parley.models.base import Model

# Stored and returned as UTC ISO-8601 with milliseconds and a Z, like every key that sorts by time.
UtcDateTime = Annotated[datetime, PlainSerializer(clock.iso, return_type=str, when_used="json")]


class MessageStatus(StrEnum):
    QUEUED = "QUEUED"  # accepted, waiting in the send queue
    SCHEDULED = "SCHEDULED"  # waiting for its EventBridge Scheduler schedule to fire
    SENDING = "SENDING"  # claimed by a dispatcher; provider call in progress
    SENT = "SENT"  # the provider accepted it
    # Handed to the provider, but whether it accepted is not recorded (an ambiguous provider error, or a
    # worker that died between the call and the write): never sent again (not FAILED, not resendable);
    # the provider's own events, or the dispatcher's delayed receipt, move it to SENT.
    UNCONFIRMED = "UNCONFIRMED"
    FAILED = "FAILED"  # permanently failed (error says why)
    CANCELLED = "CANCELLED"  # cancelled before it was sent
    RECEIVED = "RECEIVED"  # an inbound message


SENDABLE = (MessageStatus.QUEUED, MessageStatus.SCHEDULED)


class TenantSettings(Model):
    """A tenant's sending settings: what every request of the tenant carries.

    The one list of them. The authorizer puts them in API Gateway's authorizer context and handlers read
    them back as the ``Caller`` (``parley.domain.context``); the Tenant record stores them. Adding a
    setting is one line here. Each must be a scalar (str, bool, int or a Literal of them): the context is
    flat, and API Gateway hands its values to the integration as strings ("true"/"false" for booleans),
    so reading it back re-validates them.
    """

    model_config = ConfigDict(extra="ignore")

    sender_email: str
    sender_name: str = ""
    email_provider: Literal["ses", "sendgrid"] = "ses"
    sms_provider: Literal["sns", "twilio"] = "sns"
    sms_sender: str = ""  # the origination number (E.164) SMS are sent from; Twilio's "From"
    quiet_hours: bool = False  # hold SMS outside 08:00-21:00 in the recipient's time zone
    timezone: str = "UTC"  # IANA zone assumed for recipients whose own zone is unknown
    # ISO 3166-1 alpha-2 country a phone number written without +<country code> is read in (models/phones.e164)
    default_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    reply_domain: str = ""  # inbound-parse domain: outbound email gets Reply-To reply+<token>@<reply_domain>
    # Per-tenant limits of the sending routes (docs/architecture.md §6.4); 0 = the deployment's default
    # (``parley.settings``: TENANT_SEND_RATE_LIMIT, TENANT_DAILY_SEND_QUOTA). Beyond either: 429 with Retry-After.
    send_rate_limit: Annotated[int, Field(ge=0, le=100_000)] = 0  # send/schedule requests per second
    daily_send_quota: Annotated[int, Field(ge=0, le=100_000_000)] = 0  # messages accepted per UTC day


class ActiveSniffer(Model):
    """One sniffer as the tenant item carries it: the sniffed courier user, and the end of the sniffer (epoch seconds)."""

    user_id: str
    until: int


class Tenant(TenantSettings):
    """A customer of Parley and its settings (``python -m parley.admin configure-tenant``).

    The sending settings are ``TenantSettings``'; the ones below stay with the record (never in a request's
    context: the verification key is long and the secret's name is not every handler's business)."""

    id: str
    name: str
    webhook_public_key: str = ""  # SendGrid signed event webhook verification key (base64 DER, P-256)
    secret_name: Annotated[str, Field(pattern=r"^(parley/[A-Za-z0-9/_+=.@-]{1,480})?$")] = (
        ""  # Secrets Manager secret (JSON) with provider credentials, e.g. sendgrid_api_key,
    )
    #                        twilio_account_sid, twilio_auth_token
    # Messages per second the dispatcher hands this tenant's provider (paced beyond, never failed: §6.4);
    # 0 = the deployment's default (TENANT_PROVIDER_RATE_LIMIT, SES's default per-second quota).
    provider_rate_limit: Annotated[int, Field(ge=0, le=100_000)] = 0
    # User bearer tokens (``parley.domain.user_tokens``, decision S5): JWTs the tenant's identity provider signs.
    # The issuer (``iss``, unique across tenants: it names the tenant) and audience (``aud``) a token must carry,
    # and where its keys are: a JWKS URL (RS256/ES256) or a Secrets Manager secret {"jwt_secret": …} (HS256).
    jwt_issuer: Annotated[str, Field(pattern=r"^[\x21-\x7e]{0,512}$")] = ""  # visible ASCII, usually a URL
    jwt_audience: Annotated[str, Field(pattern=r"^[\x21-\x7e]{0,512}$")] = ""
    jwt_jwks_url: Annotated[str, Field(pattern=r"^(https://[\x21-\x7e]{1,2000})?$")] = ""
    jwt_secret_name: Annotated[str, Field(pattern=r"^(parley/[A-Za-z0-9/_+=.@-]{1,480})?$")] = ""
    created_at: UtcDateTime
    # The courier API's sniffers (``parley.domain.sniffers``): sniffer id → whose traffic is recorded, until when. Carried
    # here because the authorizer reads this item on every cache miss, so handlers learn who is sniffed with no read of
    # their own (docs/courier.md, "Sniffers"). Written by ``dal.sniffers.create`` only; not a setting.
    sniffers: dict[str, ActiveSniffer] = Field(default_factory=dict)
    # Set by `admin disable-tenant`, removed by `enable-tenant`: while set, every key of the tenant is refused.
    disabled_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _user_tokens(self) -> "Tenant":
        """User tokens are off (no ``jwt_*`` set) or fully configured: an issuer, an audience, and exactly one key source."""
        jwt = (self.jwt_issuer, self.jwt_audience, self.jwt_jwks_url, self.jwt_secret_name)
        if any(jwt) and not (self.jwt_issuer and self.jwt_audience and bool(self.jwt_jwks_url) != bool(self.jwt_secret_name)):
            raise ValueError(
                "user tokens need jwt_issuer, jwt_audience and exactly one of jwt_jwks_url (RS256/ES256) or jwt_secret_name (HS256)"
            )
        return self


# What ``configure-tenant`` may change: every field of the record but its identity, creation time and state.
TENANT_SETTINGS = tuple(name for name in Tenant.model_fields if name not in ("id", "created_at", "disabled_at", "sniffers"))


class Candidate(Model):
    """A person a tenant communicates with (the ATS's applicant). Parley's own directory.

    Created on first contact (a send to an address nobody has yet), or imported with a profile
    (``python -m parley.admin upsert-candidate``). Email and phone each map to at most one candidate.
    """

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    id: str
    email: str = ""  # lower-cased
    phone: str = ""  # E.164
    firstname: str = ""
    lastname: str = ""
    timezone: str = ""  # IANA zone, for SMS quiet hours; "" = the tenant's default
    headline: str = ""  # e.g. the current job title
    location: str = ""
    profile_url: str = ""
    created_at: UtcDateTime


class TimelineEntry(Model):
    """One entry of a message's own audit trail (the CRM's ``events[]``): kept in the message item, so a
    page of records is one read per record. Created, status changes, comments, deletions of links, …"""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str  # CREATE | STATUS_CHANGE | COMMENT | RESEND | UPDATE
    date: UtcDateTime
    author_id: str | None = None
    description: str = ""


TIMELINE_LIMIT = 200  # entries per message (an item stays far below DynamoDB's 400 KB)


class TrackedLink(Model):
    """A link of an outbound HTML email rewritten to the click-tracking redirect (``/link/{token}/{index}``)."""

    model_config = ConfigDict(extra="ignore")

    url: str  # the tracking URL put in the email
    original_url: str  # where a click is redirected: only ever this stored value
    click_count: int = 0
    clicked_at: UtcDateTime | None = None


class Message(Model):
    """One email or SMS, outbound or inbound, whichever API created it."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    id: str
    channel: Literal["email", "sms"]
    direction: Literal["outbound", "inbound"]
    status: MessageStatus
    source_api: str  # the API family that created it: candidate | crm | ats | courier
    sender: str
    sender_name: str = ""
    recipient: str
    subject: str = ""
    body: str = ""
    body_ref: str | None = None  # S3 key when the body is too large to keep in the item
    recruiter_id: str | None = None
    candidate_id: str | None = None
    conversation_id: str
    provider: str
    provider_message_id: str | None = None
    # courier texts (docs/courier.md "Texts, replies and consents"): the text-account whose Twilio credentials send it,
    # and the status callback URL Twilio is given for it (else the tenant's credentials and TWILIO_STATUS_CALLBACK_URL)
    provider_account: str | None = None
    status_callback: str | None = None
    kind: str = "message"  # message | forward_profile | reply (inbound) | …: what produced it
    auto: bool = False  # sent by the system rather than typed by a person (ATS "auto")
    body_text: str | None = None  # a plain-text alternative, when the body is HTML (inbound MIME)
    internet_message_id: str | None = None  # RFC 5322 Message-ID, "<…@…>"
    in_reply_to: str | None = None
    references: list[str] = []
    reply_to: str | None = None  # outbound: the Reply-To address (reply+<conversation_id>@<tenant reply_domain>)
    attachments: list[dict] = []  # {filename, contentType, size}; the content itself is not kept in the item
    raw_ref: str | None = None  # inbound email: s3://<inbound bucket>/<key> of the raw mail or post (attachments live there)
    delivery_status: str | None = None  # latest provider delivery state (DELIVERED, UNDELIVERED, READ, BOUNCED, …)
    error: str | None = None
    # FAILED because its send job was dead-lettered (the last attempt failed): an operator may still retry it
    # (``python -m parley.admin dlq redrive``: back to QUEUED) or discard the job (then it stays FAILED).
    dead_letter_at: UtcDateTime | None = None
    attempts: int = 0
    created_at: UtcDateTime
    scheduled_at: UtcDateTime | None = None
    scheduled_tz: str | None = None  # the caller's IANA zone, kept for display; scheduled_at is UTC
    claimed_at: UtcDateTime | None = None
    sent_at: UtcDateTime | None = None
    # Several addressees (CRM): every To address (``recipient`` is the first), Cc and Bcc.
    recipients: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    # The CRM record's fields (seed 001); defaults for messages the other APIs create.
    category: str | None = None  # the CRM's ``type`` (OFFERTE, …)
    template_id: str | None = None
    template_name: str | None = None
    variables: dict[str, Any] = {}
    original_body: str | None = None  # as submitted, before the tracking pixel and link rewriting
    related_entity_type: str | None = None  # the CRM entity it belongs to (contact, company, deal, …)
    related_entity_id: str | None = None
    recipient_list_id: str | None = None
    parent_id: str | None = None  # inbound: the outbound message it answers; a resend: the original
    created_by: str | None = None
    updated_at: UtcDateTime | None = None
    updated_by: str | None = None
    tracking_enabled: bool = False  # an open-tracking pixel is in the HTML
    link_tracking_enabled: bool = False  # links are rewritten to the click-tracking redirect
    track_token: str | None = None  # the unguessable id in the pixel and link URLs (not the message id)
    open_count: int = 0
    opened_at: UtcDateTime | None = None
    links: list[TrackedLink] = []
    timeline: list[TimelineEntry] = []

    @property
    def all_recipients(self) -> list[str]:
        """Every To address: ``recipients`` when set, else the one ``recipient``."""
        return self.recipients or [self.recipient]


class ActivityEvent(Model):
    """One delivery/engagement event of a message (ours or a provider's)."""

    model_config = ConfigDict(extra="ignore")

    message_id: str
    event_id: str
    event: str
    email: str = ""
    ip: str = ""
    created_ms: int
    response: str = ""


class SendReceipt(Model):
    """What a provider answered when it accepted a message (``SendJob.receipt``)."""

    provider: str
    provider_message_id: str
    internet_message_id: str | None = None
    sent_at: UtcDateTime


class SendJob(Model):
    """The body of a send-queue message (immediate sends and fired schedules alike).

    With ``receipt`` it is not a send but the delayed record of one: the provider accepted the message,
    the dispatcher could not write SENT in time, and the job carries the provider's answer (a copy kept
    outside the table) so a later invocation writes it. Such a job never calls a provider. With
    ``not_before`` it is a paced send, put back until its reserved slot."""

    tenant_id: str
    message_id: str
    receipt: SendReceipt | None = None
    # A send slot the dispatcher reserved for it (epoch microseconds) when it paced the tenant's sends to the
    # provider's rate: the job was put back on the queue, delayed, to be sent then (docs/architecture.md §6.4).
    not_before: int | None = None

    def model_dump_json(self, **kwargs: Any) -> str:  # a plain job stays {"tenant_id", "message_id"}
        kwargs.setdefault("exclude_none", True)
        return super().model_dump_json(**kwargs)
