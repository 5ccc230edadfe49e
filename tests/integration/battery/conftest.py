"""Fixtures of the reliability and security battery (issue 5): bulk seeding, the SQS event source, SES
observation and fault injection at the SDK boundary, per-invocation handler copies for concurrency.

Everything runs the real handlers and domain code against in-process moto (the integration fixtures).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError, ReadTimeoutError

from helpers import ROOT, Context, api_event, load_event
from parley_local.workers import _sqs_record

DISPATCHER = "root.DispatcherFunction"


@pytest.fixture
def atomic_aws() -> Iterator[None]:
    """Make every in-process moto call atomic, as each real AWS API call is.

    DynamoDB evaluates a condition and writes the item as one step; moto's in-process backend does not
    (a thread can be switched out between the check and the write). Tests that run handlers in
    threads serialize moto's request processing, so what they observe is the application's
    concurrency behaviour, not a race inside the emulator.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


@pytest.fixture
def fresh_handler(handler: Callable[[str], Any], aws: Any) -> Callable[[str], Callable[[dict[str, Any]], dict[str, Any]]]:
    """``fresh_handler(key)`` → a handler from a NEW import of the function's module.

    Lambda runs concurrent requests in separate execution environments; a powertools resolver keeps
    the current event on the module's app object, so concurrent calls in one process need one module
    copy each (the environment is the one ``handler`` set for the function)."""
    count = Counter[str]()

    def load(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        handler(key)  # sets the function's declared environment
        fn = aws.function(key)
        module_name, attr = fn.handler.rsplit(".", 1)
        count[key] += 1
        name = "battery_" + "_".join(fn.code_dir.relative_to(ROOT).parts) + f"_{module_name}_{count[key]}"
        spec = importlib.util.spec_from_file_location(name, fn.code_dir / f"{module_name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        lambda_handler = getattr(module, attr)
        return lambda event: lambda_handler(event, Context())

    return load


# ───────────── bulk seeding ─────────────
def seed_queued_emails(tenant: Any, n: int, *, recipient: Callable[[int], str] = lambda i: f"c{i}@example.com") -> list[str]:
    """``n`` QUEUED outbound emails of ``tenant`` stored as ``emails.submit`` stores them (the same
    items, from ``messages.create_ops``), written with BatchWriteItem instead of n API calls."""
    from parley.dal import counters, table
    from parley.dal.aws import client
    from parley.domain import emails
    from parley.domain.context import Caller

    caller = Caller.of(tenant)
    puts, ids = [], []
    for i in range(n):
        msg = emails.new_outbound_email(caller, source_api="candidate", recipient=recipient(i), subject=f"Interview {i}", body=f"Hi {i}")
        ids.append(msg.id)
        puts.extend({"PutRequest": {"Item": op["Put"]["Item"]}} for op in _create_ops(msg))
    ddb = client("dynamodb")
    for start in range(0, len(puts), 25):
        pending = {table.table_name(): puts[start : start + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    counters.add_records(tenant.id, n)
    return ids


def _create_ops(msg: Any) -> list[dict[str, Any]]:
    from parley.dal import messages

    return messages.create_ops(msg)


def job_body(tenant_id: str, message_id: str) -> str:
    from parley.models.domain import SendJob

    return SendJob(tenant_id=tenant_id, message_id=message_id).model_dump_json()


def enqueue_bodies(url: str, bodies: list[str]) -> None:
    """Put raw message bodies on a queue, ten per SendMessageBatch."""
    from parley.dal.aws import client

    sqs = client("sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        out = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)])
        assert not out.get("Failed"), out


def synthetic_record(body: str, message_id: str, receive_count: int, arn: str) -> dict[str, Any]:
    """An SQS record as the event source hands it to the dispatcher (for deliveries built in the test)."""
    record = copy.deepcopy(load_event("core/dispatcher")["Records"][0])
    record.update(messageId=message_id, body=body, eventSourceARN=arn, receiptHandle=f"rh-{message_id}-{receive_count}")
    record["md5OfBody"] = ""
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


# ───────────── the SQS event source ─────────────
@dataclass
class Invocation:
    records: list[dict[str, Any]]
    failed: list[str]  # messageIds reported (or, for a raised batch, every record)


@pytest.fixture
def event_source(handler: Callable[[str], Any], send_queue: tuple[str, str]) -> Callable[..., list[Invocation]]:
    """Lambda's SQS event source on the real (moto) send queue: receive up to 10, invoke the real
    dispatcher, delete what succeeded, and let failed records come back (their visibility is reset to
    0: "after the visibility timeout"). moto applies the redrive policy (maxReceiveCount 5 → DLQ).
    Runs until the queue is empty; returns every invocation."""

    def run(*, max_invocations: int = 10_000) -> list[Invocation]:
        from parley.dal.aws import client

        arn, url = send_queue
        sqs = client("sqs")
        dispatcher = handler(DISPATCHER)
        log: list[Invocation] = []
        for _ in range(max_invocations):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not got:
                return log
            log.append(invoke(dispatcher, sqs, url, [_sqs_record(m, arn) for m in got]))
        raise AssertionError(f"the queue did not drain in {max_invocations} invocations")

    return run


def invoke(dispatcher: Callable[[dict[str, Any]], Any], sqs: Any, url: str, records: list[dict[str, Any]]) -> Invocation:
    """One dispatcher invocation with these received records, acknowledged as Lambda's event source does."""
    try:
        out = dispatcher({"Records": records})
        failed = [f["itemIdentifier"] for f in out["batchItemFailures"]]
    except BatchProcessingError:
        failed = [r["messageId"] for r in records]  # every record failed: the invocation failed
    for r in records:
        if r["messageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=r["receiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=r["receiptHandle"])
    return Invocation(records, failed)


# ───────────── SES: observation and fault injection at the SDK boundary ─────────────
@dataclass
class SesWire:
    """Every SES SendEmail the real SES adapter makes, by Parley message id (its ``parley_message_id`` tag).

    ``fault(message_id, attempt)`` may return ``"throttle"`` (400 Throttling), ``"5xx"`` (503
    ServiceUnavailable), ``"timeout"`` (read timeout before SES took it) or ``"timeout-after"`` (SES
    accepted it, then the response was lost): botocore errors, classified by the adapter itself."""

    fault: Callable[[str, int], str | None] = lambda message_id, attempt: None
    calls: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last SendEmail parameters, by message id
    answers: dict[str, str] = field(default_factory=dict)  # the SES MessageId of each accepted message, by message id


@pytest.fixture
def ses_wire(aws: Any, monkeypatch: pytest.MonkeyPatch) -> SesWire:
    from parley.dal import aws as dal_aws
    from parley.providers import ses as ses_adapter

    wire = SesWire()

    def adapter_client(service: str, *, retry: bool = True) -> Any:
        # The adapter's (cached) SES client, with its SendEmail observed; handler() may reset the cache.
        real_client = dal_aws.client(service, retry=retry)
        if service == "sesv2" and not hasattr(real_client, "_battery_wire"):
            real_client._battery_wire = wire
            real_client.send_email = _observed(wire, real_client.send_email)
        return real_client

    monkeypatch.setattr(ses_adapter, "client", adapter_client)
    return wire


def _observed(wire: SesWire, real: Callable[..., Any]) -> Callable[..., Any]:
    def send_email(**params: Any) -> Any:
        mid = next(t["Value"] for t in params["EmailTags"] if t["Name"] == "parley_message_id")
        wire.calls[mid] += 1
        wire.requests[mid] = params
        kind = wire.fault(mid, wire.calls[mid])
        if kind:
            wire.faults[kind] += 1
        if kind == "throttle":
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendEmail")  # fmt: skip
        if kind == "5xx":
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "Service unavailable"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "SendEmail")  # fmt: skip
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com/v2/email/outbound-emails")
        out = real(**params)
        wire.accepted[mid] += 1
        wire.answers[mid] = out["MessageId"]
        if kind == "timeout-after":
            raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com/v2/email/outbound-emails")
        return out

    return send_email


def random_faults(rate: float, seed: int, ids: list[str]) -> Callable[[str, int], str | None]:
    """Each provider call fails with probability ``rate``: throttling, 5xx, or a timeout (half of the
    timeouts after SES accepted the message). The draw depends only on (seed, the message's position
    in ``ids``, attempt), so a run is the same whatever order the queue hands messages out in."""
    kinds = ["throttle", "5xx", "timeout", "timeout-after"]
    weights = [2, 2, 1, 1]
    position = {mid: i for i, mid in enumerate(ids)}

    def fault(message_id: str, attempt: int) -> str | None:
        rng = random.Random(f"{seed}:{position[message_id]}:{attempt}")
        if rng.random() >= rate:
            return None
        return rng.choices(kinds, weights)[0]

    return fault


# ───────────── table snapshots and API calls ─────────────
@pytest.fixture
def snapshot(table_items: Callable[[], list[dict[str, Any]]]) -> Callable[[], list[str]]:
    """Every table item as canonical JSON, sorted: equal snapshots = nothing stored, changed or deleted.

    A tenant's send window (docs/architecture.md §6.4) counts the send requests of each second, refused ones
    included (the rate limits requests), and the messages accepted each day: only the latter is stored data.
    So a window stands for its ``day_n`` only, and one with none is left out: a refused send request changes
    nothing here, an accepted one does."""

    def canonical(item: dict[str, Any]) -> dict[str, Any] | None:
        if item.get("type") != "send_window":
            return item
        return {"PK": item["PK"], "SK": item["SK"], "day_n": item["day_n"]} if item.get("day_n") else None

    def take() -> list[str]:
        return sorted(json.dumps(c, sort_keys=True, default=str) for i in table_items() if (c := canonical(i)) is not None)

    return take


@pytest.fixture
def kit(aws: Any) -> Any:
    """The plain helpers above, for the test modules (conftest modules are not importable by name)."""
    import types

    return types.SimpleNamespace(
        seed_queued_emails=seed_queued_emails,
        job_body=job_body,
        enqueue_bodies=enqueue_bodies,
        synthetic_record=synthetic_record,
        invoke=invoke,
        random_faults=random_faults,
    )


# ───────────── calling any declared API route ─────────────
@dataclass
class Call:
    status: int
    body: Any
    headers: dict[str, str]


@pytest.fixture
def call(handler: Callable[[str], Any], aws: Any) -> Callable[..., Call]:
    """``call(method, path, tenant_id, params=, query=, payload=, headers=)`` → the declared function's answer.

    ``path`` is the template's route (``/api/v1/communications/{id}``), ``params`` its path parameters;
    the event is the function's sample event with those replaced (no Idempotency-Key unless given).
    ``base64_body``: ``payload`` is already base64 (as API Gateway delivers binary media types)."""
    routes = {(r.method, r.path): r.function for api in aws.apis for r in api.routes}

    def run(method: str, path: str, tenant_id: str | None, *, params: dict[str, str] | None = None, query: Any = None,
            payload: Any = ..., headers: dict[str, str | None] | None = None, base64_body: bool = False) -> Call:  # fmt: skip
        fn = routes[(method, path)]
        concrete = path
        for name, value in (params or {}).items():
            concrete = concrete.replace("{" + name + "}", value)
        # an endpoint's sample event is named after its handler (events/<family>/<name>.json)
        sample = f"{fn.code_dir.parent.name}/{fn.handler.rsplit('.', 1)[1]}"
        kwargs: dict[str, Any] = {"headers": {"Idempotency-Key": None, **(headers or {})}}
        if query is not None:
            kwargs["query"] = query
        if payload is not ...:
            kwargs["body"] = payload
        event = api_event(sample, tenant_id=tenant_id, **kwargs)
        if params is not None:
            event["pathParameters"] = params or None
        event["path"] = concrete
        event["requestContext"]["path"] = "/v1" + concrete
        if base64_body:  # the API's binary media type */* hands bodies over base64-encoded
            event["isBase64Encoded"] = True
        out = handler(fn.key)(event)
        raw = out.get("body") or ""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        headers_out = {k.lower(): v[-1] for k, v in (out.get("multiValueHeaders") or {}).items() if v}
        headers_out |= {k.lower(): v for k, v in (out.get("headers") or {}).items()}
        return Call(out["statusCode"], parsed, headers_out)

    return run
