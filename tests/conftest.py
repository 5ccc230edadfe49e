"""Fixtures shared by every suite.

- ``aws``: an in-process moto account with every resource the SAM templates declare (created by
  the same provisioner the local stack uses), the process environment pointed at it.
- ``handler``: ``handler("CandidateApi.SendEmailFunction")`` → that function's handler, with the
  environment variables its template declares.
- ``tenant`` / ``other_tenant``: tenants created through the domain code, with their API keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from helpers import Context, function_handler

REGION = "us-east-1"


def _reset_caches() -> None:
    from parley.dal import aws
    from parley.settings import get_settings

    get_settings.cache_clear()
    aws.reset()


def _follow_streams(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The table stream's consumers (TallyFunction: the declared handlers, with their event source's batches), run
    before every DynamoDB call the code under test makes: as if the stream had no delay, so what a test reads
    reflects everything written before (the local stack's gateway waits for its stream pollers the same way before
    a GET). Returns the readers (closed by the fixture)."""
    import contextlib
    import io
    import threading

    import boto3

    from parley.dal import table
    from parley_local.streams import StreamReader

    sources = [(source, StreamReader(source.stream_arn)) for source in stack.stream_sources]
    consumers: dict[str, Any] = {}
    busy = threading.local()
    real = table.ddb
    # the consumers' own calls go through a client of their own: a test that records what the code under test
    # calls (a botocore hook on the data layer's client) sees only that code's calls
    own = boto3.client("dynamodb", region_name=REGION)

    def drain() -> None:
        if getattr(busy, "on", False):
            return
        busy.on = True
        try:
            for source, reader in sources:
                while read := reader.read(source.batch_size):
                    records = [r for r in read if source.wanted(r)]
                    if not records:
                        reader.finish(int(read[-1]["dynamodb"]["SequenceNumber"]) + 1)
                        continue
                    if source.function.key not in consumers:
                        consumers[source.function.key] = function_handler(source.function)
                    consumer = consumers[source.function.key]
                    with contextlib.redirect_stdout(io.StringIO()):  # its logs and metrics are not the test's output
                        out = consumer({"Records": records}, Context())
                    failed = [int(f["itemIdentifier"]) for f in (out or {}).get("batchItemFailures") or []]
                    reader.finish(min(failed) if failed else int(read[-1]["dynamodb"]["SequenceNumber"]) + 1)
                    if failed:
                        break  # contended: the next call tries again from there
        finally:
            busy.on = False

    def ddb() -> Any:
        if getattr(busy, "on", False):
            return own
        drain()
        return real()

    monkeypatch.setattr(table, "ddb", ddb)
    return [reader for _, reader in sources]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    from parley_local import moto_patches
    from parley_local.stack import Provisioner

    # In-process moto's DynamoDB is not thread-safe either (a transaction's rollback copy can put back what a
    # concurrent request wrote): one request at a time, as the local stack does (DynamoDB applies each call atomically).
    moto_patches.serialise_dynamodb()
    # moto's TransactWriteItems deep-copies the whole table per transaction (its rollback snapshot); the tally
    # consumer makes a transaction per drained batch: the local stack's snapshot of the touched items only
    moto_patches.patch_transactions()
    # The local stack's fast path for DynamoDB answers, checked against moto's serialiser on every call.
    moto_patches.fast_dynamodb_results()
    # ... and its parameters: the JSON body with blobs decoded, checked against moto's shape parser on every call.
    moto_patches.fast_dynamodb_parameters()
    moto_patches.linear_item_size()
    moto_patches.cache_update_expressions()
    moto_patches.cache_condition_lexing()
    moto_patches.fast_update_validation()  # checked against moto's own validation in test_moto_update_validation.py
    moto_patches.VERIFY_FAST_RESULTS = True

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    # The per-tenant limits' defaults (docs/architecture.md §6.4), above what any test of other behaviour reaches:
    # those send hundreds of one tenant's messages in a second (some within one frozen second) and dispatch
    # thousands at once. The limits' own tests give their tenants their own limits (tenant settings), which win.
    monkeypatch.setenv("TENANT_SEND_RATE_LIMIT", "100000")
    monkeypatch.setenv("TENANT_DAILY_SEND_QUOTA", "100000000")
    monkeypatch.setenv("TENANT_PROVIDER_RATE_LIMIT", "100000")
    with mock_aws():
        stack = Provisioner(None).build()
        prov_ses = Provisioner(None).client("ses")
        prov_ses.verify_domain_identity(Domain="parley.example")
        monkeypatch.setenv("TABLE_NAME", stack.table_names[0])
        readers = _follow_streams(stack, monkeypatch)
        _reset_caches()
        yield stack
        for reader in readers:
            reader.close()
        _reset_caches()


@pytest.fixture
def handler(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Callable[[dict[str, Any]], Any]]:
    """Load a declared function's handler with its declared environment."""

    def load(key: str) -> Callable[[dict[str, Any]], Any]:
        fn = aws.function(key)
        for name, value in fn.env.items():
            monkeypatch.setenv(name, value)
        _reset_caches()
        lambda_handler = function_handler(fn)
        return lambda event: lambda_handler(event, Context())

    return load


@pytest.fixture
def tenant(aws: Any) -> tuple[Any, str]:
    from parley.domain.auth import create_tenant

    return create_tenant("Acme Talent", "no-reply@parley.example", "Acme Talent Team")


@pytest.fixture
def other_tenant(aws: Any) -> tuple[Any, str]:
    from parley.domain.auth import create_tenant

    return create_tenant("Globex Hiring", "no-reply@parley.example", "Globex")


@pytest.fixture
def sent_emails() -> Callable[[], list[Any]]:
    """What SES (moto, in-process) was asked to send."""

    def read() -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends["123456789012"][REGION].sent_messages)

    return read
