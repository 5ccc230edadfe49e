"""The local stack serves what the templates declare — no more — and runs the background parts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import requests

from helpers import ROOT


def declared_routes() -> set[tuple[str, str]]:
    from cfnlint.decode import decode

    routes = set()
    root, _ = decode(str(ROOT / "template.yaml"))
    templates = [ROOT / "template.yaml"] + [
        ROOT / res["Properties"]["Location"] for res in root["Resources"].values() if res["Type"] == "AWS::Serverless::Application"
    ]
    for path in templates:
        doc, _ = decode(str(path))
        for res in doc["Resources"].values():
            if res["Type"] != "AWS::Serverless::Function":
                continue
            for event in (res["Properties"].get("Events") or {}).values():
                if event["Type"] == "Api":
                    routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


def test_served_routes_are_exactly_the_declared_ones(local):
    index = requests.get(local.api + "/_local", timeout=10).json()
    served = {(r["method"], r["path"]) for r in index["routes"]}
    assert served == declared_routes()
    assert served  # the templates do declare routes


def test_undeclared_route_and_method_are_404_in_the_family_shape(local):
    auth = {"Authorization": f"Bearer {local.demo_key}"}
    missing = requests.get(local.api + "/communications/email/v1/nope", headers=auth, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "message": "no such route"}
    wrong_method = requests.delete(local.api + "/communications/email/v1/send", headers=auth, timeout=10)
    assert wrong_method.status_code == 404


def test_due_schedule_fires_and_cancelled_one_does_not(emulator_env):
    """The scheduling path on the local stack: EventBridge Scheduler → send queue → dispatcher."""
    from parley import clock
    from parley.dal import messages, schedules
    from parley.domain.context import Caller
    from parley.domain.emails import cancel, new_outbound_email, schedule

    local = emulator_env
    tenant = local.new_tenant("Scheduler Co")
    tenant_id = tenant["tenantId"]
    caller = Caller(tenant_id=tenant_id, sender_email=tenant["senderEmail"])
    at = clock.now() + timedelta(seconds=6)
    to_keep = f"keep-{uuid.uuid4().hex[:6]}@example.com"
    to_cancel = f"cancel-{uuid.uuid4().hex[:6]}@example.com"
    kept = schedule(new_outbound_email(caller, source_api="test", recipient=to_keep, subject="Later", body="x"), at, "Europe/Amsterdam")
    dropped = schedule(new_outbound_email(caller, source_api="test", recipient=to_cancel, subject="Never", body="y"), at)
    assert messages.get(tenant_id, kept.id).scheduled_tz == "Europe/Amsterdam"
    assert cancel(tenant_id, dropped.id) is True
    assert schedules.delete(dropped.id) is False  # already gone

    def delivered():
        return [m for m in local.outbox()["email"] if to_keep in m["destinations"]["ToAddresses"]]

    assert local.wait_for(delivered, timeout=20)
    assert local.wait_for(lambda: messages.get(tenant_id, kept.id).status == "SENT", timeout=5)
    sent = messages.get(tenant_id, kept.id)
    assert sent.sent_at is not None and sent.sent_at >= at
    assert messages.get(tenant_id, dropped.id).status == "CANCELLED"
    assert not [m for m in local.outbox()["email"] if to_cancel in m["destinations"]["ToAddresses"]]
