"""Who is calling: the tenant resolved by the authorizer, and its sending settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    sender_email: str
    sender_name: str = ""
    email_provider: str = "ses"
    sms_provider: str = "sns"
    sms_sender: str = ""
    quiet_hours: bool = False
    timezone: str = "UTC"
    reply_domain: str = ""
    default_country: str = "US"  # phone numbers without +<country code> are read in this country (E.164 keys)

    @classmethod
    def of(cls, tenant) -> Caller:
        return cls(
            tenant_id=tenant.id,
            sender_email=tenant.sender_email,
            sender_name=tenant.sender_name,
            email_provider=tenant.email_provider,
            sms_provider=tenant.sms_provider,
            sms_sender=tenant.sms_sender,
            quiet_hours=tenant.quiet_hours,
            timezone=tenant.timezone,
            reply_domain=tenant.reply_domain,
            default_country=tenant.default_country,
        )

    def authorizer_context(self) -> dict[str, str | bool]:
        """What the authorizer hands API Gateway (flat strings/booleans), read back by ``from_authorizer``."""
        return {
            "tenantId": self.tenant_id,
            "senderEmail": self.sender_email,
            "senderName": self.sender_name,
            "emailProvider": self.email_provider,
            "smsProvider": self.sms_provider,
            "smsSender": self.sms_sender,
            "quietHours": self.quiet_hours,
            "timezone": self.timezone,
            "replyDomain": self.reply_domain,
            "defaultCountry": self.default_country,
        }

    @classmethod
    def from_authorizer(cls, ctx: dict) -> Caller:
        quiet = ctx.get("quietHours", False)
        return cls(
            tenant_id=ctx["tenantId"],
            sender_email=ctx.get("senderEmail", ""),
            sender_name=ctx.get("senderName", ""),
            email_provider=ctx.get("emailProvider", "ses"),
            sms_provider=ctx.get("smsProvider", "sns"),
            sms_sender=ctx.get("smsSender", ""),
            # API Gateway passes authorizer context values to the integration as strings.
            quiet_hours=quiet if isinstance(quiet, bool) else str(quiet).lower() == "true",
            timezone=ctx.get("timezone") or "UTC",
            reply_domain=ctx.get("replyDomain", ""),
            default_country=ctx.get("defaultCountry") or "US",
        )
