"""Issue 11, "Contract", over HTTP through the local gateway: what the seeds' clients send and parse."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import requests

CRM = "/api/v1/communications"


def _http_date(response: requests.Response) -> datetime:
    return parsedate_to_datetime(response.headers["Date"])


def test_crm_gateway_errors_never_carry_a_non_iso_time(local):
    # API Gateway cannot write a date-time into a gateway response (decision K6): {title, detail}, and the
    # Date header says when. Before: "time": "06/Dec/2026:08:32:26 +0000", which a date-time parser refuses.
    for headers in ({}, {"Authorization": "Bearer prl_" + "x" * 43}, {"Authorization": "Token nope"}):
        out = requests.get(local.api + CRM + "/find-all", headers=headers, timeout=30)
        assert out.status_code == 401, out.text
        assert out.json() == {"title": "Unauthorized", "detail": "missing or invalid API key"}
        assert _http_date(out).tzinfo is not None
    auth = {"Authorization": f"Bearer {local.demo_key}"}
    unknown = requests.get(local.api + CRM + "/no/such/route", headers=auth, timeout=30)
    assert unknown.status_code == 404
    assert unknown.json() == {"title": "Not Found", "detail": "no such route"}
    # An error a CRM function answers carries the seed's date-time.
    missing = requests.get(local.api + CRM + "/find/no-such-id", headers=auth, timeout=30)
    assert missing.status_code == 404 and set(missing.json()) == {"title", "detail", "time"}
    assert datetime.fromisoformat(missing.json()["time"]).tzinfo is not None


def test_the_bare_api_key_is_accepted_like_bearer(local):
    for value in (local.demo_key, f"Bearer {local.demo_key}"):
        crm = requests.get(local.api + CRM + "/page", headers={"Authorization": value}, timeout=30)
        assert crm.status_code == 200, crm.text
        candidate = requests.get(
            local.api + "/communications/sms/v1/optIn",
            params={"phoneNumber": "+15555550199"},
            headers={"Authorization": value, "x-ph-userid": "recruiter-1"},
            timeout=30,
        )
        assert candidate.status_code == 200, candidate.text


def test_integers_beyond_a_java_int_are_400_in_each_familys_shape(local):
    auth = {"Authorization": f"Bearer {local.demo_key}", "x-ph-userid": "recruiter-1"}
    history = requests.get(
        local.api + "/communications/sms/v1/optIn/history",
        params={"phoneNumber": "+15555550199", "offset": "9999999999999999999"},
        headers=auth,
        timeout=30,
    )
    assert history.status_code == 400  # was 200 with "pageNumber": 9999999999999999999
    assert history.json() == {"status": 400, "message": "offset: Input should be less than or equal to 2147483647"}
    link = requests.get(local.api + CRM + "/link/some-token/9999999999999", timeout=30, allow_redirects=False)
    assert link.status_code == 400
    assert link.json()["title"] == "Bad Request" and link.json()["detail"].startswith("linkIndex: ")
    page = requests.get(local.api + CRM + "/page", params={"size": str(2**31)}, headers=auth, timeout=30)
    assert page.status_code == 400 and page.json()["detail"].startswith("size: ")


def test_identifiers_with_control_characters_are_400_in_each_familys_shape(local):
    auth = {"Authorization": f"Bearer {local.demo_key}"}
    optin = requests.get(
        local.api + "/communications/sms/v1/optIn",
        params={"phoneNumber": "+15555550199"},
        headers={**auth, "x-ph-userid": "a\tb\x01"},
        timeout=30,
    )
    assert optin.status_code == 400
    assert optin.json() == {"status": 400, "message": "x-ph-userid must not contain control characters"}
    crm = requests.get(local.api + CRM + "/page", headers={**auth, "X-User-ID": "a\tb\x01"}, timeout=30)
    assert crm.status_code == 400 and crm.json()["detail"] == "X-User-ID must not contain control characters"
    by_path = requests.get(local.api + CRM + "/find/ab%01c", headers=auth, timeout=30)
    assert by_path.status_code == 400 and by_path.json()["detail"] == "id must not contain control characters"
    ats = requests.get(local.api + "/company/x%09y/applicant/z/messages", headers=auth, timeout=30)
    assert ats.status_code == 400
    assert ats.json() == {"status": 400, "message": "companyID must not contain control characters"}
