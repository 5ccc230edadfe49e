"""Shared test helpers: sample events from events/, handler loading with the template's environment."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    """``load_event("candidate/send_email")`` → the sample event in events/candidate/send_email.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def api_event(
    name: str,
    *,
    tenant_id: str | None = None,
    body: Any = ...,
    query: dict[str, str] | Any | None = ...,
    headers: dict[str, str | None] | None = None,
    sender_email: str | None = None,
) -> dict[str, Any]:
    """A copy of a sample API event with the tenant, body, query and headers replaced.

    ``headers={"Idempotency-Key": None}`` removes a header.
    """
    event = copy.deepcopy(load_event(name))
    ctx = event["requestContext"].setdefault("authorizer", {})
    if tenant_id is not None:
        ctx["tenantId"] = ctx["principalId"] = tenant_id
    if sender_email is not None:
        ctx["senderEmail"] = sender_email
    if body is not ...:
        event["body"] = body if (body is None or isinstance(body, str)) else json.dumps(body)
    if query is not ...:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    for key, value in (headers or {}).items():
        for section in ("headers", "multiValueHeaders"):
            hdrs = event.get(section) or {}
            for existing in [k for k in hdrs if k.lower() == key.lower()]:
                del hdrs[existing]
            if value is not None:
                hdrs[key] = value if section == "headers" else [value]
            event[section] = hdrs
    return event


class Context:
    """A minimal LambdaContext."""

    function_name = "test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    memory_limit_in_mb = 256
    aws_request_id = "test-request"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def import_handler(code_dir: Path, module: str = "app") -> ModuleType:
    """Import a function's handler module by path, under a unique name (each code dir's modules are separate)."""
    unique = "fn_" + "_".join(code_dir.relative_to(ROOT).parts) + "_" + module
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, code_dir / f"{module}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[unique] = mod
    spec.loader.exec_module(mod)
    return mod


def function_handler(fn: Any) -> Any:
    """The Lambda handler a declared function (``parley_local.templates.FunctionSpec``) names: ``module.attr``."""
    module, attr = fn.handler.rsplit(".", 1)
    return getattr(import_handler(fn.code_dir, module), attr)


def send_windows(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(the other items, the tenants' send windows)``: a send request refused after its admission (a 400) still
    counts for the tenant's send rate (docs/architecture.md §6.4), so it leaves its send window behind, with the
    message taken back out of the day's count (``day_n`` 0)."""
    windows = [i for i in items if i.get("type") == "send_window"]
    return [i for i in items if i.get("type") != "send_window"], windows


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def _deliver(handler: Any, function_key: str, url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What waits on the queue at ``url``, delivered to ``function_key`` as Lambda's event source mapping would
    (batches of 10, successes deleted): the SQS messages delivered, and the batch item failures."""
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    sqs = client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    consumer = None
    delivered: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []):
        delivered += got
        consumer = consumer or handler(function_key)
        out = consumer({"Records": [_sqs_record(m, arn) for m in got]})
        failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
        failures += out["batchItemFailures"]
        done = [m for m in got if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
            )
    return delivered, failures


def deliver_inbound(handler: Any) -> list[dict[str, Any]]:
    """Deliver what waits on the inbound mail queue to ``root.InboundMailFunction``, every record acknowledged;
    returns the SQS messages delivered."""
    from parley.dal.aws import client

    urls = client("sqs").list_queues().get("QueueUrls", [])
    delivered, failures = _deliver(handler, "root.InboundMailFunction", next(u for u in urls if u.endswith("-InboundMailQueue")))
    assert failures == []
    return delivered


PROVIDER_EVENTS = "root.ProviderEventsFunction"


def deliver_provider_events(handler: Any) -> list[dict[str, Any]]:
    """What the provider webhooks queued (the provider events queue), delivered to ProviderEventsFunction;
    returns the batch item failures. The queue is the one a webhook handler loaded through ``handler`` points at."""
    import os

    url = os.environ.get("PROVIDER_EVENTS_QUEUE_URL")
    return _deliver(handler, PROVIDER_EVENTS, url)[1] if url else []


def through_queue(handler: Any, key: str) -> Any:
    """``handler(key)``, a provider webhook, followed by the delivery of what it queued (asserting every queued
    message was applied): the whole asynchronous path, synchronously, for tests of the stored state."""
    fn = handler(key)

    def call(event: dict[str, Any]) -> Any:
        out = fn(event)
        assert deliver_provider_events(handler) == []
        return out

    return call


class FakeHooks(ModuleType):
    """What the runtime's ``snapshot_restore_py`` offers: it records the hooks; ``snapshot()`` / ``restore()`` run them."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.after: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def register_before_snapshot(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.before.append((fn, args, kwargs))
        return fn

    def register_after_restore(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.after.append((fn, args, kwargs))
        return fn

    def snapshot(self) -> None:
        for fn, args, kwargs in self.before:
            fn(*args, **kwargs)

    def restore(self) -> None:
        for fn, args, kwargs in self.after:
            fn(*args, **kwargs)


class RecordingPool:
    """Stands in for the local stack's function pool (an event source's poller invokes through it): records each
    event; answers with ``answer(event)`` (by default: handled, no batch item failures)."""

    def __init__(self, answer: Any = None) -> None:
        from parley_local.invoke import InvokeResult

        self.events: list[dict[str, Any]] = []
        self.answer = answer or (lambda event: InvokeResult(ok=True, payload={"batchItemFailures": []}))

    def invoke(self, fn: Any, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)


def import_directory(local: Any, tmp_path: Path, tenant_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """``python -m parley.admin import-directory`` as README shows it, against a running local stack (``local``: the
    e2e fixture's), finding the stack by its state file; the command's summary (its last output line)."""
    state = tmp_path / ".local" / "stack.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"api": local.api, "emulator": local.emulator, "resources": local.resources}))
    data = tmp_path / f"directory-{uuid.uuid4().hex[:6]}.jsonl"
    data.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env.update(PYTHONPATH=str(ROOT / "layers" / "common"), HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "parley.admin", "import-directory", "--tenant-id", tenant_id, str(data)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
