"""Request/response shapes of the candidate API (seed 000), field names as the seed spells them."""

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from parley.models.base import Model
from parley.models.validators import EMAIL_FORMAT, email_address, phone_number, single_line


class CandidateResponse(Model):
    status: int = 200


class SendEmailRequest(Model):
    model_config = ConfigDict(extra="ignore")

    subject: Annotated[str, Field(min_length=3, max_length=78), AfterValidator(single_line)]
    emailContent: Annotated[str, Field(min_length=3, max_length=524288)]
    toEmail: Annotated[str, Field(min_length=3, max_length=78, json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)]


class EmailAck(Model):
    emailActivityId: str
    message: str


class SendEmailResponse(CandidateResponse):
    data: EmailAck


class EmailActivityItem(Model):
    emailActivityId: str
    event: str
    email: str
    ip: str
    createdDate: int = Field(description="Epoch milliseconds")
    response: str


class EmailActivityResponse(CandidateResponse):
    data: list[EmailActivityItem]


class Pagination(Model):
    first: bool
    last: bool
    hasPrevious: bool
    hasNext: bool
    hasErrors: bool
    totalElements: int
    totalPages: int
    size: int
    currentPage: int
    numberOfElements: int


class EmailCommunicationData(Model):
    sender: str
    recipient: str
    timeStamp: str = Field(description="ISO-8601 date-time, UTC")
    subject: str
    emailBody: str
    messageType: Literal["inbound", "outbound"]
    recruiterId: str | None = None
    candidateId: str | None = None


class EmailHistoryResponse(CandidateResponse):
    pagination: Pagination
    data: list[EmailCommunicationData]


# The documented pattern is the canonical form; spaces, dots, dashes and parentheses are accepted and dropped.
Phone = Annotated[str, Field(min_length=5, max_length=16, json_schema_extra={"pattern": r"^\+?[0-9]{4,15}$"}), AfterValidator(phone_number)]


class OptInRequest(Model):
    model_config = ConfigDict(extra="ignore")

    phoneNumber: Phone | None = None
    email: Annotated[str, Field(min_length=3, max_length=254, json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)] | None = None
    optIn: bool


class OptInDetails(Model):
    message: str


class OptInStatusResponse(Model):
    details: OptInDetails
    status: str = Field(description="OPTED_IN or OPTED_OUT (GET); SUCCESS (PUT)")


class OptInHistoryEntry(Model):
    phoneNumber: str
    actionType: Literal["OPT_IN", "OPT_OUT"]
    reason: str
    createdDate: int = Field(description="Epoch milliseconds")


class SpringSort(Model):
    sorted: bool = False
    empty: bool = True
    unsorted: bool = True


class SpringPageable(Model):
    sort: SpringSort = SpringSort()
    pageNumber: int
    pageSize: int
    offset: int
    paged: bool = True
    unpaged: bool = False


class OptInHistoryPage(Model):
    content: list[OptInHistoryEntry]
    pageable: SpringPageable
    last: bool
    totalElements: int
    totalPages: int
    first: bool
    size: int
    number: int
    sort: SpringSort = SpringSort()
    numberOfElements: int
    empty: bool


class OptInHistoryResponse(Model):
    status: str = "SUCCESS"
    details: OptInHistoryPage


class CandidateError(Model):
    status: int
    message: str
