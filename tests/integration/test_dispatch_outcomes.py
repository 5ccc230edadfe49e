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


def test_retryable_error_at_max_attempts_fails_and_propagates(queued):
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
    assert msg.error == "ses ServiceUnavailable: down"
    assert [(e.event, e.response) for e in events] == [("failed", "ses ServiceUnavailable: down")]
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


def test_ambiguous_error_fails_and_is_never_retried(queued):
    from parley.domain.dispatch import dispatch
    from parley.models.domain import MessageStatus

    err = ProviderError("ses read timeout", retryable=True, ambiguous=True)  # retryable is overridden
    assert err.retryable is False
    fake = FakeProvider(err)
    assert dispatch(queued, receive_count=1, provider=fake).result == "failed"
    msg, events = _state(queued)
    assert msg.status == MessageStatus.FAILED
    assert msg.error == "ses read timeout"
    assert [e.event for e in events] == ["failed"]
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
    from parley import clock
    from parley.dal import messages
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

    monkeypatch.setattr(messages, "mark_sent", mark_sent)
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

    # once the claim is stale: FAILED with "outcome unknown", not sent again
    monkeypatch.setattr(clock, "now", lambda: claimed_at + stale_after + timedelta(seconds=1))
    outcome = dispatch(queued, receive_count=4, provider=fake)
    assert outcome.result == "failed"
    assert len(fake.calls) == 1
    msg, events = _state(queued)
    assert msg.status == MessageStatus.FAILED
    assert "outcome unknown" in msg.error
    assert msg.provider_message_id is None
    assert [e.event for e in events] == ["failed"]
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
