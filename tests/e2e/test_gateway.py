"""The local gateway's API Gateway / Lambda behaviours, on a fixture app (tests/fixtures/gateway)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from helpers import ROOT


@pytest.fixture(scope="module")
def gw() -> Iterator[object]:
    from parley_local.app import LocalStack

    stack = LocalStack(port=0, root_template=ROOT / "tests/fixtures/gateway/template.yaml").start()
    yield stack
    stack.stop()


def test_path_parameters_query_env_and_authorizer_context(gw):
    out = requests.get(f"{gw.api_url}/echo/42?x=1&x=2", headers={"Authorization": "allow"}, timeout=30)
    assert out.status_code == 200
    assert out.headers["X-Echo"] == "yes"
    body = out.json()
    assert body["resource"] == "/echo/{id}"
    assert body["pathParameters"] == {"id": "42"}
    assert body["query"] == {"x": "2"}  # API Gateway keeps the last value in the single-value map
    assert body["greeting"] == "hello from us-east-1"  # !Sub resolved from the template
    assert body["authorizer"]["tenantId"] == "t-1"
    assert body["authorizer"]["principalId"] == "user-1"


def test_greedy_proxy_and_any_method(gw):
    out = requests.post(f"{gw.api_url}/things/a/b/c", headers={"Authorization": "allow"}, data="payload", timeout=30)
    assert out.status_code == 200
    assert out.json()["pathParameters"] == {"proxy": "a/b/c"}
    assert out.json()["body"] == "payload"


def test_authorizer_outcomes(gw):
    assert requests.get(f"{gw.api_url}/echo/1", timeout=30).status_code == 401  # identity header missing
    assert requests.get(f"{gw.api_url}/echo/1", headers={"Authorization": "nope"}, timeout=30).status_code == 401
    denied = requests.get(f"{gw.api_url}/echo/1", headers={"Authorization": "deny"}, timeout=30)
    assert denied.status_code == 403
    assert denied.json() == {"message": "User is not authorized to access this resource"}
    assert requests.get(f"{gw.api_url}/echo/1", headers={"Authorization": "boom"}, timeout=30).status_code == 500
    assert requests.get(f"{gw.api_url}/open", timeout=30).status_code == 200  # Auth: Authorizer: NONE


def test_undeclared_route_is_api_gateways_missing_token_answer(gw):
    out = requests.get(f"{gw.api_url}/nowhere", headers={"Authorization": "allow"}, timeout=30)
    assert out.status_code == 403
    assert out.json() == {"message": "Missing Authentication Token"}


def test_function_url_gets_a_v2_event(gw):
    out = requests.post(f"{gw.api_url}/_url/HookFunction/inbound/sms?a=1", data="From=%2B1555", headers={"X-Signature": "sig"}, timeout=30)
    assert out.status_code == 202
    assert out.json() == {"version": "2.0", "path": "/inbound/sms", "query": "a=1", "body": "From=%2B1555", "signature": "sig"}
    assert requests.post(f"{gw.api_url}/_url/EchoFunction/", timeout=30).status_code == 404  # no URL declared


def test_sqs_partial_batch_failure_redrives_only_the_poison_to_the_dlq(gw):
    sqs = gw.prov.client("sqs")
    queue_url = gw.stack.root.ref("Queue")
    dlq_url = gw.stack.root.ref("DLQ")
    for body in ("ok-1", "poison", "ok-2"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    deadline = time.monotonic() + 45  # the poison is received twice, 5 s apart (the fixture's visibility timeout)
    dead: list[str] = []
    while time.monotonic() < deadline and not dead:
        dead = [m["Body"] for m in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])]
        time.sleep(0.3)
    assert dead == ["poison"]
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
