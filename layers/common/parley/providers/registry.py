"""Provider lookup by name. Each adapter module is imported only when a message needs it."""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name → (module, class). Email: ses (default), sendgrid. SMS: sns (default), twilio.
EMAIL_PROVIDERS = {"ses": ("parley.providers.ses", "SesEmailProvider"), "sendgrid": ("parley.providers.sendgrid", "SendGridEmailProvider")}
SMS_PROVIDERS = {"sns": ("parley.providers.sns_sms", "SnsSmsProvider"), "twilio": ("parley.providers.twilio_sms", "TwilioSmsProvider")}


def _load(table: dict[str, tuple[str, str]], kind: str, name: str, tenant_id: str) -> Any:
    try:
        module, cls = table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} provider {name!r}") from None
    return getattr(import_module(module), cls)(tenant_id=tenant_id)


def email_provider(name: str, tenant_id: str) -> Any:
    return _load(EMAIL_PROVIDERS, "email", name, tenant_id)


def sms_provider(name: str, tenant_id: str) -> Any:
    return _load(SMS_PROVIDERS, "sms", name, tenant_id)
