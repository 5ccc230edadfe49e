"""Per-tenant limits over HTTP, through the local gateway (docs/architecture.md §6.4): a 429 carries ``Retry-After`` and
comes in each family's error shape — the sending routes' own (a tenant's send rate and daily quota, candidate and
CRM), and API Gateway's THROTTLED answer (every family, the ATS's included: it has no sending route)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

EMAIL = "/communications/email/v1/send"
CRM_SEND = "/api/v1/communications/send"


def _configure(local, tenant_id: str, **settings: object) -> None:
    out = requests.post(f"{local.api}/_local/tenant-settings", json={"tenantId": tenant_id, "settings": settings}, timeout=10)
    assert out.status_code == 200, out.text


def _send(local, key: str, family: str) -> requests.Response:
    to = f"limits-{uuid.uuid4().hex[:8]}@example.com"
    if family == "candidate":
        payload, path, extra = {"toEmail": to, "subject": "Hello there", "emailContent": "<p>Hi</p>"}, EMAIL, {"x-ph-userid": "r-1"}
    else:
        payload, path, extra = {"subject": "Your quote", "body": "<p>Hello</p>", "recipients": [to]}, CRM_SEND, {}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **extra}
    return requests.post(local.api + path, json=payload, headers=headers, timeout=60)


def _shape(family: str, out: requests.Response) -> dict:
    body = out.json()
    if family == "crm":
        assert set(body) == {"title", "detail", "time"} and body["title"] == "Too Many Requests", body
        return {"message": body["detail"]}
    assert set(body) == {"status", "message"} and body["status"] == 429, body
    return body


def test_a_tenant_over_its_send_rate_gets_429s_with_retry_after_while_another_tenant_is_served(local):
    noisy, quiet = local.new_tenant("noisy"), local.new_tenant("quiet")
    _configure(local, noisy["tenantId"], send_rate_limit=1)
    jobs = [(noisy["apiKey"], family) for family in ("candidate", "crm") for _ in range(8)]
    jobs += [(quiet["apiKey"], "candidate") for _ in range(6)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        # warm: as many instances of each function as the sends below need (a cold start takes a second or more)
        list(pool.map(lambda family: _send(local, quiet["apiKey"], family), ["candidate"] * 14 + ["crm"] * 8))
        started = time.monotonic()
        outs = list(pool.map(lambda job: (job, _send(local, *job)), jobs))
        elapsed = time.monotonic() - started

    for (key, _), out in outs:
        if key == quiet["apiKey"]:
            assert out.status_code == 200, out.text
    for family in ("candidate", "crm"):
        mine = [out for (key, fam), out in outs if key == noisy["apiKey"] and fam == family]
        assert {o.status_code for o in mine} <= {200, 429}, [o.text for o in mine]
        refused = [o for o in mine if o.status_code == 429]
        assert refused, f"{family}: 8 sends at once at 1 per second, none refused"
        for o in refused:
            assert o.headers["Retry-After"] == "1"
            assert _shape(family, o)["message"] == "send rate limit of 1 requests per second reached; retry after 1 second"
    admitted = sum(o.status_code == 200 for (key, _), o in outs if key == noisy["apiKey"])
    assert 1 <= admitted <= int(elapsed) + 2, (admitted, elapsed)  # one in each second the 16 sends spanned


def test_a_tenant_over_its_daily_quota_is_refused_naming_it(local):
    tenant = local.new_tenant("quota")
    _configure(local, tenant["tenantId"], daily_send_quota=1)
    assert _send(local, tenant["apiKey"], "candidate").status_code == 200
    for family in ("candidate", "crm"):
        over = _send(local, tenant["apiKey"], family)
        assert over.status_code == 429, over.text
        message = _shape(family, over)["message"]
        assert message.startswith("daily send quota of 1 reached; resets at ") and message.endswith("T00:00:00Z"), message
        assert 1 <= int(over.headers["Retry-After"]) <= 86_400


def test_api_gateways_own_throttling_is_429_with_retry_after_in_every_familys_shape(local):
    """The local gateway applies API Gateway's account-level throttle (AWS's defaults); lowered to nothing, every
    route is answered by its API's THROTTLED gateway response."""
    tenant = local.new_tenant("throttled")
    headers = {"Authorization": f"Bearer {tenant['apiKey']}"}
    reads = {
        "candidate": "/communications/email/v1/activity?emailActivityId=x",
        "crm": "/api/v1/communications/scheduled",
        "ats": f"/company/{tenant['tenantId']}/applicant/a-1/messages",
    }
    assert requests.post(f"{local.api}/_local/throttle", json={"rate": 1, "burst": 0}, timeout=10).json() == {"rate": 1.0, "burst": 0}
    try:
        outs = {family: requests.get(local.api + path, headers=headers, timeout=30) for family, path in reads.items()}
    finally:
        reset = requests.post(f"{local.api}/_local/throttle", json={}, timeout=10)
    assert reset.json() == {"rate": 10_000.0, "burst": 5_000}
    for family, out in outs.items():
        assert out.status_code == 429, (family, out.text)
        assert out.headers["Retry-After"] == "1"
        assert out.headers["x-amzn-ErrorType"] == "THROTTLED"
        crm, others = {"title": "Too Many Requests", "detail": "too many requests"}, {"status": 429, "message": "too many requests"}
        assert out.json() == (crm if family == "crm" else others)  # the gateway's CRM shape has no time (decision K6)
    served = requests.get(local.api + reads["ats"], headers=headers, timeout=30)  # served again: no such applicant
    assert served.status_code == 404 and served.json()["status"] == 404, served.text
