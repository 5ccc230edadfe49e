"""SendGrid v3 Mail Send email provider (urllib only: no SDK in the deployment package)."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from parley.providers.base import OutboundEmail, ProviderError, Receipt
from parley.settings import get_settings

CONNECT_AND_READ_TIMEOUT = 10.0  # seconds; the dispatcher has 30


class SendGridEmailProvider:
    name = "sendgrid"

    def __init__(
        self, tenant_id: str = "", *, api_key: str | None = None, base_url: str | None = None, timeout: float | None = None
    ) -> None:
        self.tenant_id = tenant_id
        self._api_key = api_key
        self.base_url = (base_url or get_settings().sendgrid_api_url).rstrip("/")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"SENDGRID_API_URL must be an http(s) URL, not {self.base_url!r}")
        self.timeout = CONNECT_AND_READ_TIMEOUT if timeout is None else timeout

    def api_key(self) -> str:
        if self._api_key:
            return self._api_key
        from parley.dal.secrets import tenant_secret

        key = tenant_secret(self.tenant_id).get("sendgrid_api_key")
        if not key:
            raise ProviderError(f"sendgrid: tenant {self.tenant_id} has no sendgrid_api_key in its credentials secret", retryable=False)
        return str(key)

    @staticmethod
    def payload(email: OutboundEmail) -> dict[str, Any]:
        sender: dict[str, str] = {"email": email.sender}
        if email.sender_name:
            sender["name"] = email.sender_name
        content = []
        # SendGrid requires text/plain first, then text/html.
        if email.text is not None:
            content.append({"type": "text/plain", "value": email.text})
        if email.html is not None:
            content.append({"type": "text/html", "value": email.html})
        if not content:
            content.append({"type": "text/plain", "value": " "})
        body: dict[str, Any] = {
            "personalizations": [
                {
                    "to": [{"email": a} for a in email.to_addresses],
                    **({"cc": [{"email": a} for a in email.cc]} if email.cc else {}),
                    **({"bcc": [{"email": a} for a in email.bcc]} if email.bcc else {}),
                }
            ],
            "from": sender,
            "subject": email.subject,
            "content": content,
            # Custom args come back on every Event Webhook event: that is how events find their message.
            "custom_args": {"parley_message_id": email.message_id, "parley_tenant_id": email.tenant_id},
            "categories": [email.message_id],
        }
        if email.reply_to:
            body["reply_to"] = {"email": email.reply_to}
        if email.headers:
            body["headers"] = dict(email.headers)
        if email.attachments:
            body["attachments"] = [
                {"content": base64.b64encode(a.data).decode(), "type": a.content_type, "filename": a.filename, "disposition": "attachment"}
                for a in email.attachments
            ]
        return body

    def send(self, email: OutboundEmail) -> Receipt:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            f"{self.base_url}/v3/mail/send",
            data=json.dumps(self.payload(email)).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.api_key()}", "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked in __init__)
                status = response.status
                message_id = response.headers.get("X-Message-Id")
                response.read()
        except urllib.error.HTTPError as err:
            detail = _error_detail(err)
            retryable = err.code == 429 or err.code >= 500
            raise ProviderError(f"sendgrid HTTP {err.code}: {detail}", retryable=retryable) from err
        except urllib.error.URLError as err:
            # Raised while connecting or writing the request: SendGrid never got a whole request.
            raise ProviderError(f"sendgrid unreachable: {err.reason}", retryable=True) from err
        except (TimeoutError, http.client.RemoteDisconnected, ConnectionResetError, http.client.IncompleteRead) as err:
            # The request was sent but no (complete) answer came back: it may have been accepted.
            raise ProviderError(f"sendgrid did not answer: {err!r}", retryable=False, ambiguous=True) from err
        if not 200 <= status < 300:
            raise ProviderError(f"sendgrid HTTP {status}", retryable=False, ambiguous=True)
        # 202 Accepted carries X-Message-Id; events report it as sg_message_id "<X-Message-Id>.<filter>…".
        return Receipt(provider=self.name, provider_message_id=message_id or email.message_id)


def _error_detail(err: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(err.read() or b"{}")
    except (ValueError, OSError):
        return err.reason or ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return err.reason or ""
