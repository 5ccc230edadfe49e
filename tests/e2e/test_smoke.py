"""``make smoke`` against the local stack: the smoke test script (``python -m parley.smoke``), run as an operator runs
it — PYTHONPATH=layers/common and nothing about AWS — against the session's local stack, passes every step, and
leaves its tenant disabled with its key revoked. The same script reads a deployed stack's outputs instead
(``--stack``); its steps and checks are the same."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from helpers import ROOT

STEPS = [
    "create a throwaway tenant",
    "schedule two CRM emails",
    "GET /scheduled lists them",
    "cancel the later one",
    "send an email to the SES mailbox simulator's success@",
    "send an email to the SES mailbox simulator's bounce@",
    "activity of the success@ email shows 'delivered'",
    "activity of the bounce@ email shows 'bounce'",
    "history lists both emails",
    "a new send to the bounced address is refused",
    "the scheduled email is sent at its time",
    "clean up",
]


def _smoke(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env.update(PYTHONPATH=str(ROOT / "layers" / "common"), HOME=str(cwd))
    return subprocess.run([sys.executable, "-m", "parley.smoke", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=400)


def _state(local, where: Path) -> Path:
    path = where / ".local" / "stack.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"api": local.api, "emulator": local.emulator, "region": "us-east-1", "resources": local.resources}))
    return path


def test_make_smoke_passes_against_the_local_stack_and_disables_its_tenant(local, emulator_env, tmp_path):
    _state(local, tmp_path)
    run = _smoke(tmp_path, "--timeout", "60")  # finds .local/stack.json, as `make smoke` does from the repository root
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [re.sub(r" \(\d+\.\d s\).*", "", line) for line in lines if line.startswith(("✓", "✗"))] == [f"✓ {s}" for s in STEPS]
    assert lines[-1].startswith(f"passed: {len(STEPS)} step(s) passed")
    tenant_id = re.search(r"tenant ([0-9a-f-]{36}), key (prl_\S+)…", run.stdout).group(1)

    from parley.dal import keys, table
    from parley.domain.auth import hash_key

    assert table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)["disabled_at"]
    # the admin code told the stack's console the key (only its hash is in the table)
    (api_key,) = [k["apiKey"] for k in requests.get(f"{local.api}/_local/keys", timeout=10).json() if k["tenantId"] == tenant_id]
    key_item = table.get(keys.api_key_pk(hash_key(api_key)), keys.API_KEY_SK)
    assert key_item["tenant_id"] == tenant_id and key_item["revoked_at"]


def test_a_failing_check_is_a_cross_a_non_zero_exit_and_still_cleans_up(local, emulator_env, tmp_path, capsys):
    """The checks can fail: a candidate API at the wrong URL fails the first send (HTTP 403/404), the later steps
    are skipped, the tenant is still disabled and the run answers False (exit 1)."""
    from parley import smoke
    from parley.dal import keys, table

    target = smoke.Target("a stack whose candidate API is elsewhere", f"{local.api}/nowhere", local.api, local.resources["TABLE_NAME"],
                          {"api": local.api})  # fmt: skip
    printed: list[str] = []
    run = smoke.Smoke(target, "smoke@parley.example", timeout=5, out=printed.append)
    assert run.run() is False
    marks = [line.split(" (")[0] for line in printed if line[:1] in "✓✗"]
    assert marks == [*(f"✓ {s}" for s in STEPS[:4]), f"✗ {STEPS[4]}", "✓ clean up"]
    assert "expected HTTP 200" in next(line for line in printed if line.startswith("✗"))
    assert printed[-1].startswith("FAILED: 5 step(s) passed")
    assert table.get(keys.tenant_pk(run.tenant_id), keys.TENANT_SK)["disabled_at"]


def test_no_stack_to_test_is_said_and_exits_2(tmp_path):
    run = _smoke(tmp_path)
    assert run.returncode == 2
    assert ".local/stack.json" in run.stderr and "make run" in run.stderr
