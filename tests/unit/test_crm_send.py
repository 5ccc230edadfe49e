"""The CRM send side without AWS: request validation, building a record, schedule times, resend copies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from parley.api.crm import CrmCaller
from parley.domain import crm_send
from parley.domain.context import Caller
from parley.domain.crm_records import to_record
from parley.errors import BadRequest
from parley.models.crm import ScheduleEmailRequest, SendEmailRequest, SendTemplateRequest
from parley.models.domain import MessageStatus, TrackedLink

WHO = CrmCaller(
    caller=Caller(tenant_id="t1", sender_email="sales@acme.example", sender_name="Acme Sales", reply_domain="reply.acme.example"),
    user_id="user-7",
)
GOOD = {"subject": "Your quote", "body": "<p>Hello</p>", "recipients": ["jan@example.com"]}


def _build(**change):
    req = SendEmailRequest.model_validate({**GOOD, **change})
    return crm_send.build_message(WHO, req, crm_send.Content(subject=req.subject, body=req.body), description="created")


# ───────────── request validation (the models) ─────────────


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Hello\r\nBcc: evil@example.com"}, "subject"),
        ({"subject": "Hello\nthere"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 999}, "subject"),
        ({"recipients": []}, "recipients"),
        ({"recipients": "jan@example.com"}, "recipients"),
        ({"recipients": ["jan"]}, "recipients"),
        ({"recipients": ["jan@example"]}, "recipients"),
        ({"recipients": ["Jan <jan@example.com>"]}, "recipients"),
        ({"recipients": ["a@example.com, b@example.com"]}, "recipients"),
        ({"recipients": [f"r{i}@example.com" for i in range(51)]}, "recipients"),
        ({"cc": ["not an address"]}, "cc"),
        ({"bcc": ["x@example.com\r\nTo: y@example.com"]}, "bcc"),
        ({"replyTo": "nobody"}, "replyTo"),
        ({"senderName": "Sales\r\nBcc: x@example.com"}, "senderName"),
        ({"type": "OFFERTE TWO"}, "type"),
        ({"relatedEntityId": "a\nb"}, "relatedEntityId"),
        ({"variables": {"1bad": "x"}}, "variables"),
        ({"body": "x" * (256 * 1024 + 1)}, "body"),
    ],
)
def test_invalid_send_requests_are_refused_naming_the_field(change, field):
    with pytest.raises(ValidationError) as err:
        SendEmailRequest.model_validate({**GOOD, **change})
    assert any(field in str(e["loc"]) for e in err.value.errors())


def test_the_seeds_minimal_bodies_are_valid():
    assert SendEmailRequest.model_validate({"body": "string", "recipients": ["a@example.com"], "subject": "string"})
    assert SendTemplateRequest.model_validate({"recipients": ["a@example.com"]})
    req = ScheduleEmailRequest.model_validate({**GOOD, "scheduledAt": "2030-01-15T09:00:00+01:00"})
    assert req.scheduledAt == datetime(2030, 1, 15, 8, 0, tzinfo=UTC)


# ───────────── building the record ─────────────


def test_build_message_makes_a_queued_crm_record():
    msg = _build(
        recipients=["jan@example.com", "piet@example.com"],
        cc=["boss@example.com"],
        bcc=["archive@example.com"],
        type="OFFERTE",
        relatedEntityType="deal",
        relatedEntityId="42",
        recipientListId="list-1",
        variables={"amount": 3},
        trackingEnabled=True,
    )
    assert (msg.tenant_id, msg.channel, msg.direction, msg.source_api, msg.status) == (
        "t1",
        "email",
        "outbound",
        "crm",
        MessageStatus.QUEUED,
    )
    assert (msg.sender, msg.sender_name, msg.provider) == ("sales@acme.example", "Acme Sales", "ses")
    assert msg.recipient == "jan@example.com"
    assert (msg.recipients, msg.cc, msg.bcc) == (["jan@example.com", "piet@example.com"], ["boss@example.com"], ["archive@example.com"])
    assert (msg.subject, msg.body, msg.category) == ("Your quote", "<p>Hello</p>", "OFFERTE")
    assert (msg.related_entity_type, msg.related_entity_id, msg.recipient_list_id) == ("deal", "42", "list-1")
    assert msg.variables == {"amount": 3}
    assert msg.created_by == "user-7"
    assert msg.conversation_id == msg.id
    assert msg.reply_to == f"reply+{msg.id}@reply.acme.example"
    assert (msg.tracking_enabled, msg.link_tracking_enabled) == (True, False)
    assert msg.candidate_id is None and msg.template_id is None and msg.parent_id is None
    (entry,) = msg.timeline
    assert (entry.type, entry.author_id, entry.description, entry.date) == ("CREATE", "user-7", "created", msg.created_at)
    rec = to_record(msg)
    assert rec.status == "PENDING" and rec.recipients == msg.recipients and rec.createdBy == "user-7"


def test_request_sender_name_and_reply_to_win():
    msg = _build(senderName="Jan's desk", replyTo="desk@example.com")
    assert (msg.sender_name, msg.reply_to) == ("Jan's desk", "desk@example.com")
    assert _build(senderName="").sender_name == ""


def test_no_reply_domain_means_no_reply_to_and_no_user_means_no_author():
    who = CrmCaller(caller=Caller(tenant_id="t1", sender_email="s@acme.example"), user_id=None)
    req = SendEmailRequest.model_validate(GOOD)
    msg = crm_send.build_message(who, req, crm_send.Content(subject="s", body="b"), description="d")
    assert msg.reply_to is None and msg.created_by is None and msg.timeline[0].author_id is None


def test_template_content_fills_template_fields_and_the_requests_type_wins():
    req = SendTemplateRequest.model_validate({"recipients": ["a@example.com"]})
    content = crm_send.Content(subject="S", body="<p>B</p>", body_text="B", template_id="tpl", template_name="Quote", category="OFFERTE")
    msg = crm_send.build_message(WHO, req, content, description="d")
    assert (msg.template_id, msg.template_name, msg.category, msg.body_text) == ("tpl", "Quote", "OFFERTE", "B")
    req = SendTemplateRequest.model_validate({"recipients": ["a@example.com"], "type": "REMINDER"})
    assert crm_send.build_message(WHO, req, content, description="d").category == "REMINDER"


def test_addresses_are_deduplicated_across_to_cc_bcc_case_insensitively():
    to, cc, bcc = crm_send.addressees(
        ["a@example.com", "A@Example.com", "b@example.com"], ["b@EXAMPLE.com", "c@example.com"], ["c@example.com", "d@example.com"]
    )
    assert (to, cc, bcc) == (["a@example.com", "b@example.com"], ["c@example.com"], ["d@example.com"])


def test_more_than_50_addresses_together_is_400_even_when_each_list_is_under_50():
    to = [f"t{i}@example.com" for i in range(20)]
    cc = [f"c{i}@example.com" for i in range(20)]
    bcc = [f"b{i}@example.com" for i in range(11)]
    with pytest.raises(BadRequest, match=r"at most 50 addresses.*51"):
        _build(recipients=to, cc=cc, bcc=bcc)
    assert len(_build(recipients=to, cc=cc, bcc=bcc[:10]).bcc) == 10
    # duplicates do not count twice
    assert len(_build(recipients=to, cc=cc, bcc=[*bcc[:10], *to]).bcc) == 10


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"body": ""}, "body must not be blank"),
        ({"body": " \n\t "}, "body must not be blank"),
        ({"relatedEntityType": "deal"}, "relatedEntityType and relatedEntityId"),
        ({"relatedEntityId": "42"}, "relatedEntityType and relatedEntityId"),
        ({"variables": {"big": "x" * (33 * 1024)}}, "variables must be at most"),
    ],
)
def test_build_refuses(change, words):
    with pytest.raises(BadRequest, match=words):
        _build(**change)


def test_check_fits_counts_what_stays_in_the_item():
    msg = _build()
    crm_send.check_fits(msg.model_copy(update={"original_body": "x" * 200_000}))
    with pytest.raises(BadRequest, match="too large"):
        crm_send.check_fits(msg.model_copy(update={"original_body": "é" * 140_000}))  # 280 KB of UTF-8
    with pytest.raises(BadRequest, match="too large"):
        crm_send.check_fits(msg.model_copy(update={"original_body": "x" * 150_000, "body_text": "y" * 150_000}))
    links = [TrackedLink(url="https://t.example/" + "l" * 1000, original_url="https://o.example/" + "o" * 1500) for _ in range(100)]
    with pytest.raises(BadRequest, match="too large"):
        crm_send.check_fits(msg.model_copy(update={"original_body": "x" * 10_000, "links": links}))


# ───────────── schedule times ─────────────


def test_schedule_time_keeps_an_offset_and_reads_a_wall_clock_time_in_the_zone():
    soon = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    assert crm_send.schedule_time(soon, None) == soon
    assert crm_send.schedule_time(soon, "Asia/Tokyo") == soon  # an offset wins; the zone is for display
    wall = soon.replace(tzinfo=None)
    assert crm_send.schedule_time(wall, "Europe/Amsterdam") == wall.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.mark.parametrize(
    ("at", "tz", "words"),
    [
        (datetime.now(UTC) - timedelta(minutes=1), None, "future"),
        (datetime.now(UTC) + timedelta(seconds=2), None, "future"),
        (datetime.now(UTC) - timedelta(days=400), "Europe/Amsterdam", "future"),
        ((datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None), None, "offset"),
        (datetime.now(UTC) + timedelta(days=1), "Not/AZone", "timeZone"),
        (datetime.now(UTC) + timedelta(days=1), "../etc/passwd", "timeZone"),
        (datetime.now(UTC) + timedelta(days=1), "/etc/localtime", "timeZone"),
    ],
)
def test_bad_schedule_times(at, tz, words):
    with pytest.raises(BadRequest, match=words):
        crm_send.schedule_time(at, tz)


# ───────────── resend ─────────────


def test_resend_copies_content_and_addressees_into_a_new_record_of_the_same_conversation():
    original = _build(
        recipients=["jan@example.com", "piet@example.com"],
        cc=["c@example.com"],
        bcc=["b@example.com"],
        type="OFFERTE",
        relatedEntityType="deal",
        relatedEntityId="9",
        variables={"v": 1},
        trackingEnabled=True,
        linkTrackingEnabled=True,
    ).model_copy(
        update={
            "status": MessageStatus.SENT,
            "body": "<p>instrumented</p>",
            "original_body": "<p>as submitted</p>",
            "body_text": "as submitted",
            "track_token": "old-token",
            "template_id": "tpl",
            "template_name": "Quote",
            "provider_message_id": "ses-1",
            "sent_at": datetime.now(UTC),
            "open_count": 3,
            "links": [TrackedLink(url="u", original_url="o", click_count=2)],
        }
    )
    who = CrmCaller(caller=Caller(tenant_id="t1", sender_email="new-sender@acme.example", email_provider="sendgrid"), user_id="user-9")
    new = crm_send.resend_message(who, original)
    assert new.id != original.id and new.status == MessageStatus.QUEUED
    assert (new.conversation_id, new.parent_id) == (original.conversation_id, original.id)
    assert new.body == "<p>as submitted</p>" and new.original_body is None and new.body_text == "as submitted"
    for field in ("subject", "recipient", "recipients", "cc", "bcc", "category", "template_id", "template_name", "variables",
                  "related_entity_type", "related_entity_id", "recipient_list_id", "reply_to", "sender_name", "tracking_enabled",
                  "link_tracking_enabled"):  # fmt: skip
        assert getattr(new, field) == getattr(original, field), field
    assert (new.sender, new.provider, new.created_by, new.source_api) == ("new-sender@acme.example", "sendgrid", "user-9", "crm")
    assert (new.track_token, new.provider_message_id, new.sent_at, new.open_count, new.links) == (None, None, None, 0, [])
    assert [(e.type, e.author_id) for e in new.timeline] == [("CREATE", "user-9")]
    assert original.id in new.timeline[0].description


def test_resend_of_an_untracked_record_sends_its_body():
    original = _build().model_copy(update={"status": MessageStatus.FAILED, "error": "x"})
    assert crm_send.resend_message(WHO, original).body == original.body
