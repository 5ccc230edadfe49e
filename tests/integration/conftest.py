"""Fixtures for the integration suite: the stack's queues, table reads, and domain-level environment."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _reset_caches() -> None:
    from parley.dal import aws
    from parley.settings import get_settings

    get_settings.cache_clear()
    aws.reset()


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """Speed only: every test gets a fresh boto3 session (moto resets it), and each session would
    parse botocore's JSON service models again. Share one (read-only) loader across sessions."""
    import botocore.session

    original = botocore.session.create_loader
    botocore.session.create_loader = functools.cache(original)
    try:
        yield
    finally:
        botocore.session.create_loader = original


@pytest.fixture
def app_env(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The environment of the send function and the dispatcher, for calling domain code directly."""
    for key in ("CandidateApi.SendEmailFunction", "root.DispatcherFunction"):
        for name, value in aws.function(key).env.items():
            monkeypatch.setenv(name, value)
    _reset_caches()
    return aws


@pytest.fixture
def twilio(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake Twilio (REST, Lookup, Video) for this test, and the environment the template gives the texting and
    voice functions (the inbound SMS and voice callbacks' Function URLs), for domain functions called directly."""
    from fakes.twilio_api import FakeTwilio

    from parley.settings import get_settings

    fake = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_API_URL", fake.url)
    for name in ("TWILIO_LOOKUP_URL", "TWILIO_VIDEO_URL"):
        monkeypatch.delenv(name, raising=False)
    for function, name in (("CourierTextingApi.CreateTextAccountNumberFunction", "TEXT_INBOUND_URL"),
                           ("CourierVoiceVideoApi.CreateVoiceSurveyFunction", "VOICE_CALLBACK_URL")):  # fmt: skip
        monkeypatch.setenv(name, aws.function(function).env[name])
    get_settings.cache_clear()
    yield fake
    fake.stop()
    get_settings.cache_clear()


@pytest.fixture
def send_queue(aws: Any) -> tuple[str, str]:
    """(ARN, URL) of the send queue."""
    arn = next(a for a in aws.queues if a.endswith("-SendQueue"))
    return arn, aws.queues[arn]


@pytest.fixture
def dlq_url(aws: Any) -> str:
    return aws.queues[next(a for a in aws.queues if a.endswith("-SendDLQ"))]


@pytest.fixture
def drain(aws: Any) -> Callable[[str], list[dict[str, Any]]]:
    """Receive (and so hide) every visible message of a queue: what is waiting there now."""

    def read(url: str) -> list[dict[str, Any]]:
        from parley.dal.aws import client

        sqs = client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not got:
                return out
            out.extend(got)

    return read


@pytest.fixture
def table_items(aws: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item of the single table, unmarshalled (a scan: fine for tests), once the stream's consumers have
    taken every earlier write (their tallies are part of the state)."""

    def read() -> list[dict[str, Any]]:
        from parley.dal import table

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": aws.table_names[0]}
        while True:
            page = table.ddb().scan(**kwargs)
            items.extend(table.unmarshal(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return read


@pytest.fixture
def timeline(aws: Any) -> Callable[[str], list[dict[str, Any]]]:
    """A tenant's email timeline (GSI1): every email message it has stored."""

    def read(tenant_id: str) -> list[dict[str, Any]]:
        from parley.dal import keys, table

        return table.query_all(
            key_condition="GSI1PK = :pk", expr_values=table.values(pk=keys.timeline_pk(tenant_id, "email")), index="GSI1"
        )

    return read


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``frozen(at)``: the clock the domain reads (parley.clock.now) stays at the UTC instant ``at`` (returned)."""
    from parley import clock

    def set_to(at: Any) -> Any:
        monkeypatch.setattr(clock, "now", lambda: at)
        return at

    return set_to
