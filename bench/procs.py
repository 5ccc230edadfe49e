"""Run one benchmark child process (``bench/child.py``) and time it from the outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("child.py")
PYCACHE = Path(tempfile.gettempdir()) / "parley-bench-pycache"  # bytecode of the source tree, kept out of the repo


@dataclass
class Run:
    wall_ms: float  # spawn → first response written (interpreter start, imports, clients, first request)
    report: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""

    @property
    def ok(self) -> bool:
        if "error" in self.report:
            return False
        return all((r.get("status") or 200) < 400 for r in self.report.get("results", []))

    @property
    def import_ms(self) -> float:
        return (self.report["t_imported"] - self.report["t_start"]) * 1000

    @property
    def rss_mb(self) -> float:
        return self.report.get("maxrss_kb", 0) / 1024

    def problem(self) -> str:
        if "error" in self.report:
            return f"{self.report['error']}\n{self.report.get('trace', '')}\n{self.stderr[-2000:]}"
        bad = [r for r in self.report.get("results", []) if (r.get("status") or 200) >= 400]
        return f"HTTP {bad[0]['status']}: {bad[0].get('body', '')}" if bad else ""


def run_child(spec: dict[str, Any], env: dict[str, str], *, keep_stderr: bool = False, timeout: float = 120) -> Run:
    """Start a fresh process for ``spec``; its wall time runs from spawn until it has written its report
    (its exit — interpreter teardown — is not counted: Lambda freezes the sandbox instead)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        path = f.name
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 (our own child script, our own interpreter)
            [sys.executable, str(CHILD), path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        t1 = time.monotonic()
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        report = json.loads(line) if line.strip() else {"error": f"no report (exit {proc.returncode})"}
        done = report.get("t_done")
        wall = ((done - t0) if done else (t1 - t0)) * 1000
        return Run(wall_ms=wall, report=report, stderr=err or "")
    finally:
        os.unlink(path)


def source_env(env: dict[str, str]) -> dict[str, str]:
    """A source-tree function process: bytecode cached outside the repo (what a deployed layer ships)."""
    out = {k: v for k, v in env.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    out["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return out


def deployed_env(env: dict[str, str]) -> dict[str, str]:
    """A process on built artifacts: Lambda's code directories are read-only, nothing is written back."""
    out = {k: v for k, v in env.items() if k not in ("PYTHONPYCACHEPREFIX", "PYTHONPATH")}
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out
