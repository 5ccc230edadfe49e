"""SnapStart runtime hooks (parley.snapstart, docs/architecture.md §3.1), with a fake ``snapshot_restore_py``: the
Lambda Python runtime provides that module; it is not installed here."""

from __future__ import annotations

import random
import sys
from typing import Any

import pytest

from helpers import Context, FakeHooks
from parley import snapstart
from parley.api import endpoint as endpoint_mod
from parley.api.endpoint import Api


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> FakeHooks:
    fake = FakeHooks()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    monkeypatch.setattr(snapstart, "_hooked", False)
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from parley.settings import get_settings

    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


def test_without_the_runtime_module_nothing_is_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ImportError, as outside Lambda
    assert snapstart.register(services=("dynamodb",)) is False
    assert snapstart.register_hook(lambda: None) is False


def test_register_primes_settings_clients_and_models_before_the_snapshot(hooks, monkeypatch):
    from pydantic_core import SchemaValidator

    from parley.domain.context import Caller
    from parley.models.domain import SendJob
    from parley.settings import get_settings

    primed: list[list[str]] = []
    monkeypatch.setattr("parley.dal.aws.prime", lambda services: primed.append(list(services)))
    ran: list[str] = []

    assert snapstart.register(services=("dynamodb", "sqs"), models=(SendJob,), then=lambda: ran.append("then"))
    assert len(hooks.before) == 1 and len(hooks.after) == 1
    assert primed == [] and ran == [], "nothing runs at registration (import time)"

    hooks.snapshot()
    assert primed == [["dynamodb", "sqs"]]
    assert ran == ["then"]
    assert get_settings.cache_info().currsize == 1
    for model in (Caller, SendJob):
        assert isinstance(model.__pydantic_validator__, SchemaValidator), f"{model.__name__}: validator not built"

    # a second registration adds its own priming, never a second after-restore hook
    snapstart.register(services=("s3",))
    assert len(hooks.before) == 2 and len(hooks.after) == 1


def test_phone_parser_is_primed_only_where_phone_numbers_are_handled(hooks, monkeypatch):
    import parley.domain.phones  # noqa: F401 (its import is what marks a function as handling phone numbers)
    from parley.models import phones

    calls: list[str] = []
    monkeypatch.setattr(phones, "prime", lambda: calls.append("phones"))
    snapstart.prime()
    assert calls == ["phones"]
    monkeypatch.delitem(sys.modules, "parley.domain.phones")
    snapstart.prime()
    assert calls == ["phones"]


def test_after_restore_reseeds_random(hooks):
    snapstart.register()
    random.seed(1234)  # as if the snapshot was taken here: every restored environment would continue from it
    continued = [random.random() for _ in range(4)]
    random.seed(1234)
    hooks.restore()
    assert [random.random() for _ in range(4)] != continued


def test_aws_prime_loads_client_models_without_credentials_or_a_connection(monkeypatch):
    """Under SnapStart the credentials come from the container credentials endpoint: resolving them before the
    snapshot would be a network call. ``aws.prime`` builds unsigned clients only: no credentials, no connection."""
    import socket

    import boto3
    import botocore.credentials

    from parley.dal import aws

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/credentials")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a fresh default session, with the environment above

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network connection during priming")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(botocore.credentials.CredentialResolver, "load_credentials", refuse)
    aws.prime(["dynamodb", "s3", "sqs", "scheduler", "secretsmanager", "sesv2", "sns", "dynamodb"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


# ── endpoints: the function primes the one endpoint Lambda's _HANDLER names ──


def test_an_endpoint_function_primes_only_its_own_endpoint(hooks, monkeypatch):
    monkeypatch.setattr(endpoint_mod, "_snapstart_registered", False)
    monkeypatch.setattr(endpoint_mod, "_ENDPOINTS", [])
    services: list[list[str]] = []
    monkeypatch.setattr("parley.dal.aws.prime", lambda s: services.append(list(s)))

    api = Api("ats")

    @api.get("/things/<thing_id>", summary="A thing", access=("table:read", "bodies:read"))
    def get_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @api.post("/things", summary="Make a thing", access=("table:write", "send-queue"))
    def make_thing() -> dict[str, str]:
        return {}

    assert len(hooks.before) == 1, "one before-snapshot hook per process, however many endpoints are declared"
    module = __name__.rsplit(".", 1)[-1]  # what Lambda's _HANDLER would say for a function in this file
    monkeypatch.setenv("_HANDLER", f"{module}.get_thing")
    hooks.snapshot()

    assert get_thing._handler is not None and make_thing._handler is None
    assert services == [["dynamodb", "s3"]]
    (route,) = get_thing._app._dynamic_routes
    assert route._dependant is not None, "the route's validators are built before the snapshot"
    # the primed handler answers as a cold one would
    out = get_thing(_event("/things/t-1", "GET", "/things/{thing_id}", {"thing_id": "t-1"}), Context())
    assert out["statusCode"] == 200, out


def test_a_handler_naming_no_endpoint_primes_nothing(hooks, monkeypatch):
    monkeypatch.setattr(endpoint_mod, "_snapstart_registered", False)
    monkeypatch.setattr(endpoint_mod, "_ENDPOINTS", [])
    api = Api("ats")

    @api.get("/things", summary="Things")
    def things() -> list[str]:
        return []

    monkeypatch.setenv("_HANDLER", "elsewhere.things")
    hooks.snapshot()
    assert things._handler is None


def _event(path: str, method: str, resource: str, params: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params,
        "requestContext": {"requestId": "r-1", "stage": "v1", "resourcePath": resource, "httpMethod": method, "path": path},
        "body": None,
        "isBase64Encoded": False,
    }
