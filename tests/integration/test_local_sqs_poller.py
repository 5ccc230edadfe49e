"""The local stack's SQS event sources (parley_local.workers.SqsPoller) on in-process moto: what Lambda's pollers do —
batches as Lambda's SQS event, partial batch failures left on the queue, redrive to the DLQ — read in-process."""

from __future__ import annotations

import json
import threading
from typing import Any

from helpers import RecordingPool as Recorder
from parley_local.invoke import InvokeResult
from parley_local.templates import ACCOUNT, REGION
from parley_local.workers import SqsPoller


def _dispatcher_source(stack: Any) -> Any:
    return next(s for s in stack.sqs_sources if s.function.logical_id == "DispatcherFunction")


def _poller(stack: Any, pool: Any) -> SqsPoller:
    from parley_local.stack import Provisioner

    return SqsPoller(Provisioner(None), stack, pool, _dispatcher_source(stack), threading.Event())


def _sqs(stack: Any) -> tuple[Any, str]:
    import boto3

    source = _dispatcher_source(stack)
    return boto3.client("sqs", region_name=REGION), stack.queues[source.queue_arn]


def _depth(sqs: Any, url: str) -> tuple[int, int]:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_a_batch_is_lambdas_sqs_event_and_is_deleted_once_handled(aws: Any) -> None:
    sqs, url = _sqs(aws)
    for n in range(3):
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"n": n}), MessageAttributes={"kind": {"DataType": "String", "StringValue": "job"}}
        )
    pool = Recorder()

    assert _poller(aws, pool).poll_once() == 3

    (event,) = pool.events
    records = event["Records"]
    assert sorted(json.loads(r["body"])["n"] for r in records) == [0, 1, 2]
    first = records[0]
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}"
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(first["attributes"]["SentTimestamp"]) > 0
    assert first["messageAttributes"]["kind"]["stringValue"] == "job"
    assert first["messageAttributes"]["kind"]["dataType"] == "String"
    assert first["md5OfBody"] and first["receiptHandle"] and first["messageId"]
    assert _depth(sqs, url) == (0, 0)  # all deleted


def test_reported_failures_stay_on_the_queue_and_the_rest_are_deleted(aws: Any) -> None:
    sqs, url = _sqs(aws)
    for n in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))

    def fail_odd(event: dict[str, Any]) -> InvokeResult:
        failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if json.loads(r["body"])["n"] % 2]
        return InvokeResult(ok=True, payload={"batchItemFailures": failed})

    assert _poller(aws, Recorder(fail_odd)).poll_once() == 4
    assert _depth(sqs, url) == (0, 2)  # the two failures wait out their visibility timeout; the others are gone


def test_a_failed_invocation_leaves_the_whole_batch_and_redrive_moves_it_to_the_dlq(aws: Any) -> None:
    sqs, url = _sqs(aws)
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    dlq = sqs.get_queue_url(QueueName=policy["deadLetterTargetArn"].rsplit(":", 1)[-1])["QueueUrl"]
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[ACCOUNT][REGION].get_queue(url.rsplit("/", 1)[-1])
    pool = Recorder(lambda event: InvokeResult(ok=False, error_type="Runtime.Crash", error_message="boom"))
    poller = _poller(aws, pool)

    for _ in range(policy["maxReceiveCount"]):
        assert poller.poll_once() == 1
        for message in queue._messages:
            message.visible_at = 0  # its visibility timeout has passed
    assert poller.poll_once() == 0  # received maxReceiveCount times: moved, not delivered again

    assert len(pool.events) == policy["maxReceiveCount"]
    assert _depth(sqs, url) == (0, 0)
    assert _depth(sqs, dlq)[0] == 1


def test_each_source_runs_several_pollers_capped_by_scaling_config(aws: Any) -> None:
    """Lambda polls a queue with several pollers at once (ScalingConfig.MaximumConcurrency caps them)."""
    assert all(1 <= s.pollers <= 5 for s in aws.sqs_sources)
    assert _dispatcher_source(aws).pollers == 5


def test_retention_is_still_honoured(aws: Any) -> None:
    """The in-process retention check (moto_patches.patch_sqs_retention) drops what outlived the queue's retention."""
    from moto.sqs.models import sqs_backends

    from parley_local import moto_patches

    moto_patches.patch_sqs_retention()
    sqs, url = _sqs(aws)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    backend = sqs_backends[ACCOUNT][REGION]
    name = url.rsplit("/", 1)[-1]
    (message,) = backend.get_queue(name)._messages
    assert backend.is_message_valid_based_on_retention_period(name, message)
    message.sent_timestamp -= (int(backend.get_queue(name).message_retention_period) + 1) * 1000
    assert not backend.is_message_valid_based_on_retention_period(name, message)
    assert _poller(aws, Recorder()).poll_once() == 0
