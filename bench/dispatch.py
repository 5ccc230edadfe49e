"""Dispatch throughput: queued messages through the dispatcher function in SQS batches of 10 (the event
source mapping's work — receive, invoke, delete what succeeded — done here as Lambda does it), against
direct provider calls (SES v2 SendEmail with the same parameters) on the same emulator.

Both sides run alternately in chunks, so drift in the machine's speed hits both. The messages are
stored QUEUED (the items ``messages.create_ops`` writes, in BatchWriteItem calls) and their jobs put on
the send queue, chunk by chunk, before each chunk is timed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.calls import CALLS, by_op, describe
from bench.emulator import Emulator
from bench.scenarios import Context, Local, function_handler
from bench.warm import replay


@dataclass
class DispatchResult:
    n: int
    delivered: int
    function_s: float  # time inside the dispatcher function
    loop_s: float  # including the event source mapping's receive/delete calls
    floor_s: float  # as many direct SES v2 SendEmail calls as messages delivered
    function_calls: dict[str, int] = field(default_factory=dict)
    esm_calls: dict[str, int] = field(default_factory=dict)
    per_message: str = ""
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    op_ms: dict[str, float] = field(default_factory=dict)  # mean time of each AWS operation inside the dispatcher

    @property
    def ratio(self) -> float:
        """Dispatcher throughput ÷ direct-call throughput (function time)."""
        return self.floor_s / self.function_s if self.function_s else 0.0

    @property
    def loop_ratio(self) -> float:
        return self.floor_s / self.loop_s if self.loop_s else 0.0

    @property
    def calls_per_message(self) -> float:
        return sum(self.function_calls.values()) / self.delivered if self.delivered else 0.0

    @property
    def esm_calls_per_message(self) -> float:
        return sum(self.esm_calls.values()) / self.delivered if self.delivered else 0.0


def seed(lo: Local, n: int) -> list[str]:
    """``n`` CRM records, stored QUEUED (nothing timed); their jobs are enqueued chunk by chunk (``enqueue``)."""
    from parley.dal import counters, messages
    from parley.dal.aws import client
    from parley.domain.context import Caller
    from parley.domain.emails import new_outbound_email
    from parley.settings import get_settings

    caller = Caller.from_authorizer(lo.authorizer)
    ddb, table = client("dynamodb"), get_settings().table_name
    ids, puts = [], []
    for i in range(n):
        msg = new_outbound_email(
            caller,
            source_api="crm",
            recipient=f"lead{i % 500}@example.com",
            subject=f"Offer {i}",
            body=f"<p>Hello lead {i}, here is your offer.</p>",
        )
        msg = msg.model_copy(update={"recipients": [msg.recipient], "category": "OFFERTE"})
        ids.append(msg.id)
        puts.extend(op["Put"]["Item"] for op in messages.create_ops(msg) if "Put" in op)
    for i in range(0, len(puts), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in puts[i : i + 25]]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    counters.add_records(lo.tenant.id, n)
    return ids


def enqueue(lo: Local, ids: list[str]) -> None:
    """The send jobs of ``ids`` on the queue (10 per SendMessageBatch). Done chunk by chunk, untimed: moto's
    ReceiveMessage walks every message of the queue, so a queue holding all 10,000 would make the event
    source mapping's receive calls the slowest thing measured."""
    from parley.dal.aws import client

    sqs, url = client("sqs"), lo.emu.send_queue()[1]
    for i in range(0, len(ids), 10):
        entries = [
            {"Id": str(k), "MessageBody": json.dumps({"tenant_id": lo.tenant.id, "message_id": m})} for k, m in enumerate(ids[i : i + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _record(msg: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg["Body"],
        "attributes": msg.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": msg.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


def run(emu: Emulator, lo: Local, *, n: int, chunk: int = 500, progress: Any = print) -> DispatchResult:
    from parley.dal.aws import client

    fn = emu.function("root.DispatcherFunction")
    emu.use_function_env(fn)
    handler = function_handler(fn)
    client("sqs").purge_queue(QueueUrl=emu.send_queue()[1])  # jobs the earlier phases' sends left there
    progress(f"  dispatch: seeding {n} queued messages")
    ids = seed(lo, n)
    arn, url = emu.send_queue()
    sqs = client("sqs")

    # The floor's template: the provider call the dispatcher makes for one message (recorded on a spare one).
    spare = lo.crm_send()
    emu.use_function_env(fn)
    with CALLS.record(params=True) as recorded:
        event = {
            "Records": [
                _record(
                    {
                        "MessageId": "spare",
                        "ReceiptHandle": "spare",
                        "Body": json.dumps({"tenant_id": lo.tenant.id, "message_id": spare}),
                        "Attributes": {"ApproximateReceiveCount": "1"},
                    },
                    arn,
                )
            ]
        }
        handler(event, Context())
    per_message = describe(recorded)
    template = [c for c in recorded if c["service"] == "sesv2"]
    if not template:
        raise RuntimeError(f"the dispatcher made no SES call: {per_message}")
    for _ in range(20):
        replay(template)

    result = DispatchResult(n=n, delivered=0, function_s=0.0, loop_s=0.0, floor_s=0.0, per_message=per_message)
    fn_calls: list[dict[str, Any]] = []
    all_calls: list[dict[str, Any]] = []
    remaining = n
    while remaining > 0:
        # a chunk through the dispatcher
        target = min(chunk, remaining)
        enqueue(lo, ids[n - remaining : n - remaining + target])
        done_in_chunk = 0
        t_loop = time.perf_counter()
        with CALLS.record() as outer:
            while done_in_chunk < target:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0).get(
                    "Messages", []
                )
                if not got:
                    break
                event = {"Records": [_record(m, arn) for m in got]}
                with CALLS.record() as inner:
                    t = time.perf_counter()
                    out = handler(event, Context())
                    result.function_s += time.perf_counter() - t
                fn_calls.extend(inner)
                failed = {f["itemIdentifier"] for f in out.get("batchItemFailures", [])}
                result.failures += len(failed)
                ok = [m for m in got if m["MessageId"] not in failed]
                if ok:
                    sqs.delete_message_batch(
                        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ok)]
                    )
                done_in_chunk += len(ok)
        result.loop_s += time.perf_counter() - t_loop
        all_calls.extend(outer)
        result.delivered += done_in_chunk
        if done_in_chunk == 0:
            result.errors.append(f"queue ran dry with {remaining} messages left")
            break
        # the same number of direct provider calls
        t = time.perf_counter()
        for _ in range(done_in_chunk):
            result.errors += replay(template)
        result.floor_s += time.perf_counter() - t
        remaining -= done_in_chunk
        progress(f"  dispatch: {result.delivered}/{n}")
    result.function_calls = dict(by_op(fn_calls))
    per_op: dict[str, list[float]] = {}
    for c in fn_calls:
        if "ms" in c:
            per_op.setdefault(f"{c['service']}.{c['op']}", []).append(c["ms"])
    result.op_ms = {k: sum(v) / len(v) for k, v in per_op.items()}
    esm = by_op(all_calls)
    esm.subtract(by_op(fn_calls))
    result.esm_calls = {k: v for k, v in esm.items() if v}
    result.errors = result.errors[:5]
    return result
