"""SES's mailbox simulator, locally: the events SES publishes for mail sent to ``…@simulator.amazonses.com``.

On AWS, a message sent to one of the mailbox simulator's addresses gets a defined outcome, and SES publishes
the events of that outcome to the configuration set's event destinations like for any other mail (SES Developer
Guide, "Using the mailbox simulator"):

- ``success@``: delivered (a Delivery event);
- ``bounce@``: refused with SMTP 550 5.1.1, a hard bounce (a Bounce event, ``Permanent``/``General``);
- ``complaint@``: delivered, then marked as spam by the recipient (Delivery, then a Complaint event, ``abuse``);
- ``ooto@``: delivered, and the recipient's server answers with an automatic reply to the sender (a Delivery event;
  the reply goes to the envelope sender, not to an event destination);
- ``suppressionlist@``: refused as if the address were on the suppression list (a Bounce event,
  ``Permanent``/``Suppressed``).

Labels are honoured (``bounce+run-1@simulator.amazonses.com`` is the bounce address). Every send to the simulator
also gets a Send event. moto's SES stores the message and answers its MessageId, but keeps neither the
configuration set nor the tags of a SES v2 ``SendEmail``, and never publishes an event: this module does what SES
does after accepting such a message. It wraps moto's SES v2 ``SendEmail`` handler (``install``): after moto has
accepted the message, it reads the request's ``ConfigurationSetName`` and ``EmailTags``, finds the configuration
set's event destination in moto's SES backend (the local stack creates ``AWS::SES::ConfigurationSetEventDestination``
there, ``parley_local.stack``), and publishes each event the destination matches to its SNS topic, a moment later
(SES publishes asynchronously), in SES's event publishing format — from there it goes the deployed way (SNS →
SQS → SesEventsFunction).

Only messages with at least one simulator recipient get events: the emulator delivers no other mail, so it
has no outcome to report for it (on AWS every message gets a Send event and then its recipients' outcomes).
A message without a configuration set, or whose set has no enabled SNS destination, gets none, as on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

log = logging.getLogger("parley_local.ses_simulator")

SIMULATOR_DOMAIN = "simulator.amazonses.com"
REPORTING_MTA = "a8-local.smtp-out.amazonses.com"
SEND_DELAY_S = 0.2  # SES publishes the Send event right after accepting the message
OUTCOME_DELAY_S = 0.8  # … and the recipient's outcome once its server has answered

# What each simulator mailbox does (by the local part, before any +label).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "success": ("Delivery",),
    "bounce": ("Bounce",),
    "complaint": ("Delivery", "Complaint"),
    "ooto": ("Delivery",),
    "suppressionlist": ("Bounce",),
}

# SES eventType → the event destination's MatchingEventTypes name.
MATCHING_TYPE = {"Send": "send", "Delivery": "delivery", "Bounce": "bounce", "Complaint": "complaint"}


def mailbox(address: str) -> str | None:
    """The simulator mailbox an address names (``success``, ``bounce``, …, or an unknown one), None for any other
    address. ``Name <bounce+x@simulator.amazonses.com>`` names ``bounce``."""
    _, addr = parseaddr(address)
    local, at, domain = addr.rpartition("@")
    if not at or domain.lower() != SIMULATOR_DOMAIN:
        return None
    return local.split("+", 1)[0].lower()


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def events_for(
    params: dict[str, Any], message_id: str, *, account: str, region: str, now: datetime | None = None
) -> list[tuple[float, dict[str, Any]]]:
    """The SES events (delay in seconds, event) a SES v2 ``SendEmail`` request accepted as ``message_id`` leads to,
    in SES's event publishing format; [] when no recipient is a simulator address."""
    destination = params.get("Destination") or {}
    recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(key) or []]
    simulated = [(addr, mailbox(addr)) for addr in recipients if mailbox(addr) is not None]
    if not simulated:
        return []
    now = now or datetime.now(UTC)
    source = params.get("FromEmailAddress") or ""
    from_domain = parseaddr(source)[1].rpartition("@")[2]
    tags: dict[str, list[str]] = {}
    for tag in params.get("EmailTags") or []:
        tags.setdefault(str(tag.get("Name")), []).append(str(tag.get("Value")))
    config_set = params.get("ConfigurationSetName")
    auto_tags = {"ses:operation": ["SendEmail"], "ses:from-domain": [from_domain], "ses:source-ip": ["127.0.0.1"],
                 "ses:caller-identity": ["parley-local"], **({"ses:configuration-set": [config_set]} if config_set else {})}  # fmt: skip
    mail = {
        "timestamp": _iso(now),
        "source": source,
        "sourceArn": f"arn:aws:ses:{region}:{account}:identity/{from_domain}",
        "sendingAccountId": account,
        "messageId": message_id,
        "destination": recipients,
        "headersTruncated": False,
        "tags": {**auto_tags, **tags},
    }
    out: list[tuple[float, dict[str, Any]]] = [(SEND_DELAY_S, {"eventType": "Send", "mail": mail, "send": {}})]
    at = _iso(now + timedelta(seconds=OUTCOME_DELAY_S))
    for n, (addr, box) in enumerate(simulated):
        _, plain = parseaddr(addr)
        for etype in OUTCOMES.get(box or "", ()):
            delay = OUTCOME_DELAY_S + 0.05 * n
            if etype == "Delivery":
                detail = {"timestamp": at, "processingTimeMillis": int(OUTCOME_DELAY_S * 1000), "recipients": [plain],
                          "smtpResponse": "250 2.6.0 Message received", "reportingMTA": REPORTING_MTA}  # fmt: skip
                out.append((delay, {"eventType": "Delivery", "mail": mail, "delivery": detail}))
            elif etype == "Bounce":
                suppressed = box == "suppressionlist"
                recipient = {"emailAddress": plain, "action": "failed", "status": "5.1.1"}
                if not suppressed:
                    recipient["diagnosticCode"] = "smtp; 550 5.1.1 user unknown"
                detail = {"bounceType": "Permanent", "bounceSubType": "Suppressed" if suppressed else "General",
                          "bouncedRecipients": [recipient], "timestamp": at, "feedbackId": str(uuid.uuid4()),
                          **({} if suppressed else {"reportingMTA": f"dsn; {REPORTING_MTA}"})}  # fmt: skip
                out.append((delay, {"eventType": "Bounce", "mail": mail, "bounce": detail}))
            elif etype == "Complaint":
                detail = {"complainedRecipients": [{"emailAddress": plain}], "timestamp": at, "feedbackId": str(uuid.uuid4()),
                          "userAgent": "Amazon SES Mailbox Simulator", "complaintFeedbackType": "abuse", "arrivalDate": at}  # fmt: skip
                out.append((delay + 0.2, {"eventType": "Complaint", "mail": mail, "complaint": detail}))
    return out


def sns_destinations(event_destination: dict[str, Any] | None) -> tuple[list[str], set[str]]:
    """(SNS topic ARNs, matching event types) of a configuration set's event destination as moto's SES backend holds
    it (SES v1 shape: ``Enabled``, ``MatchingEventTypes``, ``SNSDestination.TopicARN``); nothing when disabled."""
    if not event_destination or str(event_destination.get("Enabled", True)).lower() in ("false", "0"):
        return [], set()
    topic = (event_destination.get("SNSDestination") or event_destination.get("SnsDestination") or {}).get("TopicARN")
    types = {str(t) for t in event_destination.get("MatchingEventTypes") or []}
    return ([topic] if topic else []), types


Publish = Callable[[str, str, str, str], None]  # (account, region, topic ARN, message)


def _publish_with_moto(account: str, region: str, topic: str, message: str) -> None:
    from moto.sns.models import sns_backends

    sns_backends[account][region].publish(message, arn=topic)


def emit(params: dict[str, Any], message_id: str, account: str, region: str, publish: Publish = _publish_with_moto) -> int:
    """Schedule the events of one accepted ``SendEmail`` for the configuration set's SNS destination; returns how many."""
    from moto.ses.models import ses_backends

    config_set = params.get("ConfigurationSetName")
    if not config_set:
        return 0
    backend = ses_backends[account][region]
    topics, types = sns_destinations(backend.config_set_event_destination.get(config_set))
    if not topics:
        return 0
    events = [(delay, ev) for delay, ev in events_for(params, message_id, account=account, region=region)
              if MATCHING_TYPE.get(ev["eventType"]) in types]  # fmt: skip
    for delay, event in events:
        body = json.dumps(event)
        for topic in topics:
            timer = threading.Timer(delay, _safely, args=(publish, account, region, topic, body))
            timer.daemon = True
            timer.start()
    return len(events)


def _safely(publish: Publish, account: str, region: str, topic: str, message: str) -> None:
    try:
        publish(account, region, topic, message)
    except Exception:
        log.exception("could not publish a simulated SES event to %s", topic)


_installed = threading.Lock()
_done: list[bool] = []


_TAGS: dict[str, dict[str, str]] = {}  # SES message id → the send's EmailTags (the newest MAX_TAGS)
MAX_TAGS = 10_000


def sent_tags(message_id: str) -> dict[str, str]:
    """The ``EmailTags`` a message was sent with (SES keeps them and returns them on its events; moto keeps
    none): how the local console finds a sent email's tenant and message without a lookup per tenant."""
    return _TAGS.get(message_id, {})


def _keep_tags(params: dict[str, Any], message_id: str) -> None:
    _TAGS[message_id] = {str(t.get("Name")): str(t.get("Value")) for t in params.get("EmailTags") or []}
    while len(_TAGS) > MAX_TAGS:
        del _TAGS[next(iter(_TAGS))]


def install() -> None:
    """Wrap moto's SES v2 ``SendEmail`` so that mail to the simulator gets SES's events, and every send's tags are
    kept (``sent_tags``) (idempotent)."""
    with _installed:
        if _done:
            return
        from moto.sesv2.responses import SESV2Response

        original = SESV2Response.send_email

        def send_email(self: Any) -> str:
            answer = original(self)  # moto accepted it (or raised: then SES publishes nothing either)
            try:
                params = json.loads(self.body)
                message_id = json.loads(answer)["MessageId"]
                _keep_tags(params, message_id)
                emit(params, message_id, self.current_account, self.region)
            except Exception:
                log.exception("mailbox simulator: no events for this send")
            return answer

        SESV2Response.send_email = send_email  # type: ignore[method-assign]
        _done.append(True)
