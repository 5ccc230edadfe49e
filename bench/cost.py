"""What one email costs in AWS requests: ``python -m bench.cost`` (a minute, in-process moto; writes nothing unless
``--results FILE``). The inputs of docs/operations.md's cost section.

N emails go the whole deployed way, each phase run by the declared function's handler with its environment and
the event source's batching: the API request (candidate ``POST /communications/email/v1/send`` with an
Idempotency-Key, or CRM ``POST /send``), the dispatcher (SQS batches of 10, SES v2 ``SendEmail`` to SES's mailbox
simulator ``success@``), SES's Send and Delivery events (the local mailbox simulator publishes them, SNS → SQS →
SesEventsFunction in batches of 10) and the table's stream (TallyFunction, on the records its FilterCriteria pass).

Counted per email: every AWS call (botocore hook), and DynamoDB capacity as DynamoDB bills it on demand, computed
from what was written — moto does not model consumed capacity, so the table's stream (NEW_AND_OLD_IMAGES) is read
for every write:

- a write costs ceil(max(item size before, after) / 1 KB) write request units, twice that inside TransactWriteItems;
  a ``ConditionCheck`` of a transaction is counted as a transactional write of a 1 KB item (an assumption: the
  item is not written, so its size is not seen);
- every global secondary index the item is in before or after costs one more write of the projected item (all
  attributes) — two when the item's index key changed (delete + put) — at the standard (not transactional) rate;
- item sizes follow DynamoDB's rules (attribute names + values; numbers ~1 byte per 2 digits + 1);
- reads (estimate): ``GetItem``/``BatchGetItem`` 0.5 read request unit per item returned (1 if strongly
  consistent), a ``Query`` 0.5 per 4 KB of the items it read (sized at the mean written item), at least 0.5.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "common", ROOT / "local"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bench.calls import CALLS, describe  # noqa: E402
from bench.scenarios import Context, function_handler, load_event, set_body, set_header  # noqa: E402

REGION = "us-east-1"
SIMULATOR_SUCCESS = "success@simulator.amazonses.com"
KB = 1024


# ───────────── DynamoDB item sizes and capacity ─────────────
def _number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").lstrip("0")) or 1
    return math.ceil(digits / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (DynamoDB JSON)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v) if isinstance(v, bytes) else math.ceil(len(v) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(x) for k, x in v.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in (item or {}).items())


def units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


@dataclass
class Capacity:
    table_wru: float = 0.0
    index_wru: float = 0.0
    rru: float = 0.0
    writes: int = 0  # item writes (stream records)
    index_writes: int = 0
    sizes: list[int] = field(default_factory=list)

    def add(self, other: Capacity) -> None:
        self.table_wru += other.table_wru
        self.index_wru += other.index_wru
        self.rru += other.rru
        self.writes += other.writes
        self.index_writes += other.index_writes
        self.sizes += other.sizes


def write_capacity(records: list[dict[str, Any]], transactional: set[tuple[str, str]], indexes: list[tuple[str, str]]) -> Capacity:
    """Write request units of these stream records (see the module's docstring)."""
    cap = Capacity()
    for rec in records:
        ddb = rec["dynamodb"]
        old, new = ddb.get("OldImage"), ddb.get("NewImage")
        size = max(item_size(old), item_size(new))
        key = (ddb["Keys"]["PK"]["S"], ddb["Keys"]["SK"]["S"])
        cap.writes += 1
        cap.sizes.append(item_size(new or old))
        cap.table_wru += units(size, KB) * (2 if key in transactional else 1)
        for pk, sk in indexes:

            def index_key(image: dict[str, Any] | None, pk: str = pk, sk: str = sk) -> tuple[Any, Any] | None:
                if not image or pk not in image or sk not in image:
                    return None
                return (json.dumps(image[pk]), json.dumps(image[sk]))

            before, after = index_key(old), index_key(new)
            if before is None and after is None:
                continue
            if before is not None and after is not None and before != after:
                cap.index_writes += 2
                cap.index_wru += units(item_size(old), KB) + units(item_size(new), KB)
            else:
                cap.index_writes += 1
                cap.index_wru += units(item_size(new or old), KB)
    return cap


def transact_keys(calls: list[dict[str, Any]]) -> tuple[set[tuple[str, str]], int]:
    """The (PK, SK) of every item written inside TransactWriteItems, and how many ConditionChecks there were."""
    keys: set[tuple[str, str]] = set()
    checks = 0
    for c in calls:
        if c["op"] != "TransactWriteItems":
            continue
        for op in c["params"]["TransactItems"]:
            ((kind, body),) = op.items()
            if kind == "ConditionCheck":
                checks += 1
                continue
            k = body.get("Key") or body.get("Item")
            keys.add((k["PK"]["S"], k["SK"]["S"]))
    return keys, checks


def read_capacity(calls: list[dict[str, Any]], mean_item: float) -> float:
    rru = 0.0
    for c in calls:
        if c["service"] != "dynamodb":
            continue
        params = c.get("params") or {}
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        if c["op"] == "GetItem":
            rru += factor
        elif c["op"] == "BatchGetItem":
            strong = any(v.get("ConsistentRead") for v in (params.get("RequestItems") or {}).values())
            rru += max(1, c.get("Count", 0)) * (1.0 if strong else 0.5)
        elif c["op"] == "TransactGetItems":
            rru += 2.0 * len(params.get("TransactItems") or [])
        elif c["op"] in ("Query", "Scan"):
            rru += factor * units(int(max(1, c.get("ScannedCount", 0)) * mean_item), 4 * KB)
    return rru


# ───────────── the run ─────────────
@dataclass
class Phase:
    name: str
    invocations: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    capacity: Capacity = field(default_factory=Capacity)


class Run:
    def __init__(self, stack: Any) -> None:
        from parley_local.streams import StreamReader

        self.stack = stack
        self.tally_source = stack.stream_sources[0]
        self.tally_reader = StreamReader(self.tally_source.stream_arn)  # what TallyFunction gets
        self.all_reader = StreamReader(self.tally_source.stream_arn)  # every write, for the accounting
        desc = _client("dynamodb").describe_table(TableName=stack.table_names[0])["Table"]
        self.indexes = [
            (next(k["AttributeName"] for k in g["KeySchema"] if k["KeyType"] == "HASH"),
             next(k["AttributeName"] for k in g["KeySchema"] if k["KeyType"] == "RANGE"))
            for g in desc.get("GlobalSecondaryIndexes") or []
        ]  # fmt: skip
        self.handlers: dict[str, Callable[..., Any]] = {}

    def handler(self, key: str) -> Callable[[dict[str, Any]], Any]:
        fn = self.stack.function(key)
        os.environ.update(fn.env)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the functions' request logs are not the report
        _reset()
        if key not in self.handlers:
            self.handlers[key] = function_handler(fn)
        h = self.handlers[key]

        def invoke(event: dict[str, Any]) -> Any:
            with contextlib.redirect_stdout(io.StringIO()):  # the functions' logs and metrics are not the report
                return h(event, Context())

        return invoke

    def phase(self, name: str, work: Callable[[Phase], None]) -> Phase:
        ph = Phase(name)
        with CALLS.record(params=True) as calls:
            work(ph)
        ph.calls = calls
        written = self._new_records()
        keys, checks = transact_keys(calls)
        ph.capacity = write_capacity(written, keys, self.indexes)
        ph.capacity.table_wru += 2 * checks
        return ph

    def _new_records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while batch := self.all_reader.read(1000):
            out += batch
            self.all_reader.finish(int(batch[-1]["dynamodb"]["SequenceNumber"]) + 1)
        return out

    def tally(self, ph: Phase) -> None:
        fn = self.handler(self.tally_source.function.key)
        while read := self.tally_reader.read(self.tally_source.batch_size):
            records = [r for r in read if self.tally_source.wanted(r)]
            if records:
                out = fn({"Records": records}) or {}
                ph.invocations += 1
                if out.get("batchItemFailures"):
                    raise RuntimeError(f"TallyFunction failed: {out}")
            self.tally_reader.finish(int(read[-1]["dynamodb"]["SequenceNumber"]) + 1)


def _client(service: str) -> Any:
    from parley.dal.aws import client

    return client(service)


def _reset() -> None:
    from parley.dal import aws
    from parley.settings import get_settings

    get_settings.cache_clear()
    aws.reset()


def _queue(stack: Any, suffix: str) -> tuple[str, str]:
    arn = next(a for a in stack.queues if a.endswith(suffix))
    return arn, stack.queues[arn]


def _drain_into(run: Run, ph: Phase, key: str, suffix: str, want: int, batch: int = 10, timeout: float = 10.0) -> None:
    """Receive ``want`` messages of a queue (waiting for them up to ``timeout``), invoking ``key`` per batch."""
    from parley_local.workers import _sqs_record

    arn, url = _queue(run.stack, suffix)
    got, deadline = 0, time.monotonic() + timeout
    while got < want and time.monotonic() < deadline:
        # the event source mapping's ReceiveMessage and DeleteMessageBatch are made by Lambda's pollers but billed to the
        # account as SQS requests: they count (an idle queue's empty receives are a fixed cost, docs/operations.md)
        with CALLS.record():
            msgs = _client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=batch, AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            time.sleep(0.1)
            continue
        deadline = time.monotonic() + timeout  # waiting for the next message, not for the handlers
        out = run.handler(key)({"Records": [_sqs_record(m, arn) for m in msgs]})
        ph.invocations += 1
        if out and out.get("batchItemFailures"):
            raise RuntimeError(f"{key} failed: {out}")
        with CALLS.record():
            _client("sqs").delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
            )
        got += len(msgs)
    if got < want:
        raise RuntimeError(f"{suffix}: {got} of {want} messages arrived")


def measure(path: str, n: int) -> list[Phase]:
    from parley.domain.auth import create_tenant
    from parley_local.stack import Provisioner

    stack = Provisioner(None).build()
    Provisioner(None).client("ses").verify_domain_identity(Domain="parley.example")
    os.environ["TABLE_NAME"] = stack.table_names[0]
    _reset()
    run = Run(stack)
    tenant, _ = create_tenant("Cost", "no-reply@parley.example", "Cost")
    run._new_records()  # the tenant's own items are not an email's
    run.tally_reader.finish(run.tally_reader.written())

    def api(ph: Phase) -> None:
        for i in range(n):
            if path == "candidate":
                event = load_event("candidate/send_email")
                set_body(
                    event, {"toEmail": SIMULATOR_SUCCESS, "subject": f"Interview {i}", "emailContent": "<p>Hi Ada, see you on Tuesday.</p>"}
                )
                set_header(event, "Idempotency-Key", f"cost-{i}")
                fn = "CandidateApi.SendEmailFunction"
            else:
                event = load_event("crm/send")
                body = json.loads(event["body"])
                body.update(recipients=[SIMULATOR_SUCCESS], cc=[], bcc=[], trackingEnabled=False, linkTrackingEnabled=False)
                set_body(event, body)
                set_header(event, "Idempotency-Key", f"cost-{i}")
                fn = "CrmApi.SendFunction"
            event["requestContext"]["authorizer"].update(tenantId=tenant.id, principalId=tenant.id, senderEmail="no-reply@parley.example")
            out = run.handler(fn)(event)
            if out["statusCode"] != 200:
                raise RuntimeError(f"{fn}: {out}")
            ph.invocations += 1

    phases = [run.phase(f"API send ({path})", api)]
    phases.append(run.phase("dispatch (SQS batches of 10)", lambda ph: _drain_into(run, ph, "root.DispatcherFunction", "-SendQueue", n)))
    phases.append(
        run.phase(
            "SES events: Send + Delivery (batches of 10)",
            lambda ph: _drain_into(run, ph, "root.SesEventsFunction", "-SesEventsQueue", 2 * n),
        )
    )
    phases.append(run.phase("stream → TallyFunction", run.tally))
    mean_item = sum(s for p in phases for s in p.capacity.sizes) / max(1, sum(len(p.capacity.sizes) for p in phases))
    for ph in phases:
        ph.capacity.rru = read_capacity(ph.calls, mean_item)
    return phases, stored_bytes(stack, run.indexes, tenant.id)


def stored_bytes(stack: Any, indexes: list[tuple[str, str]], tenant_id: str) -> dict[str, int]:
    """What the table holds after the run, as DynamoDB bills storage: each item's size + 100 bytes, once in the table
    and once more in every index it is in; items with a TTL (idempotency records, event dedupe keys) apart. The
    tenant's own items (tenant, key) are left out."""
    out = {"table": 0, "indexes": 0, "expiring": 0, "items": 0}
    ddb, start = _client("dynamodb"), None
    while True:
        page = ddb.scan(TableName=stack.table_names[0], **({"ExclusiveStartKey": start} if start else {}))
        for item in page.get("Items", []):
            if (item["PK"]["S"] == f"TENANT#{tenant_id}" and item["SK"]["S"] == "TENANT") or item["PK"]["S"].startswith("APIKEY#"):
                continue
            size = item_size(item) + 100
            out["expiring" if "ttl" in item else "table"] += size
            out["items"] += 1
            out["indexes"] += sum(size for pk, sk in indexes if pk in item and sk in item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def report(results: dict[str, tuple[list[Phase], dict[str, int]]], n: int) -> str:
    lines = [
        "# What one email costs in AWS requests",
        "",
        f"`python -m bench.cost` ({time.strftime('%Y-%m-%d', time.gmtime())}): {n} emails per path, each through every phase "
        "by the declared function's handler on in-process moto (see the module docstring for how capacity is computed). "
        "Figures are per email (phase totals ÷ N). WRU = write request units, RRU = read request units (on-demand).",
        "",
    ]
    for path, (phases, stored) in results.items():
        head = "| phase | Lambda invocations | AWS calls | DynamoDB item writes | table WRU | index WRU | RRU (est.) | calls |"
        lines += [f"## {path}", "", head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        total = Capacity()
        inv = calls = 0.0
        for ph in phases:
            c = ph.capacity
            lines.append(
                f"| {ph.name} | {ph.invocations / n:.2f} | {len(ph.calls) / n:.2f} | {c.writes / n:.2f} | {c.table_wru / n:.2f} | "
                f"{c.index_wru / n:.2f} | {c.rru / n:.2f} | {describe(ph.calls)} (÷ {n}) |"
            )
            total.add(c)
            inv += ph.invocations / n
            calls += len(ph.calls) / n
        lines.append(
            f"| **per email** | **{inv:.2f}** | **{calls:.2f}** | **{total.writes / n:.2f}** | **{total.table_wru / n:.2f}** | "
            f"**{total.index_wru / n:.2f}** | **{total.rru / n:.2f}** | WRU total **{(total.table_wru + total.index_wru) / n:.2f}**; "
            f"mean item written {sum(total.sizes) / max(1, len(total.sizes)):.0f} B, largest {max(total.sizes or [0])} B |"
        )
        sqs_calls = Counter(
            f"{c['service']}.{c['op']}" for ph in phases for c in ph.calls if c["service"] in ("sqs", "sesv2", "scheduler", "sns", "s3")
        )
        lines += [
            "",
            "Other services, per email: " + (", ".join(f"{k} {v / n:.2f}" for k, v in sorted(sqs_calls.items())) or "none") + ".",
            "",
            f"Stored per email (DynamoDB storage: item + 100 B, in the table and again in each index it is in): {stored['items'] / n:.1f} "
            f"items; table {stored['table'] / n / KB:.1f} KB, indexes {stored['indexes'] / n / KB:.1f} KB; items with a TTL "
            f"(idempotency records, event dedupe keys, expiring within 30 days) {stored['expiring'] / n / KB:.1f} KB.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="emails per path (default 50)")
    parser.add_argument("--results", type=Path, help="also write the report to this file (e.g. bench/RESULTS-cost.md)")
    args = parser.parse_args(argv)
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    )
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    CALLS.install()
    from moto import mock_aws

    from parley_local import moto_patches, ses_simulator

    moto_patches.serialise_dynamodb()
    moto_patches.patch_transactions()
    ses_simulator.install()
    results = {}
    for path in ("candidate", "crm"):
        with mock_aws():
            results[path] = measure(path, args.n)
    text = report(results, args.n)
    print(text)
    if args.results:
        args.results.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
