# ruff: noqa: RUF001 (the multiplication sign, on purpose)
"""The multicast fan-out (docs/courier.md "Multicasts"): AWS calls per recipient and throughput, against direct SNS
publishes in the same run.

    python -m bench.multicast [-n 2000] [--results bench/RESULTS.md] [--readme README.md]

One tenant with ``n`` users, each owning one individual (written as the directory replica writes them), a CRM template,
and a multicast to every participant (``filter-type: all-participants``). MulticastFunction runs in this process against
the emulator (moto's server, provisioned from the templates), fed as Lambda's event source mapping feeds it (receive
10, invoke with batches of 5 — the template's BatchSize —, delete what succeeded), until the multicast is done.

notify() (parley.domain.notifications, the notifications family's) is replaced by **one SNS Publish to a platform
endpoint** per recipient: the least any push delivery costs, and exactly what the floor does. So the pipeline's own
cost is what it adds to that Publish: the difference between its calls per recipient and 1, and its throughput against
the floor. The floor: ``n`` direct ``sns.Publish`` calls to the same endpoints with the same payload, half before and
half after the fan-out (so drift in the machine's speed hits both). A checkout with the real notify() can pass
``--notify real`` to count its transports as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.calls import CALLS, describe
from bench.emulator import ROOT, Emulator

ENDPOINTS = 100  # platform endpoints the publishes go to, round-robin


def markers(notify: str) -> tuple[str, str]:
    """Each notify mode's section (and README line) has its own markers: a run replaces only its own."""
    tag = "multicast" if notify == "publish" else f"multicast:{notify}"
    return f"<!-- bench:{tag}:start -->", f"<!-- bench:{tag}:end -->"


@dataclass
class Result:
    n: int
    notify: str
    accept_calls: str = ""
    function_s: float = 0.0
    loop_s: float = 0.0
    floor_s: float = 0.0
    function_calls: Counter[str] = field(default_factory=Counter)
    notify_calls: Counter[str] = field(default_factory=Counter)  # of which inside notify()
    esm_calls: Counter[str] = field(default_factory=Counter)
    invocations: int = 0
    status: str = ""
    progress: dict[str, int] = field(default_factory=dict)

    def per_recipient(self, calls: Counter[str]) -> float:
        return sum(calls.values()) / self.n

    @property
    def ratio(self) -> float:
        """Fan-out throughput ÷ direct-publish throughput (function time)."""
        return self.floor_s / self.function_s if self.function_s else 0.0


def _seed(n: int) -> tuple[str, str]:
    from parley.dal import directory, table
    from parley.domain import templates
    from parley.domain.auth import create_tenant
    from parley.models.crm import TemplateRequest

    tenant, _ = create_tenant("Bench Care", "no-reply@parley.example", "Bench")
    items = []
    for i in range(n):
        user, ind = f"user-{i:06d}", f"ind-{i:06d}"
        items.append(directory.item(tenant.id, "users", user, "2026-11-01T09:00:00.000Z", {"first-name": f"U{i}"}))
        items.append(directory.item(tenant.id, "individuals", ind, "2026-11-01T09:00:00.000Z", {"first-name": f"I{i}", "owner-id": user}))
    table.batch_put(items)
    request = TemplateRequest(name="Flu", subject="Flu shots, {{recipient.name}}", bodyHtml="<p>{{clinic}}</p>", bodyText="{{clinic}}")
    return tenant.id, templates.create(tenant.id, request, user_id=None).id


def _endpoints() -> list[str]:
    from parley.dal.aws import client

    sns = client("sns")
    app = sns.create_platform_application(Name="bench-fcm", Platform="GCM", Attributes={"PlatformCredential": "bench"})
    arn = app["PlatformApplicationArn"]
    return [sns.create_platform_endpoint(PlatformApplicationArn=arn, Token=f"token-{i:04d}")["EndpointArn"] for i in range(ENDPOINTS)]


def _message(title: str, body: str) -> str:
    gcm = {"notification": {"title": title, "body": body}, "data": {}}
    return json.dumps({"default": body, "GCM": json.dumps(gcm)})


def run(n: int, notify: str) -> Result:
    emu = Emulator().start()
    try:
        CALLS.install()
        emu.use_function_env(emu.function("root.MulticastFunction"))
        from parley.dal.aws import client
        from parley.domain import multicasts
        from parley_local.workers import _sqs_record

        tenant_id, template_id = _seed(n)
        endpoints = _endpoints()
        sns = client("sns")
        sent = Counter[int]()

        def publish_notify(tenant: str, **kw: Any) -> None:
            i = int(kw["user_id"].rsplit("-", 1)[1])
            sns.publish(
                TargetArn=endpoints[i % ENDPOINTS], MessageStructure="json", Message=_message(kw["data"].apn.title, kw["data"].apn.body)
            )
            sent[i] += 1

        inner_notify = publish_notify if notify == "publish" else multicasts._notify
        notify_log: list[dict[str, Any]] = []

        def measured(tenant: str, **kw: Any) -> Any:
            with CALLS.record() as calls:
                out = inner_notify(tenant, **kw)
            notify_log.extend(calls)
            return out

        multicasts._notify = measured  # type: ignore[assignment]

        def floor(count: int, offset: int) -> float:
            t = time.perf_counter()
            for i in range(offset, offset + count):
                sns.publish(TargetArn=endpoints[i % ENDPOINTS], MessageStructure="json", Message=_message(f"Flu shots, I{i}", "Northside"))
            return time.perf_counter() - t

        result = Result(n=n, notify=notify)
        result.floor_s += floor(n // 2, 0)

        with CALLS.record() as accept:
            req = multicasts.Request(kind="multicasts", template_id=template_id, data={"clinic": "Northside"}, created_by=None,
                                     filter_type="all-participants", filter_value={})  # fmt: skip
            mc, _ = multicasts.accept(tenant_id, req)
        result.accept_calls = describe(accept)
        fn = emu.function("root.MulticastFunction")
        from bench.scenarios import Context, function_handler

        handler = function_handler(fn)
        arn = next(a for a in emu.stack.queues if a.endswith("-MulticastQueue"))  # type: ignore[union-attr]
        url = emu.stack.queues[arn]  # type: ignore[union-attr]
        sqs = client("sqs")
        t_loop = time.perf_counter()
        with CALLS.record() as outer:
            inner_calls: list[dict[str, Any]] = []
            while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []):
                for i in range(0, len(got), 5):
                    chunk = got[i : i + 5]
                    with CALLS.record() as inner:
                        t = time.perf_counter()
                        out = handler({"Records": [_sqs_record(m, arn) for m in chunk]}, Context())
                        result.function_s += time.perf_counter() - t
                    inner_calls += inner
                    result.invocations += 1
                    failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
                    if failed:
                        raise RuntimeError(f"{len(failed)} multicast job(s) failed: see the log")
                    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
                                                                    for k, m in enumerate(chunk)])  # fmt: skip
        result.loop_s = time.perf_counter() - t_loop
        result.function_calls = Counter({f"{c['service']}.{c['op']}": 0 for c in inner_calls})
        for c in inner_calls:
            result.function_calls[f"{c['service']}.{c['op']}"] += 1
        for c in notify_log:
            result.notify_calls[f"{c['service']}.{c['op']}"] += 1
        for c in outer:
            result.esm_calls[f"{c['service']}.{c['op']}"] += 1
        result.esm_calls.subtract(result.function_calls)
        result.esm_calls = Counter({k: v for k, v in result.esm_calls.items() if v})
        result.floor_s += floor(n - n // 2, n // 2)

        from parley.dal import multicasts as store

        final = store.get(tenant_id, mc["id"], consistent=True) or {}
        result.status = str(final.get("status"))
        result.progress = {k: int(final.get(k) or 0) for k in ("audience", "notified", "skipped", "failed")}
        if notify == "publish":
            assert len(sent) == n and set(sent.values()) == {1}, "a recipient was published to twice or never"
        return result
    finally:
        emu.stop()


def report(r: Result) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: S607
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    per = r.per_recipient(r.function_calls)
    notify_share = r.per_recipient(r.notify_calls)
    start, end = markers(r.notify)
    rows = "\n".join(f"| {op} | {v} | {v / r.n:.3f} |" for op, v in sorted(r.function_calls.items(), key=lambda kv: -kv[1]))
    esm = ", ".join(f"{k}×{v}" for k, v in sorted(r.esm_calls.items())) or "none"
    title = "Multicast fan-out" if r.notify == "publish" else "Multicast fan-out with the real notify()"
    return f"""{start}
## {title}

`python -m bench.multicast -n {r.n}` — run {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, commit {commit}, Python
{platform.python_version()}, {os.cpu_count()} CPUs, load average {load:.1f}. One tenant, {r.n:,} users each owning one
individual; one multicast to all participants; MulticastFunction in-process on the emulator, fed as the event source
mapping feeds it (batches of 5 jobs). notify() = {
        "one SNS Publish to a platform endpoint per recipient (the floor's own call)"
        if r.notify == "publish"
        else "the notifications family's notify()"
    }. Finished `{r.status}`, progress {r.progress}.

| figure | fan-out | direct SNS Publish | ratio |
| --- | --- | --- | --- |
| recipients per second (function time) | {r.n / r.function_s:,.0f} | {r.n / r.floor_s:,.0f} | {r.ratio:.2f} |
| recipients per second (with the event source mapping's SQS calls) | {r.n / r.loop_s:,.0f} | {r.n / r.floor_s:,.0f} | {
        r.floor_s / r.loop_s:.2f} |
| AWS calls per recipient (inside the function) | {per:.3f} | 1 | — |
| of which inside notify() | {notify_share:.3f} | 1 | — |
| the pipeline's own (all but notify()) | {per - notify_share:.3f} | 0 | — |

Accept (the API's side, once per multicast): {r.accept_calls}. Invocations: {r.invocations:,}. Event source mapping
(receive and delete): {esm}.

| call inside MulticastFunction | calls | per recipient |
| --- | --- | --- |
{rows}
{end}
"""


def write(section: str, results: Path, readme: Path | None, r: Result) -> None:
    start, end = markers(r.notify)
    text = results.read_text() if results.exists() else "# Parley benchmarks\n"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n?", lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)
    if readme is None:
        return
    per = r.per_recipient(r.function_calls)
    own = per - r.per_recipient(r.notify_calls)
    anchor = "multicast-fan-out" if r.notify == "publish" else "multicast-fan-out-with-the-real-notify"
    what = "notify() as one SNS Publish" if r.notify == "publish" else "the real notify()"
    line = (
        f"Multicast fan-out ({r.n:,} recipients, {what}, `python -m bench.multicast`): {per:.2f} AWS calls per recipient inside "
        f"the function, {own:.2f} of them the pipeline's own; {r.n / r.function_s:,.0f} recipients/s against "
        f"{r.n / r.floor_s:,.0f} direct SNS publishes/s (×{r.ratio:.2f}), same run: [bench/RESULTS.md](bench/RESULTS.md#{anchor})."
    )
    body = readme.read_text()
    block = f"{start}\n{line}\n{end}\n"
    if start in body:
        body = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n?", lambda _: block, body, flags=re.S)
    else:
        after = "<!-- bench:multicast:end -->\n" if "<!-- bench:multicast:end -->" in body else "<!-- bench:end -->\n"
        body = body.replace(after, after + ("" if after.startswith("<!-- bench:multicast") else "\n") + block, 1)
    readme.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--notify", choices=("publish", "real"), default="publish")
    parser.add_argument("--results", type=Path, default=None, help="write the section into this file (bench/RESULTS.md)")
    parser.add_argument("--readme", type=Path, default=None, help="and the summary line into this README")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    r = run(args.n, args.notify)
    section = report(r)
    print(section)
    if args.results:
        write(section, args.results, args.readme, r)


if __name__ == "__main__":
    main()
