"""Invoke declared functions in their own worker processes (warm instances are reused)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley_local.templates import REGION, FunctionSpec

_LOCAL_DIR = Path(__file__).resolve().parents[1]


@dataclass
class InvokeResult:
    ok: bool
    payload: Any = None
    error_type: str = ""
    error_message: str = ""


class _Instance:
    def __init__(self, fn: FunctionSpec, base_env: dict[str, str]) -> None:
        env = {
            **base_env,
            **fn.env,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "PARLEY_LOCAL_FUNCTION_ARN": fn.arn,
            "PARLEY_LOCAL_TIMEOUT": str(fn.timeout),
            # code dir first, then layers (as /var/task, /opt/python), then the runtime module itself
            "PYTHONPATH": os.pathsep.join([str(fn.code_dir), *map(str, fn.layer_dirs), str(_LOCAL_DIR)]),
        }
        self.fn = fn
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parley_local.runtime", str(fn.code_dir), fn.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            bufsize=1,
        )
        hello = self._read(timeout=60)
        if hello is None or "init_error" in hello:
            self.close()
            err = (hello or {}).get("init_error") or {"errorType": "InitTimeout", "errorMessage": "function did not start"}
            raise RuntimeError(f"{fn.key}: init failed: {err['errorType']}: {err['errorMessage']}\n{err.get('stackTrace', '')}")

    def _read(self, timeout: float) -> dict[str, Any] | None:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            return None
        return json.loads(box[0])

    def invoke(self, event: dict[str, Any]) -> InvokeResult:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        out = self._read(timeout=self.fn.timeout + 2)
        if out is None:
            self.close()
            return InvokeResult(ok=False, error_type="Sandbox.Timedout", error_message=f"Task timed out after {self.fn.timeout} seconds")
        if "error" in out:
            return InvokeResult(ok=False, error_type=out["error"]["errorType"], error_message=out["error"]["errorMessage"])
        return InvokeResult(ok=True, payload=out["result"])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class FunctionPool:
    """Up to ``max_instances`` warm instances per function; an instance serves one event at a time."""

    def __init__(self, base_env: dict[str, str], max_instances: int = 4) -> None:
        self.base_env = base_env
        self.max_instances = max_instances
        self._idle: dict[str, list[_Instance]] = {}
        self._count: dict[str, int] = {}
        self._lock = threading.Condition()
        self._closed = False

    def _acquire(self, fn: FunctionSpec) -> _Instance:
        with self._lock:
            while True:
                idle = self._idle.setdefault(fn.arn, [])
                while idle:
                    inst = idle.pop()
                    if inst.alive:
                        return inst
                    self._count[fn.arn] -= 1
                if self._count.get(fn.arn, 0) < self.max_instances:
                    self._count[fn.arn] = self._count.get(fn.arn, 0) + 1
                    break
                self._lock.wait()
        try:
            return _Instance(fn, self.base_env)
        except Exception:
            with self._lock:
                self._count[fn.arn] -= 1
                self._lock.notify()
            raise

    def _release(self, inst: _Instance) -> None:
        with self._lock:
            if inst.alive and not self._closed:
                self._idle[inst.fn.arn].append(inst)
            else:
                self._count[inst.fn.arn] -= 1
                inst.close()
            self._lock.notify()

    def invoke(self, fn: FunctionSpec, event: dict[str, Any]) -> InvokeResult:
        inst = self._acquire(fn)
        try:
            return inst.invoke(event)
        finally:
            self._release(inst)

    def warm(self, fn: FunctionSpec) -> None:
        self._release(self._acquire(fn))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for insts in self._idle.values():
                for inst in insts:
                    inst.close()
            self._idle.clear()
