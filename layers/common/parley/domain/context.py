"""Who is calling: the tenant resolved by the authorizer, and its sending settings; and who sends, and how (``Sender``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from parley.models.domain import Tenant, TenantSettings


class Caller(TenantSettings):
    """The calling tenant's id and its ``TenantSettings``: the fields are the settings' own, so a new
    setting reaches the authorizer context and every handler without a line here.

    In the authorizer context each field is a camelCase key (``tenantId``, ``senderEmail``, ``credential``,
    ``userId``, …)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    # A context built by hand (tests, tools) may name only the tenant; the authorizer always sends it.
    sender_email: str = ""
    # Which credential the authorizer accepted: the tenant's API key (server to server), or a user bearer token
    # (a JWT of the tenant's identity provider, ``parley.domain.user_tokens``) whose ``sub`` is ``user_id``.
    credential: Literal["api_key", "user_token"] = "api_key"
    user_id: str = ""  # a user token's subject; "" for an API key (whose acting user, if any, is a header's)
    # The tenant's courier users being sniffed (``parley.domain.sniffers``), as the authorizer read them from the tenant
    # item: ``<until epoch s>:<user id>`` separated by spaces (the context is flat strings). "" when none: a request
    # learns whether its user is sniffed from this, without a read of its own.
    sniffed_users: str = ""

    @classmethod
    def of(cls, tenant: Tenant, *, credential: Literal["api_key", "user_token"] = "api_key", user_id: str = "") -> Caller:
        settings = {name: getattr(tenant, name) for name in TenantSettings.model_fields}
        return cls(tenant_id=tenant.id, credential=credential, user_id=user_id, sniffed_users=sniffed_users(tenant), **settings)

    def sniffed_until(self, user_id: str | None) -> int | None:
        """The end (epoch seconds) of the latest sniffer of ``user_id`` this context names, or None (not sniffed)."""
        if not user_id or not self.sniffed_users:
            return None
        found = None
        for entry in self.sniffed_users.split():
            until, _, user = entry.partition(":")
            if user == user_id and until.isdigit():
                found = max(found or 0, int(until))
        return found

    def authorizer_context(self) -> dict[str, Any]:
        """What the authorizer hands API Gateway (flat strings/booleans), read back by ``from_authorizer``."""
        return {to_camel(name): value for name, value in self.model_dump().items()}

    @classmethod
    def from_authorizer(cls, ctx: dict[str, Any]) -> Caller:
        """The caller from ``requestContext.authorizer``, validated. API Gateway passes context values to
        the integration as strings ("true"/"false" for booleans): the fields' types parse them back.
        Keys that are not a field (``principalId``, ``integrationLatency``) are ignored; missing ones
        take the field's default."""
        return cls.model_validate({name: ctx[key] for name in cls.model_fields if (key := to_camel(name)) in ctx})


def sniffed_users(tenant: Tenant, now: float | None = None) -> str:
    """``Caller.sniffed_users`` of the tenant: its sniffers not yet ended, one entry per user (the latest end)."""
    import time

    at = time.time() if now is None else now
    latest: dict[str, int] = {}
    for sniffer in tenant.sniffers.values():
        if sniffer.until > at:
            latest[sniffer.user_id] = max(latest.get(sniffer.user_id, 0), sniffer.until)
    return " ".join(f"{until}:{user}" for user, until in sorted(latest.items()))


@dataclass(frozen=True)
class Sender:
    """What a send takes from its request besides the body (``parley.api.app.sender``, ``parley.api.crm.crm_sender``
    build it): the calling tenant, the acting user (the candidate API's recruiter, the CRM's X-User-ID), the
    Idempotency-Key that makes a retry safe with the Lambda context its in-progress record expires with, and for the
    CRM the public URL its tracking links point at."""

    caller: Caller
    user_id: str | None = None
    idempotency_key: str | None = None
    lambda_context: Any = None
    base_url: str = ""

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant_id
