"""Twilio Programmable Messaging SMS provider: one form POST to the Messages resource (urllib, no SDK).

Credentials come from the tenant's secret (``twilio_account_sid``, ``twilio_auth_token``, optionally
``twilio_messaging_service_sid`` used when the tenant has no sender number). Each message asks Twilio
to report its delivery states to ``TWILIO_STATUS_CALLBACK_URL?tenant=<tenant id>``.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from parley.dal.secrets import tenant_secret
from parley.providers.base import OutboundSms, ProviderError, Receipt
from parley.settings import get_settings

TIMEOUT_SECONDS = 15


def _never_reached(err: BaseException) -> bool:
    """True only when the request certainly never reached Twilio (refused connection, unknown host).

    Anything else (timeouts, resets) may have happened after Twilio received the request."""
    reason = getattr(err, "reason", err)
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


def _twilio_error(raw: bytes) -> str:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return raw[:200].decode("utf-8", "replace")
    return f"{data.get('code', '')} {data.get('message', '')}".strip() if isinstance(data, dict) else str(data)[:200]


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, tenant_id: str = "") -> None:
        self.tenant_id = tenant_id

    def _credentials(self) -> dict:
        try:
            secret = tenant_secret(self.tenant_id)
        except Exception as err:  # Secrets Manager unreachable/throttled: nothing was sent, try again later
            raise ProviderError(f"twilio credentials unavailable: {err}", retryable=True) from err
        if not secret.get("twilio_account_sid") or not secret.get("twilio_auth_token"):
            raise ProviderError("twilio credentials missing: the tenant secret needs twilio_account_sid and twilio_auth_token",
                                retryable=False)  # fmt: skip
        return secret

    def _account_credentials(self, account_id: str) -> dict:
        """A courier text-account's Twilio subaccount (helper D's ``text_numbers.account_auth``)."""
        from parley.domain import text_numbers
        from parley.errors import NotFound

        try:
            sid, token = text_numbers.account_auth(self.tenant_id, account_id)
        except (LookupError, NotFound) as err:
            raise ProviderError(f"twilio credentials of text-account {account_id} missing: {err}", retryable=False) from err
        except Exception as err:  # Secrets Manager unreachable/throttled: nothing was sent, try again later
            raise ProviderError(f"twilio credentials of text-account {account_id} unavailable: {err}", retryable=True) from err
        return {"twilio_account_sid": sid, "twilio_auth_token": token}

    def send(self, sms: OutboundSms) -> Receipt:
        settings = get_settings()
        secret = self._account_credentials(sms.account) if sms.account else self._credentials()
        sid, token = secret["twilio_account_sid"], secret["twilio_auth_token"]
        form = {"To": sms.recipient, "Body": sms.body}
        if sms.sender:
            form["From"] = sms.sender
        elif secret.get("twilio_messaging_service_sid"):
            form["MessagingServiceSid"] = secret["twilio_messaging_service_sid"]
        else:
            raise ProviderError("twilio needs a sender: set the tenant's sms_sender or twilio_messaging_service_sid", retryable=False)
        if sms.status_callback:
            form["StatusCallback"] = sms.status_callback
        elif settings.twilio_status_callback_url:
            base = settings.twilio_status_callback_url
            form["StatusCallback"] = base + ("&" if "?" in base else "?") + urllib.parse.urlencode({"tenant": self.tenant_id})
        url = f"{settings.twilio_api_url.rstrip('/')}/2010-04-01/Accounts/{urllib.parse.quote(sid, safe='')}/Messages.json"
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            raise ProviderError(f"TWILIO_API_URL must be an http(s) URL, not {settings.twilio_api_url!r}", retryable=False)
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked above)
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = _twilio_error(err.read())
            retryable = err.code == 429 or err.code >= 500
            raise ProviderError(f"twilio HTTP {err.code}: {detail}", retryable=retryable) from err
        except (urllib.error.URLError, OSError) as err:
            if _never_reached(err):
                raise ProviderError(f"twilio unreachable: {err}", retryable=True) from err
            # A timeout or reset: the request may have reached Twilio, so it is never resent.
            raise ProviderError(f"twilio outcome unknown: {err}", retryable=False, ambiguous=True) from err
        try:
            message_sid = json.loads(raw)["sid"]
        except (ValueError, KeyError, TypeError) as err:
            # Twilio answered 2xx, so it accepted the message; without its sid the outcome can't be tracked.
            raise ProviderError(f"twilio accepted the request but its answer has no sid: {raw[:200]!r}", retryable=False,
                                ambiguous=True) from err  # fmt: skip
        return Receipt(provider=self.name, provider_message_id=message_sid)
