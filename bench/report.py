# ruff: noqa: RUF001 (the report uses the multiplication sign and the en dash on purpose)
"""The report: one Markdown document (printed, and saved with ``--results``), ending with the summary table
(figure, measured, target, holds?) and, for every target not met, what the run measured holds it back."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.coldstart import ColdStart


@dataclass
class Figure:
    name: str
    measured: str
    target: str
    holds: bool | None  # None: not measured
    why: str = ""  # what holds it back (when it does not hold)


@dataclass
class Report:
    header: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def add(self, title: str, lines: list[str]) -> None:
        self.sections.append("\n".join([f"## {title}", "", *lines, ""]))

    def render(self) -> str:
        out = ["# Parley benchmarks", "", *self.header, ""]
        out += self.sections
        return "\n".join([*out, "## Summary", "", *self.summary()])

    def summary(self) -> list[str]:
        """The summary table and what holds back each target not met (the end of the report; README carries it)."""
        out = [
            *table(["figure", "measured", "target", "holds?"], [[f.name, f.measured, f.target, _holds(f.holds)] for f in self.figures]),
            "",
        ]
        misses = [f for f in self.figures if f.holds is False]
        if misses:
            out += ["### Targets not met, and what holds them back", ""]
            out += [f"- **{f.name}** ({f.measured}; target {f.target}): {f.why}" for f in misses]
            out.append("")
        unmeasured = [f for f in self.figures if f.holds is None and f.target != "(reported)"]
        if unmeasured:
            out += ["### Not measured in this run", "", *[f"- {f.name}: {f.why or f.measured}" for f in unmeasured], ""]
        return out


README_START = "<!-- bench:start (written by make bench; edit bench/report.py, not this block) -->"
README_END = "<!-- bench:end -->"


def write_readme_block(path: Path, rep: Report, results: Path | None) -> None:
    """Replace the block between the README's bench markers with this run's header line and summary."""
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: the markers {README_START!r} … {README_END!r} are missing")
    where = f" (every table: [`{results.as_posix()}`]({results.as_posix()}))" if results else ""
    body = [README_START, "", (rep.header[0] if rep.header else "") + where, "", *rep.summary(), README_END]
    path.write_text(text[:start] + "\n".join(body) + text[end + len(README_END) :])


def _holds(value: bool | None) -> str:
    return "yes" if value else "n/a" if value is None else "**NO**"


def table(head: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[str(c) for c in head]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return [line(cells[0]), "| " + " | ".join("-" * w for w in widths) + " |", *(line(r) for r in cells[1:])]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value).replace("|", "\\|")


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fx(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


# ───────────── cold starts ─────────────
def coldstart_section(rep: Report, cs: ColdStart) -> None:
    rows = []
    for t in cs.targets:
        h, f, m, b = (t.median(k) for k in ("handler", "floor", "monolith", "built"))
        rows.append(
            [
                t.key,
                "read" if t.reads else "write",
                h,
                f,
                fx(ratio(h, f)),
                m,
                fx(ratio(h, m)),
                b,
                fx(ratio(b, f)),
                t.median_of("handler", "import"),
                t.median_of("handler", "first"),
                max(filter(None, (t.peak_rss(k) for k in ("handler", "monolith", "built"))), default=None),
                "+".join(c["service"] for c in t.clients) or "–",
                len((t.discovery.report.get("calls") if t.discovery else None) or []),
            ]
        )
    lines = [
        f"Median of {cs.rounds} fresh processes per kind, wall time in ms from spawn to the first response; the kinds of one",
        "function run side by side, in shuffled order, in every round. *floor*: what the first request does against AWS and",
        "nothing else — `import boto3`, the clients the function created (same configuration) and the AWS calls its first",
        "request made, replayed with their parameters (reads as recorded; writes with the run's own fresh state and ids, so",
        "conditional writes succeed as the handler's do); *kind*: *read* when the first request makes no AWS write (target",
        "≤ 1.3× the floor), else *write* (sends, webhooks, consumers: ≤ 1.5×); *monolith*: one resolver holding every",
        "endpoint of the function's family (`parley.api.endpoint.family_app`, with the family's Logger and metrics, as an",
        "endpoint has; API routes only); *built*: the handler on the `sam build` output as a deployment zip leaves it",
        "(file times 1980-01-01,",
        "bytecode writing off). *import*/*first*: the handler process's module import and first-request times; *RSS*: peak",
        "resident memory of any of its processes.",
        "",
        *table(
            [
                "function",
                "kind",
                "handler",
                "floor",
                "×floor",
                "monolith",
                "×monolith",
                "built",
                "built×floor",
                "import",
                "first",
                "RSS MB",
                "clients",
                "AWS calls",
            ],
            rows,
        ),
    ]
    failures = [(t.key, k, p) for t in cs.targets for k in ("handler", "floor", "monolith", "built") for p in t.failures(k)[:1]]
    if any(t.discovery is not None and not t.discovery.ok for t in cs.targets):
        failures += [(t.key, "first request", t.discovery.problem()) for t in cs.targets if t.discovery is not None and not t.discovery.ok]
    if failures:
        lines += ["", "Failed runs (left out of the medians):", *[f"- {k} ({kind}): {p[:300]}" for k, kind, p in failures]]
    refused = sorted({(t.key, c) for t in cs.targets for r in t.runs.get("floor", []) for c in r.report.get("refused") or []})
    lines += [
        "",
        "Floor calls the emulator refused (the round trip was made; the handler's call succeeded): "
        + ("; ".join(f"{k}: {c}" for k, c in refused) if refused else "none."),
    ]
    rep.add("Cold starts", lines)

    primed = []
    for t in cs.targets:
        first, warm = t.median_of("primed", "request 1"), t.median_of("primed", "request 2")
        if first is not None:
            primed.append([t.key, t.median_of("handler", "first"), first, warm, fx(ratio(first, warm))])
    if primed:
        rep.add(
            "Primed first request (SnapStart)",
            [
                "The first request after SnapStart's before-snapshot work, emulated in a fresh process: the endpoint's resolver",
                "built (`Endpoint._build`) and the clients the first request uses created, then the first request and a second one",
                f"(warm), each timed inside the process (ms, medians of {cs.rounds}). *cold first*: the first request of a plain",
                "cold start (after its imports) for comparison.",
                "",
                *table(["function", "cold first", "primed first", "warm", "primed ÷ warm"], primed),
            ],
        )

    # where the import time goes
    per_pkg: dict[str, list[float]] = {}
    for t in cs.targets:
        for pkg, ms in t.imports.items():
            per_pkg.setdefault(pkg, []).append(ms)
    n = len([t for t in cs.targets if t.imports])
    top = sorted(((pkg, sum(v) / n) for pkg, v in per_pkg.items()), key=lambda kv: -kv[1])[:14]
    total = sum(sum(v) for v in per_pkg.values()) / max(n, 1)
    rep.add(
        "Where a handler's import time goes",
        [
            "`python -X importtime` of every function's first-request process (one run each, profiling overhead included): self",
            f"time per top-level package, mean over {n} functions; total {total:.0f} ms per process.",
            "",
            *table(
                ["package", "ms", "share", "the floor imports it too"],
                [[pkg, ms, f"{ms / total:.0%}", "yes" if pkg in cs.floor_imports else "no"] for pkg, ms in top],
            ),
        ],
    )

    lines = [f"Build output: {cs.build_note}.", ""]
    if cs.pyc_flags:
        lines += table(["bytecode in the build output", "files"], [[k, v] for k, v in sorted(cs.pyc_flags.items())])
        compiled = [(t.key, r.report.get("compiles") or {}) for t in cs.targets for r in t.runs.get("built", []) if r.ok]
        in_layers = sorted(
            {p for _, c in compiled for p in c.get("compiled_in_artifacts", []) if "/CommonLayer/" in p or "/DepsLayer/" in p}
        )
        per_run = [len(c.get("compiled_in_artifacts", [])) for _, c in compiled]
        ms = [c.get("compile_ms", 0.0) for _, c in compiled]
        lines += [
            "",
            f"Modules compiled from source during a deployed cold start: {max(per_run, default=0)} at most per process "
            f"({statistics.median(ms) if ms else 0:.1f} ms median); from the layers: {len(in_layers)}"
            + (f" ({', '.join(in_layers[:5])})" if in_layers else "")
            + ". The function's own handler module (`app.py`, or its resource module under `api/`) ships as source "
            "(SAM's Python builder copies it) and is the module compiled.",
        ]
    rep.add("Deployed artifacts", lines)


def coldstart_figures(rep: Report, cs: ColdStart, imports_note: str) -> None:
    def spread(pairs: list[tuple[str, float]], limit: float, *, below: bool = True) -> tuple[str, bool]:
        if not pairs:
            return "not measured", False
        worst = max(pairs, key=lambda p: p[1]) if below else min(pairs, key=lambda p: p[1])
        ok = sum(1 for _, v in pairs if (v <= limit if below else v >= limit))
        med = statistics.median(v for _, v in pairs)
        return f"median {med:.2f}×, worst {worst[1]:.2f}× ({worst[0].split('.')[-1]}); {ok}/{len(pairs)} within", ok == len(pairs)

    def pairs(kind_a: str, kind_b: str, only_family: bool = False) -> list[tuple[str, float]]:
        out = []
        for t in cs.targets:
            if only_family and not t.family:
                continue
            r = ratio(t.median(kind_a), t.median(kind_b))
            if r is not None:
                out.append((t.key, r))
        return out

    limits = {t.key: t.limit for t in cs.targets}
    floor = pairs("handler", "floor")
    reads = [p for p in floor if limits[p[0]] == 1.3]
    writes = [p for p in floor if limits[p[0]] != 1.3]
    text, ok = spread(reads, 1.3)
    rep.figures.append(Figure("Cold start ÷ floor, every read (no AWS write)", text, "≤ 1.3×", ok, imports_note))
    text, ok = spread(writes, 1.5)
    rep.figures.append(Figure("Cold start ÷ floor, every send / write", text, "≤ 1.5×", ok, imports_note))
    text, ok = spread(pairs("handler", "monolith", True), 0.8)
    rep.figures.append(
        Figure(
            "Cold start ÷ monolith, every API function",
            text,
            "≤ 0.8×",
            ok,
            "a function imports nearly what the whole family imports: the shared layer (powertools' validating "
            "resolver, pydantic, the parley models, botocore) is the cost, the family's other endpoint declarations "
            "add little; see 'Where a handler's import time goes'",
        )
    )
    primed = [(t.key, r) for t in cs.targets if (r := ratio(t.median_of("primed", "request 1"), t.median_of("primed", "request 2")))]
    if primed:
        text, _ = spread(primed, 1.0)
        rep.figures.append(
            Figure(
                "Primed first request ÷ warm request (SnapStart)",
                text.rsplit(";", 1)[0],
                "(reported)",
                None,
                "what stays on the first request after priming: moto's first touch, lazily built pydantic validators",
            )
        )
    built = pairs("built", "floor")
    if built:
        text, _ = spread(built, 1.3)
        within = sum(1 for k, v in built if v <= limits[k])
        text = text.rsplit(";", 1)[0] + f"; {within}/{len(built)} within their limit"
        rep.figures.append(
            Figure("Deployed cold start (sam build output) ÷ floor", text, "≤ 1.3× read, ≤ 1.5× write", within == len(built), imports_note)
        )
        compiled = [r.report.get("compiles") or {} for t in cs.targets for r in t.runs.get("built", []) if r.ok]
        layer = sum(1 for c in compiled for p in c.get("compiled_in_artifacts", []) if "/CommonLayer/" in p or "/DepsLayer/" in p)
        fn_only = max((len(c.get("compiled_in_artifacts", [])) for c in compiled), default=0)
        rep.figures.append(
            Figure(
                "Deployed bytecode not recompiled at cold start",
                f"layer modules compiled: {layer}; function modules: {fn_only} per start (the handler module)",
                "0 layer modules",
                layer == 0,
                "layer modules were compiled from source: their .pyc are missing or stale",
            )
        )
    else:
        rep.figures.append(
            Figure("Deployed cold start (sam build output) ÷ floor", "not measured", "≤ 1.3× read, ≤ 1.5× write", None, cs.build_note)
        )
        rep.figures.append(Figure("Deployed bytecode not recompiled at cold start", "not measured", "0 layer modules", None, cs.build_note))


def worst_rss(cs: ColdStart) -> tuple[str, float]:
    best = ("", 0.0)
    for t in cs.targets:
        for kind in ("handler", "built"):
            v = t.peak_rss(kind)
            if v and v > best[1]:
                best = (t.key, v)
    return best


def beyond_floor(cs: ColdStart, limit: int = 6) -> list[tuple[str, float]]:
    """The packages a handler imports that the floor (boto3 + clients) does not, by mean self import time."""
    per_pkg: dict[str, float] = {}
    n = 0
    for t in cs.targets:
        if t.imports:
            n += 1
            for pkg, ms in t.imports.items():
                if pkg not in cs.floor_imports:
                    per_pkg[pkg] = per_pkg.get(pkg, 0.0) + ms
    return sorted(((pkg, ms / max(n, 1)) for pkg, ms in per_pkg.items()), key=lambda kv: -kv[1])[:limit]
