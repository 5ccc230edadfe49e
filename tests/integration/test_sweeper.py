"""The send sweeper: a message whose queue job or schedule was lost is re-queued and sent, once.

A crash between storing a message and enqueueing its job is simulated by storing it without the job
(``messages.create`` alone), dated in the past; the sweeper (the declared function, on moto) must find
it on the pending index (GSI8) and queue it, and the real dispatcher must then send it exactly once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from parley_local.workers import _sqs_record

SWEEPER = "root.SweeperFunction"
DISPATCHER = "root.DispatcherFunction"
SEND = "CandidateApi.SendEmailFunction"


@pytest.fixture
def caller(app_env, tenant):
    from parley.domain.context import Caller

    t, _ = tenant
    return Caller(tenant_id=t.id, sender_email=t.sender_email, sender_name=t.sender_name)


@pytest.fixture
def stored(caller):
    """``stored(minutes_ago, status=QUEUED, scheduled_minutes_ago=None)``: a message written as the API
    writes it, with no job and no schedule (the step that was lost)."""
    from parley import clock
    from parley.dal import messages
    from parley.domain.emails import new_outbound_email
    from parley.models.domain import MessageStatus

    def make(minutes_ago, *, scheduled_minutes_ago=None, c=None, to="ada@example.com"):
        msg = new_outbound_email(c or caller, source_api="candidate", recipient=to, subject="Interview", body="See you")
        update = {"created_at": clock.now() - timedelta(minutes=minutes_ago)}
        if scheduled_minutes_ago is not None:
            update |= {"status": MessageStatus.SCHEDULED, "scheduled_at": clock.now() - timedelta(minutes=scheduled_minutes_ago)}
        msg = msg.model_copy(update=update)
        messages.create(msg)
        return msg

    return make


def _item(tenant_id, message_id):
    from parley.dal import keys, table

    return table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)


def _sweep(handler):
    return handler(SWEEPER)({"source": "parley.sweeper"})


def _dispatch(handler, send_queue, drain):
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    if records:
        assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}
    return records


def test_a_queued_message_whose_job_was_lost_is_requeued_and_sent_once(handler, stored, send_queue, drain, sent_emails):
    from parley.models.domain import MessageStatus

    lost = stored(11)
    item = _item(lost.tenant_id, lost.id)
    assert item["GSI8PK"].startswith("PENDING#") and item["GSI8SK"].endswith(f"#{lost.tenant_id}#{lost.id}")

    assert _sweep(handler) == {"requeued": 1, "refused": 0, "forgotten": 0, "orphan_bodies": 0}
    (record,) = _dispatch(handler, send_queue, drain)
    assert record["body"] == f'{{"tenant_id":"{lost.tenant_id}","message_id":"{lost.id}"}}'
    (sent,) = sent_emails()
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    item = _item(lost.tenant_id, lost.id)
    assert item["status"] == MessageStatus.SENT.value
    assert "GSI8PK" not in item and "GSI8SK" not in item  # off the index: the next run finds nothing
    assert _sweep(handler) == {"requeued": 0, "refused": 0, "forgotten": 0, "orphan_bodies": 0}
    assert drain(send_queue[1]) == []


def test_recent_messages_are_left_to_their_own_job(handler, stored, send_queue, drain):
    stored(2)  # still within SWEEP_AFTER_SECONDS (10 minutes): its job may simply be on its way
    assert _sweep(handler)["requeued"] == 0
    assert drain(send_queue[1]) == []


def test_a_send_through_the_api_leaves_the_index_once_dispatched(handler, tenant, send_queue, drain, sent_emails):
    from helpers import api_event, body

    t, _ = tenant
    payload = {"subject": "Your interview", "emailContent": "Hi Ada", "toEmail": "ada@example.com"}
    out = handler(SEND)(api_event("candidate/send_email", tenant_id=t.id, body=payload, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    message_id = body(out)["data"]["emailActivityId"]
    assert "GSI8PK" in _item(t.id, message_id)  # waiting for the dispatcher
    _dispatch(handler, send_queue, drain)
    assert "GSI8PK" not in _item(t.id, message_id)
    assert len(sent_emails()) == 1


def test_a_scheduled_message_whose_schedule_never_fired_is_sent(handler, stored, send_queue, drain, sent_emails):
    from parley.models.domain import MessageStatus

    lost = stored(60, scheduled_minutes_ago=15)
    waiting = stored(60, scheduled_minutes_ago=-30, to="later@example.com")  # due in 30 minutes: not touched
    assert _item(waiting.tenant_id, waiting.id)["GSI8SK"] > _item(lost.tenant_id, lost.id)["GSI8SK"]
    assert _sweep(handler)["requeued"] == 1
    _dispatch(handler, send_queue, drain)
    assert _item(lost.tenant_id, lost.id)["status"] == MessageStatus.SENT.value
    assert _item(waiting.tenant_id, waiting.id)["status"] == MessageStatus.SCHEDULED.value
    assert [s.destinations["ToAddresses"] for s in sent_emails()] == [["ada@example.com"]]


def test_a_cancelled_message_leaves_the_index_and_is_never_requeued(handler, stored, send_queue, drain, sent_emails):
    from parley.domain import emails

    msg = stored(60, scheduled_minutes_ago=15)
    assert emails.cancel(msg.tenant_id, msg.id)
    assert "GSI8PK" not in _item(msg.tenant_id, msg.id)
    assert _sweep(handler)["requeued"] == 0
    assert drain(send_queue[1]) == []
    assert sent_emails() == []


def test_a_redundant_job_for_a_message_already_on_its_way_sends_nothing_twice(handler, stored, send_queue, drain, sent_emails):
    """The sweeper may queue a job for a message whose own job is only late (a backlog): both jobs reach
    the dispatcher, one email goes out."""
    from parley.dal import queue
    from parley.models.domain import SendJob

    late = stored(20)
    queue.enqueue(SendJob(tenant_id=late.tenant_id, message_id=late.id))  # its own job, still in the queue
    assert _sweep(handler)["requeued"] == 1
    records = _dispatch(handler, send_queue, drain)
    assert len(records) == 2
    assert len(sent_emails()) == 1


def test_an_entry_whose_message_ended_another_way_is_forgotten(handler, stored, send_queue, drain):
    from parley.dal import keys, table

    msg = stored(30)
    table.ddb().update_item(  # a path that ended the message without taking it off the index
        TableName=table.table_name(),
        Key=table.key(keys.message_pk(msg.tenant_id, msg.id), keys.MESSAGE_SK),
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=table.values(s="FAILED"),
    )
    assert _sweep(handler) == {"requeued": 0, "refused": 0, "forgotten": 1, "orphan_bodies": 0}
    assert "GSI8PK" not in _item(msg.tenant_id, msg.id)
    assert drain(send_queue[1]) == []


def test_every_tenant_is_swept_with_its_own_ids(handler, stored, other_tenant, send_queue, drain, sent_emails):
    from parley.domain.context import Caller

    o, _ = other_tenant
    mine = stored(30)
    theirs = stored(30, c=Caller(tenant_id=o.id, sender_email=o.sender_email, sender_name=o.sender_name), to="bob@example.com")
    assert _sweep(handler)["requeued"] == 2
    records = _dispatch(handler, send_queue, drain)
    assert sorted(r["body"] for r in records) == sorted(f'{{"tenant_id":"{m.tenant_id}","message_id":"{m.id}"}}' for m in (mine, theirs))
    assert len(sent_emails()) == 2


def test_the_local_stack_runs_the_declared_rate_schedule(aws, monkeypatch):
    """The template's ScheduleV2 event is a real schedule in the emulator, fired at its rate."""
    from parley.dal.aws import client
    from parley_local.stack import Provisioner
    from parley_local.workers import SchedulerFirer

    (rec,) = [r for r in aws.recurring if r.function.logical_id == "SweeperFunction"]
    assert rec.every_seconds == 300
    sched = client("scheduler").get_schedule(GroupName=rec.group, Name=rec.name)
    assert sched["ScheduleExpression"] == "rate(5 minutes)" and sched["Target"]["Arn"] == rec.function.arn

    invoked = []

    class Pool:
        def invoke(self, fn, payload):
            invoked.append((fn.logical_id, payload))

    firer = SchedulerFirer(Provisioner(None), aws, Pool(), threading.Event())
    start = datetime.now(UTC)
    assert firer.fire_recurring(start + timedelta(seconds=60)) == 0
    assert firer.fire_recurring(start + timedelta(seconds=301)) == 1
    assert firer.fire_recurring(start + timedelta(seconds=302)) == 0  # next run a period later
    assert firer.fire_recurring(start + timedelta(seconds=1000)) == 1  # late: one run, not three
    for t in list(threading.enumerate()):
        if t.daemon and t.name.startswith("Thread"):
            t.join(timeout=2)
    assert ("SweeperFunction", {"source": "parley.sweeper"}) in invoked


# ───────────── bodies no message has ─────────────
BIG = "x" * (40 * 1024)  # over the 32 KiB kept in an item: the body goes to S3


def _objects(aws):
    from parley.dal.aws import client

    out = client("s3").list_objects_v2(Bucket=aws.root.ref("BodyBucket"))
    return sorted(o["Key"] for o in out.get("Contents", []))


def _intents():
    from parley import clock
    from parley.dal import body_intents

    return list(body_intents.older_than(clock.now() + timedelta(days=1), limit=100))


def test_a_body_whose_message_write_failed_is_deleted_by_the_sweeper_and_only_after_a_while(aws, handler, caller, monkeypatch, frozen):
    """The body is in S3 before the item; the table refuses the item: the body's write intent outlives it, and
    the sweeper deletes the body (not before SWEEP_AFTER_SECONDS: a write may still be under way)."""
    from botocore.exceptions import ClientError

    from parley import clock
    from parley.dal import bodies, messages, table
    from parley.domain.emails import new_outbound_email

    msg = new_outbound_email(caller, source_api="candidate", recipient="ada@example.com", subject="Big", body=BIG)

    def refuse(ops):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    with monkeypatch.context() as m, pytest.raises(ClientError):
        m.setattr(table, "transact", refuse)
        messages.create(msg)
    assert messages.get(msg.tenant_id, msg.id) is None
    key = bodies.key_for(msg.tenant_id, msg.id)
    assert _objects(aws) == [key]  # left behind
    (intent,) = _intents()
    assert (intent.message_id, intent.body_ref) == (msg.id, key)
    # its intent expires by itself too (7 days), should the sweeper stop
    item = table.get(intent.pk, intent.sk)
    assert 7 * 86400 - 120 < item["ttl"] - int(clock.now().timestamp()) <= 7 * 86400

    assert _sweep(handler)["orphan_bodies"] == 0  # too recent: its write might still be under way
    assert _objects(aws) == [key]
    later = clock.now() + timedelta(minutes=11)
    frozen(later)
    assert _sweep(handler) == {"requeued": 0, "refused": 0, "forgotten": 0, "orphan_bodies": 1}
    assert _objects(aws) == []
    assert _intents() == []


def test_a_stored_large_body_leaves_no_intent_and_the_sweeper_keeps_it(aws, handler, caller, frozen):
    from parley import clock
    from parley.dal import bodies, body_intents, messages
    from parley.domain.emails import new_outbound_email

    msg = new_outbound_email(caller, source_api="candidate", recipient="ada@example.com", subject="Big", body=BIG)
    messages.create(msg)
    assert messages.get(msg.tenant_id, msg.id).body == BIG
    assert _intents() == []  # deleted in the transaction that stored the message
    # an intent of a stored message (its transaction failed for another reason, a replay): the body is kept
    body_intents.record(msg.tenant_id, msg.id, bodies.key_for(msg.tenant_id, msg.id))
    frozen(clock.now() + timedelta(minutes=11))
    assert _sweep(handler)["orphan_bodies"] == 0
    assert _objects(aws) == [bodies.key_for(msg.tenant_id, msg.id)]
    assert _intents() == []
