"""The CRM communications API's shapes (seed 001). How a stored message reads as one: ``parley.domain.crm_records``.

Every shape here is the seed's, field for field, camelCase as the seed spells it. Request bodies
accept the seed's minimal fields plus optional extras (docs/decisions.md K-entries).
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.domain import UtcDateTime
from parley.models.numbers import Int32
from parley.models.validators import EMAIL_FORMAT, email_address

# ───────────── request fields ─────────────
MAX_RECIPIENTS = 50  # To + Cc + Bcc of one record (SES allows 50 destinations per message)
MAX_BODY = 256 * 1024  # characters of body / template body (bodies over 64 KB go to S3)


def _strip(value: str) -> str:
    return value.strip()


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("must be a single line (no CR or LF)")
    return value


# Surrounding whitespace is dropped (the CRM always did), then the one address check.
Address = Annotated[str, Field(json_schema_extra=EMAIL_FORMAT), AfterValidator(_strip), AfterValidator(email_address)]
Subject = Annotated[str, StringConstraints(min_length=1, max_length=998), AfterValidator(_one_line)]
Body = Annotated[str, StringConstraints(max_length=MAX_BODY)]
# CRM entity references: free-form, but one line and bounded (they are index keys)
EntityRef = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\r\n]+$")]
Category = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _storable_numbers(value: Any, where: str = "") -> Any:
    """Numbers DynamoDB can keep: finite, at most 38 significant digits, magnitude from 1e-130 to below 1e126
    (else a value stored with the record, e.g. ``1e300`` in ``variables``, would fail the write: a 500)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _storable_numbers(v, f"{where}.{k}" if where else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _storable_numbers(v, f"{where}[{i}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or len(number.as_tuple().digits) > 38 or (number and not -130 <= number.adjusted() <= 125):
            raise ValueError(f"{where}: numbers must be finite, with at most 38 digits and a magnitude from 1e-130 to below 1e126")
    return value


Variables = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")], Any],
    AfterValidator(_storable_numbers),
]


class _Extras(Model):
    """Optional fields every send body accepts beyond the seed's minimal ones (decision K4)."""

    model_config = ConfigDict(extra="ignore")

    cc: list[Address] = Field(default=[], max_length=MAX_RECIPIENTS)
    bcc: list[Address] = Field(default=[], max_length=MAX_RECIPIENTS)
    replyTo: Address | None = None
    senderName: Annotated[str, StringConstraints(max_length=128), AfterValidator(_one_line)] | None = None
    relatedEntityType: EntityRef | None = None
    relatedEntityId: EntityRef | None = None
    recipientListId: EntityRef | None = None
    type: Category | None = None
    variables: Variables = Field(default={}, max_length=200)
    trackingEnabled: bool = False
    linkTrackingEnabled: bool = False


class SendEmailRequest(_Extras):
    """POST /send (seed: ``{body, recipients, subject}``)."""

    subject: Subject
    body: Body
    recipients: list[Address] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    templateId: EntityRef | None = None


class ScheduleEmailRequest(SendEmailRequest):
    """POST /schedule (seed: ``{body, recipients, scheduledAt, subject}``)."""

    scheduledAt: datetime
    timeZone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class SendTemplateRequest(_Extras):
    """POST /send-template/{templateId} (seed: ``{recipients}``)."""

    recipients: list[Address] = Field(min_length=1, max_length=MAX_RECIPIENTS)


class SortOrder(Model):
    model_config = ConfigDict(extra="ignore")

    field: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    ascending: bool = True


class DynamicSearchRequest(Model):
    """POST /dynamic-search."""

    model_config = ConfigDict(extra="ignore")

    filters: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Any] = Field(default={}, max_length=20)
    page: Annotated[Int32, Field(ge=0, le=100_000)] = 0
    size: Annotated[Int32, Field(ge=0, le=1000)] = 20  # 0 = the default, 20 (the seed's sample sends 0)
    search: list[Annotated[str, StringConstraints(max_length=256)]] = Field(default=[], max_length=10)
    sort: list[SortOrder] = Field(default=[], max_length=5)


# ───────────── templates (an addition: the seed sends by templateId but cannot manage templates) ─────────────
TemplateName = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_one_line)]


class TemplateRequest(Model):
    """POST /templates and PUT /templates/{templateId}."""

    model_config = ConfigDict(extra="ignore")

    name: TemplateName
    subject: Subject
    bodyHtml: Body | None = None
    bodyText: Body | None = None
    type: Category | None = None


class EmailTemplateSummary(Model):
    """A template as GET /templates lists it: no bodies and no variables, so the list of every template
    of a tenant stays far below Lambda's 6 MB response limit (GET /templates/{templateId} has them)."""

    id: str
    tenantId: str
    name: str
    subject: str
    type: str | None = None
    created: UtcDateTime
    createdBy: str | None = None
    updated: UtcDateTime | None = None
    updatedBy: str | None = None


class EmailTemplate(EmailTemplateSummary):
    """A stored template, as create, get and update return it."""

    bodyHtml: str | None = None
    bodyText: str | None = None
    variables: list[str] = []  # the placeholders its subject and bodies use, sorted


# ───────────── responses ─────────────
class CrmError(Model):
    """Every CRM error: ``{title, detail, time}``."""

    title: str
    detail: str
    time: datetime


class CrmGatewayError(Model):
    """An error API Gateway answers itself (no or an unknown API key, a path no route matches): the CRM
    shape without ``time``. A gateway response template cannot write an ISO-8601 time (decision K6); the
    response's ``Date`` header says when."""

    title: str
    detail: str


class EntityEvent(Model):
    authorId: str | None = None
    date: UtcDateTime
    description: str | None = None
    id: str
    type: str


class ClickedLink(Model):
    clickCount: int
    clickedAt: UtcDateTime | None = None
    originalUrl: str
    url: str


class CommunicationRecord(Model):
    """The seed's 37-field record."""

    bcc: list[str]
    body: str | None
    cc: list[str]
    clickedLinks: list[ClickedLink]
    conversationId: str | None
    created: UtcDateTime
    createdBy: str | None
    errorMessage: str | None
    events: list[EntityEvent]
    id: str
    internetMessageId: str | None
    linkTrackingEnabled: bool
    messageId: str | None
    openCount: int
    opened: bool
    openedAt: UtcDateTime | None
    originalBody: str | None
    providerType: str
    recipientListId: str | None
    recipients: list[str]
    relatedEntityId: str | None
    relatedEntityType: str | None
    replyTo: str | None
    scheduledAt: UtcDateTime | None
    senderEmail: str | None
    senderName: str | None
    sentAt: UtcDateTime | None
    status: str
    subject: str | None
    templateId: str | None
    templateName: str | None
    tenantId: str
    trackingEnabled: bool
    type: str | None
    updated: UtcDateTime | None
    updatedBy: str | None
    variables: dict[str, Any]


class InboundEmail(Model):
    """A reply, as ``thread.inbound`` lists it."""

    bodyHtml: str | None
    bodyText: str | None
    cc: list[str]
    conversationId: str | None
    created: UtcDateTime
    createdBy: str | None
    events: list[EntityEvent]
    fromEmail: str
    fromName: str | None
    graphMessageId: str | None
    id: str
    inReplyTo: str | None
    internetMessageId: str | None
    parentCommunicationId: str | None
    receivedAt: UtcDateTime
    recipients: list[str]
    relatedEntityId: str | None
    relatedEntityType: str | None
    status: str
    subject: str | None
    tenantId: str
    updated: UtcDateTime | None
    updatedBy: str | None


class ConversationThread(Model):
    inbound: list[InboundEmail]
    outbound: list[CommunicationRecord]


class EntityCommunication(Model):
    """One row of GET /by-entity: inbound and outbound in one timeline."""

    bodyHtml: str | None
    bodyText: str | None
    cc: list[str]
    conversationId: str | None
    date: UtcDateTime
    direction: Literal["INBOUND", "OUTBOUND"]
    fromEmail: str | None
    fromName: str | None
    id: str
    opened: bool
    recipients: list[str]
    status: str
    subject: str | None


class SpringSort(Model):
    empty: bool
    sorted: bool
    unsorted: bool


class Pageable(Model):
    offset: int
    pageNumber: int
    pageSize: int
    paged: bool
    sort: SpringSort
    unpaged: bool


class RecordPage(Model):
    """Spring Data's ``Page`` JSON (0-based)."""

    content: list[CommunicationRecord]
    empty: bool
    first: bool
    last: bool
    number: int
    numberOfElements: int
    pageable: Pageable
    size: int
    sort: SpringSort
    totalElements: int
    totalPages: int


def record_page(content: list[CommunicationRecord], *, page: int, size: int, total: int, sorted_: bool) -> RecordPage:
    sort = SpringSort(empty=not sorted_, sorted=sorted_, unsorted=not sorted_)
    total_pages = (total + size - 1) // size if size else 0
    return RecordPage(
        content=content,
        empty=not content,
        first=page == 0,
        last=page >= total_pages - 1,
        number=page,
        numberOfElements=len(content),
        pageable=Pageable(offset=page * size, pageNumber=page, pageSize=size, paged=True, sort=sort, unpaged=False),
        size=size,
        sort=sort,
        totalElements=total,
        totalPages=total_pages,
    )


class RateRow(Model):
    clickRate: float
    openRate: float
    totalClicked: int
    totalOpened: int
    totalSent: int


class TemplateRates(RateRow):
    templateId: str
    templateName: str | None


class TypeRates(RateRow):
    type: str


class DayVolume(Model):
    count: int
    date: str  # YYYY-MM-DD (UTC)


class CommunicationAnalytics(Model):
    byTemplate: list[TemplateRates]
    byType: list[TypeRates]
    clickRate: float
    failureRate: float
    openRate: float
    sendVolumeByDay: list[DayVolume]
    totalClicked: int
    totalOpened: int
    totalSent: int
