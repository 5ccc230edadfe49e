"""The local stack serves what the templates declare — no more — and runs the background parts."""

from __future__ import annotations

import json
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


def test_local_tools_read_json_whatever_the_content_type_and_never_default_silently(emulator_env):
    """README's own `curl -d '{"name": "Acme"}'` labels JSON as a form: the tools read it as JSON anyway
    (before: a tenant named "tenant", `404 no tenant`, "must be a JSON object"); bad bodies are 400s."""
    from parley.dal import tenants

    local = emulator_env
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl -d sends
    out = requests.post(f"{local.api}/_local/tenants", data='{"name": "Acme"}', headers=form, timeout=10)
    assert out.status_code == 201, out.text
    tenant_id = out.json()["tenantId"]
    assert tenants.get(tenant_id).name == "Acme"

    settings = json.dumps({"tenantId": tenant_id, "settings": {"quiet_hours": True}})
    out = requests.post(f"{local.api}/_local/tenant-settings", data=settings, headers=form, timeout=10)
    assert out.status_code == 200, out.text
    assert tenants.get(tenant_id).quiet_hours is True

    cand = json.dumps({"tenantId": tenant_id, "email": f"c-{uuid.uuid4().hex[:6]}@example.com", "firstname": "Ada"})
    out = requests.post(f"{local.api}/_local/candidates", data=cand, headers=form, timeout=10)
    assert out.status_code == 200, out.text
    user = json.dumps({"tenantId": tenant_id, "userId": "recruiter-1", "firstname": "Rae"})
    assert requests.post(f"{local.api}/_local/users", data=user, timeout=10).status_code == 200  # no Content-Type at all

    refused = {
        "name=Acme": "not valid JSON",  # a real form body
        '{"name": "Acme"': "not valid JSON",
        "": "empty body",
        '["Acme"]': "JSON object",
        "{}": "name is required",
        '{"name": "  "}': "name is required",
        '{"name": "Acme", "senderEmail": 5}': "senderEmail",
    }
    for body, says in refused.items():
        out = requests.post(f"{local.api}/_local/tenants", data=body, headers=form, timeout=10)
        assert out.status_code == 400, (body, out.text)
        assert says in out.json()["message"], (body, out.text)
    for tool in ("tenant-settings", "candidates", "users"):
        out = requests.post(f"{local.api}/_local/{tool}", data="{oops", headers=form, timeout=10)
        assert out.status_code == 400 and "not valid JSON" in out.json()["message"], (tool, out.text)
    out = requests.post(f"{local.api}/_local/tenant-settings", json={"tenantId": tenant_id, "settings": "quiet_hours"}, timeout=10)
    assert out.status_code == 400 and "settings" in out.json()["message"]
