"""``python -m parley_local.load`` (``make load``): the local stack under load, by hand — N concurrent clients sending emails
(``POST /communications/email/v1/send``) and reading their activity (``GET /communications/email/v1/activity``).

Against a running stack (``--state .local/stack.json``, as ``make run`` writes it) or, by default, a fresh
``python -m parley_local`` started for the run. Prints requests/s, latency p50/p95/p99, 5xx and the resident
memory of the stack (main process + its function workers) after the load and after ``--idle`` seconds.
``tests/e2e/test_load.py`` runs the same load (``run_load``) and asserts the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
SEND = "/communications/email/v1/send"
ACTIVITY = "/communications/email/v1/activity"


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, every request
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # transport errors (no HTTP status)
    sent: int = 0
    samples: list[tuple[float, float, str, int]] = field(default_factory=list)  # (start, seconds, method, status)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def by_method(self) -> str:
        parts = []
        for method in ("POST", "GET"):
            lat = sorted(s[1] for s in self.samples if s[2] == method)
            if lat:
                p50, p99 = (lat[min(len(lat) - 1, int(q / 100 * len(lat)))] * 1000 for q in (50, 99))
                parts.append(f"{method} n={len(lat)} p50 {p50:.0f} ms p99 {p99:.0f} ms")
        return "; ".join(parts)

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s = {self.rate:.1f} req/s; latency p50 {self.pct(50) * 1000:.0f} ms, "
            f"p95 {self.pct(95) * 1000:.0f} ms, p99 {self.pct(99) * 1000:.0f} ms, max {max(self.latencies, default=0) * 1000:.0f} ms; "
            f"statuses {dict(sorted(self.statuses.items()))}; 5xx {self.server_errors}; transport errors {len(self.errors)}; "
            f"emails accepted {self.sent}"
        )


def _client(api: str, key: str, stop: threading.Event, result: LoadResult, lock: threading.Lock, n: int) -> None:
    """One client: send an email, read the activity of one it sent before, repeat (one keep-alive connection)."""
    url = urlsplit(api)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    base = {"Authorization": f"Bearer {key}", "x-ph-userid": f"load-{n}"}
    ids: list[str] = []
    turn = 0
    while not stop.is_set():
        if turn % 2 == 0 or not ids:
            body = json.dumps({"toEmail": f"load-{n}-{turn}@example.com", "subject": f"Load {turn}", "emailContent": "<p>Hi</p>"})
            method, path = "POST", SEND
            headers = {**base, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        else:
            body, method = None, "GET"
            path = f"{ACTIVITY}?emailActivityId={ids[turn // 2 % len(ids)]}"
            headers = base
        turn += 1
        t0 = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            with lock:
                result.errors.append(f"{method} {path}: {err!r}")
            continue
        elapsed = time.monotonic() - t0
        if method == "POST" and status == 200:
            ids.append(json.loads(data)["data"]["emailActivityId"])
        with lock:
            result.latencies.append(elapsed)
            result.samples.append((t0, elapsed, method, status))
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.sent += method == "POST" and status == 200
    conn.close()


def run_load(api: str, key: str, clients: int = 20, seconds: float = 30.0) -> LoadResult:
    """``clients`` threads, each with one connection, for ``seconds``; every request's latency and status."""
    stop = threading.Event()
    lock = threading.Lock()
    result = LoadResult(seconds=seconds)
    threads = [threading.Thread(target=_client, args=(api, key, stop, result, lock, n), daemon=True) for n in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(90)
    result.seconds = time.monotonic() - t0
    return result


# ── memory of the stack: the main process and every process below it ──
def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (by parent pid, from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        todo += kids
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def stack_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far: the main process, and each function's workers (by handler)."""
    out = {"main": cpu_seconds(pid)}
    for kid in descendants(pid):
        try:
            name = "/".join(Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")[-3].decode().split("/")[-2:])  # its code dir
        except (OSError, IndexError):
            continue
        out[name] = out.get(name, 0.0) + cpu_seconds(kid)
    return out


def stack_rss(pid: int) -> tuple[float, float, int]:
    """(main process MB, workers MB, number of workers)."""
    kids = descendants(pid)
    return rss_mb(pid), sum(rss_mb(k) for k in kids), len(kids)


def start_stack(log_path: Path, args: list[str] | None = None, root: Path = ROOT) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``python -m parley_local`` (of the checkout at ``root``) on free ports; (process, state) once it is ready."""
    state = Path(tempfile.mkdtemp(prefix="parley-load-")) / "stack.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers/common"), str(root / "local")])}
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "TABLE_NAME"):
        env.pop(var, None)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley_local", "--port", "0", "--state-file", str(state), *(args or [])],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while not state.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the local stack did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)
    return proc, json.loads(state.read_text())


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parley_local.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the measured run (not counted)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to wait after the load before the idle RSS")
    parser.add_argument("--rounds", type=int, default=1, help="measured runs, one after another on the same stack")
    parser.add_argument("--state", type=Path, help="a running stack's state file (.local/stack.json); default: start one")
    args = parser.parse_args(argv)

    proc = None
    if args.state:
        state = json.loads(args.state.read_text())
    else:
        log = Path(tempfile.gettempdir()) / "parley-load-stack.log"
        print(f"starting the local stack (log: {log}) …", file=sys.stderr, flush=True)
        proc, state = start_stack(log)
    api, key, pid = state["api"], state["demo"]["apiKey"], state["pid"]
    try:
        main_mb, workers_mb, n = stack_rss(pid)
        print(f"stack pid {pid}: RSS before load: main {main_mb:.0f} MB + {n} workers {workers_mb:.0f} MB; load average {loadavg()}")
        if args.warmup:
            run_load(api, key, args.clients, args.warmup)
        for r in range(args.rounds):
            cpu_before = stack_cpu(pid)
            result = run_load(api, key, args.clients, args.seconds)
            cpu_after = stack_cpu(pid)
            main_mb, workers_mb, n = stack_rss(pid)
            print(f"round {r + 1}: {args.clients} clients: {result.summary()}")
            print(f"  {result.by_method()}")
            print(f"  RSS after load: main {main_mb:.0f} MB + {n} workers {workers_mb:.0f} MB; load average {loadavg()}")
            spent = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
            top = sorted(spent.items(), key=lambda kv: -kv[1])[:6]
            print("  CPU seconds during the run: " + ", ".join(f"{k} {v:.1f}" for k, v in top) + " (workers that ended are not counted)")
            for err in result.errors[:5]:
                print(f"  transport error: {err}")
        if args.idle:
            time.sleep(args.idle)
            main_mb, workers_mb, n = stack_rss(pid)
            print(f"idle {args.idle:.0f} s later: main {main_mb:.0f} MB + {n} workers {workers_mb:.0f} MB = {main_mb + workers_mb:.0f} MB")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
