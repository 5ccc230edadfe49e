"""Open/click tracking and analytics over HTTP against the local stack: a tracked HTML email sent through
POST /api/v1/communications/send and the stack's dispatcher, its pixel and links fetched like a mail client
(no credentials), and the record, the stored counters and GET /analytics showing the open and the click."""

from __future__ import annotations

import html
import re
import uuid

import requests

BASE = "/api/v1/communications"
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
OFFER = "https://shop.example/offer?id=42&lang=nl"
TERMS = "https://docs.example/terms"
BODY = (
    f"<html><body><p>Dear Ada,</p><p><a href=\"{html.escape(OFFER)}\">Your offer</a> and <a href='{TERMS}'>our terms</a>.</p>"
    '<p><a href="mailto:sales@example.com">Mail us</a></p></body></html>'
)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-User-ID": "user-7"}


def get(local, key: str, path: str, **params) -> requests.Response:
    return requests.get(local.api + BASE + path, headers=auth(key), params=params or None, timeout=30)


def assert_error(res: requests.Response, status: int) -> dict:
    assert res.status_code == status, res.text
    err = res.json()
    # A 401 is API Gateway's own answer: {title, detail}, no time (decision K6).
    assert set(err) == ({"title", "detail"} if status == 401 else {"title", "detail", "time"})
    return err


def send_tracked(local, key: str, to: str) -> dict:
    payload = {
        "subject": "Your offer",
        "body": BODY,
        "recipients": [to],
        "type": "OFFERTE",
        "trackingEnabled": True,
        "linkTrackingEnabled": True,
    }
    res = requests.post(local.api + BASE + "/send", json=payload, headers=auth(key), timeout=30)
    assert res.status_code == 200, res.text
    return res.json()


def wait_sent(local, key: str, record_id: str) -> dict:
    def sent():
        res = get(local, key, f"/find/{record_id}")
        assert res.status_code == 200, res.text
        return res.json() if res.json()["status"] == "SENT" else None

    record = local.wait_for(sent, timeout=10, interval=0.2)
    assert record, f"{record_id} was not sent"
    return record


def test_pixel_and_links_record_opens_and_clicks_and_analytics_shows_them(local, emulator_env):
    from parley.dal import counters, keys, table

    tenant = local.new_tenant("tracking")
    key = tenant["apiKey"]
    to = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    accepted = send_tracked(local, key, to)
    record_id = accepted["id"]
    assert accepted["trackingEnabled"] is True and accepted["linkTrackingEnabled"] is True
    assert accepted["originalBody"] == BODY

    record = wait_sent(local, key, record_id)
    assert (record["opened"], record["openCount"], record["openedAt"]) == (False, 0, None)
    pixels = re.findall(r'<img src="([^"]+/api/v1/communications/track/[^"]+)"', record["body"])
    assert len(pixels) == 1
    pixel = html.unescape(pixels[0])
    assert pixel.startswith(local.api + BASE + "/track/")
    token = pixel.rsplit("/", 1)[1]
    assert token != record_id and len(token) >= 22
    links = record["clickedLinks"]
    assert [(link["originalUrl"], link["clickCount"], link["clickedAt"]) for link in links] == [(OFFER, 0, None), (TERMS, 0, None)]
    assert [link["url"] for link in links] == [f"{local.api}{BASE}/link/{token}/{i}" for i in range(2)]
    assert "mailto:sales@example.com" in record["body"]
    # what went out is the instrumented body
    (sent,) = local.wait_for(lambda: [m for m in local.outbox()["email"] if to in (m["destinations"] or {}).get("ToAddresses", [])])
    assert f"/track/{token}" in sent["body"] and f"/link/{token}/1" in sent["body"] and "shop.example" not in sent["body"]

    # the mail client loads the image: no API key, no tenant header
    image = requests.get(pixel, timeout=30)
    assert image.status_code == 200, image.text
    assert image.content == GIF
    assert image.headers["Content-Type"] == "image/gif"
    assert image.headers["Cache-Control"] == "no-cache, no-store, must-revalidate, private, max-age=0"
    assert image.headers["Pragma"] == "no-cache"
    assert image.headers["Expires"] == "0"

    # the recipient clicks the first link twice (once with a query string trying to pick the target) and never the second
    first = requests.get(links[0]["url"], allow_redirects=False, timeout=30)
    assert first.status_code == 302, first.text
    assert first.headers["Location"] == OFFER
    assert first.headers["Cache-Control"] == "no-store"
    steer = requests.get(links[0]["url"] + "?url=https://evil.example/&next=https://evil.example/", allow_redirects=False, timeout=30)
    assert steer.status_code == 302 and steer.headers["Location"] == OFFER

    # links that do not exist: 404 in the CRM's error shape, never a redirect
    for bad in (f"{BASE}/link/{token}/2", f"{BASE}/link/{token}/-1", f"{BASE}/link/{'A' * 22}/0"):
        res = requests.get(local.api + bad, allow_redirects=False, timeout=30)
        assert_error(res, 404)
    for bad in (f"{BASE}/link/{token}/x", f"{BASE}/link/{token}/2147483648"):  # not an int32: 400 (decision S3)
        res = requests.get(local.api + bad, allow_redirects=False, timeout=30)
        assert_error(res, 400)
        assert "Location" not in res.headers
    assert_error(requests.get(f"{local.api}{BASE}/track/{'A' * 22}", timeout=30), 404)
    assert_error(requests.get(f"{local.api}{BASE}/track/{record_id}", timeout=30), 404)  # the record id is not a token

    after = get(local, key, f"/find/{record_id}").json()
    assert after["opened"] is True and after["openCount"] == 1 and after["openedAt"]
    assert [link["clickCount"] for link in after["clickedLinks"]] == [2, 0]
    assert after["clickedLinks"][0]["clickedAt"] and after["clickedLinks"][1]["clickedAt"] is None
    assert after["originalBody"] == BODY

    # stored state: the token lookup and the tenant's day counters
    item = table.get(keys.track_pk(token), keys.TRACK_SK)
    assert item["tenant_id"] == tenant["tenantId"] and item["message_id"] == record_id
    day = after["sentAt"][:10]
    (today,) = counters.days(tenant["tenantId"], day, day)
    assert (today["sent"], today["opened"], today["clicked"]) == (1, 1, 1)
    assert (today["t:OFFERTE:sent"], today["t:OFFERTE:opened"], today["t:OFFERTE:clicked"]) == (1, 1, 1)

    stats = get(local, key, "/analytics")
    assert stats.status_code == 200, stats.text
    data = stats.json()
    assert (data["totalSent"], data["totalOpened"], data["totalClicked"]) == (1, 1, 1)
    assert (data["openRate"], data["clickRate"], data["failureRate"]) == (1.0, 1.0, 0.0)
    assert data["byType"] == [{"type": "OFFERTE", "totalSent": 1, "totalOpened": 1, "totalClicked": 1, "openRate": 1.0, "clickRate": 1.0}]
    assert data["byTemplate"] == []
    assert data["sendVolumeByDay"] == [{"date": day, "count": 1}]

    # a window of other days is empty; the same day through the aliases is not
    assert get(local, key, "/analytics", **{"from": "2001-01-01T00:00:00Z", "to": "2001-12-31T23:59:59Z"}).json()["totalSent"] == 0
    assert get(local, key, "/analytics", startDate=f"{day}T00:00:00Z", endDate=f"{day}T23:59:59Z").json()["totalSent"] == 1
    assert_error(get(local, key, "/analytics", **{"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}), 400)
    assert_error(get(local, key, "/analytics", **{"from": "not-a-date"}), 400)


def test_a_second_open_adds_to_the_count_but_not_to_opened_emails(local, emulator_env):
    from parley.dal import counters

    tenant = local.new_tenant("tracking-twice")
    key = tenant["apiKey"]
    record_id = send_tracked(local, key, f"bob-{uuid.uuid4().hex[:8]}@example.com")["id"]
    record = wait_sent(local, key, record_id)
    pixel = html.unescape(re.search(r'<img src="([^"]+)"', record["body"]).group(1))
    for _ in range(2):
        assert requests.get(pixel, timeout=30).content == GIF
    after = get(local, key, f"/find/{record_id}").json()
    assert after["openCount"] == 2
    day = after["sentAt"][:10]
    (today,) = counters.days(tenant["tenantId"], day, day)
    assert today["opened"] == 1 and "clicked" not in today
    data = get(local, key, "/analytics").json()
    assert (data["totalOpened"], data["openRate"], data["clickRate"]) == (1, 1.0, 0.0)


def test_analytics_needs_an_api_key_and_is_per_tenant(local):
    no_key = requests.get(local.api + BASE + "/analytics", timeout=30)
    assert_error(no_key, 401)
    bad_key = requests.get(local.api + BASE + "/analytics", headers={"Authorization": "Bearer prl_nope"}, timeout=30)
    assert_error(bad_key, 401)
    fresh = local.new_tenant("no-mail")
    data = get(local, fresh["apiKey"], "/analytics").json()
    assert (data["totalSent"], data["byType"], data["sendVolumeByDay"]) == (0, [], [])
