"""Request/response shapes of the candidate API (seed 000), field names as the seed spells them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parley.models.validators import EMAIL_FORMAT, email_address, phone_number, single_line


class CandidateResponse(BaseModel):
    status: int = 200


class SendEmailRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject: Annotated[str, Field(min_length=3, max_length=78), AfterValidator(single_line)]
    emailContent: Annotated[str, Field(min_length=3, max_length=524288)]
    toEmail: Annotated[str, Field(min_length=3, max_length=78, json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)]


class EmailAck(BaseModel):
    emailActivityId: str
    message: str


class SendEmailResponse(CandidateResponse):
    data: EmailAck


class EmailActivityItem(BaseModel):
    emailActivityId: str
    event: str
    email: str
    ip: str
    createdDate: int = Field(description="Epoch milliseconds")
    response: str


class EmailActivityResponse(CandidateResponse):
    data: list[EmailActivityItem]


class Pagination(BaseModel):
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


class EmailCommunicationData(BaseModel):
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


class OptInRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phoneNumber: Phone | None = None
    email: Annotated[str, Field(min_length=3, max_length=254, json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)] | None = None
    optIn: bool


class OptInDetails(BaseModel):
    message: str


class OptInStatusResponse(BaseModel):
    details: OptInDetails
    status: str = Field(description="OPTED_IN or OPTED_OUT (GET); SUCCESS (PUT)")


class OptInHistoryEntry(BaseModel):
    phoneNumber: str
    actionType: Literal["OPT_IN", "OPT_OUT"]
    reason: str
    createdDate: int = Field(description="Epoch milliseconds")


class SpringSort(BaseModel):
    sorted: bool = False
    empty: bool = True
    unsorted: bool = True


class SpringPageable(BaseModel):
    sort: SpringSort = SpringSort()
    pageNumber: int
    pageSize: int
    offset: int
    paged: bool = True
    unpaged: bool = False


class OptInHistoryPage(BaseModel):
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


class OptInHistoryResponse(BaseModel):
    status: str = "SUCCESS"
    details: OptInHistoryPage


class CandidateError(BaseModel):
    status: int
    message: str
