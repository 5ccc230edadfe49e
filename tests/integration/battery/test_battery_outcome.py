"""Battery (issue 11): a message the provider accepted never ends FAILED and is never sent twice, while the
storage fails after the provider call.

500 emails go through the real send queue and the real dispatcher handler; SES (moto) accepts every send.
Meanwhile DynamoDB fails at the SDK boundary (every botocore client's ``_make_api_call``), as the local
emulator and AWS do: 30% of the TransactWriteItems/UpdateItem calls that record a message SES already
accepted answer ProvisionedThroughputExceeded, Throttling, InternalServerError, the emulator's bare 500
("dictionary changed size during iteration"), or land and then answer 500; 5% of every other write (the
claims, the counters) fail the same ways. 1 message in 25 meets an outage: every write recording it fails
for the whole invocation that sent it (its receipt job must carry it); 1 in 100 also loses the queue (no
receipt: only SES's own events can tell). Backoff waits are virtual: they are added to the invocation's
clock (its ``get_remaining_time_in_millis`` goes down by them) instead of being slept.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from helpers import Context, import_handler, load_event
from parley_local.workers import _sqs_record

DISPATCHER = "root.DispatcherFunction"
SES_EVENTS = "root.SesEventsFunction"
MESSAGES = 500
OUTCOME_FAULT_RATE = 0.30
OTHER_FAULT_RATE = 0.05
ERRORS = {
    "throughput": ("ProvisionedThroughputExceededException", 400, "The level of configured provisioned throughput was exceeded."),
    "throttling": ("ThrottlingException", 400, "Rate of requests exceeds the allowed throughput."),
    "internal": ("InternalServerError", 500, "Internal server error"),
    "emulator-500": ("500", 500, "dictionary changed size during iteration"),
    "landed-then-500": ("500", 500, "dictionary changed size during iteration"),
}
KINDS = list(ERRORS)


def _error(kind: str, operation: str) -> ClientError:
    code, status, text = ERRORS[kind]
    return ClientError({"Error": {"Code": code, "Message": text}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class Storm:
    """Decides, per DynamoDB write and per receipt SendMessage, whether it fails (see the module docstring)."""

    def __init__(self, wire: Any, outage: set[str], dead: set[str], seed: int) -> None:
        self.wire, self.outage, self.dead = wire, outage, dead
        self.rng = random.Random(seed)
        self.on = True
        self.invocation = 0
        self.accepted_in: dict[str, int] = {}  # message id → the invocation in which SES accepted it
        self.faults: Counter[str] = Counter()
        self.outage_faults = 0
        self.receipts_refused: Counter[str] = Counter()

    @staticmethod
    def _messages(operation: str, params: dict[str, Any]) -> list[str]:
        ops = [next(iter(i.values())) for i in params["TransactItems"]] if operation == "TransactWriteItems" else [params]
        ids = []
        for op in ops:
            pk = (op.get("Key") or op.get("Item") or {}).get("PK", {}).get("S", "")
            if "#MSG#" in pk:
                ids.append(pk.split("#MSG#", 1)[1])
        return ids

    def write(self, operation: str, params: dict[str, Any]) -> str | None:
        if not self.on:
            return None
        accepted = [m for m in self._messages(operation, params) if self.wire.accepted[m]]
        for m in accepted:
            self.accepted_in.setdefault(m, self.invocation)
        if any(m in self.outage and self.accepted_in[m] == self.invocation for m in accepted):
            self.outage_faults += 1
            return "throughput"
        if self.rng.random() >= (OUTCOME_FAULT_RATE if accepted else OTHER_FAULT_RATE):
            return None
        kind = self.rng.choice(KINDS)
        self.faults[kind] += 1
        return kind

    def receipt(self, body: str) -> bool:
        """False when this receipt SendMessage must fail (the queue lost too)."""
        job = json.loads(body)
        if self.on and job["message_id"] in self.dead:
            self.receipts_refused[job["message_id"]] += 1
            return False
        return True


@pytest.fixture
def storm(ses_wire: Any, monkeypatch: pytest.MonkeyPatch) -> Storm:
    weather = Storm(ses_wire, set(), set(), seed=1111)
    real = BaseClient._make_api_call

    def make_api_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        if service == "dynamodb" and operation in ("TransactWriteItems", "UpdateItem"):
            kind = weather.write(operation, params)
            if kind == "landed-then-500":
                real(self, operation, params)
                raise _error(kind, operation)
            if kind:
                raise _error(kind, operation)
        receipt = service == "sqs" and operation == "SendMessage" and '"receipt"' in params.get("MessageBody", "")
        if receipt and not weather.receipt(params["MessageBody"]):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"},
                                   "ResponseMetadata": {"HTTPStatusCode": 503}}, operation)  # fmt: skip
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return weather


class VirtualTime:
    """Backoff waits advance the invocation's clock instead of sleeping (the dispatcher's ``_sleep``)."""

    def __init__(self) -> None:
        self.slept = 0.0
        self.waits = 0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.waits += 1

    def context(self) -> Context:
        start, slept_before, clock = time.monotonic(), self.slept, self

        class Invocation(Context):
            def get_remaining_time_in_millis(self) -> int:
                return int(30_000 - 1000 * ((time.monotonic() - start) + (clock.slept - slept_before)))

        return Invocation()


def _statuses(tenant_id: str, ids: list[str]) -> dict[str, Any]:
    from parley.dal import records

    return {m.id: m for m in records.get_many(tenant_id, ids)}


def _ses_delivery(tenant_id: str, message_id: str, ses_id: str, n: int) -> dict[str, Any]:
    ses = {
        "eventType": "Delivery",
        "mail": {"timestamp": "2026-12-06T09:44:03.000Z", "source": "no-reply@parley.example", "messageId": ses_id,
                 "destination": [f"c{n}@example.com"], "tags": {"parley_tenant_id": [tenant_id], "parley_message_id": [message_id]}},
        "delivery": {"timestamp": "2026-12-06T09:44:05.000Z", "recipients": [f"c{n}@example.com"], "smtpResponse": "250 2.0.0 OK"},
    }  # fmt: skip
    record = copy.deepcopy(load_event("core/ses_events")["Records"][0])
    envelope = json.loads(record["body"])
    envelope.update(MessageId=f"sns-{message_id}", Message=json.dumps(ses))
    record.update(body=json.dumps(envelope), messageId=f"sqs-ses-{message_id}")
    return record


def test_500_sends_while_storage_fails_after_the_provider_call_none_accepted_ends_failed_none_sent_twice(
    aws, handler, tenant, send_queue, dlq_url, drain, kit, ses_wire, sent_emails, storm, monkeypatch
):
    """Stage 1, the storm: the queue drains; every message was handed to SES exactly once and none is
    FAILED. Stage 2, an operator redrives the DLQ after the visibility timeout (the jobs of the messages
    whose SENT and receipt were both lost, redelivered while their claim was fresh): they become
    UNCONFIRMED, never FAILED, and are not sent again; every other message is SENT with SES's MessageId.
    Stage 3, SES's Delivery events confirm the UNCONFIRMED ones SENT. In the end all 500 are SENT with their
    lookup item, one SES send each."""
    from parley import clock
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.domain import dispatch as dispatch_module
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    t, _ = tenant
    arn, url = send_queue
    ids = kit.seed_queued_emails(t, MESSAGES)
    storm.dead = set(ids[7::100])
    storm.outage = set(ids[::25]) | storm.dead

    handler(DISPATCHER)  # the function's declared environment
    monkeypatch.setenv("RECEIPT_DELAY_SECONDS", "0")  # moto would hold a delayed receipt back; the drain loop below must see it
    get_settings.cache_clear()
    module = import_handler(aws.function(DISPATCHER).code_dir)
    virtual = VirtualTime()
    monkeypatch.setattr(dispatch_module, "_sleep", virtual.sleep, raising=False)

    def dispatcher(event: dict[str, Any]) -> Any:
        storm.invocation += 1
        return module.lambda_handler(event, virtual.context())

    sqs = client("sqs")

    def drain_queue() -> int:
        invocations = 0
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not got:
                return invocations
            kit.invoke(dispatcher, sqs, url, [_sqs_record(m, arn) for m in got])
            invocations += 1
            assert invocations < 2_000, "the queue did not drain"

    kit.enqueue_bodies(url, [kit.job_body(t.id, mid) for mid in ids])
    drain_queue()

    # stage 1: never twice, never FAILED once SES had it
    assert ses_wire.calls == Counter(dict.fromkeys(ids, 1))
    assert ses_wire.accepted == Counter(dict.fromkeys(ids, 1))
    assert len(sent_emails()) == MESSAGES
    stored = _statuses(t.id, ids)
    assert len(stored) == MESSAGES
    assert not [mid for mid, m in stored.items() if m.status == MessageStatus.FAILED]
    waiting = {mid for mid, m in stored.items() if m.status != MessageStatus.SENT}
    for mid in set(ids) - waiting:
        assert stored[mid].provider_message_id == ses_wire.answers[mid], mid

    # stage 2: an operator redrives the DLQ once the claims are stale (moved, not copied)
    dead_jobs = drain(dlq_url)
    storm.on = False
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(seconds=get_settings().send_claim_seconds + 61))
    kit.enqueue_bodies(url, [m["Body"] for m in dead_jobs])
    for m in dead_jobs:
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
    drain_queue()
    stored = _statuses(t.id, ids)
    failed = [(mid, m.error) for mid, m in stored.items() if m.status == MessageStatus.FAILED]
    assert not failed, f"{len(failed)} messages SES accepted ended FAILED, e.g. {failed[:2]}"
    assert ses_wire.calls == Counter(dict.fromkeys(ids, 1)), "a message was sent twice"

    # what the storm did: faults of every kind, backoffs, outages carried by receipt jobs; only the
    # messages whose receipt was lost too waited for their redrive, and are now UNCONFIRMED
    assert set(storm.faults) == set(ERRORS), storm.faults
    assert storm.outage_faults >= len(storm.outage)
    assert virtual.waits > 100
    assert set(storm.receipts_refused) == storm.dead
    assert waiting == storm.dead
    assert sorted(json.loads(m["Body"])["message_id"] for m in dead_jobs) == sorted(storm.dead)
    assert {stored[mid].status for mid in storm.dead} == {MessageStatus.UNCONFIRMED}
    assert {m.status for mid, m in stored.items() if mid not in storm.dead} == {MessageStatus.SENT}

    # stage 3: SES reports deliveries (the unknown ones, the outages and a few others): the UNCONFIRMED
    # are confirmed SENT; the others just gain DELIVERED
    reported = sorted(storm.outage | storm.dead | set(ids[1:26]))
    records = [_ses_delivery(t.id, mid, ses_wire.answers[mid], ids.index(mid)) for mid in reported]
    ses_events = handler(SES_EVENTS)
    for start in range(0, len(records), 10):
        assert ses_events({"Records": records[start : start + 10]}) == {"batchItemFailures": []}
    stored = _statuses(t.id, ids)
    assert {m.status for m in stored.values()} == {MessageStatus.SENT}
    assert {stored[mid].delivery_status for mid in reported} == {"DELIVERED"}
    for mid in ids:
        assert stored[mid].provider_message_id == ses_wire.answers[mid]
        assert messages.find_by_provider_id(t.id, "ses", ses_wire.answers[mid]) == mid
    for mid in sorted(storm.outage | storm.dead):
        events = messages.get_with_events(t.id, mid)[1]
        assert [e.event for e in events].count("sent") == 1, mid
    assert len(sent_emails()) == MESSAGES and max(ses_wire.accepted.values()) == 1
    assert drain(url) == [] and drain(dlq_url) == []
