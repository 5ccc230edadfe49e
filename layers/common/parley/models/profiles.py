"""Seed 000 shapes of forward-profile (+ its activity) and of the transactional archive endpoints."""

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from parley.models.base import Model
from parley.models.candidate import CandidateResponse, EmailAck, Pagination
from parley.models.validators import EMAIL_FORMAT, email_address, single_line

Address78 = Annotated[str, Field(min_length=3, max_length=78, json_schema_extra=EMAIL_FORMAT), AfterValidator(email_address)]


class ForwardProfileRequest(Model):
    model_config = ConfigDict(extra="ignore")

    subject: Annotated[str, Field(min_length=3, max_length=78), AfterValidator(single_line)]
    toEmail: Address78
    candidateEmail: Address78
    # Not in the seed: the colleague's display name (the seed's activity has a toName but the request has
    # no way to give one). Optional; "" when absent.
    toName: Annotated[str, Field(max_length=78), AfterValidator(single_line)] = ""


class ForwardProfileResponse(CandidateResponse):
    data: EmailAck


class ForwardPagination(Model):
    """The forward-profile activity's pagination object: the seed lists 9 fields (no ``hasErrors``)."""

    first: bool
    last: bool
    hasPrevious: bool
    hasNext: bool
    totalElements: int
    totalPages: int
    size: int
    currentPage: int
    numberOfElements: int


class ForwardActivity(Model):
    createdDate: int = Field(description="Epoch milliseconds")
    toName: str
    subject: str
    fromName: str
    toEmail: str
    fromEmail: str
    source: str
    emailActivityId: str


class ForwardActivityResponse(CandidateResponse):
    pagination: ForwardPagination
    data: list[ForwardActivity]


class EmailContact(Model):
    candidateId: str
    candidateEmail: str


class SmsContact(Model):
    candidateId: str
    candidatePhone: str


class TransactionalEmailResponse(CandidateResponse):
    pagination: Pagination
    data: list[EmailContact]


class TransactionalSmsResponse(CandidateResponse):
    pagination: Pagination
    data: list[SmsContact]
