"""Scheduled email: EventBridge Scheduler one-time schedules, cancel, and (locally) firing."""

import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def caller(app_env, tenant):
    from parley.domain.context import Caller

    t, _ = tenant
    return Caller(tenant_id=t.id, sender_email=t.sender_email, sender_name=t.sender_name)


@pytest.fixture
def new_msg(caller):
    from parley.domain.emails import new_outbound_email

    def make(c=caller):
        return new_outbound_email(c, source_api="candidate", recipient="ada@example.com", subject="Interview", body="See you")

    return make


@pytest.fixture
def scheduler(aws):
    from parley.dal.aws import client

    return client("scheduler")


def _at(days=2, hour=9):
    """A wall-clock time in Amsterdam, safely in the future, on a whole second."""
    base = datetime.now(AMS).replace(hour=hour, minute=30, second=0, microsecond=0)
    return base + timedelta(days=days)


def _firer(aws):
    from parley_local.stack import Provisioner
    from parley_local.workers import SchedulerFirer

    return SchedulerFirer(Provisioner(None), aws, None, threading.Event())


def test_schedule_stores_a_scheduled_message_and_a_one_time_schedule(aws, new_msg, scheduler, send_queue, drain):
    from parley.dal import messages
    from parley.domain import emails
    from parley.models.domain import MessageStatus

    at = _at()
    msg = emails.schedule(new_msg(), at, "Europe/Amsterdam")

    stored = messages.get(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.SCHEDULED
    assert stored.scheduled_at == at.astimezone(UTC)
    assert stored.scheduled_at.utcoffset() == timedelta(0)
    assert stored.scheduled_tz == "Europe/Amsterdam"
    item = messages.table.get(messages.keys.message_pk(msg.tenant_id, msg.id), messages.keys.MESSAGE_SK)
    assert item["scheduled_at"].endswith("Z")  # stored as UTC

    sched = scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=aws.schedule_groups[0])
    utc = at.astimezone(UTC)
    assert sched["ScheduleExpression"] == f"at({utc:%Y-%m-%dT%H:%M:%S})"
    assert sched["ScheduleExpressionTimezone"] == "UTC"
    assert sched["ActionAfterCompletion"] == "DELETE"
    assert sched["FlexibleTimeWindow"] == {"Mode": "OFF"}
    send_arn, send_url = send_queue
    assert sched["Target"]["Arn"] == send_arn
    assert sched["Target"]["RoleArn"].endswith("-SchedulerRole")
    assert json.loads(sched["Target"]["Input"]) == {"tenant_id": msg.tenant_id, "message_id": msg.id}
    dlq_arn = next(a for a in aws.queues if a.endswith("-SendDLQ"))
    assert sched["Target"]["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert drain(send_url) == []  # nothing queued until it fires


def test_sub_second_times_round_up_never_early(aws, new_msg, scheduler):
    from parley.dal import messages
    from parley.domain import emails

    at = _at().replace(microsecond=250_000)
    msg = emails.schedule(new_msg(), at, "Europe/Amsterdam")
    sched = scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=aws.schedule_groups[0])
    up = at.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    assert sched["ScheduleExpression"] == f"at({up:%Y-%m-%dT%H:%M:%S})"
    assert messages.get(msg.tenant_id, msg.id).scheduled_at == at.astimezone(UTC).replace(microsecond=250_000)


def test_naive_or_past_time_is_bad_request_and_nothing_created(aws, app_env, new_msg, scheduler, tenant, timeline):
    from parley.domain import emails
    from parley.errors import BadRequest

    with pytest.raises(BadRequest, match="future"):
        emails.schedule(new_msg(), datetime.now(UTC) - timedelta(minutes=1), "UTC")
    with pytest.raises(BadRequest, match="future"):
        emails.schedule(new_msg(), datetime.now(UTC) + timedelta(seconds=1), "UTC")
    with pytest.raises(BadRequest, match="time zone"):
        emails.schedule(new_msg(), datetime.now() + timedelta(days=1), None)
    assert scheduler.list_schedules(GroupName=aws.schedule_groups[0])["Schedules"] == []
    assert timeline(tenant[0].id) == []


def test_cancel_deletes_the_schedule_and_records_an_event(aws, new_msg, scheduler):
    from parley.dal import messages
    from parley.domain import emails
    from parley.models.domain import MessageStatus

    msg = emails.schedule(new_msg(), _at(), "Europe/Amsterdam")
    assert emails.cancel(msg.tenant_id, msg.id) is True

    stored, events = messages.get_with_events(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.CANCELLED
    assert [e.event for e in events] == ["cancelled"]
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=aws.schedule_groups[0])

    assert emails.cancel(msg.tenant_id, msg.id) is False
    stored, events = messages.get_with_events(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.CANCELLED
    assert [e.event for e in events] == ["cancelled"]


def test_cancel_of_another_tenants_message_is_not_found(aws, new_msg, other_tenant, scheduler):
    from parley.dal import messages
    from parley.domain import emails
    from parley.errors import NotFound
    from parley.models.domain import MessageStatus

    msg = emails.schedule(new_msg(), _at(), None)
    with pytest.raises(NotFound):
        emails.cancel(other_tenant[0].id, msg.id)
    with pytest.raises(NotFound):
        emails.cancel(msg.tenant_id, "no-such-message")
    assert messages.get(msg.tenant_id, msg.id).status == MessageStatus.SCHEDULED
    assert scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=aws.schedule_groups[0])["Name"] == f"send-{msg.id}"


def test_queued_or_sent_message_cannot_be_cancelled(app_env, new_msg):
    from parley.dal import messages
    from parley.domain import emails
    from parley.models.domain import MessageStatus

    msg = emails.submit(new_msg())
    assert emails.cancel(msg.tenant_id, msg.id) is False
    stored, events = messages.get_with_events(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.QUEUED
    assert events == []


def test_firing_puts_the_job_on_the_queue_and_the_dispatcher_sends_it(aws, handler, new_msg, scheduler, send_queue, drain, sent_emails):
    from parley.dal import messages
    from parley.domain import emails
    from parley.models.domain import MessageStatus, SendJob
    from parley_local.workers import _sqs_record

    at = _at()
    msg = emails.schedule(new_msg(), at, "Europe/Amsterdam")
    firer = _firer(aws)
    assert firer.fire_due(now=at.astimezone(UTC) - timedelta(seconds=1)) == 0
    arn, url = send_queue
    assert drain(url) == []

    assert firer.fire_due(now=at.astimezone(UTC) + timedelta(seconds=1)) == 1
    (queued,) = drain(url)
    assert SendJob.model_validate_json(queued["Body"]) == SendJob(tenant_id=msg.tenant_id, message_id=msg.id)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):  # ActionAfterCompletion: DELETE
        scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=aws.schedule_groups[0])
    assert firer.fire_due(now=at.astimezone(UTC) + timedelta(days=1)) == 0

    out = handler("root.DispatcherFunction")({"Records": [_sqs_record(queued, arn)]})
    assert out == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    stored, events = messages.get_with_events(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.SENT
    assert [e.event for e in events] == ["sent"]


def test_cancel_racing_the_fired_schedule_sends_nothing(aws, handler, new_msg, send_queue, drain, sent_emails):
    from parley.dal import messages
    from parley.domain import emails
    from parley.models.domain import MessageStatus
    from parley_local.workers import _sqs_record

    at = _at()
    msg = emails.schedule(new_msg(), at, "Europe/Amsterdam")
    assert _firer(aws).fire_due(now=at.astimezone(UTC) + timedelta(seconds=1)) == 1
    # the schedule already fired (and deleted itself), but the job has not been dispatched yet
    assert emails.cancel(msg.tenant_id, msg.id) is True

    arn, url = send_queue
    (queued,) = drain(url)
    out = handler("root.DispatcherFunction")({"Records": [_sqs_record(queued, arn)]})
    assert out == {"batchItemFailures": []}
    assert sent_emails() == []
    stored, events = messages.get_with_events(msg.tenant_id, msg.id)
    assert stored.status == MessageStatus.CANCELLED
    assert [e.event for e in events] == ["cancelled"]


def test_cancelled_schedule_never_fires(aws, new_msg, send_queue, drain):
    from parley.domain import emails

    at = _at()
    msg = emails.schedule(new_msg(), at, None)
    assert emails.cancel(msg.tenant_id, msg.id) is True
    assert _firer(aws).fire_due(now=at.astimezone(UTC) + timedelta(days=1)) == 0
    assert drain(send_queue[1]) == []


def test_schedule_failure_marks_the_message_failed(app_env, new_msg, monkeypatch):
    from parley.dal import messages, schedules
    from parley.domain import emails
    from parley.models.domain import MessageStatus

    created = []

    def broken(job, at):
        created.append(job.message_id)
        raise RuntimeError("scheduler unavailable")

    monkeypatch.setattr(schedules, "create_at", broken)
    with pytest.raises(RuntimeError):
        emails.schedule(new_msg(), _at(), None)
    (message_id,) = created
    stored = messages.get(new_msg().tenant_id, message_id)
    assert stored.status == MessageStatus.FAILED
    assert "could not schedule" in stored.error
