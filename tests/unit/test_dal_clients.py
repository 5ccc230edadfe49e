"""The DAL's AWS plumbing without boto3: attribute values as boto3's TypeSerializer/TypeDeserializer make them,
and FastLoader loading what botocore's Loader loads (parley.dal.aws, parley.dal.table)."""

import subprocess
import sys
from decimal import Decimal, Inexact, Rounded

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader

from parley.dal import aws, table

SAMPLES = [
    None,
    True,
    False,
    0,
    -7,
    10**37,
    Decimal("12.50"),
    Decimal("1E+2"),
    "",
    "héllo",
    b"\x00\x01",
    {"a", "b"},
    {1, 2, Decimal("2.5")},
    {b"x", b"y"},
    [1, "two", None, [True], {"k": Decimal("0.1")}],
    {"nested": {"list": [1, {"deep": "x"}], "set": {"s"}}, "n": 3},
    (1, 2),
]


def _ids(values):  # stable across processes (a set's repr is not: string hashing is randomised)
    return [f"{i}-{type(v).__name__}" for i, v in enumerate(values)]


@pytest.mark.parametrize("value", SAMPLES, ids=_ids(SAMPLES))
def test_attribute_is_what_boto3_serializes(value):
    assert table.attribute(value) == _sorted_sets(TypeSerializer().serialize(value), table.attribute(value))


def _sorted_sets(expected, got):
    """Sets have no order: compare SS/NS/BS members in the order ``got`` has them."""
    if isinstance(expected, dict) and isinstance(got, dict) and expected.keys() == got.keys():
        kind = next(iter(expected)) if len(expected) == 1 else None
        if kind in ("SS", "NS", "BS") and sorted(map(str, expected[kind])) == sorted(map(str, got[kind])):
            return got
        return {k: _sorted_sets(expected[k], got[k]) for k in expected}
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [_sorted_sets(e, g) for e, g in zip(expected, got, strict=True)]
    return expected


def test_floats_are_numbers_as_written():
    assert table.attribute(12.5) == {"N": "12.5"}
    assert table.attribute({"x": [0.1]}) == {"M": {"x": {"L": [{"N": "0.1"}]}}}
    assert table.values(a=1.25, b="s") == {":a": {"N": "1.25"}, ":b": {"S": "s"}}


@pytest.mark.parametrize(
    "bad", [float("inf"), float("nan"), Decimal("Infinity"), object(), {1, "a"}], ids=["inf", "nan", "decimal-inf", "object", "mixed-set"]
)
def test_what_dynamodb_cannot_hold_is_refused(bad):
    with pytest.raises(TypeError):
        table.attribute(bad)


def test_numbers_beyond_dynamodbs_precision_are_refused_as_boto3_refuses_them():
    for too_long in (10**40 + 1, Decimal("1." + "1" * 40)):
        with pytest.raises((Inexact, Rounded)):
            TypeSerializer().serialize(too_long)
        with pytest.raises((Inexact, Rounded)):
            table.attribute(too_long)


ROUND_TRIPS = [v for v in SAMPLES if not isinstance(v, bytes | tuple)]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=_ids(ROUND_TRIPS))
def test_plain_is_boto3s_deserializer_with_plain_numbers(value):
    stored = TypeSerializer().serialize(value)
    assert table.plain(stored) == _numbers_plain(TypeDeserializer().deserialize(stored))


def _numbers_plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_plain(v) for v in value]
    if isinstance(value, set):
        return {_numbers_plain(v) for v in value}
    return value


def test_marshal_round_trip_drops_top_level_none():
    item = {"PK": "T#1", "SK": "M#2", "count": 3, "ratio": 0.5, "gone": None, "tags": {"a"}, "doc": {"x": None}}
    assert table.unmarshal(table.marshal(item)) == {"PK": "T#1", "SK": "M#2", "count": 3, "ratio": 0.5, "tags": {"a"}, "doc": {"x": None}}
    assert table.plain({"B": b"\x01"}) == b"\x01" and table.plain({"BS": [b"a"]}) == {b"a"}


SERVICES = ["dynamodb", "sqs", "s3", "scheduler", "secretsmanager", "sesv2", "sns", "cloudformation", "sts"]


@pytest.mark.parametrize("service", SERVICES)
def test_fast_loader_loads_what_botocore_loads(service):
    fast, plain = aws.FastLoader(), Loader()
    for kind in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
        expected = _outcome(plain.load_service_model, service, kind)
        assert _outcome(fast.load_service_model, service, kind) == expected
        assert _outcome(fast.load_service_model, service, kind) == expected  # cached: extras are merged once


def test_fast_loader_fails_as_botocore_does():
    fast, plain = aws.FastLoader(), Loader()
    for args in (("no-such-service", "service-2"), ("dynamodb", "no-such-type-1"), ("dynamodb", "service-2", "1999-01-01")):
        with pytest.raises((UnknownServiceError, DataNotFoundError)) as expected:
            plain.load_service_model(*args)
        with pytest.raises(expected.type) as got:
            fast.load_service_model(*args)
        assert str(got.value) == str(expected.value)


def test_fast_loader_does_not_list_every_service(monkeypatch):
    def listing(*_args, **_kwargs):
        raise AssertionError("listed every service")

    fast = aws.FastLoader()
    monkeypatch.setattr(fast, "list_available_services", listing)
    assert fast.load_service_model("dynamodb", "service-2")["metadata"]["endpointPrefix"] == "dynamodb"


def _outcome(load, *args):
    try:
        return load(*args)
    except (UnknownServiceError, DataNotFoundError) as exc:
        return repr(exc)


def test_the_dal_does_not_import_boto3():
    """A function's DAL is botocore only (boto3's import costs 40-70 ms of cold start, for its transfer manager)."""
    code = (
        "import sys\n"
        "from parley.dal import aws, table, messages, optins, tallies, queue, schedules\n"
        "aws.client('dynamodb'); aws.client('sqs')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer')))\n"
    )
    env = {"AWS_DEFAULT_REGION": "eu-west-1", "PATH": "", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"
