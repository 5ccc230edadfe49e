"""Request/response shapes of the candidate API's SMS send, history and activity (seed 000)."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from parley.models.base import Model
from parley.models.candidate import CandidateResponse, Pagination, Phone


class SendSMSRequest(Model):
    model_config = ConfigDict(extra="ignore")

    message: Annotated[str, Field(min_length=2, max_length=78, description="The content of the SMS message to be sent.")]
    phoneNumber: Annotated[Phone, Field(description="The phone number to which the SMS message will be sent.")]


class SendSMSData(Model):
    messageSID: str = Field(description="Message ID of the Send SMS (the activityId of GET /communications/sms/v1/activity).")
    message: str = Field(description="The content of the SMS message.")


class SendSMSResponse(Model):
    data: SendSMSData
    status: str = Field(default="SUCCESS", description="SUCCESS: the SMS was accepted (queued, or held for quiet hours).")


class SmsCommunicationData(Model):
    sender: str
    recipient: str
    timeStamp: str = Field(description="ISO-8601 date-time, UTC")
    messageBody: str
    messageType: Literal["inbound", "outbound"]
    recruiterId: str | None = None
    candidateId: str | None = None


class SmsHistoryResponse(CandidateResponse):
    pagination: Pagination
    data: list[SmsCommunicationData]


class SmsActivityData(Model):
    message: str = Field(description="A readable description of the SMS's latest state.")


class SmsActivityResponse(Model):
    data: SmsActivityData
    status: str = Field(
        description="Latest state: the provider's delivery state (DELIVERED, UNDELIVERED, READ, ...) when known, "
        "else ours (QUEUED, SCHEDULED, SENDING, SENT, UNCONFIRMED, FAILED, CANCELLED, RECEIVED)."
    )
