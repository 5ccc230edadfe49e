"""Amazon SNS SMS provider (direct publish to a phone number)."""

from __future__ import annotations

from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from parley.dal.aws import client
from parley.providers.base import OutboundSms, ProviderError, Receipt

_RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "KMSThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "InternalErrorException",
}


class SnsSmsProvider:
    name = "sns"

    def __init__(self, tenant_id: str = "") -> None:
        self.tenant_id = tenant_id

    def send(self, sms: OutboundSms) -> Receipt:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sms.sender:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": sms.sender}
        try:
            out = client("sns", retry=False).publish(PhoneNumber=sms.recipient, Message=sms.body, MessageAttributes=attributes)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            retryable = code in _RETRYABLE_CODES or status >= 500
            raise ProviderError(f"sns {code}: {err.response.get('Error', {}).get('Message', '')}", retryable=retryable) from err
        except ReadTimeoutError as err:
            raise ProviderError(f"sns read timeout: {err}", retryable=False, ambiguous=True) from err
        except BotoConnectionError as err:
            raise ProviderError(f"sns unreachable: {err}", retryable=True) from err
        return Receipt(provider=self.name, provider_message_id=out["MessageId"])
