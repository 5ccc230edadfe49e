"""Bulk posting throughput (issue 19, area 1; docs/courier.md "Bulk messages"): ``python -m bench.bulk``.

A sender and ``2 * recipients`` individuals (default 2 * 500) in the directory. Two comparisons, each in the same run on
the same emulator, side by side:

- **existing channels**: the sender's direct channel with every recipient is made first (not timed). Then a bulk
  message to the first half is posted — ``start`` (the draft becomes queued, its plan job is queued), and
  AutomationFunction's real handler run in this process over what AutomationQueue holds until it is empty (one
  worker: the plan job, then the batch jobs of 25, 10 per invocation as the event source mapping's BatchSize) — against
  *direct writes of the same messages*: ``channel_messages.post`` in a loop, one per channel of the second half, the
  same text and source. Throughput: messages per second of each; the ratio.
- **channels created** (``auto-create-channel``): the same with no channels beforehand, against a loop of
  ``channels.create_channel`` + ``channel_messages.post``.

What the bulk path adds per message: the recipient items (written once per batch), the settle transaction (recipient
state + counter), the message's existence check (its deterministic id) and the direct-channel lookup, and per batch
the directory reads (individuals, their owners' locale). Times are this emulator's (moto's HTTP server in this
process); only the ratios, measured side by side, mean anything.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.emulator import Emulator
from bench.scenarios import Context, Local, function_handler

SENDER, SENDER_USER, ORG, AT = "ind-sender", "user-sender", "org-bench", "2026-11-01T09:00:00.000Z"
TEXT = "The clinic is closed on Friday."


class Calls:
    """Counts the AWS calls (DynamoDB, SQS, S3) this process makes while it is on: a figure the shared machine's load
    does not move."""

    def __init__(self) -> None:
        self.n = 0
        self.on = False

    def after(self, **_: Any) -> None:
        if self.on:
            self.n += 1

    def measure(self, fn: Any, *args: Any, **kw: Any) -> tuple[Any, int]:
        self.n, self.on = 0, True
        try:
            return fn(*args, **kw), self.n
        finally:
            self.on = False


CALLS = Calls()


def _count_calls() -> None:
    from parley.dal.aws import client

    for service in ("dynamodb", "sqs", "s3"):
        client(service).meta.events.register(f"after-call.{service}.*", CALLS.after)


def seed(tenant_id: str, n: int, prefix: str) -> list[str]:
    from parley.dal import directory, table

    people = [f"{prefix}-{i:05d}" for i in range(n)]
    items = []
    for i, ind in enumerate(people):
        user = f"user-{prefix}-{i:05d}"
        items.append(directory.item(tenant_id, "users", user, AT, {"username": user, **({"locale": "es_US"} if i % 3 == 0 else {})}))
        items.append(directory.item(tenant_id, "individuals", ind, AT, {"first-name": f"I{i}", "owner-id": user}))
    table.batch_put(items)
    return people


def run_queue(emu: Emulator, handler: Any) -> int:
    """AutomationFunction over AutomationQueue until it is empty: the jobs run."""
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    assert emu.stack is not None
    arn = next(a for a in emu.stack.queues if a.endswith("-AutomationQueue"))
    url = emu.stack.queues[arn]
    sqs, ran = client("sqs"), 0
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", []):
        out = handler({"Records": [_sqs_record(m, arn) for m in got]}, Context())
        assert out["batchItemFailures"] == [], out
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)])
        ran += len(got)
    return ran


def bulk(emu: Emulator, handler: Any, tenant_id: str, people: list[str], *, create: bool) -> tuple[float, dict[str, Any], int]:
    from parley.dal import bulk_messages as store
    from parley.domain import bulk_messages
    from parley.models.bulk_messages import BulkMessageCreate

    js = {"es_US": "La clínica cierra el viernes."}
    attrs = BulkMessageCreate.model_validate({"individual-ids": people, "message": TEXT, "organization-id": ORG, "message-js": js,
                                              "auto-create-channel": create})  # fmt: skip
    item = bulk_messages.create(tenant_id, SENDER, SENDER_USER, attrs)
    t = time.perf_counter()
    bulk_messages.start(tenant_id, item["id"])
    jobs = run_queue(emu, handler)
    seconds = time.perf_counter() - t
    return seconds, store.get(tenant_id, item["id"], consistent=True) or {}, jobs


def direct(tenant_id: str, people: list[str], channels: dict[str, str] | None) -> float:
    from parley.domain import channel_messages
    from parley.domain import channels as chans

    t = time.perf_counter()
    for ind in people:
        if channels is None:
            channel, _ = chans.create_channel(tenant_id, organization_id=ORG, creator_individual_id=SENDER, individual_ids=[ind],
                                              created_by_user=SENDER_USER, subscription_type="none",
                                              event_settings={"enabled": False})  # fmt: skip
            cid = channel["id"]
        else:
            cid = channels[ind]
        channel_messages.post(tenant_id, cid, SENDER, TEXT, source="bulk", user_id=SENDER_USER)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=500)
    args = parser.parse_args(argv)
    n = args.recipients
    emu = Emulator().start()
    rows = []
    try:
        for create in (False, True):
            emu.reset()  # each comparison in a table of its own
            lo = Local(emu)
            tid = lo.tenant.id
            from parley.dal import directory, table
            from parley.domain import channels as chans

            sender_user = {"username": "sender", "primary-individual-id": SENDER}
            table.batch_put([directory.item(tid, "organizations", ORG, AT, {"name": "bench"}),
                             directory.item(tid, "users", SENDER_USER, AT, sender_user),
                             directory.item(tid, "individuals", SENDER, AT, {"owner-id": SENDER_USER})])  # fmt: skip
            first, second = seed(tid, n, "a"), seed(tid, n, "b")
            fn = emu.function("root.AutomationFunction")
            emu.use_function_env(fn)
            handler = function_handler(fn)
            made: dict[str, str] | None = None
            if not create:
                made = {}
                for ind in first + second:
                    channel, _ = chans.create_channel(tid, organization_id=ORG, creator_individual_id=SENDER, individual_ids=[ind],
                                                      publish=False)  # fmt: skip
                    made[ind] = channel["id"]
            _count_calls()
            print(f"{'channels created' if create else 'existing channels'}: bulk to {n} ...", flush=True)
            (bulk_s, done, jobs), bulk_calls = CALLS.measure(bulk, emu, handler, tid, first, create=create)
            assert (done.get("status"), int(done.get("posted") or 0)) == ("posted", n), done
            print(f"  direct loop to {n} ...", flush=True)
            direct_s, direct_calls = CALLS.measure(direct, tid, second, made)
            rows.append((create, n, jobs, bulk_s, direct_s, bulk_calls, direct_calls))
    finally:
        emu.stop()
    print()
    print("| channels | messages | bulk: jobs | bulk: s | bulk: msg/s | direct loop: s | direct: msg/s | bulk ÷ direct throughput |"
          " AWS calls per message: bulk | direct |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for create, count, jobs, b, d, bc, dc in rows:
        cells = ["created (auto-create-channel)" if create else "existing", count, jobs, f"{b:.1f}", f"{count / b:.1f}", f"{d:.1f}",
                 f"{count / d:.1f}", f"{(count / b) / (count / d):.2f}", f"{bc / count:.1f}", f"{dc / count:.1f}"]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
