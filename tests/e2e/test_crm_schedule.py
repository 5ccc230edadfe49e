"""Acceptance (issue 4): three CRM emails scheduled 60-100 s ahead over HTTP on the local stack, one cancelled
before its time. The other two go out at (not before) their times; the cancelled one never does.
Statuses end SENT / SENT / CANCELLED with CREATE and STATUS_CHANGE events, and GET /scheduled lists
them while they wait and not after."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

BASE = "/api/v1/communications"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-User-ID": "planner-1"}


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_three_scheduled_emails_two_sent_on_time_one_cancelled(local, emulator_env):
    from parley.dal import messages

    tenant = local.new_tenant(f"crm-schedule-{uuid.uuid4().hex[:6]}")
    key = tenant["apiKey"]
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC).replace(microsecond=0)
    # due in 20, 32 and 44 s: room for the three posts and the cancel under a loaded machine, yet no minute of waiting
    plan = [(f"first-{run}@example.com", 20), (f"cancelled-{run}@example.com", 32), (f"last-{run}@example.com", 44)]

    records = []
    for to, seconds in plan:
        at = now + timedelta(seconds=seconds)
        payload = {"subject": f"Reminder {seconds}s", "body": f"<p>Due at {at.isoformat()}</p>", "recipients": [to],
                   "scheduledAt": at.isoformat(), "type": "REMINDER"}  # fmt: skip
        res = requests.post(local.api + BASE + "/schedule", json=payload, headers=auth(key), timeout=30)
        assert res.status_code == 200, res.text
        rec = res.json()
        assert rec["status"] == "SCHEDULED" and parse(rec["scheduledAt"]) == at and rec["sentAt"] is None
        records.append(rec)
    first, cancelled, last = records

    def scheduled_ids() -> list[str]:
        res = requests.get(local.api + BASE + "/scheduled", headers=auth(key), timeout=30)
        assert res.status_code == 200, res.text
        return [r["id"] for r in res.json()]

    assert scheduled_ids() == [first["id"], cancelled["id"], last["id"]]  # by scheduledAt

    res = requests.post(f"{local.api}{BASE}/{cancelled['id']}/cancel", headers=auth(key), timeout=30)
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "CANCELLED"
    assert datetime.now(UTC) < parse(cancelled["scheduledAt"])  # cancelled before its time
    assert scheduled_ids() == [first["id"], last["id"]]

    def outbox_to(address: str) -> list[dict]:
        return [m for m in local.outbox()["email"] if address in ((m["destinations"] or {}).get("ToAddresses") or [])]

    # Nothing goes out early.
    assert outbox_to(plan[0][0]) == []

    def find(message_id: str) -> dict:
        res = requests.get(f"{local.api}{BASE}/find/{message_id}", headers=auth(key), timeout=30)
        assert res.status_code == 200, res.text
        return res.json()

    deadline = time.monotonic() + 110
    seen_first_sent_while_last_waits = False
    while time.monotonic() < deadline:
        first_now, last_now = find(first["id"]), find(last["id"])
        if first_now["status"] == "SENT" and last_now["status"] == "SENT":
            break
        last_outbox, waiting = outbox_to(plan[2][0]), scheduled_ids()
        if datetime.now(UTC) < parse(last["scheduledAt"]):
            # Everything above was read before the last one's time: it must still be waiting.
            assert last_now["status"] == "SCHEDULED" and last_outbox == [] and last["id"] in waiting
            if first_now["status"] == "SENT":
                assert first["id"] not in waiting
                seen_first_sent_while_last_waits = True
        time.sleep(1)
    assert seen_first_sent_while_last_waits
    final = {rec["id"]: find(rec["id"]) for rec in records}
    assert [final[r["id"]]["status"] for r in records] == ["SENT", "CANCELLED", "SENT"]

    for rec, (to, _) in zip(records, plan, strict=True):
        now_rec = final[rec["id"]]
        stored = messages.get(tenant["tenantId"], rec["id"])
        types = [e["type"] for e in now_rec["events"]]
        assert types == ["CREATE", "STATUS_CHANGE"], types
        if rec is cancelled:
            assert stored.status.value == "CANCELLED" and now_rec["sentAt"] is None
            assert now_rec["events"][1]["description"] == "Status changed to CANCELLED"
            assert outbox_to(to) == []
            continue
        assert stored.status.value == "SENT"
        assert parse(now_rec["sentAt"]) >= parse(now_rec["scheduledAt"])  # at or after its time, never early
        assert parse(now_rec["sentAt"]) - parse(now_rec["scheduledAt"]) < timedelta(seconds=30)
        assert now_rec["events"][1]["description"] == "Status changed to SENT"
        (sent,) = outbox_to(to)
        assert sent["subject"] == rec["subject"] and now_rec["messageId"] == sent["id"]

    assert scheduled_ids() == []
