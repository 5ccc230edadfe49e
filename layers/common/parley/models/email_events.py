"""Email delivery/engagement events from the providers (SendGrid webhook, SES via SNS), normalised.

One ``EmailEvent`` is what the domain records, whichever provider reported it; ``Suppression`` is
one address a tenant must not email any more.
"""

from dataclasses import dataclass, field

from pydantic import ConfigDict

from parley.models.base import Model
from parley.models.domain import UtcDateTime


class WebhookEmailEventsResponse(Model):
    """Seed 000 ``WebhookEmailEventsResponse``: ``{"status": 200}``."""

    status: int


@dataclass(frozen=True)
class EmailEvent:
    """One provider event about one email, in Parley's vocabulary.

    ``event`` is the name shown by GET /communications/email/v1/activity (SendGrid's event names;
    SES events are mapped onto them, see ``domain.email_events.SES_EVENT_NAMES``).
    """

    provider: str  # sendgrid | ses
    event: str
    email: str
    created_ms: int
    dedupe_key: str | None  # the provider's event id (or a digest of the event); None = cannot be deduplicated
    ip: str = ""
    response: str = ""
    # Correlation hints, strongest first: our own message id (custom arg / tag), the provider's
    # message id, then category entries that may be message ids.
    parley_message_id: str | None = None
    provider_message_id: str | None = None
    categories: tuple[str, ...] = ()
    delivery_status: str | None = None  # what Message.delivery_status becomes (None: unchanged)
    suppress_reason: str | None = None  # why the address goes on the suppression list (None: it does not)
    suppress_addresses: tuple[str, ...] = field(default=())  # defaults to (email,) when suppress_reason is set


class Suppression(Model):
    """An address a tenant's mail is refused for (hard bounce, spam complaint, unsubscribe)."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    address: str  # lower-cased
    reason: str  # bounce | spamreport | unsubscribe | complaint | dropped: <reason>
    detail: str = ""  # the provider's text (bounce reason, complaint type, ...)
    provider: str = ""
    message_id: str | None = None  # the message whose event caused it, when known
    created_at: UtcDateTime

    def describe(self) -> str:
        when = self.created_at.strftime("%Y-%m-%d")
        return f"{self.address} is on the suppression list ({self.reason} reported by {self.provider or 'a provider'} on {when})"
