"""Who is calling: the tenant resolved by the authorizer, and its sending settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    sender_email: str
    sender_name: str = ""
    email_provider: str = "ses"
