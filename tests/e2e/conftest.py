"""End-to-end fixtures: the local stack (README's first command, minus the install) in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from helpers import ROOT

pytestmark = pytest.mark.e2e
# The session's stack caches the authorizer's answers for this long (the template's AuthorizerCacheSeconds
# parameter, overridden; deployed and `make run`: 30 s): short, so the key lifecycle tests see a revoked key
# refused within it without waiting half a minute (tests/e2e/test_key_lifecycle.py).
AUTHORIZER_CACHE_SECONDS = 2


@dataclass
class Local:
    api: str
    emulator: str
    resources: dict[str, str]
    demo_key: str
    parameters: dict[str, str]  # the root template's (state file), AuthorizerCacheSeconds included
    websockets: dict[str, dict[str, str]] = field(default_factory=dict)  # by family: {url, managementUrl} (WebSocket APIs)

    def new_tenant(self, name: str = "tenant") -> dict[str, str]:
        out = requests.post(f"{self.api}/_local/tenants", json={"name": name}, timeout=10)
        assert out.status_code == 201, out.text
        return out.json()

    def outbox(self) -> dict[str, Any]:
        return requests.get(f"{self.api}/_local/outbox", timeout=10).json()

    def wait_for(self, predicate: Any, timeout: float = 5.0, interval: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    state = tmp_path_factory.mktemp("local") / "stack.json"
    log = (tmp_path_factory.getbasetemp() / "local-stack.log").open("w")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/common"), str(ROOT / "local")]), "PARLEY_VERIFY_EMULATOR": "1"}
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "TABLE_NAME"):
        env.pop(var, None)
    overrides = ["--parameter-overrides", f"AuthorizerCacheSeconds={AUTHORIZER_CACHE_SECONDS}"]
    proc = subprocess.Popen(
        # instances never idle out here: a suite that touches each function now and then would start it cold each time
        [sys.executable, "-m", "parley_local", "--port", "0", "--state-file", str(state), "--idle-timeout", "0", *overrides],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not state.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("the local stack did not start:\n" + (tmp_path_factory.getbasetemp() / "local-stack.log").read_text()[-5000:])
        time.sleep(0.2)
    data = json.loads(state.read_text())
    yield Local(
        api=data["api"], emulator=data["emulator"], resources=data["resources"], demo_key=data["demo"]["apiKey"],
        parameters=data["parameters"], websockets=data.get("websockets", {}),
    )  # fmt: skip
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def emulator_env(local: Local, monkeypatch: pytest.MonkeyPatch) -> Local:
    """Point this test process's parley code at the running stack's emulator and resources."""
    from parley.dal import aws
    from parley.settings import get_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", local.emulator)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key, value in local.resources.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    aws.reset()
    yield local
    get_settings.cache_clear()
    aws.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The load tests (``-m load``) run after every other test: they measure a machine left to them.

    schemathesis gives every operation's test the same node id (``test_fuzz.py::test_api``; the operation is only
    in its name): pytest-xdist, which schedules by node id, would run one of them. Each gets its name as its id."""
    for item in items:
        if item.name.startswith(f"{item.originalname}[") and not item.nodeid.endswith("]"):
            item._id = item.parent.id.child(item.name)  # pytest 9 keeps the node id in ``_id``, from the parent's
    items.sort(key=lambda item: item.get_closest_marker("load") is not None)
