"""parley.domain.dispatch.dispatch with a fake provider: retries, permanent failures, interrupted sends."""

from datetime import timedelta

import pytest

from parley.providers.base import ProviderError, Receipt


class FakeProvider:
    """Records every send; raises the queued errors first, then accepts."""

    name = "fake"

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = []

    def send(self, email):
        self.calls.append(email)
        if self.errors:
            raise self.errors.pop(0)
        return Receipt(provider="fake", provider_message_id=f"fake-{len(self.calls)}")


@pytest.fixture
def queued(app_env, tenant):
    """A stored QUEUED message and its SendJob."""
    from parley.dal import messages
    from parley.domain.context import Caller
    from parley.domain.emails import new_outbound_email
    from parley.models.domain import SendJob

    t, _ = tenant
    caller = Caller(tenant_id=t.id, sender_email=t.sender_email, sender_name=t.sender_name)
    msg = new_outbound_email(caller, source_api="candidate", recipient="ada@example.com", subject="Interview", body="<p>Hi</p>")
    messages.create(msg)
    return SendJob(tenant_id=t.id, message_id=msg.id)


def _state(job):
    from parley.dal import messages

    msg, events = messages.get_with_events(job.tenant_id, job.message_id)
    return msg, events


def test_success_records_sent_with_the_provider_id(queued):
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    fake = FakeProvider()
    outcome = dispatch(queued, receive_count=1, provider=fake)
    assert (outcome.message_id, outcome.result) == (queued.message_id, "sent")
    (email,) = fake.calls
    assert (email.recipient, email.subject, email.html, email.text) == ("ada@example.com", "Interview", "<p>Hi</p>", "Hi")
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENT
    assert msg.provider_message_id == "fake-1"
    assert msg.attempts == 1
    assert [(e.event, e.email, e.response) for e in events] == [("sent", "ada@example.com", "accepted by fake: fake-1")]


def test_retryable_error_below_max_attempts_requeues(queued):
    from parley.domain.dispatch import RetryLater, dispatch
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    assert get_settings().max_send_attempts == 5
    fake = FakeProvider(ProviderError("ses Throttling: slow down", retryable=True))
    with pytest.raises(RetryLater, match="slow down"):
        dispatch(queued, receive_count=4, provider=fake)
    assert len(fake.calls) == 1
    msg, events = _state(queued)
    assert msg.status == MessageStatus.QUEUED
    assert msg.error == "ses Throttling: slow down"
    assert msg.claimed_at is None
    assert msg.provider_message_id is None
    assert events == []

    # the redelivery claims it again and sends it; the error is cleared
    assert dispatch(queued, receive_count=5, provider=fake).result == "sent"
    assert len(fake.calls) == 2
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENT
    assert msg.error is None
    assert msg.attempts == 2
    assert [e.event for e in events] == ["sent"]


def test_retryable_error_at_max_attempts_fails_dead_lettered_and_propagates(queued):
    """The last attempt: FAILED *dead-lettered* (an operator may retry it), and raised so SQS moves the job to the DLQ."""
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    err = ProviderError("ses ServiceUnavailable: down", retryable=True)
    fake = FakeProvider(err)
    with pytest.raises(ProviderError) as raised:
        dispatch(queued, receive_count=get_settings().max_send_attempts, provider=fake)
    assert raised.value is err
    msg, events = _state(queued)
    assert msg.status == MessageStatus.FAILED
    held = (
        "ses ServiceUnavailable: down (not sent after 5 attempts; held in the dead-letter queue until an operator retries or discards it)"
    )
    assert msg.error == held
    assert msg.dead_letter_at is not None and msg.claimed_at is None
    assert [(e.event, e.response) for e in events] == [("failed", held)]
    # a later redelivery (before SQS moves it to the DLQ) does nothing
    assert dispatch(queued, receive_count=6, provider=fake).result == "skipped"
    assert len(fake.calls) == 1


def test_non_retryable_error_fails_immediately_without_raising(queued):
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    fake = FakeProvider(ProviderError("ses MessageRejected: address blacklisted", retryable=False))
    outcome = dispatch(queued, receive_count=1, provider=fake)
    assert outcome.result == "failed"
    msg, events = _state(queued)
    assert msg.status == MessageStatus.FAILED
    assert msg.error == "ses MessageRejected: address blacklisted"
    assert [e.event for e in events] == ["failed"]
    assert dispatch(queued, receive_count=2, provider=fake).result == "skipped"
    assert len(fake.calls) == 1


def test_ambiguous_error_is_unconfirmed_never_failed_and_never_retried(queued):
    """A read timeout: the provider may have accepted it. UNCONFIRMED (not FAILED: a FAILED record invites a
    resend), never sent again."""
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    err = ProviderError("ses read timeout", retryable=True, ambiguous=True)  # retryable is overridden
    assert err.retryable is False
    fake = FakeProvider(err)
    assert dispatch(queued, receive_count=1, provider=fake).result == "unconfirmed"
    msg, events = _state(queued)
    assert msg.status == MessageStatus.UNCONFIRMED
    assert msg.error == "ses read timeout"
    assert [e.event for e in events] == ["unconfirmed"]
    for n in (2, 3):
        assert dispatch(queued, receive_count=n, provider=fake).result == "skipped"
    assert len(fake.calls) == 1


def test_cancelled_message_is_skipped(queued):
    from parley.dal import messages
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    assert messages.transition(queued.tenant_id, queued.message_id, to=MessageStatus.CANCELLED, expect=(MessageStatus.QUEUED,))
    fake = FakeProvider()
    assert dispatch(queued, receive_count=1, provider=fake).result == "skipped"
    assert fake.calls == []
    msg, events = _state(queued)
    assert msg.status == MessageStatus.CANCELLED
    assert events == []


def test_missing_message_is_skipped(app_env, tenant):
    from parley.domain.dispatch import dispatch
    from parley.models.domain import SendJob

    fake = FakeProvider()
    assert dispatch(SendJob(tenant_id=tenant[0].id, message_id="nope"), receive_count=1, provider=fake).result == "skipped"
    assert fake.calls == []


class _StateWriteFailed(Exception):
    pass


def test_crash_after_provider_acceptance_is_never_resent(queued, monkeypatch):
    """The provider accepted it; neither SENT nor the receipt job could be written (the worker lost the
    table and the queue, or died). Redeliveries never call the provider again; once the claim is stale
    the message is UNCONFIRMED — never FAILED."""
    from parley import clock
    from parley.dal import messages, queue
    from parley.domain.dispatch import RetryLater, dispatch
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    real_mark_sent = messages.mark_sent
    failed_once = []

    def mark_sent(*args, **kwargs):
        if not failed_once:
            failed_once.append(True)
            raise _StateWriteFailed("DynamoDB unavailable")
        return real_mark_sent(*args, **kwargs)

    def enqueue(*args, **kwargs):
        raise _StateWriteFailed("SQS unavailable")

    monkeypatch.setattr(messages, "mark_sent", mark_sent)
    monkeypatch.setattr(queue, "enqueue", enqueue)
    fake = FakeProvider()
    with pytest.raises(_StateWriteFailed):
        dispatch(queued, receive_count=1, provider=fake)
    assert len(fake.calls) == 1  # the provider accepted it
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENDING
    claimed_at = msg.claimed_at
    assert claimed_at is not None
    assert events == []

    # a redelivery while the claim is fresh: retried later, nothing sent
    with pytest.raises(RetryLater):
        dispatch(queued, receive_count=2, provider=fake)
    assert len(fake.calls) == 1
    assert _state(queued)[0].status == MessageStatus.SENDING

    # just before the claim goes stale: still retried later
    stale_after = timedelta(seconds=get_settings().send_claim_seconds)
    monkeypatch.setattr(clock, "now", lambda: claimed_at + stale_after - timedelta(milliseconds=1))
    with pytest.raises(RetryLater):
        dispatch(queued, receive_count=3, provider=fake)
    assert len(fake.calls) == 1

    # once the claim is stale: UNCONFIRMED with "outcome unknown", not sent again
    monkeypatch.setattr(clock, "now", lambda: claimed_at + stale_after + timedelta(seconds=1))
    outcome = dispatch(queued, receive_count=4, provider=fake)
    assert outcome.result == "unconfirmed"
    assert len(fake.calls) == 1
    msg, events = _state(queued)
    assert msg.status == MessageStatus.UNCONFIRMED
    assert "outcome unknown" in msg.error
    assert msg.provider_message_id is None
    assert [e.event for e in events] == ["unconfirmed"]
    assert "outcome unknown" in events[0].response

    # and any later redelivery is a no-op
    assert dispatch(queued, receive_count=5, provider=fake).result == "skipped"
    assert len(fake.calls) == 1


def test_large_body_missing_from_s3_gives_the_claim_back(app_env, tenant, aws):
    """A body kept in S3 that cannot be read: nothing reaches the provider; the message is QUEUED again."""
    from parley.dal import bodies, messages
    from parley.dal.aws import client
    from parley.domain.context import Caller
    from parley.domain.dispatch import RetryLater, dispatch
    from parley.domain.emails import new_outbound_email
    from parley.models.domain import MessageStatus, SendJob

    t, _ = tenant
    caller = Caller(tenant_id=t.id, sender_email=t.sender_email)
    big = "x" * (bodies.INLINE_LIMIT + 1)
    msg = new_outbound_email(caller, source_api="candidate", recipient="ada@example.com", subject="Big", body=big)
    messages.create(msg)
    stored = messages.get(t.id, msg.id, load_body=False)
    assert stored.body == ""
    assert stored.body_ref == bodies.key_for(t.id, msg.id)
    client("s3").delete_object(Bucket=aws.root.ref("BodyBucket"), Key=stored.body_ref)

    job = SendJob(tenant_id=t.id, message_id=msg.id)
    fake = FakeProvider()
    with pytest.raises(RetryLater, match="unavailable"):
        dispatch(job, receive_count=1, provider=fake)
    assert fake.calls == []
    after, events = _state(job)
    assert after.status == MessageStatus.QUEUED
    assert after.error.startswith("body unavailable")
    assert after.claimed_at is None
    assert events == []


# ───────────── the outcome write after the provider accepted (issue 11) ─────────────
def _ddb_error(code, status):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "TransactWriteItems")  # fmt: skip


@pytest.fixture
def flaky_transactions(app_env, monkeypatch):
    """The cached DynamoDB client's TransactWriteItems fails as ``plan`` says, one entry per call, then
    works: ``None`` = the real call, ``"lost"`` = the real call whose answer is lost (a 500 after it landed),
    else a botocore error raised before anything is written. Backoff waits are recorded, not slept."""
    from parley.dal.aws import client
    from parley.domain import dispatch as dispatch_module

    ddb = client("dynamodb")
    real = ddb.transact_write_items
    state = {"plan": [], "calls": 0, "waits": []}

    def transact_write_items(**params):
        state["calls"] += 1
        step = state["plan"].pop(0) if state["plan"] else None
        if step is None:
            return real(**params)
        if step == "lost":
            real(**params)
            raise _ddb_error("InternalServerError", 500)
        raise step

    monkeypatch.setattr(ddb, "transact_write_items", transact_write_items)
    monkeypatch.setattr(dispatch_module, "_sleep", state["waits"].append, raising=False)
    return state


def test_a_throttled_outcome_write_is_repeated_with_backoff_until_it_lands(queued, flaky_transactions):
    """The provider accepted it; recording SENT is throttled, answered 500 and throttled again: it is
    repeated after growing (jittered) waits and lands. One provider call, SENT once, one ``sent`` event."""
    from parley.domain.dispatch import OUTCOME_BACKOFF_BASE_S, dispatch
    from parley.models.domain import MessageStatus

    fake = FakeProvider()
    flaky_transactions["plan"] = [None]  # the claim
    flaky_transactions["plan"] += [_ddb_error("ProvisionedThroughputExceededException", 400), _ddb_error("InternalServerError", 500),
                                   _ddb_error("ThrottlingException", 400)]  # fmt: skip
    assert dispatch(queued, receive_count=1, provider=fake).result == "sent"
    assert len(fake.calls) == 1
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENT and msg.provider_message_id == "fake-1"
    assert [e.event for e in events] == ["sent"]
    waits = flaky_transactions["waits"]
    assert len(waits) == 3
    assert all(0 <= w <= OUTCOME_BACKOFF_BASE_S * 2**n for n, w in enumerate(waits))


def test_an_outcome_write_that_landed_with_its_answer_lost_is_not_written_twice(queued, flaky_transactions):
    """The emulator's 500 after the write: the repeat finds the message SENT (its condition spent) and
    writes nothing more; the job is acknowledged as sent."""
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    fake = FakeProvider()
    flaky_transactions["plan"] = [None, "lost"]
    assert dispatch(queued, receive_count=1, provider=fake).result == "sent"
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENT
    assert [e.event for e in events] == ["sent"]
    assert len(fake.calls) == 1


def test_when_time_runs_out_the_providers_answer_is_queued_and_its_receipt_job_records_sent(queued, flaky_transactions, send_queue,
                                                                                            drain, monkeypatch):  # fmt: skip
    """SENT cannot be written before the invocation's reserve is reached: the provider's answer goes to the
    send queue as a receipt job (delayed), the send job is acknowledged, and the message stays SENDING (never
    FAILED). Dispatching the receipt job writes SENT with the provider's id and lookup item, and calls no
    provider; a second copy of it changes nothing."""
    import json

    from parley.dal import messages
    from parley.domain.dispatch import OUTCOME_RESERVE_MS, dispatch
    from parley.models.domain import MessageStatus, SendJob

    monkeypatch.setenv("RECEIPT_DELAY_SECONDS", "0")
    from parley.settings import get_settings

    get_settings.cache_clear()
    fake = FakeProvider()
    # the invocation's start, the 1st repeat's check (time left), the 2nd's (inside the reserve: no more repeats)
    left = iter([OUTCOME_RESERVE_MS + 5_000, OUTCOME_RESERVE_MS + 5_000, OUTCOME_RESERVE_MS - 1])
    flaky_transactions["plan"] = [None] + [_ddb_error("ProvisionedThroughputExceededException", 400)] * 3
    outcome = dispatch(queued, receive_count=1, provider=fake, remaining_ms=lambda: next(left, 0))
    assert outcome.result == "sent"
    assert flaky_transactions["calls"] == 3  # the claim, the SENT write, one repeat
    assert _state(queued)[0].status == MessageStatus.SENDING

    _, url = send_queue
    (queued_job,) = drain(url)
    job = SendJob.model_validate_json(queued_job["Body"])
    assert json.loads(queued_job["Body"])["receipt"]["provider_message_id"] == "fake-1"
    assert (job.tenant_id, job.message_id, job.receipt.provider) == (queued.tenant_id, queued.message_id, "fake")

    flaky_transactions["plan"] = []
    assert dispatch(job, receive_count=1, provider=fake).result == "recorded"
    assert len(fake.calls) == 1  # a receipt never calls a provider
    msg, events = _state(queued)
    assert msg.status == MessageStatus.SENT and msg.provider_message_id == "fake-1"
    assert [(e.event, e.response) for e in events] == [("sent", "accepted by fake: fake-1")]
    assert messages.find_by_provider_id(queued.tenant_id, "fake", "fake-1") == queued.message_id
    assert dispatch(job, receive_count=2, provider=fake).result == "skipped"
    assert len(_state(queued)[1]) == 1


def test_a_receipt_job_confirms_a_message_a_stale_claim_left_unconfirmed(queued, flaky_transactions, monkeypatch):
    """The receipt arrives after the stale-claim rule declared the outcome unknown: UNCONFIRMED → SENT."""
    from parley import clock
    from parley.dal import messages
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus, SendJob, SendReceipt
    from parley.settings import get_settings

    fake = FakeProvider()
    assert messages.claim(queued.tenant_id, queued.message_id, clock.now() - timedelta(seconds=get_settings().send_claim_seconds + 1))
    assert dispatch(queued, receive_count=2, provider=fake).result == "unconfirmed"
    assert _state(queued)[0].status == MessageStatus.UNCONFIRMED
    receipt = SendReceipt(provider="fake", provider_message_id="fake-9", sent_at=clock.now())
    job = SendJob(tenant_id=queued.tenant_id, message_id=queued.message_id, receipt=receipt)
    assert dispatch(job, receive_count=1, provider=fake).result == "recorded"
    msg, events = _state(queued)
    assert (msg.status, msg.provider_message_id, msg.error) == (MessageStatus.SENT, "fake-9", None)
    assert [e.event for e in events] == ["unconfirmed", "sent"]
    assert fake.calls == []


def test_a_claim_whose_answer_was_lost_is_recognised_and_the_message_sent_once(queued, flaky_transactions):
    """The claim transaction landed, then answered 500 (the emulator under load): the repeat finds the
    message SENDING under this attempt's claim token, so it is sent now — once — instead of waiting for the
    stale-claim rule to give it up as UNCONFIRMED (never sent, never resendable)."""
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    fake = FakeProvider()
    flaky_transactions["plan"] = ["lost"]
    assert dispatch(queued, receive_count=1, provider=fake).result == "sent"
    assert len(fake.calls) == 1
    msg, events = _state(queued)
    assert (msg.status, msg.attempts) == (MessageStatus.SENT, 1)
    assert [e.event for e in events] == ["sent"]
    assert dispatch(queued, receive_count=2, provider=fake).result == "skipped"
    assert len(fake.calls) == 1


def test_a_send_time_recheck_that_cannot_be_read_gives_the_claim_back(queued, monkeypatch):
    """The suppression/opt-in read fails for good before any provider call: the claim is given back
    (QUEUED again, retried later) instead of being left SENDING — which the stale-claim rule would call
    UNCONFIRMED though it was never sent."""
    from botocore.exceptions import ClientError

    from parley.domain import dispatch as dispatch_module
    from parley.domain.dispatch import RetryLater, dispatch
    from parley.models.domain import MessageStatus

    def unreadable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                          "BatchGetItem")  # fmt: skip

    monkeypatch.setattr(dispatch_module, "_recheck", unreadable)
    monkeypatch.setattr(dispatch_module, "_sleep", lambda s: None, raising=False)
    fake = FakeProvider()
    with pytest.raises(RetryLater, match="re-check"):
        dispatch(queued, receive_count=1, provider=fake)
    assert fake.calls == []
    msg, _ = _state(queued)
    assert (msg.status, msg.claimed_at) == (MessageStatus.QUEUED, None)
    assert "re-check unavailable" in msg.error
