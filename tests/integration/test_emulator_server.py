"""The emulator's HTTP server (``moto_patches.apply``): its DynamoDB front (``dynamodb_front``), its parameter parsing
(``fast_dynamodb_parameters``) and keep-alive with ``TCP_NODELAY`` answer a DynamoDB client exactly as moto's own
server does.

A corpus of calls — every attribute type (blobs and blob sets included, and an attribute named ``B``), conditions
that fail, a cancelled transaction, an index query, unknown tables, a body that is not JSON, a ``null`` member, an
unknown member — is made against moto's server as released and against the patched one, each in its own
interpreter; statuses and bodies must be the same (request ids aside).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVER = r"""
import os, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
if sys.argv[1] == "patched":
    from parley_local import moto_patches
    moto_patches.apply()
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server._server.server_port, flush=True)
sys.stdin.read()
"""

B64 = base64.b64encode(b"\x00\xffbinary").decode()
ITEM = {
    "PK": {"S": "p#1"}, "SK": {"S": "s#1"}, "G": {"S": "g"}, "GS": {"S": "2026-12-07T00:00:00.000Z"},
    "str": {"S": "héllo"}, "num": {"N": "12.50"}, "bin": {"B": B64}, "bins": {"BS": [B64, base64.b64encode(b"x").decode()]},
    "strs": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2.5"]}, "flag": {"BOOL": True}, "nothing": {"NULL": True},
    "B": {"S": "an attribute named B"}, "BS": {"M": {"B": {"B": B64}}},
    "map": {"M": {"deep": {"L": [{"S": "x"}, {"N": "1"}, {"B": B64}, {"M": {}}]}}},
}  # fmt: skip
KEY = {"PK": {"S": "p#1"}, "SK": {"S": "s#1"}}
TABLE = {
    "TableName": "t",
    "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "G", "GS")],
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "GSI1",
            "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "GS", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}
CALLS: list[tuple[str, Any]] = [
    ("CreateTable", TABLE),
    ("PutItem", {"TableName": "t", "Item": ITEM}),
    ("GetItem", {"TableName": "t", "Key": KEY}),
    ("GetItem", {"TableName": "t", "Key": KEY, "ProjectionExpression": "#b, bins, map.deep[2]", "ExpressionAttributeNames": {"#b": "B"}}),
    ("UpdateItem", {"TableName": "t", "Key": KEY, "UpdateExpression": "SET bin = :b ADD bins :bs, num :n",
                    "ExpressionAttributeValues": {":b": {"B": base64.b64encode(b"new").decode()},
                                                  ":bs": {"BS": [base64.b64encode(b"y").decode()]}, ":n": {"N": "1"}},
                    "ReturnValues": "ALL_NEW"}),
    ("UpdateItem", {"TableName": "t", "Key": KEY, "UpdateExpression": "SET str = :s", "ConditionExpression": "num > :big",
                    "ExpressionAttributeValues": {":s": {"S": "x"}, ":big": {"N": "100"}}}),
    ("PutItem", {"TableName": "t", "Item": {**KEY, "SK": {"S": "s#2"}, "G": {"S": "g"}, "GS": {"S": "2026-12-07T00:00:01.000Z"}}}),
    ("Query", {"TableName": "t", "IndexName": "GSI1", "KeyConditionExpression": "G = :g", "ExpressionAttributeValues": {":g": {"S": "g"}},
               "ScanIndexForward": False, "Limit": 1}),
    ("Query", {"TableName": "t", "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
               "ExpressionAttributeValues": {":p": {"S": "p#1"}, ":s": {"S": "s#"}}, "ExclusiveStartKey": KEY}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [KEY, {"PK": {"S": "p#1"}, "SK": {"S": "none"}}]}}}),
    ("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": {"PK": {"S": "p#3"}, "SK": {"S": "s"}, "b": {"B": B64}}}},
        {"Update": {"TableName": "t", "Key": KEY, "UpdateExpression": "ADD num :n", "ExpressionAttributeValues": {":n": {"N": "2"}}}},
    ]}),
    ("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": {"PK": {"S": "p#4"}, "SK": {"S": "s"}}}},
        {"ConditionCheck": {"TableName": "t", "Key": KEY, "ConditionExpression": "attribute_not_exists(PK)"}},
    ]}),
    ("GetItem", {"TableName": "t", "Key": {"PK": {"S": "p#4"}, "SK": {"S": "s"}}}),
    ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "t", "Key": KEY}},
                                            {"Get": {"TableName": "t", "Key": {"PK": {"S": "p#3"}, "SK": {"S": "s"}}}}]}),
    ("GetItem", {"TableName": "missing", "Key": KEY}),
    ("GetItem", {"TableName": "t", "Key": KEY, "ReturnConsumedCapacity": None}),  # a null member
    ("GetItem", {"TableName": "t", "Key": KEY, "NotAMember": 1}),  # an unknown member
    ("DeleteItem", {"TableName": "t", "Key": KEY, "ReturnValues": "ALL_OLD"}),
    # the item size limit (moto's: 405,000 bytes, names included), from both sides, and through an update
    ("PutItem", {"TableName": "t", "Item": {"PK": {"S": "big"}, "SK": {"S": "s"}, "a": {"S": "x" * 200_000}, "b": {"S": "y" * 204_980}}}),
    ("PutItem", {"TableName": "t", "Item": {"PK": {"S": "big"}, "SK": {"S": "t"}, "a": {"S": "x" * 200_000}, "b": {"S": "y" * 204_999}}}),
    ("UpdateItem", {"TableName": "t", "Key": {"PK": {"S": "big"}, "SK": {"S": "s"}}, "UpdateExpression": "SET c = :c",
                    "ExpressionAttributeValues": {":c": {"S": "z" * 100}}}),
    ("GetItem", {"TableName": "t", "Key": {"PK": {"S": "big"}, "SK": {"S": "t"}}, "ProjectionExpression": "PK"}),
    ("GetItem", b"{not json"),
    ("DescribeTable", {"TableName": "t"}),
]  # fmt: skip
VOLATILE = ("CreationDateTime", "LatestStreamLabel", "LatestStreamArn", "TableId", "LastDecreaseDateTime", "LastIncreaseDateTime")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "local"), str(ROOT / "layers" / "common")])}
    logs = tmp_path_factory.mktemp("emulator")  # the servers' stderr (moto logs the corpus's 500 there)
    procs = {
        kind: subprocess.Popen(
            [sys.executable, "-c", SERVER, kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(logs / f"{kind}.log").open("wb"),
            env=env,
        )
        for kind in ("released", "patched")
    }
    try:
        ports = {kind: int(proc.stdout.readline()) for kind, proc in procs.items()}  # type: ignore[union-attr]
        yield ports
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait(30)


def _call(conn: http.client.HTTPConnection, operation: str, body: Any) -> http.client.HTTPResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    }
    conn.request("POST", "/", body=data, headers=headers)
    return conn.getresponse()


def _scrub(value: Any) -> Any:
    """Without what differs between two servers (table ids, times), and sets in one order (they have none)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("SS", "NS", "BS"):
        return {k: sorted(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _answers(port: int) -> list[tuple[int, Any]]:
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for operation, body in CALLS:
        response = _call(conn, operation, body)
        raw = response.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode()
        out.append((response.status, _scrub(parsed)))
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return out


def test_the_patched_server_answers_dynamodb_as_moto_does(servers: dict[str, int]) -> None:
    released, patched = _answers(servers["released"]), _answers(servers["patched"])
    for (operation, _), theirs, ours in zip(CALLS, released, patched, strict=True):
        if theirs[0] >= 500:  # moto fails on a body that is not JSON: werkzeug's HTML page there, a JSON error here
            assert ours[0] == theirs[0] and ours[1]["__type"].endswith("InternalServerError"), operation
            continue
        assert ours == theirs, operation
    statuses = [status for status, _ in patched]
    assert statuses.count(200) >= 15 and 400 in statuses  # the corpus has both kinds (a check on the check)
    item = patched[2][1]["Item"]
    assert item["bin"] == {"B": B64} and item["B"] == {"S": "an attribute named B"}  # blobs came back as they went in


def test_dynamodb_calls_take_the_front_and_the_connection_serves_other_services_after(servers: dict[str, int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", servers["patched"], timeout=30)
    response = _call(conn, "DescribeTable", {"TableName": "t"})
    response.read()
    assert response.status == 200
    assert not any("Werkzeug" in v for v in response.headers.get_all("Server") or [])  # not werkzeug's WSGI answer
    assert response.getheader("Connection", "").lower() != "close"
    sqs = "AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
    conn.request(
        "POST", "/", body=b"Action=ListQueues", headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": sqs}
    )
    other = conn.getresponse()
    assert other.status == 200 and b"ListQueues" in other.read()
    response = _call(conn, "GetItem", {"TableName": "t", "Key": {"PK": {"S": "p#3"}, "SK": {"S": "s"}}})
    assert response.status == 200 and json.loads(response.read())["Item"]["b"] == {"B": B64}
    conn.close()


def test_keep_alive_connections_set_tcp_nodelay() -> None:
    """An answer is written as headers, then body: without TCP_NODELAY the body waited ~40 ms for the client's delayed
    ACK on every keep-alive request (3.9 requests/s for one client of the local stack; 14 with it)."""
    from werkzeug.serving import make_server

    from parley_local.keepalive import KeepAliveRequestHandler

    seen: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["werkzeug.socket"].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        for _ in range(2):
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"ok"
        conn.close()
    finally:
        server.shutdown()
    assert seen and all(seen), seen
