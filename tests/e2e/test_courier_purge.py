"""purge-data over HTTP on the local stack: a candidate emailed and texted through the candidate API, purged through
the courier admin API (PurgeFunction runs from its queue, as deployed), then gone from every read — and the job's
progress readable at the extension route."""

from __future__ import annotations

import uuid

import requests

TIME_WINDOW = {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": "50", "offset": "0"}


def _auth(key: str, user: str = "r-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "x-ph-userid": user}


def test_a_purged_candidate_is_gone_from_every_history(local):
    tenant = local.new_tenant("purge")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    email, phone = f"purge-{uuid.uuid4().hex[:8]}@example.com", "+1555555" + f"{uuid.uuid4().int % 10000:04d}"
    cand = requests.post(local.api + "/_local/candidates", json={"tenantId": tid, "email": email, "phone": phone}, timeout=10)
    assert cand.status_code in (200, 201), cand.text
    candidate_id = cand.json()["id"]
    assert requests.put(local.api + "/communications/sms/v1/optIn", json={"phoneNumber": phone, "optIn": True}, headers=_auth(key),
                        timeout=30).status_code == 200  # fmt: skip
    sent = requests.post(local.api + "/communications/email/v1/send", headers=_auth(key), timeout=30,
                         json={"toEmail": email, "subject": "Your application", "emailContent": "Thanks for applying."})  # fmt: skip
    assert sent.status_code == 200, sent.text
    texted = requests.post(local.api + "/communications/sms/v1/send", headers=_auth(key), timeout=30,
                           json={"message": "Thanks for applying!", "phoneNumber": phone})  # fmt: skip
    assert texted.status_code == 200, texted.text

    def history():
        out = requests.get(local.api + "/communications/email/v1/history", params={**TIME_WINDOW, "email": email}, headers=_auth(key),
                           timeout=30)  # fmt: skip
        assert out.status_code == 200, out.text
        return out.json()["data"]

    assert local.wait_for(history, timeout=20)

    courier = {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json"}
    request_id = f"erase-{uuid.uuid4().hex[:8]}"
    doc = {"data": {"type": "system-purges", "attributes": {"entity-type": "candidate", "entity-id": candidate_id, "request-id": request_id,
                                                            "reference-id": "gdpr-17"}}}  # fmt: skip
    out = requests.post(local.api + "/v1/purge-data/", json=doc, headers=courier, timeout=30)
    assert (out.status_code, out.headers["Content-Type"], out.text) == (201, "application/vnd.api+json", "null")

    def finished():
        job = requests.get(local.api + f"/v1/purge-data/{request_id}/", headers=courier, timeout=30)
        assert job.status_code == 200, job.text
        attrs = job.json()["data"]["attributes"]
        return attrs if attrs["status"] in ("done", "failed") else None

    attrs = local.wait_for(finished, timeout=60, interval=0.5)
    assert attrs and attrs["status"] == "done", attrs
    assert attrs["reference-id"] == "gdpr-17" and attrs["entity-id"].startswith("sha256:") and attrs["counts"]["messages"] == 2
    assert history() == []
    sms = requests.get(local.api + "/communications/sms/v1/history", params={**TIME_WINDOW, "phoneNumber": phone}, headers=_auth(key),
                       timeout=30)  # fmt: skip
    assert sms.status_code == 200 and sms.json()["data"] == [], sms.text
    optin = requests.get(local.api + "/communications/sms/v1/optIn", params={"phoneNumber": phone}, headers=_auth(key), timeout=30)
    assert optin.status_code in (200, 404) and phone not in str(optin.json().get("data") or ""), optin.text

    # the same request again is the same (finished) job; another tenant cannot see it
    again = requests.post(local.api + "/v1/purge-data", json=doc, headers=courier, timeout=30)
    assert again.status_code == 201
    other = local.new_tenant("purge-other")
    foreign = requests.get(local.api + f"/v1/purge-data/{request_id}", headers={"Authorization": f"Bearer {other['apiKey']}"}, timeout=30)
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["status"] == 404
