# ruff: noqa: RUF001 (the report uses the multiplication sign and the en dash on purpose)
"""``python -m bench`` (``make bench``): every benchmark of issue 5 in one run, printed as one report.

Phases, on one emulator (moto's HTTP server on 127.0.0.1, provisioned from the SAM templates):
cold starts and memory of every function (``coldstart``), warm send (``warm``), the AWS call budget
(``budget``), dispatch throughput (``dispatch``), read amplification with a large tenant (``reads``).
``--quick`` runs the same with small sizes (a check that everything works, not figures to quote).
Progress goes to stderr; the report (Markdown) to stdout and, with ``--results``, to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.report import Figure, Report, beyond_floor, coldstart_figures, coldstart_section, table, worst_rss, write_readme_block

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT_MB = 256
READ_RATIO_LIMIT = 2.0  # items read ÷ returned, every list endpoint (issue 13)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=False).stdout.strip()  # noqa: S603, S607
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: 2 rounds, 1,000 dispatched, 10,000 records")
    parser.add_argument("--rounds", type=int, help="fresh processes per cold-start measurement (default 5; quick 2)")
    parser.add_argument("--warm-n", type=int, help="warm sends per send function (default 200; quick 30)")
    parser.add_argument("--dispatch-n", type=int, help="messages through the dispatcher (default 10,000; quick 1,000)")
    parser.add_argument("--reads-n", type=int, help="messages in the big tenant (default 100,000; quick 10,000)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build", help="sam build output to measure")
    parser.add_argument("--only", default="coldstart,warm,budget,dispatch,reads", help="phases to run (comma-separated)")
    parser.add_argument("--results", type=Path, help="also write the report to this file (e.g. bench/RESULTS.md)")
    parser.add_argument("--readme", type=Path, help="also write the summary into this file's bench block (README.md; full runs only)")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 5)
    warm_n = args.warm_n or (30 if quick else 200)
    dispatch_n = args.dispatch_n or (1_000 if quick else 10_000)
    reads_n = args.reads_n or (10_000 if quick else 100_000)
    phases = {p.strip() for p in args.only.split(",") if p.strip()}
    # Handlers run in this process too (warm send, budget, dispatch) and log to stdout, as on Lambda: that output
    # goes to /dev/null (its cost stays in the figures); the report goes to the real stdout.
    report_out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)

    from bench.calls import CALLS

    CALLS.install()  # before any client exists: every call of this process is counted
    from bench.emulator import Emulator

    started = time.monotonic()
    load_start = os.getloadavg()
    emu = Emulator().start()
    rep = Report()
    timings: dict[str, float] = {}
    child_scans = 0
    peak: list[tuple[str, float, str]] = []  # (what, MB, where)
    try:
        from bench.scenarios import Local

        lo = Local(emu)

        if "coldstart" in phases:
            from bench import coldstart

            progress("cold starts …")
            t = time.monotonic()
            cs = coldstart.run(emu, lo, rounds=rounds, build_dir=args.build_dir, progress=progress)
            timings["cold starts"] = time.monotonic() - t
            coldstart_section(rep, cs)
            extra = beyond_floor(cs)
            note = (
                "the handler's own imports, beyond what the floor imports: "
                + ", ".join(f"{p} {ms:.0f} ms" for p, ms in extra)
                + " (mean self time per process, -X importtime); the floor is boto3, its clients and the same AWS calls only"
            )
            coldstart_figures(rep, cs, note)
            child_scans += sum(1 for t_ in cs.targets if t_.discovery for c in t_.discovery.report.get("calls") or [] if c["op"] == "Scan")
            key, mb = worst_rss(cs)
            peak.append(("cold start + first request", mb, key))

        if "warm" in phases:
            from bench import warm

            progress("warm send …")
            t = time.monotonic()
            rows = warm.run(emu, lo, n=warm_n, progress=progress)
            timings["warm send"] = time.monotonic() - t
            rep.add(
                "Warm send",
                [
                    f"Median of {warm_n} sends per function, each followed by its floor: the same AWS calls (recorded once with their",
                    "parameters, replayed with fresh ids through the same clients). In this process, against the emulator.",
                    "",
                    *table(
                        ["function", "handler ms", "floor ms", "ratio", "AWS calls per send", "replay errors"],
                        [[r.key, r.handler_ms, r.floor_ms, f"{r.ratio:.2f}×", r.calls, "; ".join(r.errors) or "none"] for r in rows],
                    ),
                ],
            )
            worst = max(rows, key=lambda r: r.ratio)
            rep.figures.append(
                Figure(
                    "Warm send ÷ the same AWS calls made directly",
                    f"worst {worst.ratio:.2f}× ({worst.key.split('.')[-1]}); "
                    + ", ".join(f"{r.key.split('.')[-1]} {r.ratio:.2f}×" for r in rows),
                    "≤ 1.25×",
                    all(r.ratio <= 1.25 for r in rows),
                    "time spent in the handler besides its AWS calls (validation, powertools resolver, logging)",
                )
            )

        if "budget" in phases:
            from bench import budget

            progress("AWS call budget …")
            b = budget.run(emu, lo)
            lines = table(
                ["operation", "AWS calls", "which", "repeated identical calls"],
                [[x.name, x.count, x.text, len(x.redundant)] for x in [*b["sends"], b["schedule"], b["dispatch"]]],
            )
            lines += ["", "Bulk send: one CRM `POST /send` with N recipients (one record), then its dispatch.", ""]
            lines += table(
                ["N", "API calls", "API: which", "dispatch calls", "dispatch: which"],
                [[n, a.count, a.text, d.count, d.text] for n, a, d in b["bulk"]],
            )
            repeated = [(x.name, r) for x in [*b["sends"], b["schedule"], b["dispatch"]] for r in x.redundant]
            if repeated:
                lines += ["", "Calls made twice with identical parameters within one operation:"]
                lines += [f"- {name}: {call}" for name, call in repeated]
            bulk_repeated = len(b["bulk"][-1][1].redundant)
            if bulk_repeated:
                lines.append(f"- bulk send to 50: {bulk_repeated} calls repeated (each recipient's suppression-list entry read twice)")
            rep.add("AWS call budget", lines)
            n1, n50 = b["bulk"][0], b["bulk"][-1]
            grows = (n50[1].count - n1[1].count, n50[2].count - n1[2].count)
            redundant_total = sum(len(x.redundant) for x in [*b["sends"], b["schedule"], b["dispatch"]])
            rep.figures.append(
                Figure(
                    "AWS calls per API send / schedule / dispatched message",
                    ", ".join(f"{x.name.split('(')[-1].rstrip(')')} {x.count}" for x in b["sends"])
                    + f"; schedule {b['schedule'].count}; dispatch {b['dispatch'].count}; "
                    f"{redundant_total} repeated identical call(s)",
                    "minimal: no call repeated",
                    redundant_total == 0,
                    "; ".join(f"{n}: {c}" for n, c in repeated[:3])
                    + " read twice: the CRM send path checks the suppression list (crm_send._accept), then emails.submit/schedule"
                    " check it again",
                )
            )
            rep.figures.append(
                Figure(
                    "Bulk send to N: calls independent of N (batch APIs)",
                    f"N=1: {n1[1].count} API + {n1[2].count} dispatch; N=50: {n50[1].count} API + {n50[2].count} dispatch",
                    "same for every N",
                    grows == (0, 0),
                    f"one suppression-list GetItem per recipient (API: {grows[0] // 49 if grows[0] else 0} per added "
                    f"recipient, dispatch: {grows[1] // 49 if grows[1] else 0}); BatchGetItem would read 100 per call",
                )
            )

        if "dispatch" in phases:
            from bench import dispatch

            progress("dispatch throughput …")
            t = time.monotonic()
            d = dispatch.run(emu, lo, n=dispatch_n, progress=progress)
            timings["dispatch"] = time.monotonic() - t
            rep.add(
                "Dispatch throughput",
                [
                    f"{d.n} queued CRM records through the dispatcher function in SQS batches of 10 (receive, invoke, delete what",
                    "succeeded, as Lambda's event source mapping does), alternating in chunks of 500 with as many direct SES v2",
                    "SendEmail calls with the dispatcher's own parameters.",
                    "",
                    *table(
                        ["", "value"],
                        [
                            ["delivered", d.delivered],
                            ["failed in batches", d.failures],
                            [
                                "dispatcher function time",
                                f"{d.function_s:.1f} s ({d.delivered / d.function_s:.0f} msg/s)" if d.function_s else "–",
                            ],
                            [
                                "with the SQS receive/delete calls",
                                f"{d.loop_s:.1f} s ({d.delivered / d.loop_s:.0f} msg/s)" if d.loop_s else "–",
                            ],
                            [
                                "direct SES SendEmail calls",
                                f"{d.floor_s:.1f} s ({d.delivered / d.floor_s:.0f} msg/s)" if d.floor_s else "–",
                            ],
                            ["throughput ratio (function / direct)", f"{d.ratio:.2f}×"],
                            ["throughput ratio (incl. SQS calls / direct)", f"{d.loop_ratio:.2f}×"],
                            ["AWS calls per delivered message (function)", f"{d.calls_per_message:.2f}: {d.per_message}"],
                            ["SQS calls per message (event source mapping)", f"{d.esm_calls_per_message:.2f}: {d.esm_calls}"],
                            [
                                "mean time per operation inside the dispatcher",
                                ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(d.op_ms.items())),
                            ],
                            ["errors", "; ".join(d.errors) or "none"],
                        ],
                    ),
                ],
            )
            ses = d.op_ms.get("sesv2.SendEmail", 0.0)
            other = sum(
                v * d.function_calls.get(k.split(".")[1], 0) / max(d.delivered, 1) for k, v in d.op_ms.items() if k != "sesv2.SendEmail"
            )
            rep.figures.append(
                Figure(
                    "Dispatch throughput ÷ direct provider calls",
                    f"{d.ratio:.2f}× ({d.calls_per_message:.1f} AWS calls per delivered message, +{d.esm_calls_per_message:.1f} SQS)",
                    "≥ 0.8×",
                    d.ratio >= 0.8,
                    f"a delivered message costs {d.calls_per_message:.1f} AWS calls (the SES call and its share of its batch's "
                    f"DynamoDB calls: claim transaction, claimed-items and re-check reads, outcome transaction, day counter): "
                    f"per message the SES call takes {ses:.1f} ms on the emulator, its share of the DynamoDB calls "
                    f"{other:.1f} ms (the emulator's cost grows with the items in a call, not with the calls), the "
                    f"dispatcher's own code {max(0.0, d.function_s * 1000 / max(d.delivered, 1) - ses - other):.1f} ms",
                )
            )

        if "reads" in phases:
            from bench import reads

            progress("read amplification …")
            t = time.monotonic()
            seeded, other, rows = reads.run(emu, n=reads_n, progress=progress)
            timings["reads"] = time.monotonic() - t
            tbl = []
            for r in rows:
                ratio = r.ratio
                holds = "n/a" if ratio is None else "yes" if ratio <= READ_RATIO_LIMIT else "NO"
                tbl.append(
                    [
                        r.endpoint.name,
                        r.status,
                        r.returned,
                        r.read,
                        r.read_count_queries,
                        "–" if ratio is None else f"{ratio:.2f}",
                        holds,
                        ", ".join(f"{k}×{v}" for k, v in r.calls.items()),
                        r.scans,
                        r.run.rss_mb,
                        r.error[:80],
                    ]
                )
                peak.append(("list endpoint with the big tenant", r.run.rss_mb, f"{r.endpoint.key} ({r.endpoint.name})"))
            rep.add(
                "Read amplification",
                [
                    f"Tenant with {seeded.n:,} messages ({seeded.records:,} outbound email records; 1,000 candidates; one hot candidate,",
                    f"phone, entity and conversation) and another tenant with {other.n:,}. Each endpoint in a fresh process of its",
                    "function. *read*: DynamoDB's ScannedCount summed over every Query (COUNT queries included: DynamoDB reads and",
                    "charges those items though none is returned) + items of GetItem/BatchGetItem; *returned*: items in the response.",
                    "",
                    *table(
                        [
                            "endpoint",
                            "HTTP",
                            "returned",
                            "read",
                            "of which COUNT",
                            "read ÷ returned",
                            "≤ 2.0?",
                            "calls",
                            "Scans",
                            "RSS MB",
                            "note",
                        ],
                        tbl,
                    ),
                ],
            )
            measured = [r for r in rows if r.ratio is not None]
            exact = [r for r in measured if (r.ratio or 0) <= READ_RATIO_LIMIT]
            worst = max(measured, key=lambda r: r.ratio or 0) if measured else None
            causes = []
            if any(r.read_count_queries > r.returned for r in rows):
                causes.append(
                    "a page's total is counted with Select=COUNT over the window or partition where no tally serves it "
                    "(a FilterExpression: history by address and candidate, communicationId filters; GSI3/GSI6 partitions)"
                )
            if any("transactional" in r.endpoint.name and (r.ratio or 0) > READ_RATIO_LIMIT for r in rows):
                causes.append(
                    "the transactional archive reads one contact item per candidate per day of the window to return one "
                    "page of distinct candidates"
                )
            if any("POST" in r.endpoint.name and (r.ratio or 0) > READ_RATIO_LIMIT for r in rows):
                causes.append("a free-text search term is applied to every record of the partition read")
            if any("scheduled" in r.endpoint.name and (r.ratio or 0) > READ_RATIO_LIMIT for r in rows):
                causes.append(
                    "/scheduled reads the due index (GSI9) in due order and asks each page for what is still wanted: it "
                    "reads past its last record only when the 5 MB answer budget cuts it short (the records its last page "
                    "asked for beyond what fitted)"
                )
            if any("find-all" in r.endpoint.name and (r.ratio or 0) > READ_RATIO_LIMIT for r in rows):
                causes.append("find-all reads in pages of 100 and reads a whole page beyond its 1,000th record")
            rep.figures.append(
                Figure(
                    "Read amplification (items read ÷ returned), every list endpoint",
                    f"{len(exact)}/{len(measured)} within; worst {worst.ratio:.2f}× ({worst.endpoint.name})" if worst else "not measured",
                    f"≤ {READ_RATIO_LIMIT} (tally and index reads included)",
                    len(exact) == len(measured) and bool(measured),
                    "; ".join(causes),
                )
            )
            scans = sum(r.scans for r in rows) + child_scans + CALLS.totals.get("dynamodb.Scan", 0)
            rep.figures.append(Figure("Scans issued (every call of every phase counted)", str(scans), "0", scans == 0, "a Scan was issued"))
            paired = []
            by_name = {r.endpoint.name: r for r in rows}
            for name in by_name:
                if "page" in name and not name.endswith("page 1"):
                    first = by_name.get(name.rsplit(",", 1)[0] + ", page 1")
                    if first:
                        deep = by_name[name]
                        paired.append((name, first, deep))
            if paired:
                rep.add(
                    "Page 50 against page 1",
                    table(
                        ["endpoint", "page 1: calls / read", "deep page: calls / read", "same cost?"],
                        [
                            [
                                n,
                                f"{sum(a.calls.values())} / {a.read}",
                                f"{sum(b.calls.values())} / {b.read}",
                                "yes" if b.read <= a.read + 1 else "NO",
                            ]
                            for n, a, b in paired
                        ],
                    ),
                )
                same = [n for n, a, b in paired if b.read <= a.read + 1]
                rep.figures.append(
                    Figure(
                        "Page 50 of a paged list costs what page 1 costs",
                        f"{len(same)}/{len(paired)} paged endpoints: "
                        + "; ".join(
                            f"{n.rsplit(',', 1)[0]} {sum(a.calls.values())}→{sum(b.calls.values())} calls, {a.read}→{b.read} read"
                            for n, a, b in paired
                        ),
                        "within +1 small read of page 1",
                        len(same) == len(paired),
                        "a deep page reads more than page 1: "
                        + "; ".join(f"{n}: {a.read} → {b.read}" for n, a, b in paired if n not in same),
                    )
                )

        if peak:
            what, mb, where = max(peak, key=lambda p: p[1])
            rep.figures.append(
                Figure(
                    "Peak RSS of any function process",
                    f"{mb:.0f} MB ({where.split(' (')[0]}, {what})",
                    f"≤ {MEMORY_LIMIT_MB} MB",
                    mb <= MEMORY_LIMIT_MB,
                    f"{where} peaked at {mb:.0f} MB",
                )
            )
    finally:
        emu.stop()

    total = time.monotonic() - started
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if _git("status", "--porcelain") else ""
    rep.header = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}{dirty}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_start[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; "
        f"{'quick' if quick else 'full'} run ({rounds} rounds, {warm_n} warm sends, {dispatch_n:,} dispatched, {reads_n:,} records), "
        f"{total / 60:.1f} min ({', '.join(f'{k} {v / 60:.1f}' for k, v in timings.items())}).",
        "",
        "Emulator: moto's HTTP server on 127.0.0.1 (in the bench process), provisioned from the SAM templates, with two of",
        "its costs that grow with the table taken out (`bench/emulator.py`; what the calls return is unchanged): the whole-table",
        "rollback snapshot of TransactWriteItems, and Query walking every item of the table. Times are this machine's and this",
        "emulator's: only the side-by-side ratios are meant to be compared. See bench/README.md for what each benchmark does.",
    ]
    text = rep.render()
    print(text, file=report_out, flush=True)
    if args.results:
        args.results.write_text(text + "\n")
        progress(f"written to {args.results}")
    if args.readme:
        if quick:
            progress(f"a quick run does not write {args.readme}")
        else:
            results = Path(os.path.relpath(args.results.resolve(), ROOT)) if args.results else None
            write_readme_block(args.readme, rep, results)
            progress(f"summary written to {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
