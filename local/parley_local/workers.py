"""What AWS runs in the background: SQS event-source polling and EventBridge Scheduler firing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from parley_local.invoke import FunctionPool
from parley_local.stack import Provisioner, Stack, parse_rate
from parley_local.streams import StreamReader
from parley_local.templates import ACCOUNT, REGION, SqsSource, StreamSource

log = logging.getLogger("parley_local")
_AT = "at("


def _sqs_record(msg: dict[str, Any], source_arn: str) -> dict[str, Any]:
    attrs = {}
    for name, value in (msg.get("MessageAttributes") or {}).items():
        attrs[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return {
        "messageId": msg["MessageId"],
        "receiptHandle": msg["ReceiptHandle"],
        "body": msg["Body"],
        "attributes": msg.get("Attributes", {}),
        "messageAttributes": attrs,
        "md5OfBody": msg.get("MD5OfBody") or hashlib.md5(msg["Body"].encode()).hexdigest(),  # noqa: S324 (SQS's own checksum)
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": REGION,
    }


class SqsPoller(threading.Thread):
    """Lambda's SQS event source mapping: poll, invoke with a batch, delete what succeeded.

    Like Lambda's pollers (which are AWS's, not the account's API calls), these read the embedded emulator's queue
    in-process — moto's own ReceiveMessage and DeleteMessageBatch backend calls, with their visibility, redrive and
    retention rules — rather than over HTTP: a poller's botocore client and moto's response serialiser, both in the
    stack's one process, cost a third of its CPU under load, all of it taken from the API's requests.
    """

    def __init__(self, prov: Provisioner, stack: Stack, pool: FunctionPool, source: SqsSource, stop: threading.Event, n: int = 0) -> None:
        super().__init__(name=f"sqs-{source.function.logical_id}-{n}", daemon=True)
        self.url = stack.queues[source.queue_arn]
        self.queue_name = self.url.rsplit("/", 1)[-1]
        self.pool = pool
        self.source = source
        self.stop = stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once(wait=1)
            except Exception:
                if not self.stop.is_set():
                    log.exception("SQS poller for %s failed; retrying", self.source.function.logical_id)
                    time.sleep(1)

    def poll_once(self, wait: int = 0) -> int:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.source.batch_window
        while len(messages) < self.source.batch_size:
            got = _receive(self.queue_name, min(10, self.source.batch_size - len(messages)), wait if not messages else 0)
            messages.extend(got)
            if not got or time.monotonic() >= deadline:
                break
        if not messages:
            return 0
        event = {"Records": [_sqs_record(m, self.source.queue_arn) for m in messages]}
        out = self.pool.invoke(self.source.function, event)
        if not out.ok:
            log.warning(
                "%s failed (%s: %s); the batch returns after its visibility timeout",
                self.source.function.logical_id,
                out.error_type,
                out.error_message,
            )
            return len(messages)
        failed: set[str] = set()
        if self.source.report_failures and isinstance(out.payload, dict):
            failed = {f.get("itemIdentifier") for f in out.payload.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            _backend().delete_message_batch(
                self.queue_name, [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
            )
        return len(messages)


class StreamPoller(threading.Thread):
    """Lambda's DynamoDB stream event source mapping: the records in order, one batch at a time; what the function
    reports failed (``batchItemFailures``) or a function error is retried from there, and after ``MaximumRetryAttempts``
    the batch's description goes to the ``OnFailure`` queue and the poller moves on, as Lambda does.

    Unlike Lambda it does not wait out ``MaximumBatchingWindowInSeconds``: it invokes as soon as records are there
    (a batch grows while the previous one runs), so what reads the tallies locally sees them within milliseconds;
    ``settle`` lets the gateway wait for the records written before a read."""

    def __init__(self, prov: Provisioner, stack: Stack, pool: FunctionPool, source: StreamSource, stop: threading.Event) -> None:
        super().__init__(name=f"stream-{source.function.logical_id}", daemon=True)
        self.prov = prov
        self.stack = stack
        self.pool = pool
        self.source = source
        self.stop = stop
        self.reader = StreamReader(source.stream_arn)
        self.failures = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                if not self.poll_once():
                    self.stop.wait(0.01)
            except Exception:
                if not self.stop.is_set():
                    log.exception("stream poller for %s failed; retrying", self.source.function.logical_id)
                    self.stop.wait(1)

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until every record written so far is done with."""
        return self.reader.wait_until(self.reader.written(), timeout)

    def poll_once(self) -> int:
        read = self.reader.read(self.source.batch_size)
        if not read:
            return 0
        records = [r for r in read if self.source.wanted(r)]  # FilterCriteria: the others are never delivered
        if not records:
            self.reader.finish(int(read[-1]["dynamodb"]["SequenceNumber"]) + 1)
            return len(read)
        seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        out = self.pool.invoke(self.source.function, {"Records": records})
        failed_at: int | None = None
        if not out.ok:
            failed_at = seqs[0]
            log.warning("%s failed (%s: %s); the batch is retried", self.source.function.logical_id, out.error_type, out.error_message)
        elif self.source.report_failures and isinstance(out.payload, dict):
            reported = [int(f["itemIdentifier"]) for f in out.payload.get("batchItemFailures") or [] if f.get("itemIdentifier")]
            failed_at = min(reported) if reported else None
        if failed_at is None:
            self.failures = 0
            self.reader.finish(int(read[-1]["dynamodb"]["SequenceNumber"]) + 1)
            return len(records)
        self.reader.finish(failed_at)
        self.failures += 1
        if 0 <= self.source.max_retries < self.failures:
            self._give_up(records, failed_at)
        else:
            self.stop.wait(min(0.05 * 2**self.failures, 2.0))
        return len(records)

    def _give_up(self, records: list[dict[str, Any]], failed_at: int) -> None:
        """Lambda's on-failure record: the batch's description (not its records), then on to the next batch."""
        last = int(records[-1]["dynamodb"]["SequenceNumber"])
        log.error("%s: giving up on stream records %s-%s", self.source.function.logical_id, failed_at, last)
        if self.source.on_failure_arn:
            url = self.stack.queues[self.source.on_failure_arn]
            info = {
                "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.failures},
                "DDBStreamBatchInfo": {
                    "streamArn": self.source.stream_arn,
                    "startSequenceNumber": str(failed_at),
                    "endSequenceNumber": str(last),
                    "batchSize": len(records),
                },
            }
            _backend().send_message(url.rsplit("/", 1)[-1], json.dumps(info))
        self.failures = 0
        self.reader.finish(last + 1)


def _backend() -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT][REGION]


def _receive(queue_name: str, count: int, wait: int) -> list[dict[str, Any]]:
    """moto's ReceiveMessage (every system and message attribute), as the API would answer it."""
    backend = _backend()
    queue = backend.get_queue(queue_name)
    out = []
    for m in backend.receive_message(queue_name, count, wait, queue.visibility_timeout, ["All"]):
        attributes = {
            "SenderId": m.sender_id,
            "SentTimestamp": str(m.sent_timestamp),
            "ApproximateReceiveCount": str(m.approximate_receive_count),
            "ApproximateFirstReceiveTimestamp": str(m.approximate_first_receive_timestamp),
        }
        for name, value in (
            ("MessageDeduplicationId", m.deduplication_id),
            ("MessageGroupId", m.group_id),
            ("SequenceNumber", m.sequence_number),
        ):
            if value is not None:
                attributes[name] = value
        if (m.system_attributes or {}).get("AWSTraceHeader"):
            attributes["AWSTraceHeader"] = m.system_attributes["AWSTraceHeader"]
        msg: dict[str, Any] = {"MessageId": m.id, "ReceiptHandle": m.receipt_handle, "MD5OfBody": m.body_md5, "Body": m.body}
        msg["Attributes"] = attributes
        if m.message_attributes:
            msg["MessageAttributes"] = m.message_attributes
        out.append(msg)
    return out


def parse_at(expression: str, tz_name: str | None) -> datetime | None:
    expression = expression.strip()
    if not expression.startswith(_AT) or not expression.endswith(")"):
        return None
    local = datetime.fromisoformat(expression[len(_AT) : -1])
    return local.replace(tzinfo=ZoneInfo(tz_name or "UTC")).astimezone(UTC)


class SchedulerFirer(threading.Thread):
    """Fires the schedules of the declared schedule groups (moto stores, never fires): one-time ``at()`` schedules
    when due, and ``rate()`` schedules (e.g. the courier replicators') from their ``StartDate`` (else a period after
    they were first seen) and then every period, while ENABLED; and the functions' ScheduleV2 ``rate()`` events."""

    def __init__(self, prov: Provisioner, stack: Stack, pool: FunctionPool, stop: threading.Event, interval: float = 0.5) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.scheduler = prov.client("scheduler")
        self.sqs = prov.client("sqs")
        self.stack = stack
        self.pool = pool
        self.stop = stop
        self.interval = interval
        self._fired: set[tuple[str, str]] = set()
        self._rate_next: dict[tuple[str, str], datetime] = {}  # rate() schedules of the groups: their next run
        self._warned: set[str] = set()
        # rate() schedules (functions' ScheduleV2 events): next run, a period after the stack started.
        started = datetime.now(UTC)
        self._next_run = {(r.group, r.name): started + timedelta(seconds=r.every_seconds) for r in stack.recurring}

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.fire_due()
                self.fire_recurring(datetime.now(UTC))
            except Exception:
                log.exception("scheduler tick failed")

    def fire_due(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        fired = 0
        for group in self.stack.schedule_groups:  # one-time at() schedules of the declared groups
            token = None
            while True:
                page = self.scheduler.list_schedules(GroupName=group, **({"NextToken": token} if token else {}))
                for summary in page.get("Schedules", []):
                    if (group, summary["Name"]) in self._fired:
                        continue
                    fired += self._maybe_fire(group, summary["Name"], now)
                token = page.get("NextToken")
                if not token:
                    break
        return fired

    def fire_recurring(self, now: datetime) -> int:
        """Invoke the target of every rate() schedule whose run is due (one run per tick, however late)."""
        fired = 0
        for r in self.stack.recurring:
            due = self._next_run[(r.group, r.name)]
            if now < due:
                continue
            try:
                state = self.scheduler.get_schedule(GroupName=r.group, Name=r.name).get("State", "ENABLED")
            except self.scheduler.exceptions.ResourceNotFoundException:
                continue  # deleted
            while due <= now:
                due += timedelta(seconds=r.every_seconds)
            self._next_run[(r.group, r.name)] = due
            if state == "ENABLED":
                threading.Thread(target=self.pool.invoke, args=(r.function, json.loads(r.input)), daemon=True).start()
                fired += 1
        return fired

    def _maybe_fire(self, group: str, name: str, now: datetime) -> int:
        try:
            sched = self.scheduler.get_schedule(GroupName=group, Name=name)
        except self.scheduler.exceptions.ResourceNotFoundException:
            return 0  # deleted meanwhile (e.g. cancelled)
        if sched.get("State", "ENABLED") != "ENABLED":
            return 0
        at = parse_at(sched["ScheduleExpression"], sched.get("ScheduleExpressionTimezone"))
        if at is None:
            every = parse_rate(sched["ScheduleExpression"])
            if every is None:
                if name not in self._warned:
                    self._warned.add(name)
                    log.warning("schedule %s/%s: only at() and rate() expressions are fired locally", group, name)
                return 0
            return self._maybe_fire_rate(group, name, sched, every, now)
        if at > now:
            return 0
        self._deliver(group, name, sched)
        self._fired.add((group, name))
        if sched.get("ActionAfterCompletion") == "DELETE":
            with contextlib.suppress(self.scheduler.exceptions.ResourceNotFoundException):
                self.scheduler.delete_schedule(GroupName=group, Name=name)
        return 1

    def _maybe_fire_rate(self, group: str, name: str, sched: dict[str, Any], every: int, now: datetime) -> int:
        key = (group, name)
        due = self._rate_next.get(key)
        if due is None:
            start = sched.get("StartDate")
            due = start.astimezone(UTC) if isinstance(start, datetime) else now + timedelta(seconds=every)
        if now < due:
            self._rate_next[key] = due
            return 0
        while due <= now:  # one run per tick, however late
            due += timedelta(seconds=every)
        self._rate_next[key] = due
        self._deliver(group, name, sched)
        return 1

    def _deliver(self, group: str, name: str, sched: dict[str, Any]) -> None:
        target = sched["Target"]
        arn = target["Arn"]
        payload = target.get("Input", "{}")
        if arn in self.stack.queues:
            params: dict[str, Any] = {"QueueUrl": self.stack.queues[arn], "MessageBody": payload}
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group_id:
                params["MessageGroupId"] = group_id
            self.sqs.send_message(**params)
        elif (fn := self.stack.by_arn(arn)) is not None:
            threading.Thread(target=self.pool.invoke, args=(fn, json.loads(payload)), daemon=True).start()
        else:
            log.warning("schedule %s/%s targets %s, which the local stack does not know", group, name, arn)
