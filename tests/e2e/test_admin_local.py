"""The admin CLI targets the running local stack by itself (its state file), and what it creates can send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from helpers import ROOT


def _admin(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m parley.admin`` as README shows it: PYTHONPATH=layers/common and nothing else about AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("TABLE_NAME",)}
    env["PYTHONPATH"] = str(ROOT / "layers" / "common")
    env["HOME"] = str(cwd)  # no ~/.aws either
    return subprocess.run([sys.executable, "-m", "parley.admin", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def _state(local, where: Path) -> Path:
    """The state file `python -m parley_local` writes (.local/stack.json), for the session's stack."""
    path = where / ".local" / "stack.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"api": local.api, "emulator": local.emulator, "resources": local.resources}))
    return path


def test_create_tenant_via_the_cli_then_send_with_its_key_reaches_the_outbox(local, tmp_path):
    """Before: the CLI failed without region, credentials, table name and emulator port; and a tenant it made
    could not send locally (its sender was not verified in the emulator's SES)."""
    _state(local, tmp_path)
    domain = f"cli-{uuid.uuid4().hex[:8]}.example"  # a domain nobody verified yet
    made = _admin(tmp_path, "create-tenant", "--name", "Acme", "--sender-email", f"hi@{domain}")  # found .local/stack.json
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    assert set(printed) == {"tenantId", "apiKey"}
    assert "local stack" in made.stderr
    # the stack's console now knows the key (only its SHA-256 is in the table)
    keys = requests.get(f"{local.api}/_local/keys", timeout=10).json()
    assert {"tenantId": printed["tenantId"], "apiKey": printed["apiKey"]}.items() <= next(
        k for k in keys if k["tenantId"] == printed["tenantId"]
    ).items()
    forged = requests.post(f"{local.api}/_local/keys", json={"tenantId": printed["tenantId"], "apiKey": "prl_nope"}, timeout=10)
    assert forged.status_code == 400

    to = f"cand-{uuid.uuid4().hex[:8]}@example.com"
    headers = {"Authorization": f"Bearer {printed['apiKey']}", "x-ph-userid": "recruiter-1"}
    out = requests.post(
        f"{local.api}/communications/email/v1/send", json={"toEmail": to, "subject": "From the CLI", "emailContent": "<p>Hi</p>"},
        headers=headers, timeout=30,
    )  # fmt: skip
    assert out.status_code == 200, out.text
    mid = out.json()["data"]["emailActivityId"]

    def delivered():
        return [m for m in local.outbox()["email"] if to in (m["destinations"] or {}).get("ToAddresses", [])]

    (email,) = local.wait_for(delivered, timeout=20)
    assert email["source"] == f"hi@{domain}"

    def events():
        act = requests.get(f"{local.api}/communications/email/v1/activity", params={"emailActivityId": mid}, headers=headers, timeout=30)
        return [e["event"] for e in act.json()["data"]]

    assert "sent" in local.wait_for(lambda: "sent" in events() and events(), timeout=10)

    # a second key, with --local naming the state file explicitly, from anywhere
    other = tmp_path / "elsewhere"
    other.mkdir()
    key = _admin(other, "--local", str(tmp_path / ".local" / "stack.json"), "create-key", "--tenant-id", printed["tenantId"])
    assert key.returncode == 0, key.stderr
    second = json.loads(key.stdout)["apiKey"]
    ok = requests.get(f"{local.api}/communications/sms/v1/optIn", params={"phoneNumber": "+15555550123"},
                      headers={**headers, "Authorization": f"Bearer {second}"}, timeout=30)  # fmt: skip
    assert ok.status_code == 200, ok.text


def test_without_a_table_or_a_running_stack_the_cli_says_what_to_do(local, tmp_path):
    out = _admin(tmp_path, "create-key", "--tenant-id", "t")
    assert out.returncode == 2 and "TABLE_NAME is not set" in out.stderr and "make run" in out.stderr
    state = _state(local, tmp_path)
    state.write_text(json.dumps({"api": "http://127.0.0.1:9", "emulator": "http://127.0.0.1:9", "resources": {"TABLE_NAME": "x"}}))
    out = _admin(tmp_path, "create-key", "--tenant-id", "t")  # a stale state file: that stack is gone
    assert out.returncode == 2 and "not running" in out.stderr, out.stderr
    state.write_text("{")
    out = _admin(tmp_path, "--local", str(state), "create-key", "--tenant-id", "t")
    assert out.returncode == 2 and "not a local stack state file" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_dlq_list_finds_every_dead_letter_queue_of_the_local_stack(local, tmp_path):
    """The state file names every DLQ, so ``dlq list`` works against the local stack as against a deployed one."""
    _state(local, tmp_path)
    out = _admin(tmp_path, "dlq", "list")
    assert out.returncode == 0, out.stderr
    for name in ("send", "ses-events", "inbound-mail", "provider-events", "purge", "multicast", "tally"):
        assert f"\n{name}: " in f"\n{out.stderr}", out.stderr
    for line in out.stdout.splitlines():  # whatever earlier tests left there, each with its reason
        assert json.loads(line)["reason"]
