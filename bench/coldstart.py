# ruff: noqa: RUF002 (the multiplication sign, on purpose)
"""Cold starts, memory and the deployed artifacts.

For every function, side by side in the same rounds (the order of the kinds shuffled in each round):

- ``handler``: a fresh process imports the function's handler module (code dir, then the common layer,
  on ``sys.path``) and serves its first request (``scenarios``);
- ``floor``: a fresh process does what the function's first response does against AWS and nothing else:
  ``import boto3``, the same clients (same configuration) and the same AWS calls, recorded once beforehand
  with a botocore hook and replayed with their parameters — reads as recorded, writes with fresh ids (so a
  conditional write meets the state the handler's met); a call refused anyway still made its round trip;
- ``monolith``: a fresh process holds every endpoint of the function's family in one resolver
  (``parley.api.endpoint.family_app``), with the family's Logger and metrics as an endpoint has, and serves
  the same first request (API routes only);
- ``built``: the handler process again, but on the ``sam build`` output (function dir, CommonLayer/python,
  DepsLayer/python), copied with every file time set to 1980-01-01 as a deployment zip leaves them, and
  with bytecode writing off (Lambda's code directories are read-only). Modules compiled from source
  during the cold start are counted;
- ``primed``: the handler process with SnapStart's before-snapshot work done first (the endpoint's resolver
  built, the clients created), then its first request and a second (warm) one, each timed on its own.

Times are wall times from spawn to the first response (medians); memory is the process's peak RSS.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import shutil
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.emulator import ROOT, Emulator
from bench.procs import PYCACHE, Run, deployed_env, run_child, source_env
from bench.scenarios import CORE, FIRST_REQUEST, REUSABLE, Local
from parley_local import families

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry


@dataclass
class Target:
    key: str
    family: str | None  # API family (monolith comparison) or None (Function URL, core function)
    discovery: Run | None = None
    runs: dict[str, list[Run]] = field(default_factory=lambda: defaultdict(list))
    imports: dict[str, float] = field(default_factory=dict)  # top-level package → self import ms (one -X importtime run)
    built_dir: Path | None = None
    discovery_event: dict[str, Any] | None = None

    @property
    def reads(self) -> bool:
        """A read: its first request makes no AWS write (target ≤ 1.3× the floor; a send or other write: ≤ 1.5×)."""
        calls = (self.discovery.report.get("calls") if self.discovery else None) or []
        return all(c["op"].startswith(_READS) for c in calls)

    @property
    def limit(self) -> float:
        return 1.3 if self.reads else 1.5

    @property
    def clients(self) -> list[dict[str, Any]]:
        return (self.discovery.report.get("clients") if self.discovery else None) or []

    def median(self, kind: str) -> float | None:
        walls = [r.wall_ms for r in self.runs.get(kind, []) if r.ok]
        return statistics.median(walls) if walls else None

    def median_of(self, kind: str, what: str) -> float | None:
        vals = []
        for r in self.runs.get(kind, []):
            if not r.ok:
                continue
            if what == "import":
                vals.append(r.import_ms)
            elif what == "first":
                vals.append((r.report["t_done"] - r.report["t_imported"]) * 1000)
            elif what in ("request 1", "request 2"):  # a request's own time, in the process (primed: after the hook)
                results = r.report.get("results") or []
                n = int(what[-1]) - 1
                if len(results) > n:
                    vals.append(results[n]["ms"])
        return statistics.median(vals) if vals else None

    def peak_rss(self, kind: str) -> float | None:
        vals = [r.rss_mb for r in self.runs.get(kind, []) if r.ok]
        return max(vals) if vals else None

    def failures(self, kind: str) -> list[str]:
        return [r.problem() for r in self.runs.get(kind, []) if not r.ok]


@dataclass
class ColdStart:
    targets: list[Target]
    rounds: int
    build_dir: Path | None
    build_note: str
    pyc_flags: dict[str, int]
    floor_imports: dict[str, float] = field(default_factory=dict)  # what the floor process imports (-X importtime)
    seconds: float = 0.0


def _family_modules() -> dict[str, list[str]]:
    """The resource modules of each family (``functions/<family>/api/*.py``), as ``parley_local.generate.apis`` finds them."""
    return {fam: [str(p) for p in sorted((ROOT / "functions" / fam / "api").glob("*.py"))] for fam in families.names()}


def _handler_spec(emu: Emulator, key: str, event: dict[str, Any], **extra: Any) -> dict[str, Any]:
    fn = emu.function(key)
    return {
        "mode": "handler",
        "code_dir": str(fn.code_dir),
        "handler": fn.handler,
        "sys_path": [str(fn.code_dir), *map(str, fn.layer_dirs)],
        "events": [event],
        "function_name": fn.name,
        "memory": fn.memory,
        **extra,
    }


_READS = ("Get", "Query", "Scan", "BatchGet", "TransactGet", "Head", "List", "Describe")


def _same_places(old: Any, new: Any, remap: Any) -> None:
    """Seed ``remap`` with the ids of two first requests of a function, place by place: kept where they agree
    (the tenant), the run's own where they differ (the record, template or token of the run's fresh state)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in old.keys() & new.keys():
            _same_places(old[k], new[k], remap)
    elif isinstance(old, list) and isinstance(new, list):
        for a, b in zip(old, new, strict=False):
            _same_places(a, b, remap)
    elif isinstance(old, str) and isinstance(new, str):
        if old != new and old.lstrip().startswith(("{", "[")):
            try:
                _same_places(json.loads(old), json.loads(new), remap)
                return
            except ValueError:
                pass
        from bench.warm import _HEX, _TOKEN, _UUID

        for pattern in (_UUID, _HEX, _TOKEN):
            for a, b in zip(pattern.findall(old), pattern.findall(new), strict=False):
                remap.seen.setdefault(a, b)  # the same where both requests agree (the tenant), the run's own where not


def floor_spec(t: Target, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The floor of one run: the discovery's clients and calls. The ids of the discovery's request become those of
    this run's request (``event``: its own fresh state, as the handler's run gets), any other id a write carries is
    made fresh; a read keeps its ids unless this replay wrote or was given them."""
    from bench.warm import Remap

    remap = Remap()
    if event is not None and t.discovery_event is not None:
        _same_places(t.discovery_event, event, remap)
    calls = [
        {"client": c["client"], "op": c["op"], "params": remap(c["params"], create=not c["op"].startswith(_READS))}
        for c in (t.discovery.report.get("calls") if t.discovery else None) or []
    ]
    return {"mode": "floor", "clients": t.clients, "calls": calls}


def _import_breakdown(stderr: str) -> dict[str, float]:
    """``-X importtime`` output → self time (ms) per top-level package."""
    out: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            out[m.group(4).split(".")[0]] += int(m.group(1)) / 1000
    return dict(out)


def _built_copy(build_dir: Path) -> Path:
    """The build output as a deployment leaves it: copied, every file time set to 1980-01-01 (zip)."""
    dest = Path(tempfile.mkdtemp(prefix="parley-bench-built-"))
    shutil.copytree(build_dir, dest / "build", symlinks=True)
    for root, dirs, files in os.walk(dest / "build"):
        for name in files + dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))
    return dest / "build"


def pyc_flags(build_dir: Path) -> dict[str, int]:
    """How the built bytecode is invalidated (PEP 552 flags): timestamp, checked-hash, unchecked-hash;
    and how many .py files of the layers ship without bytecode."""
    kinds = {0: "timestamp", 1: "unchecked-hash", 3: "checked-hash"}
    counts: dict[str, int] = defaultdict(int)
    for pyc in build_dir.rglob("*.pyc"):
        with pyc.open("rb") as f:
            flags = int.from_bytes(f.read(8)[4:8], "little")
        counts[kinds.get(flags, f"flags={flags}")] += 1
    for layer in ("CommonLayer", "DepsLayer"):
        for py in (build_dir / layer).rglob("*.py"):
            if not any(py.parent.joinpath("__pycache__").glob(f"{py.stem}.*.pyc")):
                counts[f"{layer} .py without .pyc"] += 1
    counts["function .py without .pyc"] = sum(
        1
        for py in build_dir.rglob("*.py")
        if not py.is_relative_to(build_dir / "CommonLayer")
        and not py.is_relative_to(build_dir / "DepsLayer")
        and not any(py.parent.joinpath("__pycache__").glob(f"{py.stem}.*.pyc"))
    )
    return dict(counts)


def _built_function_dir(build: Path, key: str, handler: str) -> Path | None:
    template, logical_id = key.split(".", 1)
    path = build / logical_id if template == "root" else build / template / logical_id
    return path if (path / (handler.rsplit(".", 1)[0] + ".py")).exists() else None


def run(emu: Emulator, lo: Local, *, rounds: int, build_dir: Path | None, progress: Any = print) -> ColdStart:
    import time

    started = time.monotonic()
    shutil.rmtree(PYCACHE, ignore_errors=True)
    modules = _family_modules()
    targets = [Target(k, families.applications().get(k.split(".")[0]) if emu.function(k).url_auth is None else None) for k in FIRST_REQUEST]
    targets += [Target(k, None) for k in CORE]
    prepares = {**FIRST_REQUEST, **CORE}
    # Read-only first requests read a tenant of their own, whose data is created once: what they read stays
    # the same in every round (the main tenant grows with every state-changing request prepared).
    readers = Local(emu)
    reusable: dict[str, dict[str, Any]] = {}

    def first_request(key: str) -> dict[str, Any]:
        if key not in REUSABLE:
            return prepares[key](lo)
        if key not in reusable:
            reusable[key] = prepares[key](readers)
        return copy.deepcopy(reusable[key])

    built = None
    note = "not measured: no sam build output (run `make build`)"
    flags: dict[str, int] = {}
    if build_dir is not None and (build_dir / "template.yaml").exists():
        built = _built_copy(build_dir)
        flags = pyc_flags(built)
        note = f"{build_dir} (copied with zip times)"
        for t in targets:
            t.built_dir = _built_function_dir(built, t.key, emu.function(t.key).handler)

    # Discovery (one run each, not timed): success of the first request, the clients it creates, its AWS
    # calls and where its import time goes (-X importtime). It also writes the source tree's bytecode.
    for t in targets:
        fn = emu.function(t.key)
        env = {**source_env(emu.env_for(fn)), "PYTHONPROFILEIMPORTTIME": "1"}
        t.discovery_event = first_request(t.key)
        spec = _handler_spec(emu, t.key, copy.deepcopy(t.discovery_event), record=True, capture_params=True)
        t.discovery = run_child(spec, env, keep_stderr=True)
        t.imports = _import_breakdown(t.discovery.stderr)
        if not t.discovery.ok:
            progress(f"  ! {t.key}: first request failed: {t.discovery.problem()[:300]}")
    floor_env = {**source_env(emu.env_for(emu.function(targets[0].key))), "PYTHONPROFILEIMPORTTIME": "1"}
    floor_imports = _import_breakdown(run_child(floor_spec(targets[0]), floor_env, keep_stderr=True).stderr)
    for fam, dirs in modules.items():  # writes the monolith's bytecode once
        fn_key = next(t.key for t in targets if t.family == fam)
        spec = {
            "mode": "monolith",
            "family": fam,
            "family_modules": dirs,
            "sys_path": [str(ROOT / "layers" / "common")],
            "events": [first_request(fn_key)],
        }
        run_child(spec, source_env(emu.env_for(emu.function(fn_key))))

    rng = random.Random(5)
    for r in range(rounds):
        progress(f"  cold starts: round {r + 1}/{rounds}")
        for t in targets:
            if t.discovery is None or not t.discovery.ok:
                continue
            fn = emu.function(t.key)
            env = emu.env_for(fn)
            kinds = ["handler", "floor", "primed"] + (["monolith"] if t.family else []) + (["built"] if t.built_dir else [])
            rng.shuffle(kinds)
            for kind in kinds:
                event = first_request(t.key)
                if kind == "floor":
                    t.runs[kind].append(run_child(floor_spec(t, event), source_env(env)))
                    continue
                if kind == "handler":
                    t.runs[kind].append(run_child(_handler_spec(emu, t.key, event), source_env(env)))
                elif kind == "primed":  # resolver built and clients created first (SnapStart's hook), then two requests
                    spec = _handler_spec(emu, t.key, event, prime=t.clients)
                    spec["events"].append(first_request(t.key))
                    t.runs[kind].append(run_child(spec, source_env(env)))
                elif kind == "monolith":
                    assert t.family is not None
                    spec = {
                        "mode": "monolith",
                        "family": t.family,
                        "family_modules": modules[t.family],
                        "sys_path": [str(ROOT / "layers" / "common")],
                        "events": [event],
                        "memory": fn.memory,
                    }
                    t.runs[kind].append(run_child(spec, source_env(env)))
                else:
                    assert built is not None and t.built_dir is not None
                    spec = _handler_spec(emu, t.key, event, count_compiles=True, artifact_roots=[str(built)])
                    spec["code_dir"] = str(t.built_dir)
                    spec["sys_path"] = [str(t.built_dir), str(built / "CommonLayer" / "python"), str(built / "DepsLayer" / "python")]
                    t.runs[kind].append(run_child(spec, deployed_env(env), keep_stderr=True))
    if built is not None:
        shutil.rmtree(built.parent, ignore_errors=True)
    return ColdStart(
        targets=targets,
        rounds=rounds,
        build_dir=build_dir,
        build_note=note,
        pyc_flags=flags,
        floor_imports=floor_imports,
        seconds=time.monotonic() - started,
    )
