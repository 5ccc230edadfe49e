"""Idempotency-Key on POST /communications/email/v1/send: tenant-scoped, payload-checked."""

import pytest

from helpers import api_event, body

SEND = "CandidateApi.SendEmailFunction"
GOOD = {"subject": "Your interview on Tuesday", "emailContent": "Hi Ada, see you on Tuesday.", "toEmail": "ada@example.com"}


def _send(send, tenant_id, key, payload=GOOD, user="recruiter-42"):
    return send(api_event("candidate/send_email", tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": key, "x-ph-userid": user}))


def _jobs(drain, send_queue):
    from parley.models.domain import SendJob

    return [SendJob.model_validate_json(m["Body"]) for m in drain(send_queue[1])]


def test_same_key_twice_is_one_message_and_one_job(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    send = handler(SEND)
    first = _send(send, t.id, "key-1")
    second = _send(send, t.id, "key-1")
    assert first["statusCode"] == second["statusCode"] == 200
    activity_id = body(first)["data"]["emailActivityId"]
    assert body(second) == body(first)
    assert [i["id"] for i in timeline(t.id)] == [activity_id]
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]


def test_same_key_different_body_is_422_and_nothing_new(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    send = handler(SEND)
    first = _send(send, t.id, "key-1")
    activity_id = body(first)["data"]["emailActivityId"]
    for changed in ({**GOOD, "subject": "Another subject"}, {**GOOD, "toEmail": "bob@example.com"}):
        out = _send(send, t.id, "key-1", changed)
        assert out["statusCode"] == 422, out
        err = body(out)
        assert set(err) == {"status", "message"}
        assert err["status"] == 422
        assert "Idempotency-Key" in err["message"]
    # the acting recruiter is part of the request too
    assert _send(send, t.id, "key-1", user="recruiter-99")["statusCode"] == 422
    assert [i["id"] for i in timeline(t.id)] == [activity_id]
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]


def test_keys_are_tenant_scoped(handler, tenant, other_tenant, send_queue, drain, timeline):
    from parley.dal import messages

    t, _ = tenant
    o, _ = other_tenant
    send = handler(SEND)
    mine = body(_send(send, t.id, "shared-key"))["data"]["emailActivityId"]
    theirs = body(_send(send, o.id, "shared-key"))["data"]["emailActivityId"]
    assert mine != theirs
    assert [i["id"] for i in timeline(t.id)] == [mine]
    assert [i["id"] for i in timeline(o.id)] == [theirs]
    assert messages.get(o.id, theirs).tenant_id == o.id
    assert messages.get(t.id, theirs) is None
    assert sorted((j.tenant_id, j.message_id) for j in _jobs(drain, send_queue)) == sorted([(t.id, mine), (o.id, theirs)])


def test_records_are_keyed_per_tenant_and_scope(handler, tenant, other_tenant, table_items):
    """Each tenant's records live in its own partition (TENANT#<t>#IDEMPOTENCY), the sort key starting
    with the scope: the same Idempotency-Key of two tenants is two records, and each replays its own."""
    t, _ = tenant
    o, _ = other_tenant
    send = handler(SEND)
    mine = body(_send(send, t.id, "shared-key"))
    theirs = body(_send(send, o.id, "shared-key"))
    records = sorted((i for i in table_items() if i["PK"].endswith("#IDEMPOTENCY")), key=lambda i: i["PK"] != f"TENANT#{t.id}#IDEMPOTENCY")
    assert [r["PK"] for r in records] == [f"TENANT#{t.id}#IDEMPOTENCY", f"TENANT#{o.id}#IDEMPOTENCY"]
    assert all(r["SK"].startswith("email.send#") and r["status"] == "COMPLETED" for r in records)
    assert not any(i["PK"] == "IDEMPOTENCY" for i in table_items())
    assert body(_send(send, t.id, "shared-key")) == mine and body(_send(send, o.id, "shared-key")) == theirs
    assert _send(send, o.id, "shared-key", {**GOOD, "subject": "Another subject"})["statusCode"] == 422


def test_configuration_is_built_once_per_process(handler, tenant, monkeypatch):
    """The persistence layer and the IdempotencyConfig are built on the first keyed request, then reused."""
    from aws_lambda_powertools.utilities import idempotency as powertools_idempotency

    from parley.dal import idempotency as layer
    from parley.domain import idempotency

    built = []
    real = powertools_idempotency.IdempotencyConfig
    monkeypatch.setattr(powertools_idempotency, "IdempotencyConfig", lambda **kw: built.append(kw) or real(**kw))
    t, _ = tenant
    send = handler(SEND)
    for n in range(3):
        assert _send(send, t.id, f"key-{n}")["statusCode"] == 200
    assert len(built) == 1
    assert layer.persistence_layer() is layer.persistence_layer() and idempotency._idempotent()[1] is idempotency._idempotent()[1]


def test_a_rejected_request_does_not_consume_the_key(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    send = handler(SEND)
    bad = _send(send, t.id, "key-1", {**GOOD, "toEmail": "bad"})
    assert bad["statusCode"] == 400
    good = _send(send, t.id, "key-1")
    assert good["statusCode"] == 200
    activity_id = body(good)["data"]["emailActivityId"]
    assert [i["id"] for i in timeline(t.id)] == [activity_id]
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]


def test_no_key_makes_two_messages(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    send = handler(SEND)
    ids = {body(_send(send, t.id, None))["data"]["emailActivityId"] for _ in range(2)}
    assert len(ids) == 2
    assert {i["id"] for i in timeline(t.id)} == ids
    assert {j.message_id for j in _jobs(drain, send_queue)} == ids


def test_blank_key_is_no_key(handler, tenant, timeline):
    t, _ = tenant
    send = handler(SEND)
    ids = {body(_send(send, t.id, "   "))["data"]["emailActivityId"] for _ in range(2)}
    assert len(ids) == 2
    assert {i["id"] for i in timeline(t.id)} == ids


def test_over_long_key_is_400_and_nothing_stored(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = _send(handler(SEND), t.id, "k" * 256)
    assert out["statusCode"] == 400
    assert body(out) == {"status": 400, "message": "Idempotency-Key must be at most 255 characters"}
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []
    assert _send(handler(SEND), t.id, "k" * 255)["statusCode"] == 200


def test_a_failed_first_attempt_does_not_pin_the_key(handler, tenant, send_queue, drain, timeline, monkeypatch):
    """If queueing fails, the record is FAILED and a retry with the same key starts afresh."""
    from parley.dal import messages, queue
    from parley.models.domain import MessageStatus

    t, _ = tenant
    send = handler(SEND)
    real = queue.enqueue

    def broken(job):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(queue, "enqueue", broken)
    out = _send(send, t.id, "key-1")
    assert out["statusCode"] == 500
    assert body(out) == {"status": 500, "message": "internal error"}
    (failed,) = timeline(t.id)
    stored = messages.get(t.id, failed["id"])
    assert stored.status == MessageStatus.FAILED
    assert "could not queue" in stored.error
    assert drain(send_queue[1]) == []

    monkeypatch.setattr(queue, "enqueue", real)
    retry = _send(send, t.id, "key-1")
    assert retry["statusCode"] == 200
    activity_id = body(retry)["data"]["emailActivityId"]
    assert activity_id != failed["id"]
    assert messages.get(t.id, activity_id).status == MessageStatus.QUEUED
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]


def test_duplicate_while_the_first_is_in_flight_is_409(handler, tenant, send_queue, drain, timeline, monkeypatch):
    from parley.dal import queue

    t, _ = tenant
    send = handler(SEND)
    real = queue.enqueue
    seen = []

    def enqueue_with_a_concurrent_retry(job):
        seen.append(_send(send, t.id, "key-1"))  # the client retries while the first request is still running
        real(job)

    monkeypatch.setattr(queue, "enqueue", enqueue_with_a_concurrent_retry)
    first = _send(send, t.id, "key-1")
    assert first["statusCode"] == 200
    (dup,) = seen
    assert dup["statusCode"] == 409
    err = body(dup)
    assert err["status"] == 409
    assert "in progress" in err["message"]
    activity_id = body(first)["data"]["emailActivityId"]
    assert [i["id"] for i in timeline(t.id)] == [activity_id]
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]


class _RuntimeKilled(BaseException):
    """What a Lambda timeout looks like to the code: it just stops (no except Exception runs)."""


def _killed_first_attempt(send, tenant_id, monkeypatch):
    from parley.dal import messages

    def killed(msg, **_):
        raise _RuntimeKilled

    with monkeypatch.context() as m:
        m.setattr(messages, "create", killed)
        with pytest.raises(_RuntimeKilled):
            _send(send, tenant_id, "key-1")


def test_retry_after_a_killed_first_attempt_is_409_while_in_progress(handler, tenant, timeline, table_items, monkeypatch):
    t, _ = tenant
    send = handler(SEND)
    _killed_first_attempt(send, t.id, monkeypatch)
    records = [i for i in table_items() if i["PK"].endswith("#IDEMPOTENCY")]
    assert [r["status"] for r in records] == ["INPROGRESS"]
    out = _send(send, t.id, "key-1")
    assert out["statusCode"] == 409
    assert timeline(t.id) == []


def test_in_progress_record_expires_with_the_invocation(handler, tenant, send_queue, drain, timeline, table_items, monkeypatch):
    """A killed attempt locks its key only for the invocation's remaining time (30 s in the test context)."""
    import datetime as dt
    import types

    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as ddb_layer

    from parley import clock

    t, _ = tenant
    send = handler(SEND)
    before_ms = clock.epoch_ms(clock.now())
    _killed_first_attempt(send, t.id, monkeypatch)
    after_ms = clock.epoch_ms(clock.now())
    (record,) = [i for i in table_items() if i["PK"].endswith("#IDEMPOTENCY")]
    assert record["status"] == "INPROGRESS"
    assert before_ms + 30_000 <= record["in_progress_expiration"] <= after_ms + 30_000

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(seconds=31)

    monkeypatch.setattr(ddb_layer, "dt", types.SimpleNamespace(datetime=Later, timedelta=dt.timedelta))
    retry = _send(send, t.id, "key-1")
    assert retry["statusCode"] == 200, retry
    activity_id = body(retry)["data"]["emailActivityId"]
    assert [i["id"] for i in timeline(t.id)] == [activity_id]
    assert [j.message_id for j in _jobs(drain, send_queue)] == [activity_id]
