"""The local console at http://127.0.0.1:3000/, driven in headless Chromium (Debian's package, `make install` puts it
there; playwright drives it, no browser download), and its simulate endpoints over HTTP.

Before the console existed, `/` was the gateway's 403 and none of this could be tried without writing payloads."""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path

import pytest
import requests

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = Path(os.environ.get("PARLEY_SCREENSHOTS", "")) if os.environ.get("PARLEY_SCREENSHOTS") else None


def _auth(tenant: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant['apiKey']}", "x-ph-userid": "recruiter-1"}


def _send_email(local, tenant, to: str, subject: str, html: str) -> str:
    out = requests.post(f"{local.api}/communications/email/v1/send", json={"toEmail": to, "subject": subject, "emailContent": html},
                        headers=_auth(tenant), timeout=30)  # fmt: skip
    assert out.status_code == 200, out.text
    return out.json()["data"]["emailActivityId"]


def _outbox_id(local, to: str) -> str:
    found = local.wait_for(lambda: [m for m in local.outbox()["email"] if to in (m["destinations"] or {}).get("ToAddresses", [])], 20)
    assert found, f"no email to {to} in the outbox"
    return found[0]["id"]


def _opt_in(local, tenant, phone: str) -> None:
    out = requests.put(f"{local.api}/communications/sms/v1/optIn", json={"phoneNumber": phone, "optIn": True}, headers=_auth(tenant),
                       timeout=30)  # fmt: skip
    assert out.status_code == 200, out.text


def _opt_status(local, tenant, phone: str) -> str:
    out = requests.get(f"{local.api}/communications/sms/v1/optIn", params={"phoneNumber": phone}, headers=_auth(tenant), timeout=30)
    assert out.status_code == 200, out.text
    return out.json()["status"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium (as root), or set PARLEY_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def test_console_shows_a_sent_email_safely_and_a_simulated_stop_opts_the_number_out(local, browser, tmp_path):
    tenant = local.new_tenant("Console Co")
    to = f"cand-{uuid.uuid4().hex[:8]}@example.com"
    subject = f"Console check {uuid.uuid4().hex[:6]}"
    hostile = ("<p id='greeting'>Hello from the console test</p><script>parent.document.title = 'pwned'</script>"
               "<img src='x' onerror=\"parent.document.title = 'pwned'\"><b>&lt;not a tag&gt;</b>")  # fmt: skip
    _send_email(local, tenant, to, subject, hostile)
    _outbox_id(local, to)
    phone = f"+1555{random.randrange(10**6, 10**7)}"
    _opt_in(local, tenant, phone)
    assert _opt_status(local, tenant, phone) == "OPTED_IN"

    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    assert page.goto(local.api + "/").status == 200
    assert page.title() == "Parley · local console"

    # the tenant of this run, with its key
    page.locator(f"#tenants li[data-tenant='{tenant['tenantId']}']").wait_for()
    assert tenant["apiKey"] in page.inner_text(f"#tenants li[data-tenant='{tenant['tenantId']}']")

    # the sent email is listed; opened, its body is rendered in a sandboxed frame where nothing runs
    item = page.locator("#emails li[data-id]", has_text=subject)
    item.wait_for(timeout=15_000)
    assert to in item.inner_text()
    item.click()
    page.locator("#email-detail:not([hidden])").wait_for()
    page.locator("#detail-headers", has_text=to).wait_for()
    assert page.inner_text("#detail-subject") == subject
    frame = page.locator("#detail-body")
    assert frame.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    body = page.frame_locator("#detail-body").locator("#greeting")
    body.wait_for()
    assert body.inner_text() == "Hello from the console test"
    page.wait_for_timeout(300)
    assert page.title() == "Parley · local console"  # neither the script nor the onerror ran
    assert "SENT" in page.inner_text("#detail-record")

    # the candidate answers (SendGrid Inbound Parse): the reply shows in the email's conversation
    page.fill("#reply-text", "Thursday at 10 is fine")
    page.click("#btn-reply")
    page.locator("#sim-result[data-ok='true']").wait_for(timeout=30_000)
    page.locator("#detail-conversation li[data-message]", has_text="Thursday at 10 is fine").wait_for(timeout=15_000)

    # a STOP from the phone, through the form: Twilio's signed inbound webhook at the Function URL
    page.select_option("#sms-tenant", tenant["tenantId"])
    page.fill("#sms-from", phone)
    page.click("#btn-stop")
    page.locator("#sim-result[data-ok='true']").wait_for(timeout=30_000)
    result = page.inner_text("#sim-result")
    assert "/_url/TwilioInboundFunction/" in result and "200" in result
    assert "configured" in result  # the tenant had no Twilio auth token: the console says it made one
    # Twilio's webhook answers at once and the provider events consumer applies the STOP (issue 11)
    assert local.wait_for(lambda: _opt_status(local, tenant, phone) == "OPTED_OUT", timeout=15), _opt_status(local, tenant, phone)
    page.locator("#webhooks li", has_text="/_url/TwilioInboundFunction/").first.wait_for()

    page.wait_for_timeout(500)  # let the frame paint for the picture
    shot = (SCREENSHOTS or tmp_path) / "console.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert errors == []
    page.close()


def test_docs_page_renders_swagger_ui_offline(local, browser):
    """Swagger UI comes from the stack (an installed package), not a CDN: with every other host blocked it renders."""
    page = browser.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local.api) else route.abort())
    page.goto(f"{local.api}/_local/docs/candidate")
    page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
    assert "Parley candidate API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.close()


def test_simulations_reach_the_public_webhooks_signed(emulator_env):
    """Each button's endpoint, over HTTP: the reply threads to the email, the bounce is applied, an SMS reply is stored."""
    import json

    from parley.dal import messages

    local = emulator_env
    tenant = local.new_tenant("Simulations")
    to = f"sim-{uuid.uuid4().hex[:8]}@example.com"
    mid = _send_email(local, tenant, to, "Interview", "<p>Can you do Thursday?</p>")
    email_id = _outbox_id(local, to)

    def activity():
        out = requests.get(f"{local.api}/communications/email/v1/activity", params={"emailActivityId": mid}, headers=_auth(tenant),
                           timeout=30)  # fmt: skip
        return [e["event"] for e in out.json()["data"]]

    local.wait_for(lambda: "sent" in activity(), timeout=10)
    reply = requests.post(f"{local.api}/_local/simulate/reply", json={"emailId": email_id, "text": "Thursday works"}, timeout=60).json()
    assert reply["ok"] and reply["status"] == 200, reply
    assert reply["request"]["url"].endswith("/communications/email/v1/reply")
    sid = json.loads(reply["response"])["data"]["MessageSid"]
    # the reply webhook answers at once and the inbound mail consumer stores it (issue 11): wait for it
    inbound = local.wait_for(lambda: messages.get(tenant["tenantId"], sid), timeout=15)
    original = messages.get(tenant["tenantId"], mid)
    assert (inbound.direction, inbound.sender, inbound.conversation_id) == ("inbound", to, original.conversation_id)
    assert "Thursday works" in (inbound.body_text or inbound.body)
    detail = requests.get(f"{local.api}/_local/console/email", params={"id": email_id}, timeout=30).json()
    assert [(c["id"], c["direction"]) for c in detail["conversation"]] == [(sid, "inbound")]  # the console shows it

    bounce = requests.post(f"{local.api}/_local/simulate/bounce", json={"emailId": email_id}, timeout=60).json()
    assert bounce["ok"] and bounce["status"] == 200, bounce
    assert any("webhook_public_key" in c for c in bounce["configured"])
    assert local.wait_for(lambda: "bounce" in activity(), timeout=10), activity()
    detail = requests.get(f"{local.api}/_local/console/email", params={"id": email_id}, timeout=30).json()
    assert detail["record"]["deliveryStatus"] == "BOUNCED"

    other = f"ses-{uuid.uuid4().hex[:8]}@example.com"  # the SES events pipeline: topic → queue → SesEventsFunction
    other_mid = _send_email(local, tenant, other, "Another", "<p>Hi</p>")
    assert local.wait_for(lambda: messages.get(tenant["tenantId"], other_mid).status == "SENT", timeout=15)
    ses = requests.post(f"{local.api}/_local/simulate/bounce", json={"emailId": _outbox_id(local, other), "via": "ses"}, timeout=60)
    assert ses.status_code == 200 and ses.json()["ok"], ses.text
    assert local.wait_for(lambda: messages.get(tenant["tenantId"], other_mid).delivery_status == "BOUNCED", timeout=15)

    phone = f"+1555{random.randrange(10**6, 10**7)}"
    sms = requests.post(f"{local.api}/_local/simulate/sms", json={"tenantId": tenant["tenantId"], "from": phone, "text": "hi"}, timeout=60)
    assert sms.status_code == 200 and sms.json()["ok"], sms.text
    hooks = requests.get(f"{local.api}/_local/console/state", timeout=30).json()["webhooks"]
    paths = [h["path"] for h in hooks]
    assert any(p.startswith(f"/_url/TwilioInboundFunction/?tenant={tenant['tenantId']}") for p in paths)
    assert "/communications/email/v1/events" in paths and "/communications/email/v1/reply" in paths
    assert all("prl_" not in str(h["headers"]) for h in hooks)  # keys are redacted

    for kind, body, status in (("reply", {"emailId": "nope"}, 404), ("stop", {}, 400), ("nope", {}, 404)):
        assert requests.post(f"{local.api}/_local/simulate/{kind}", json=body, timeout=30).status_code == status
