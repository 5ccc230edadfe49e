"""``moto_patches.fast_update_validation`` and ``cache_condition_lexing`` change how moto validates an
``UpdateExpression`` and lexes a ``ConditionExpression``, never what an update does: a corpus of updates (valid ones
of every action and function, conditions, and each kind of refusal) is run against moto as released and against
moto with the patches, each in its own interpreter; the items and errors must be the same.

The corpus runs twice over, so the second round takes the patch's "already passed" path for the expression-only
checks, on items that have changed since.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CORPUS = r"""
import json, os, sys
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
from moto import mock_aws
import boto3
from botocore.exceptions import ClientError

if sys.argv[1] == "patched":
    from parley_local import moto_patches
    moto_patches.cache_update_expressions()
    moto_patches.fast_update_validation()
    moto_patches.cache_condition_lexing()

N = {"#a": "a", "#b": "b", "#n": "n", "#l": "l", "#m": "m", "#s": "s", "#pk": "PK", "#sk": "SK", "#x": "x"}
UPDATES = [
    ("SET #a = :s, #b = :n", None),
    ("SET #n = #n + :n", None),
    ("SET #n = #n - :n, #x = if_not_exists(#x, :s)", None),
    ("SET #l = list_append(if_not_exists(#l, :empty), :list)", None),
    ("SET #l[0] = :s", None),
    ("REMOVE #l[1], #l[0]", None),
    ("SET #m = :map", None),
    ("SET #m.#a = :n, #m.inner.deep = :s", None),
    ("SET #m.inner = :map", None),
    ("SET #m.inner.deep = :s", None),
    ("ADD #n :n, #s :set", None),
    ("DELETE #s :one", None),
    ("REMOVE #a, #b", None),
    ("SET #a = :s REMOVE #x ADD #n :n", None),
    ("ADD #n :n", "attribute_exists(PK)"),
    ("SET #a = :s", "#n > :big"),
    ("SET #x = :s", "attribute_not_exists(#a) OR #n < :big"),
    ("SET #x = :n", "size(#l) > :n AND #n BETWEEN :n AND :big"),
    ("SET #x = :s", "#b IN (:s, :n) OR begins_with(#a, :s)"),
    ("SET #x = :s", "contains(#s, :one) AND NOT (#n = :big)"),
    ("SET #x = :s", "#n = "),  # a condition that does not parse
    ("SET #x = :s", "attribute_exists("),
    ("SET #x = :s", "#n <> :undefined"),
    ("SET #a = :s SET #b = :s", None),  # two SET clauses
    ("ADD #n :n ADD #x :n", None),  # two ADD clauses
    ("SET #a = :s, #a = :n", None),  # the same path twice
    ("SET #m = :map, #m.#a = :n", None),  # overlapping paths
    ("SET #pk = :s", None),  # a key attribute
    ("SET #sk = :s", None),
    ("SET #undefined = :s", None),
    ("SET #a = :undefined", None),
    ("ADD #a :n", None),  # ADD a number to a string
    ("SET #n = #n + :s", None),  # arithmetic on a string
    ("SET #nope.deeper = :s", None),  # a path into nothing
    ("SET #l[9] = :s", None),
    ("SET size = :s", None),  # a reserved word
    ("SET #a = :empty_string", None),
    ("DELETE #s :n", None),  # DELETE with a non-set
]
V = {":s": {"S": "text"}, ":n": {"N": "2"}, ":big": {"N": "1000"}, ":empty": {"L": []},
     ":list": {"L": [{"S": "one"}, {"N": "2"}, {"M": {"k": {"S": "v"}}}]},
     ":map": {"M": {"inner": {"M": {"deep": {"N": "1"}}}, "a": {"S": "x"}}},
     ":set": {"SS": ["p", "q"]}, ":one": {"SS": ["p"]}, ":empty_string": {"S": ""}}

out = []
with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    for round_ in range(2):
        for key in ("existing", "new"):
            pk = {"PK": {"S": f"{key}{round_}"}, "SK": {"S": "x"}}
            if key == "existing":
                c.put_item(TableName="t", Item={**pk, "n": {"N": "5"}, "b": {"S": "keep"}})
            for expr, cond in UPDATES:
                names = {k: v for k, v in N.items() if k in expr or (cond and k in cond)}
                values = {k: v for k, v in V.items() if k in expr or (cond and k in cond)}
                kwargs = dict(TableName="t", Key=pk, UpdateExpression=expr, ReturnValues="ALL_NEW")
                if names:
                    kwargs["ExpressionAttributeNames"] = names
                if values:
                    kwargs["ExpressionAttributeValues"] = values
                if cond:
                    kwargs["ConditionExpression"] = cond
                try:
                    got = c.update_item(**kwargs).get("Attributes")
                    out.append([expr, "ok", got])
                except ClientError as err:
                    out.append([expr, err.response["Error"]["Code"], err.response["Error"]["Message"]])
                except Exception as err:  # moto itself fails on some bad input (e.g. KeyError on an undefined name)
                    out.append([expr, "raised", type(err).__name__, str(err)])
                # transactions take the same path
                tx = {k: v for k, v in kwargs.items() if k != "ReturnValues"}
                try:
                    c.transact_write_items(TransactItems=[{"Update": tx}])
                    out.append([expr, "tx ok"])
                except ClientError as err:
                    out.append([expr, "tx " + err.response["Error"]["Code"], err.response["Error"]["Message"]])
                except Exception as err:
                    out.append([expr, "tx raised", type(err).__name__, str(err)])
                out.append(c.get_item(TableName="t", Key=pk).get("Item"))
print(json.dumps(out, sort_keys=True, default=str))
"""


def run(mode: str) -> list:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/common"), str(ROOT / "local")])}
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(var, None)
    done = subprocess.run([sys.executable, "-c", CORPUS, mode], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def results() -> tuple[list, list]:
    return run("moto"), run("patched")


def test_every_update_of_the_corpus_gives_the_same_item_and_the_same_error(results: tuple[list, list]) -> None:
    plain, patched = results
    assert len(plain) == len(patched)
    for i, (a, b) in enumerate(zip(plain, patched, strict=True)):
        assert a == b, f"entry {i}: moto {a!r} != patched {b!r}"


def test_the_corpus_covers_successes_and_each_kind_of_refusal(results: tuple[list, list]) -> None:
    """So that the comparison above can fail: both outcomes occur, and several distinct refusals."""
    plain, _ = results
    outcomes = [e[1] for e in plain if isinstance(e, list) and len(e) >= 2 and isinstance(e[1], str)]
    assert outcomes.count("ok") >= 20
    messages = {e[2] for e in plain if isinstance(e, list) and len(e) == 3 and e[1] not in ("ok",) and isinstance(e[2], str)}
    assert len(messages) >= 8, messages
