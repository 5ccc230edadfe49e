"""Battery (issue 16): a 5,000-recipient multicast completes with exactly one notification per recipient even when its
fan-out worker is killed halfway and its messages are redelivered; a second tenant's multicast, fanned out by the same
workers at the same time, stays its own.

Real processes: the emulator (moto's server, patched as the local stack runs it) in one, each worker in another
(tests/integration/battery/multicast_worker.py: Lambda's SQS polling around the real MulticastFunction handler). The
first worker is SIGKILLed once it has notified a random 30 to 70% of the audience; what it held in flight comes back after
the visibility timeout (60 s here: the worker receives with VisibilityTimeout=60, where Lambda uses the queue's 540 s) and a
second worker finishes. notify() is the real one (parley.domain.notifications: the user-notification and its daily
count, idempotent by notification id; these users have no devices, phone or email, so no transport sends) — or, in a
checkout without it, the stand-in of tests/multicast_fake.py with the same contract. Exactly once: one notification per
user (its item, its daily count of 1), every recipient stored once with that notification's id, progress counted once;
the calls repeated after the kill (the same id again) are bounded by what one worker holds in flight.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("multicast_worker.py")
N = int(os.environ.get("MULTICAST_BATTERY_N", "5000"))  # (smaller only to debug the battery itself)
# Seconds a received job stays hidden: longer than one invocation of 5 jobs (500 notify calls) takes on a loaded machine
# (else a job is received again while it runs, and after 5 receives SQS dead-letters it); shorter than Lambda's 540 s.
# On the emulator a notify() costs far more than on AWS (every index Query after a write re-reads the whole table:
# local/parley_local/moto_patches.py), and CI runs this beside the rest of the suite: hence the generous bounds.
VISIBILITY = 150
FIRST_WORKER_SECONDS, SECOND_WORKER_SECONDS = 1800, 2400
APN_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\nbattery\n-----END PRIVATE KEY-----", "signing-key-id": "KB", "team-id": "TB"}
SMALL = 60  # the other tenant's audience
SERVER = r"""
import os, sys
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
from parley_local import moto_patches
moto_patches.apply()
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server._server.server_port, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    pythonpath = os.pathsep.join([str(ROOT / "local"), str(ROOT / "layers" / "common"), str(ROOT / "tests")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=(tmp_path / "moto.log").open("wb"), env=env)  # fmt: skip
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        endpoint = f"http://127.0.0.1:{port}"
        for k, v in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():  # fmt: skip
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        from parley_local.stack import Provisioner

        stack = Provisioner(endpoint).build()
        fn = stack.function("root.MulticastFunction")
        for k, v in fn.env.items():
            monkeypatch.setenv(k, v)
        from parley.dal import aws
        from parley.settings import get_settings

        get_settings.cache_clear()
        aws.reset()
        arn = next(a for a in stack.queues if a.endswith("-MulticastQueue"))
        worker_env = {**env, **{k: os.environ[k] for k in (*fn.env, "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                           "AWS_DEFAULT_REGION", "AWS_REGION")}, "POWERTOOLS_LOG_LEVEL": "WARNING",
                      "POWERTOOLS_METRICS_NAMESPACE": "Parley"}  # fmt: skip
        yield {"endpoint": endpoint, "queue_arn": arn, "queue_url": stack.queues[arn], "env": worker_env, "logs": tmp_path}
    finally:
        server.kill()
        server.wait(30)
        from parley.dal import aws as dal_aws
        from parley.settings import get_settings as settings

        settings.cache_clear()
        dal_aws.reset()
        # this test may have made the process's botocore session before moto was imported: the next tests' in-process
        # moto (mock_aws) intercepts only sessions made after its import, so drop it
        dal_aws.session.cache_clear()


SMS_EVERY, DEVICE_EVERY = 10, 25  # A's users with SMS on and opted in (every 10th), with an iPhone (every 25th)


def _phone(i: int) -> str:
    return f"+1212{5550000 + i}"


def _seed(tenant_id: str, n: int, prefix: str, *, sms_every: int = 0) -> list[tuple[str, str]]:
    """``n`` users, each the owner of one individual: (individual id, user id) pairs, written as the replica does;
    every ``sms_every``-th user has a phone and SMS among its ``notifications``."""
    from parley.dal import directory, table

    people = [(f"{prefix}-ind-{i:05d}", f"{prefix}-user-{i:05d}") for i in range(n)]
    items = []
    for i, (ind, user) in enumerate(people):
        attrs: dict[str, Any] = {"first-name": f"U{user[-5:]}"}
        if sms_every and i % sms_every == 0:
            attrs |= {"phone": _phone(i), "notifications": ["sms"], "sms-mode": "all"}
        items.append(directory.item(tenant_id, "users", user, "2026-11-01T09:00:00.000Z", attrs))
        items.append(directory.item(tenant_id, "individuals", ind, "2026-11-01T09:00:00.000Z",
                                    {"first-name": f"I{ind[-5:]}", "owner-id": user}))  # fmt: skip
    table.batch_put(items)
    return people


def _worker(emulator: dict[str, Any], idle: float, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), emulator["queue_url"], emulator["queue_arn"], str(VISIBILITY), str(idle)],
        stdout=subprocess.PIPE, stderr=(emulator["logs"] / f"{name}.log").open("wb"), env=emulator["env"], text=True,
    )  # fmt: skip


def _dead_letters() -> list[str]:
    """What the multicast DLQ holds (bodies) and the reasons kept for it: why a step gave up."""
    from parley.dal.aws import client

    sqs = client("sqs")
    url = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-MulticastDLQ"))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    queue = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-MulticastQueue"))
    depth = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    waiting = {k: v for k, v in depth.items() if k.startswith("ApproximateNumberOfMessages")}
    steps = sorted(i["SK"] for i in _scan("TENANT#") if i.get("type") == "multicast_step" and str(i["SK"]).startswith("PAGE#"))
    return [str(waiting), str(steps)] + [m["Body"][:200] for m in got] + [str(r.get("reason"))[:300] for r in _scan("DEADLETTER#")]


def _send_jobs() -> list[str]:
    """The message ids of the jobs waiting on the send queue (received and left to come back: nothing consumes them)."""
    from parley.dal.aws import client

    sqs = client("sqs")
    url = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-SendQueue"))
    ids: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", []):
        ids += [json.loads(m["Body"])["message_id"] for m in got]
    return ids


def _query(pk: str, index: str | None = None) -> list[dict[str, Any]]:
    """Every item of one partition (of the table, or of an index whose key attribute is ``<index>PK``)."""
    from parley.dal import table

    name = f"{index}PK" if index else "PK"
    extra = {"IndexName": index} if index else {}
    return table.query_raw(KeyConditionExpression=f"{name} = :pk", ExpressionAttributeValues=table.values(pk=pk), **extra)


def _scan(prefix: str) -> list[dict[str, Any]]:
    from parley.dal import table

    return list(table.scan_all(FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues=table.values(p=prefix)))


def test_a_5000_recipient_multicast_survives_a_killed_worker_with_one_notification_each(emulator):
    from parley.dal import keys
    from parley.dal import multicasts as store
    from parley.dal import push as push_store
    from parley.domain import multicasts, notifications, optins, push, templates
    from parley.domain.auth import create_tenant
    from parley.models.crm import TemplateRequest
    from parley.models.push import AppCredentialCreate, UserDeviceCreate

    a, _ = create_tenant("Acme Care", "no-reply@parley.example", "Acme")
    b, _ = create_tenant("Globex Care", "no-reply@parley.example", "Globex")
    people_a, people_b = _seed(a.id, N, "a", sms_every=SMS_EVERY), _seed(b.id, SMALL, "b")
    # transports: every 10th user of A is opted in to SMS, every 25th has an iPhone registered for push
    texted = {user: _phone(i) for i, (_, user) in enumerate(people_a) if i % SMS_EVERY == 0}
    for phone in texted.values():
        optins.update(a.id, phone=phone, email=None, opt_in=True, reason="battery")
    push.create_credential(a.id, AppCredentialCreate(app_name="care", type="apn", store_id="com.example.care", data=APN_DATA))
    devices = {
        user: push.register_device(a.id, user, ind, UserDeviceCreate(type="apn", token=f"{i:064x}", app_name="care"))[0]
        for i, (ind, user) in enumerate(people_a)
        if i % DEVICE_EVERY == 0
    }
    request = TemplateRequest(name="Flu", subject="Flu shots, {{recipient.name}}", bodyHtml="<p>{{clinic}}</p>", bodyText="{{clinic}}")
    tpl_a, tpl_b = templates.create(a.id, request, user_id=None).id, templates.create(b.id, request, user_id=None).id

    mc_a, _ = multicasts.accept(a.id, multicasts.Request(kind="multicasts", template_id=tpl_a, data={"clinic": "A & co"}, created_by=None,
                                                         filter_type="all-participants", filter_value={}))  # fmt: skip
    mc_b, _ = multicasts.accept(b.id, multicasts.Request(kind="user-multicasts", template_id=tpl_b, data={"clinic": "B"}, created_by=None,
                                                         individual_ids=[i for i, _ in people_b]))  # fmt: skip

    kill_at = random.randint(int(N * 0.3), int(N * 0.7))
    first = _worker(emulator, idle=120, name="worker-1")
    calls: Counter[str] = Counter()
    started = time.monotonic()
    for line in first.stdout:  # type: ignore[union-attr]
        if line.startswith("notified "):
            calls[line.split()[1]] += 1
            if calls.total() >= kill_at:
                first.send_signal(signal.SIGKILL)
                break
        assert time.monotonic() - started < FIRST_WORKER_SECONDS, "the first worker is too slow"
    first.wait(30)
    assert first.returncode == -signal.SIGKILL, "the worker was not killed mid-way (it finished first?)"
    halfway = store.get(a.id, mc_a["id"], consistent=True)
    assert halfway["status"] == "running" and halfway["notified"] < N, "killed too late to prove anything"

    second = _worker(emulator, idle=VISIBILITY + 20, name="worker-2")  # the killed worker's messages come back after VISIBILITY
    out, _ = second.communicate(timeout=SECOND_WORKER_SECONDS)
    assert second.returncode == 0 and out.rstrip().endswith("idle")
    calls.update(line.split()[1] for line in out.splitlines() if line.startswith("notified "))

    # the multicast is done, every recipient counted once
    done_a = store.get(a.id, mc_a["id"], consistent=True)
    progress = {k: done_a.get(k) for k in ("batches_done", "batches_expected", "paging_done", "audience", "notified")}
    assert done_a["status"] == "done", (progress, _dead_letters())
    assert (done_a["audience"], done_a["notified"], done_a["skipped"], done_a["failed"]) == (N, N, 0, 0)
    assert done_a["batches_done"] == done_a["batches_expected"] == N // multicasts.BATCH

    # every recipient stored once, notified, with its own deterministic notification id
    rows = store.all_recipient_keys(a.id, mc_a["id"])
    assert len(rows) == N and {r["state"] for r in rows} == {"notified"}
    by_individual = {r["individual_id"]: r for r in rows}
    assert set(by_individual) == {i for i, _ in people_a}
    for ind, user in people_a:
        assert by_individual[ind]["user_id"] == user
        assert by_individual[ind]["notification_id"] == multicasts.notification_id(mc_a["id"], user)

    # every user's notify returned at least once; more than once (the same id: a no-op) only for what was in flight
    users_a = {u for _, u in people_a}
    assert users_a <= set(calls)
    repeated = [u for u in users_a if calls[u] > 1]
    assert all(calls[u] == 2 for u in repeated) and len(repeated) <= 5 * multicasts.BATCH, len(repeated)

    # exactly one notification per recipient: one per user, with the content rendered for that user
    ids_a = {r["notification_id"] for r in rows}
    made_a = [n for n in _scan(f"TENANT#{a.id}#NOTIF#") if n["SK"] == "NOTIF"]
    assert len(made_a) == N and {n["PK"].rsplit("#", 1)[1] for n in made_a} == ids_a
    assert sorted(n["user_id"] for n in made_a) == sorted(users_a)
    sample = json.loads(next(n for n in made_a if n["user_id"] == people_a[7][1])["data"])
    assert sample["apn"]["title"] == f"Flu shots, I{people_a[7][0][-5:]}" and sample["apn"]["body"] == "A & co"
    days = _scan(f"TENANT#{a.id}#NOTIFDAY#USER#")  # each user's daily count: the notification counted once
    assert len(days) == N and {int(d["n"]) for d in days} == {1}

    # exactly one delivery per recipient and transport. SMS: one message per texted user (its deterministic id), none
    # for anyone else, each queued on the send queue at most once (the dispatcher then sends a message at most once).
    nid = {user: multicasts.notification_id(mc_a["id"], user) for _, user in people_a}
    texts = _query(keys.timeline_pk(a.id, "sms"), index="GSI1")  # the tenant's SMS, by the timeline index
    assert sorted(m["recipient"] for m in texts) == sorted(texted.values())
    assert {m["id"] for m in texts} == {notifications.message_id(nid[user], "sms", 0) for user in texted}
    assert {m["body"] for m in texts} == {"A & co"}
    jobs = _send_jobs()
    assert len(jobs) == len(set(jobs)) and set(jobs) <= {m["id"] for m in texts}
    # push: one claim per device, and its log says sent, or unconfirmed for a push the killed worker had in flight
    outcomes: Counter[str] = Counter()
    for user, device in devices.items():
        partition = _query(push_store.device_pk(a.id, device))
        claims = [i["SK"] for i in partition if str(i["SK"]).startswith("PUSHCLAIM#")]
        logs = [i for i in partition if i.get("type") == "push_device_log"]
        assert claims == [f"PUSHCLAIM#{nid[user]}"] and len(logs) == 1, (user, claims, logs)
        outcomes[logs[0]["outcome"]] += 1
    assert outcomes["sent"] >= len(devices) - 1 and set(outcomes) <= {"sent", "unconfirmed"}, outcomes

    # the other tenant: its own multicast done, its own users only; nothing of A's in it and nothing of its in A's
    done_b = store.get(b.id, mc_b["id"], consistent=True)
    assert done_b["status"] == "done" and done_b["notified"] == SMALL
    made_b = [n for n in _scan(f"TENANT#{b.id}#NOTIF#") if n["SK"] == "NOTIF"]
    assert {json.loads(n["source"])["multicast-id"] if isinstance(n["source"], str) else n["source"]["multicast-id"]
            for n in made_a} == {mc_a["id"]}  # fmt: skip
    assert sorted(n["user_id"] for n in made_b) == sorted(u for _, u in people_b)
    assert store.get(b.id, mc_a["id"]) is None and store.get(a.id, mc_b["id"]) is None
    assert len(store.all_recipient_keys(b.id, mc_b["id"])) == SMALL
