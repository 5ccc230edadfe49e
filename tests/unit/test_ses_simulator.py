"""The local stack's SES mailbox simulator (parley_local.ses_simulator): which events a send to
``…@simulator.amazonses.com`` leads to, in SES's event publishing format, and what the SES events consumer
makes of them (parley.domain.email_events.parse_ses)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from parley.domain.email_events import parse_ses
from parley_local import ses_simulator

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


def send(*to: str, cc: tuple[str, ...] = (), config_set: str | None = "parley-email") -> dict:
    params = {
        "FromEmailAddress": "Acme <no-reply@acme.example>",
        "Destination": {"ToAddresses": list(to), **({"CcAddresses": list(cc)} if cc else {})},
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hi"}}}},
        "EmailTags": [{"Name": "parley_message_id", "Value": "m-1"}, {"Name": "parley_tenant_id", "Value": "t-1"}],
    }
    if config_set:
        params["ConfigurationSetName"] = config_set
    return params


def events(params: dict) -> list[dict]:
    return [ev for _, ev in ses_simulator.events_for(params, "0100-ses-1", account="123456789012", region="us-east-1", now=NOW)]


@pytest.mark.parametrize(
    ("address", "box"),
    [
        ("success@simulator.amazonses.com", "success"),
        ("bounce+run-7@simulator.amazonses.com", "bounce"),
        ("Bob <Complaint@Simulator.AmazonSES.com>", "complaint"),
        ("bounce@example.com", None),
        ("simulator.amazonses.com", None),
    ],
)
def test_mailbox_names_the_simulator_mailbox_labels_and_names_aside(address, box):
    assert ses_simulator.mailbox(address) == box


def test_no_simulator_recipient_no_events():
    assert events(send("ada@example.com")) == []


def test_success_is_send_then_delivery_with_the_tags_and_message_id():
    send_ev, delivery = events(send("success@simulator.amazonses.com"))
    assert [send_ev["eventType"], delivery["eventType"]] == ["Send", "Delivery"]
    mail = delivery["mail"]
    assert mail["messageId"] == "0100-ses-1"
    assert mail["destination"] == ["success@simulator.amazonses.com"]
    assert mail["tags"]["parley_message_id"] == ["m-1"] and mail["tags"]["parley_tenant_id"] == ["t-1"]
    assert mail["tags"]["ses:configuration-set"] == ["parley-email"]
    assert mail["tags"]["ses:from-domain"] == ["acme.example"]
    assert delivery["delivery"]["recipients"] == ["success@simulator.amazonses.com"]
    assert delivery["delivery"]["smtpResponse"].startswith("250")


def test_bounce_is_a_permanent_bounce_the_consumer_suppresses():
    _, bounce = events(send("bounce+x@simulator.amazonses.com"))
    assert bounce["eventType"] == "Bounce"
    assert bounce["bounce"]["bounceType"] == "Permanent" and bounce["bounce"]["bounceSubType"] == "General"
    assert bounce["bounce"]["bouncedRecipients"][0]["status"] == "5.1.1"
    tenant, parsed = parse_ses(json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(bounce)}))
    assert tenant == "t-1"
    assert parsed.event == "bounce" and parsed.delivery_status == "BOUNCED"
    assert parsed.suppress_reason == "bounce" and parsed.suppress_addresses == ("bounce+x@simulator.amazonses.com",)
    assert parsed.parley_message_id == "m-1" and parsed.provider_message_id == "0100-ses-1"


def test_complaint_is_delivered_then_complained():
    kinds = [ev["eventType"] for ev in events(send("complaint@simulator.amazonses.com"))]
    assert kinds == ["Send", "Delivery", "Complaint"]
    complaint = events(send("complaint@simulator.amazonses.com"))[-1]
    assert complaint["complaint"]["complaintFeedbackType"] == "abuse"
    assert parse_ses(json.dumps(complaint))[1].suppress_reason == "complaint"


def test_suppressionlist_bounces_as_suppressed_and_ooto_is_delivered():
    bounce = events(send("suppressionlist@simulator.amazonses.com"))[-1]
    assert (bounce["eventType"], bounce["bounce"]["bounceSubType"]) == ("Bounce", "Suppressed")
    assert [ev["eventType"] for ev in events(send("ooto@simulator.amazonses.com"))] == ["Send", "Delivery"]


def test_one_send_event_and_one_outcome_per_simulator_recipient():
    kinds = [
        ev["eventType"] for ev in events(send("success@simulator.amazonses.com", "ada@example.com", cc=("bounce@simulator.amazonses.com",)))
    ]
    assert kinds == ["Send", "Delivery", "Bounce"]
    assert events(send("success@simulator.amazonses.com", "ada@example.com"))[0]["mail"]["destination"] == [
        "success@simulator.amazonses.com", "ada@example.com"
    ]  # fmt: skip


def test_an_unknown_simulator_mailbox_gets_only_the_send_event():
    assert [ev["eventType"] for ev in events(send("nobody@simulator.amazonses.com"))] == ["Send"]


@pytest.mark.parametrize(
    ("destination", "topics", "types"),
    [
        ({"Enabled": True, "MatchingEventTypes": ["bounce"], "SNSDestination": {"TopicARN": "arn:t"}}, ["arn:t"], {"bounce"}),
        ({"Enabled": "true", "MatchingEventTypes": ["send"], "SNSDestination": {"TopicARN": "arn:t"}}, ["arn:t"], {"send"}),
        ({"Enabled": False, "MatchingEventTypes": ["bounce"], "SNSDestination": {"TopicARN": "arn:t"}}, [], set()),
        ({"Enabled": "false", "MatchingEventTypes": ["bounce"], "SNSDestination": {"TopicARN": "arn:t"}}, [], set()),
        ({"Enabled": True, "MatchingEventTypes": ["bounce"]}, [], {"bounce"}),
        (None, [], set()),
    ],
)
def test_sns_destinations_honours_enabled_and_the_matching_types(destination, topics, types):
    assert ses_simulator.sns_destinations(destination) == (topics, types)
