"""Invoke declared functions in their own worker processes (warm instances are reused)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
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


# Function instances run at a lower CPU priority than the stack's main process. On AWS, DynamoDB, SQS and API
# Gateway do not share a CPU with Lambda; here the emulator and the gateway are one process, the one every request
# passes through several times, and on a 2-core machine 20 busy instances took the CPU from it (a load average of
# ~10 with the machine 75 % busy). The instances still get whatever CPU the main process leaves: 20 clients, paired
# runs, 23.5 -> 27.3 requests/s and p99 2.3 -> 1.75 s.
WORKER_NICE = 10


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
        self.last_used = time.monotonic()
        self._buffer = b""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parley_local.runtime", str(fn.code_dir), fn.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            bufsize=0,
        )
        with contextlib.suppress(OSError):  # (a system that refuses it runs them at the stack's own priority)
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, WORKER_NICE)

    def wait_ready(self) -> None:
        """Wait for the runtime's hello (the handler imported: the cold start); raise if it failed."""
        hello = self._read(timeout=60)
        if hello is None or "init_error" in hello:
            self.close()
            err = (hello or {}).get("init_error") or {"errorType": "InitTimeout", "errorMessage": "function did not start"}
            raise RuntimeError(f"{self.fn.key}: init failed: {err['errorType']}: {err['errorMessage']}\n{err.get('stackTrace', '')}")

    def _read(self, timeout: float) -> dict[str, Any] | None:
        """The next line the runtime writes, within ``timeout`` (None: timed out, or the process ended).
        Reads the pipe directly with ``select``: no thread per invocation."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None  # the process ended
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> InvokeResult:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(event).encode() + b"\n")
        except (BrokenPipeError, ValueError, OSError):  # the process ended (e.g. the pool is closing)
            out = None
        else:
            out = self._read(timeout=self.fn.timeout + 2)
        self.last_used = time.monotonic()
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
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class _Spawn:
    """An instance being started for a caller: done, or failed with ``error``."""

    def __init__(self) -> None:
        self.done = False
        self.error: Exception | None = None


class FunctionPool:
    """Up to ``max_instances`` warm instances per function (default 12); an instance serves one event at a time.

    Like Lambda, an instance left idle for ``idle_timeout`` seconds is shut down (its memory returned); the
    next event for that function starts a new one (a cold start). ``close()`` ends every instance, busy or not.
    """

    MAX_STARTING = 2  # per function at a time: a burst of cold starts would take the CPU from the warm ones
    SPAWN_AFTER = 0.25  # seconds a caller waits for a busy instance before another is started (none yet: at once)

    def __init__(self, base_env: dict[str, str], max_instances: int = 12, idle_timeout: float = 60.0) -> None:
        self.base_env = base_env
        self.max_instances = max_instances
        self.idle_timeout = idle_timeout
        self._idle: dict[str, list[_Instance]] = {}
        self._count: dict[str, int] = {}
        self._all: set[_Instance] = set()
        self._starting: dict[str, int] = {}  # instances of a function being started now
        self._lock = threading.Condition()
        self._closed = False
        self._reaper: threading.Thread | None = None
        if idle_timeout > 0:
            self._reaper = threading.Thread(target=self._reap_loop, name="pool-reaper", daemon=True)
            self._reaper.start()

    def _acquire(self, fn: FunctionSpec) -> _Instance:
        """An idle instance of ``fn``. With none idle (and fewer than ``max_instances``), one is started in the
        background, and the caller takes whichever instance is free first: a busy one that finishes in 100 ms
        is not kept waiting behind a cold start of seconds."""
        spawn: _Spawn | None = None
        asked = time.monotonic()
        with self._lock:
            while True:
                if self._closed:
                    raise RuntimeError("the function pool is closed")
                idle = self._idle.setdefault(fn.arn, [])
                while idle:
                    inst = idle.pop()
                    if inst.alive:
                        return inst
                    self._forget(inst)
                if spawn is not None and spawn.error is not None:
                    raise spawn.error
                if spawn is not None and spawn.done:
                    spawn = None  # its instance went to another caller: this one may start another
                starting = self._starting.get(fn.arn, 0)
                count = self._count.get(fn.arn, 0)
                waited = time.monotonic() - asked
                if count and spawn is None and waited < self.SPAWN_AFTER:
                    # every instance is busy: one is usually free within a fraction of a second, and a start costs
                    # a second of CPU the busy ones need; start one only if none came free meanwhile
                    self._lock.wait(self.SPAWN_AFTER - waited)
                    continue
                if spawn is None and count < self.max_instances and starting < self.MAX_STARTING:
                    self._count[fn.arn] = self._count.get(fn.arn, 0) + 1
                    self._starting[fn.arn] = starting + 1
                    spawn = _Spawn()
                    threading.Thread(target=self._spawn, args=(fn, spawn), name=f"spawn-{fn.logical_id}", daemon=True).start()
                self._lock.wait()

    def _spawn(self, fn: FunctionSpec, spawn: _Spawn) -> None:
        inst = None
        try:
            inst = _Instance(fn, self.base_env)
            with self._lock:
                self._all.add(inst)  # from its start, so that close() ends it even while it is starting
                closed = self._closed
            if closed:
                raise RuntimeError("the function pool is closed")
            inst.wait_ready()
        except Exception as err:
            with self._lock:
                self._count[fn.arn] -= 1
                self._starting[fn.arn] -= 1
                if inst is not None:
                    self._all.discard(inst)
                spawn.error, spawn.done = err, True
                self._lock.notify_all()
            if inst is not None:
                inst.close()
            return
        with self._lock:
            spawn.done = True
            self._starting[fn.arn] -= 1
        self._release(inst)

    def _forget(self, inst: _Instance) -> None:
        """(Under the lock.) ``inst`` no longer counts against its function's instances."""
        self._count[inst.fn.arn] -= 1
        self._all.discard(inst)

    def _release(self, inst: _Instance) -> None:
        close = False
        with self._lock:
            if inst.alive and not self._closed:
                self._idle[inst.fn.arn].append(inst)
            else:
                self._forget(inst)
                close = True
            self._lock.notify_all()
        if close:
            inst.close()

    def invoke(self, fn: FunctionSpec, event: dict[str, Any]) -> InvokeResult:
        inst = self._acquire(fn)
        try:
            return inst.invoke(event)
        finally:
            self._release(inst)

    def warm(self, fn: FunctionSpec) -> None:
        self._release(self._acquire(fn))

    def reap(self, now: float | None = None) -> int:
        """Shut down the instances idle for longer than ``idle_timeout``; how many."""
        now = time.monotonic() if now is None else now
        stale: list[_Instance] = []
        with self._lock:
            for idle in self._idle.values():
                keep = [inst for inst in idle if now - inst.last_used <= self.idle_timeout]
                stale += [inst for inst in idle if now - inst.last_used > self.idle_timeout]
                idle[:] = keep
            for inst in stale:
                self._forget(inst)
            if stale:
                self._lock.notify_all()
        for inst in stale:
            inst.close()
        return len(stale)

    def _reap_loop(self) -> None:
        interval = max(0.5, min(10.0, self.idle_timeout / 4))
        while True:
            time.sleep(interval)
            with self._lock:
                if self._closed:
                    return
            self.reap()

    def instances(self) -> int:
        with self._lock:
            return len(self._all)

    def close(self) -> None:
        """End every instance now, idle or busy (a busy invocation ends as a failed one)."""
        with self._lock:
            self._closed = True
            everything = list(self._all)
            self._idle.clear()
            self._lock.notify_all()
        for inst in everything:
            if inst.proc.poll() is None:
                inst.proc.kill()
        for inst in everything:
            inst.proc.wait()
