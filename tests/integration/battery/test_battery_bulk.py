"""Battery (issue 19): a 2,000-recipient bulk message posts exactly once per recipient when its worker is killed
halfway and its jobs are redelivered, and its progress is read throughout, monotone, ending at 2,000.

Real processes, as the multicast battery (test_battery_multicast.py, whose emulator fixture this reuses): the
emulator (moto's server) in one, each AutomationFunction worker in another (bulk_worker.py: Lambda's SQS polling
around the real handler). The first worker is SIGKILLed once it has posted a random 30 to 70% of the recipients; the
jobs it held come back after the visibility timeout and a second worker finishes. Meanwhile the test reads the bulk
message through the real GET handler (GetMessagingBulkMessageFunction) every half second. Exactly once: one direct
channel and one message (its deterministic id, source bulk) per recipient, every recipient stored once as posted, the
counters exact.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import Context, api_event, function_handler

from .test_battery_multicast import ROOT, SERVER, _scan

WORKER = Path(__file__).with_name("bulk_worker.py")
N = int(os.environ.get("BULK_BATTERY_N", "2000"))  # (smaller only to debug the battery itself)
VISIBILITY = int(os.environ.get("BULK_BATTERY_VISIBILITY", "90"))  # longer than one invocation (2 jobs of 25 posts)
FIRST_WORKER_SECONDS, SECOND_WORKER_SECONDS = 1800, 2400
ORG = "org-bulk"
SENDER, SENDER_USER = "ind-sender", "user-sender"
GROUP = "group-bulk"
AT = "2026-11-01T09:00:00.000Z"


def _seed(tenant_id: str) -> list[str]:
    """The sender and N recipients (each owned by its user; every third user's locale es_US); a group of the last
    N - 400 and, named one by one, the first 500 (100 of them in the group too): N distinct recipients."""
    from parley.dal import directory, table

    people = [f"ind-{i:05d}" for i in range(N)]
    items = [directory.item(tenant_id, "organizations", ORG, AT, {"name": "bulk org"}),
             directory.item(tenant_id, "users", SENDER_USER, AT, {"username": "sender", "primary-individual-id": SENDER}),
             directory.item(tenant_id, "individuals", SENDER, AT, {"first-name": "Sender", "owner-id": SENDER_USER})]  # fmt: skip
    for i, ind in enumerate(people):
        user = f"user-{i:05d}"
        items.append(directory.item(tenant_id, "users", user, AT, {"username": user, **({"locale": "es_US"} if i % 3 == 0 else {})}))
        items.append(directory.item(tenant_id, "individuals", ind, AT, {"first-name": f"I{i}", "owner-id": user}))
    group = {"name": "everyone", "organization-id": ORG, "individuals": [{"id": p} for p in people[400:]] + [{"id": SENDER}]}
    items.append(directory.item(tenant_id, "individual-groups", GROUP, AT, group))
    table.batch_put(items)
    return people


def _worker(emulator: dict[str, Any], idle: float, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), emulator["queue_url"], emulator["queue_arn"], str(VISIBILITY), str(idle)],
        stdout=subprocess.PIPE, stderr=(emulator["logs"] / f"{name}.log").open("wb"), env=emulator["env"], text=True,
    )  # fmt: skip


@pytest.fixture
def automation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The emulator in its own process (as the multicast battery's fixture), its stack built, this process in
    AutomationFunction's environment; what the workers need to poll AutomationQueue."""
    pythonpath = os.pathsep.join([str(ROOT / "local"), str(ROOT / "layers" / "common"), str(ROOT / "tests")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=(tmp_path / "moto.log").open("wb"), env=env)  # fmt: skip
    try:
        endpoint = f"http://127.0.0.1:{int(server.stdout.readline())}"  # type: ignore[union-attr]
        for k, v in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():  # fmt: skip
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        from parley_local.stack import Provisioner

        stack = Provisioner(endpoint).build()
        fn = stack.function("root.AutomationFunction")
        get_fn = stack.function("CourierMessagingApi.GetMessagingBulkMessageFunction")
        for k, v in {**get_fn.env, **fn.env}.items():
            monkeypatch.setenv(k, v)
        from parley.dal import aws
        from parley.settings import get_settings

        get_settings.cache_clear()
        aws.reset()
        arn = next(a for a in stack.queues if a.endswith("-AutomationQueue"))
        worker_env = {**env, **{k: os.environ[k] for k in (*fn.env, "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                           "AWS_DEFAULT_REGION", "AWS_REGION")}, "POWERTOOLS_LOG_LEVEL": "WARNING",
                      "POWERTOOLS_METRICS_NAMESPACE": "Parley"}  # fmt: skip
        yield {"queue_arn": arn, "queue_url": stack.queues[arn], "env": worker_env, "logs": tmp_path, "get": get_fn}
    finally:
        server.kill()
        server.wait(30)
        from parley.dal import aws as dal_aws
        from parley.settings import get_settings as settings

        settings.cache_clear()
        dal_aws.reset()
        dal_aws.session.cache_clear()  # as the multicast battery: the next tests' in-process moto needs a new session


def test_a_2000_recipient_bulk_message_posts_once_each_through_a_killed_worker(automation):
    from parley.dal import bulk_messages as store
    from parley.domain import bulk_messages
    from parley.domain.auth import create_tenant
    from parley.models.bulk_messages import BulkMessageCreate

    tenant, _ = create_tenant("Bulk Care", "no-reply@parley.example", "Bulk")
    people = _seed(tenant.id)
    attrs = BulkMessageCreate.model_validate({"individual-ids": people[:500], "individual-group-ids": [GROUP], "message": "Closed Friday",
                                              "message-js": {"es_US": "Cerrado el viernes"}, "auto-create-channel": True})  # fmt: skip
    bulk = bulk_messages.create(tenant.id, SENDER, SENDER_USER, attrs)
    bulk_id = bulk["id"]

    # GET, through the real handler, every half second until the posting is done
    get = function_handler(automation["get"])
    samples: list[dict[str, Any]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            ev = api_event("courier_messaging/get_messaging_bulk_message", tenant_id=tenant.id, headers={"X-User-ID": SENDER_USER})
            ev["pathParameters"], ev["path"] = {"id": bulk_id}, f"/v1/messaging-bulk-messages/{bulk_id}/"
            out = get(ev, Context())
            assert out["statusCode"] == 200, out
            samples.append(json.loads(out["body"])["data"]["attributes"])
            stop.wait(0.5)

    bulk_messages.start(tenant.id, bulk_id)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    kill_at = random.randint(int(N * 0.3), int(N * 0.7))
    first = _worker(automation, idle=120, name="worker-1")
    posts: Counter[str] = Counter()
    started = time.monotonic()
    for line in first.stdout:  # type: ignore[union-attr]
        if line.startswith("posted "):
            posts[line.split()[1]] += 1
            if posts.total() >= kill_at:
                first.send_signal(signal.SIGKILL)
                break
        assert time.monotonic() - started < FIRST_WORKER_SECONDS, "the first worker is too slow"
    first.wait(30)
    assert first.returncode == -signal.SIGKILL, "the worker was not killed mid-way (it finished first?)"
    halfway = store.get(tenant.id, bulk_id, consistent=True)
    assert halfway["status"] == "posting" and int(halfway["posted"]) < N, "killed too late to prove anything"

    second = _worker(automation, idle=VISIBILITY + 20, name="worker-2")  # what the killed worker held comes back after VISIBILITY
    out, _ = second.communicate(timeout=SECOND_WORKER_SECONDS)
    assert second.returncode == 0 and out.rstrip().endswith("idle")
    posts.update(line.split()[1] for line in out.splitlines() if line.startswith("posted "))
    time.sleep(1.2)
    stop.set()
    reader.join(10)

    # done, every recipient counted once (a recipient is reported posted only by the transaction that counted it)
    done = store.get(tenant.id, bulk_id, consistent=True)
    assert (done["status"], int(done["total"]), int(done["posted"]), int(done["skipped"]), int(done["failed"])) == ("posted", N, N, 0, 0)
    assert done.get("posted_time") and sorted(posts) == sorted(people) and set(posts.values()) == {1}
    rows = store.recipients(tenant.id, bulk_id)
    assert len(rows) == N and {r["state"] for r in rows} == {"posted"}
    assert {r["message_id"] for r in rows} == {bulk_messages.message_id(bulk_id, p) for p in people}

    # exactly one direct channel and one message per recipient, in its locale
    messages = [i for i in _scan(f"TENANT#{tenant.id}#CHMSG#") if i.get("type") == "channel_message"]
    assert len(messages) == N and {m["source"] for m in messages} == {"bulk"} and {m["individual_id"] for m in messages} == {SENDER}
    assert {m["id"] for m in messages} == {r["message_id"] for r in rows}
    assert len({m["channel_id"] for m in messages}) == N and {int(m["seq"]) for m in messages} == {1}
    by_channel = {r["channel_id"]: r["individual_id"] for r in rows}
    for m in messages:
        i = int(by_channel[m["channel_id"]].split("-")[1])
        assert m["message"] == ("Cerrado el viernes" if i % 3 == 0 else "Closed Friday")
    channels = [i for i in _scan(f"TENANT#{tenant.id}#CHAN#") if i.get("type") == "channel"]
    assert len(channels) == N

    # the progress read throughout: monotone, from before the first post to 2,000
    posted = [s["progress"]["posted"] for s in samples]
    assert len(samples) >= 5 and posted == sorted(posted) and posted[-1] == N and posted[0] < N
    assert any(0 < p < N for p in posted), "no sample caught the posting halfway"
    statuses = [s["status"] for s in samples]
    assert statuses[-1] == "posted" and set(statuses) <= {"queued", "posting", "posted"}
    totals = {s["progress"]["total"] for s in samples if s["status"] != "queued"}
    assert totals == {N}
