"""The local stack's DynamoDB stream event sources (parley_local.workers.StreamPoller, parley_local.streams) on
in-process moto: the table's changes in order as Lambda's DynamoDB event, partial failures retried from the
reported record, the on-failure destination after the retries, records kept until every reader is done with them,
and no record for a transaction that was cancelled."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from helpers import RecordingPool as Recorder
from parley_local.invoke import InvokeResult
from parley_local.streams import StreamReader
from parley_local.templates import REGION
from parley_local.workers import StreamPoller


def _source(stack: Any) -> Any:
    return next(s for s in stack.stream_sources if s.function.logical_id == "TallyFunction")


def _poller(stack: Any, pool: Any, **changes: Any) -> StreamPoller:
    from dataclasses import replace

    from parley_local.stack import Provisioner

    return StreamPoller(Provisioner(None), stack, pool, replace(_source(stack), **changes), threading.Event())


def _ddb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def _put(stack: Any, pk: str, sk: str = "MSG", **attrs: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}
    _ddb().put_item(TableName=stack.table_names[0], Item=item)


def test_the_tally_function_is_declared_on_the_tables_stream(aws: Any) -> None:
    source = _source(aws)
    assert source.stream_arn.split(":table/")[1].startswith(aws.table_names[0] + "/stream/")
    assert source.report_failures and source.batch_size == 500 and source.max_retries == 100
    assert source.on_failure_arn in aws.queues


def test_filter_patterns_as_lambda_reads_them(aws: Any) -> None:
    from parley_local.streams import check_pattern, matches

    pattern = {"dynamodb": {"Keys": {"SK": {"S": ["MSG", {"prefix": "HIST#"}]}}}}
    rec = {"dynamodb": {"Keys": {"SK": {"S": "HIST#1762348041004#x"}}}}
    assert matches(pattern, rec) and not matches(pattern, {"dynamodb": {"Keys": {"SK": {"S": "STATE"}}}})
    assert not matches(pattern, {"dynamodb": {}})
    with pytest.raises(ValueError):
        check_pattern({"dynamodb": {"Keys": {"SK": {"S": [{"anything-but": "X"}]}}}})
    assert _source(aws).filters  # the template's FilterCriteria reached the local event source


def test_changes_arrive_in_order_as_lambdas_dynamodb_event(aws: Any) -> None:
    pool = Recorder()
    poller = _poller(aws, pool)
    _put(aws, "A#1", v="one")
    _put(aws, "A#1", v="two")
    _put(aws, "A#2", sk="X")  # not a message: TallyFunction's FilterCriteria leaves it out
    _ddb().delete_item(TableName=aws.table_names[0], Key={"PK": {"S": "A#1"}, "SK": {"S": "MSG"}})
    assert poller.poll_once() == 3
    (event,) = pool.events  # the filtered-out write did not reach the function
    recs = event["Records"]
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"] == _source(aws).stream_arn for r in recs)
    assert recs[1]["dynamodb"]["OldImage"]["v"] == {"S": "one"} and recs[1]["dynamodb"]["NewImage"]["v"] == {"S": "two"}
    assert "NewImage" not in recs[2]["dynamodb"] and recs[2]["dynamodb"]["Keys"] == {"PK": {"S": "A#1"}, "SK": {"S": "MSG"}}
    assert json.loads(json.dumps(event)) == event  # what travels to the function's worker process as JSON
    assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int) for r in recs)  # epoch seconds
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert poller.poll_once() == 0  # done with: not delivered again
    assert poller.settle(timeout=1)


def test_a_reported_failure_is_retried_from_that_record_then_given_up_to_the_dlq(aws: Any) -> None:
    for n in range(4):
        _put(aws, f"B#{n}")
    stop_at: dict[str, str] = {}

    def answer(event: dict[str, Any]) -> InvokeResult:
        third = event["Records"][2]["dynamodb"]["SequenceNumber"] if len(event["Records"]) > 2 else None
        stop_at.setdefault("seq", third or "")
        return InvokeResult(ok=True, payload={"batchItemFailures": [{"itemIdentifier": stop_at["seq"]}]})

    pool = Recorder(answer)
    poller = _poller(aws, pool, max_retries=1)
    poller.stop.wait = lambda *_: False  # no backoff in the test
    assert poller.poll_once() == 4
    assert poller.poll_once() == 2  # from the reported record on
    sqs = boto3.client("sqs", region_name=REGION)
    url = aws.queues[_source(aws).on_failure_arn]
    (msg,) = sqs.receive_message(QueueUrl=url).get("Messages", [])
    info = json.loads(msg["Body"])["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == stop_at["seq"] and info["batchSize"] == 2
    assert poller.poll_once() == 0  # given up on: moved past
    assert [len(e["Records"]) for e in pool.events] == [4, 2]


def test_a_function_error_retries_the_same_batch(aws: Any) -> None:
    _put(aws, "C#1")
    answers = iter([InvokeResult(ok=False, error_type="Boom", error_message="no"), InvokeResult(ok=True, payload={})])
    pool = Recorder(lambda event: next(answers))
    poller = _poller(aws, pool)
    poller.stop.wait = lambda *_: False
    assert poller.poll_once() == 1 and poller.poll_once() == 1 and poller.poll_once() == 0
    assert pool.events[0] == pool.events[1]


def test_records_stay_until_every_reader_is_done_with_them(aws: Any) -> None:
    arn = _source(aws).stream_arn
    fast, slow = StreamReader(arn), StreamReader(arn)
    try:
        _put(aws, "D#1", sk="X")
        _put(aws, "D#2", sk="X")
        got = fast.read(10)
        fast.finish(int(got[-1]["dynamodb"]["SequenceNumber"]) + 1)
        assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in slow.read(10)] == ["D#1", "D#2"]
    finally:
        fast.close()
        slow.close()


def test_a_cancelled_transaction_leaves_no_stream_record(aws: Any) -> None:
    from botocore.exceptions import ClientError

    reader = StreamReader(_source(aws).stream_arn)
    try:
        name = aws.table_names[0]
        with pytest.raises(ClientError):
            _ddb().transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": {"PK": {"S": "E#1"}, "SK": {"S": "X"}}}},
                    {
                        "Put": {
                            "TableName": name,
                            "Item": {"PK": {"S": "E#2"}, "SK": {"S": "X"}},
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    },
                ]
            )
        assert reader.read(10) == []
        assert "Item" not in _ddb().get_item(TableName=name, Key={"PK": {"S": "E#1"}, "SK": {"S": "X"}})
    finally:
        reader.close()
