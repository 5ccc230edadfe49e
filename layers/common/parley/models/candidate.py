"""Request/response shapes of the candidate API (seed 000), field names as the seed spells them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parley.models.validators import email_address, single_line


class CandidateResponse(BaseModel):
    status: int = 200


class SendEmailRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject: Annotated[str, Field(min_length=3, max_length=78), AfterValidator(single_line)]
    emailContent: Annotated[str, Field(min_length=3, max_length=524288)]
    toEmail: Annotated[str, Field(min_length=3, max_length=78), AfterValidator(email_address)]


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


class CandidateError(BaseModel):
    status: int
    message: str
