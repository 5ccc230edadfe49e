"""Amazon SNS SMS provider (direct publish to a phone number)."""

from __future__ import annotations

from parley.dal.aws import client
from parley.providers.aws_errors import provider_errors
from parley.providers.base import OutboundSms, Receipt


class SnsSmsProvider:
    name = "sns"

    def __init__(self, tenant_id: str = "") -> None:
        self.tenant_id = tenant_id

    def send(self, sms: OutboundSms) -> Receipt:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sms.sender:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": sms.sender}
        with provider_errors("sns"):
            out = client("sns", retry=False).publish(PhoneNumber=sms.recipient, Message=sms.body, MessageAttributes=attributes)
        return Receipt(provider=self.name, provider_message_id=out["MessageId"])
