"""Every declared function's init — importing its handler module, then the SnapStart before-snapshot hook — opens no
network connection and makes no AWS call (docs/architecture.md §3.1). The credentials are those a SnapStart function
gets: none in the environment, a container credentials endpoint (resolving them would be a connection)."""

from __future__ import annotations

import random
import socket
import sys
from typing import Any

import boto3
import botocore.credentials
import botocore.endpoint
import pytest

from helpers import FakeHooks, import_handler

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{what} during init")

    return refuse


def test_no_function_opens_a_connection_during_init(aws, monkeypatch):
    from parley import snapstart
    from parley.api import endpoint as endpoint_mod
    from parley.dal import aws as dal_aws
    from parley.settings import get_settings

    functions = sorted(aws.functions.values(), key=lambda f: f.key)
    assert len(functions) > 40
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/credentials")
    monkeypatch.setattr(socket.socket, "connect", _refuse("a network connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("a network connection"))
    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", _refuse("an AWS call"))
    monkeypatch.setattr(botocore.credentials.CredentialResolver, "load_credentials", _refuse("resolving credentials"))

    for fn in functions:
        hooks = FakeHooks()
        monkeypatch.setitem(sys.modules, "snapshot_restore_py", hooks)
        monkeypatch.setattr(snapstart, "_hooked", False)
        monkeypatch.setattr(endpoint_mod, "_snapstart_registered", False)
        monkeypatch.setattr(endpoint_mod, "_ENDPOINTS", [])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        for name, value in fn.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("_HANDLER", fn.handler)
        get_settings.cache_clear()
        dal_aws.reset()

        module, attr = fn.handler.rsplit(".", 1)
        for name in [m for m in sys.modules if m.endswith("_" + module) and m.startswith("fn_")]:
            monkeypatch.delitem(sys.modules, name)  # imported afresh: its registrations run again
        handler = getattr(import_handler(fn.code_dir, module), attr)
        assert hooks.before, f"{fn.key}: no before-snapshot hook registered"
        assert len(hooks.after) == 1, f"{fn.key}: one after-restore hook"
        hooks.snapshot()
        if hasattr(handler, "_handler"):  # an endpoint: its resolver is built before the snapshot
            assert handler._handler is not None, f"{fn.key}: endpoint not primed"
        random.seed(0)
        hooks.restore()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    get_settings.cache_clear()
    dal_aws.reset()
