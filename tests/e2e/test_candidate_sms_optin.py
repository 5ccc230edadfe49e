"""SMS opt-in over HTTP: PUT, GET, history."""

from __future__ import annotations

import random

import requests


def test_opt_in_then_out_over_http(local):
    phone = f"+1555{random.randrange(10**6, 10**7)}"
    auth = {"Authorization": f"Bearer {local.demo_key}", "x-ph-userid": "recruiter-5"}
    url = local.api + "/communications/sms/v1/optIn"
    assert requests.get(url, params={"phoneNumber": phone}, headers=auth, timeout=30).json()["status"] == "OPTED_OUT"
    put = requests.put(url, json={"phoneNumber": phone, "optIn": True}, headers=auth, timeout=30)
    assert put.status_code == 200 and put.json()["status"] == "SUCCESS"
    assert set(put.json()) == {"details", "status"} and "message" in put.json()["details"]
    assert requests.get(url, params={"phoneNumber": phone}, headers=auth, timeout=30).json()["status"] == "OPTED_IN"
    requests.put(url, json={"phoneNumber": phone, "optIn": False}, headers=auth, timeout=30)
    hist = requests.get(url + "/history", params={"phoneNumber": phone, "offset": 0, "size": 10}, headers=auth, timeout=30)
    assert hist.status_code == 200
    page = hist.json()["details"]
    assert [c["actionType"] for c in page["content"]] == ["OPT_OUT", "OPT_IN"]
    assert set(page) == {
        "content", "pageable", "last", "totalElements", "totalPages", "first", "size", "number", "sort", "numberOfElements", "empty",
    }  # fmt: skip
    bad = requests.put(url, json={"optIn": True}, headers=auth, timeout=30)
    assert bad.status_code == 400 and bad.json() == {"status": 400, "message": "phoneNumber or email is required"}
