"""The courier's user-notifications, daily counts and badge counters (seed 003, issue 16) over HTTP on the local stack.

Notifications are made by ``parley.domain.notifications.notify`` (multicasts call it; no route of the seed creates one):
this test calls it from its own process against the running stack's emulator (``emulator_env``, as the other e2e
tests read stored state), and everything after that goes through the stack: the SMS and the email leave through the
send queue, the stack's dispatcher and the providers into the local outbox — for the user who has SMS on and is opted
in, not for the one who has not — and a redelivered notify sends nothing again. Every route of this area is then called
over HTTP: the list (filters, include[inactive], page meta), get, ack (ack-previous), notification-counts (no ids, the
API key's tenant-wide view, the <=/>= window), badge-counts (upsert, last write by timestamp wins, list, get) and
bulk-badge-counts (201 null); another tenant gets 404s."""

from __future__ import annotations

import random
import time
import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
KEYS = {
    "acknowledged", "active", "created-at", "data", "individual-id", "organization-id", "user-first-name", "user-id", "user-last-name",
    "category", "deliveries",
}  # fmt: skip


def _phone():
    return f"+1555555{random.randint(0, 9999):04d}"


def _headers(credential, user=None, media="application/vnd.api+json"):
    return {"Authorization": f"Bearer {credential}", "Content-Type": media, **({"X-User-ID": user} if user else {})}


def _notify(tenant_id, ids, notification_id, user, individual, *, category="appointment"):
    from parley.domain import notifications
    from parley.models.notifications import EmailContent, NotificationData

    data = NotificationData.model_validate(
        {"apn": {"title": "Reminder", "body": "Visit at 10", "category": "visit", "data": {"visit": 7}}, "fcm": {"title": "Reminder",
         "body": "Visit at 10"}, "sms": {"bodies": [f"Visit at 10 ({notification_id[:8]})"]}}
    )  # fmt: skip
    email = EmailContent(subject=f"Reminder {notification_id[:8]}", html="<p>Visit at <b>10</b></p>", text="Visit at 10")
    return notifications.notify(tenant_id, notification_id=notification_id, user_id=user, individual_id=individual,
                                organization_id=ids["org"], category=category, data=data, email=email,
                                source={"test": "e2e"})  # fmt: skip


def test_user_notifications_counts_and_badges_over_http(local, emulator_env, tmp_path):
    from parley.dal import notifications as store

    tenant, stranger = local.new_tenant("courier-notifications"), local.new_tenant("courier-notifications-stranger")
    key, tid, skey = tenant["apiKey"], tenant["tenantId"], stranger["apiKey"]
    ids = {t: str(uuid.uuid4()) for t in ("org", "pat", "sam", "ind_pat", "ind_sam")}
    pat_phone, sam_phone = _phone(), _phone()
    pat_email = f"pat-{uuid.uuid4().hex[:8]}@example.com"
    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "users", "id": ids["pat"], "last-sync-time": T1, "attributes": {
            "username": "pat", "first-name": "Pat", "last-name": "Lee", "primary-individual-id": ids["ind_pat"], "email": pat_email,
            "phone": pat_phone, "notifications": ["email", "sms"], "sms-mode": "all"}},
        {"type": "users", "id": ids["sam"], "last-sync-time": T1, "attributes": {
            "username": "sam", "primary-individual-id": ids["ind_sam"], "phone": sam_phone, "notifications": ["email"]}},
        {"type": "individuals", "id": ids["ind_pat"], "last-sync-time": T1, "attributes": {"first-name": "Pat", "owner-id": ids["pat"]}},
        {"type": "individuals", "id": ids["ind_sam"], "last-sync-time": T1, "attributes": {"first-name": "Sam", "owner-id": ids["sam"]}},
    ]  # fmt: skip
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    for phone in (pat_phone, sam_phone):  # both numbers opted in: Sam does not get SMS because Sam's notifications say so
        put = requests.put(local.api + "/communications/sms/v1/optIn", json={"phoneNumber": phone, "optIn": True},
                           headers={**_headers(key, media="application/json"), "x-ph-userid": "recruiter-5"}, timeout=30)  # fmt: skip
        assert put.status_code == 200, put.text

    # notify: Pat gets one SMS and one email through the stack's send pipeline; Sam (SMS off) no SMS
    n1, n2, n_sam = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    first = _notify(tid, ids, n1, ids["pat"], ids["ind_pat"])
    assert first.created and first.deliveries["sms"]["outcome"] == "queued" and first.deliveries["email"]["outcome"] == "queued"
    sam = _notify(tid, ids, n_sam, ids["sam"], ids["ind_sam"])
    assert sam.deliveries["sms"]["outcome"] == "skipped" and sam.deliveries["email"]["reason"] == "the user has no email address"

    def sms_to(phone):
        return [m for m in local.outbox()["sms"] if m["to"] == phone]

    def mail_to(address):
        return [m for m in local.outbox()["email"] if address in ((m["destinations"] or {}).get("ToAddresses") or [])]

    (sms,) = local.wait_for(lambda: sms_to(pat_phone), timeout=15)
    assert sms["message"] == f"Visit at 10 ({n1[:8]})"
    (mail,) = local.wait_for(lambda: mail_to(pat_email), timeout=15)
    assert f"Reminder {n1[:8]}" in str(mail)
    again = _notify(tid, ids, n1, ids["pat"], ids["ind_pat"])  # redelivered: nothing sent twice
    assert not again.created
    time.sleep(2)  # the poller would have sent a second message by now
    assert len(sms_to(pat_phone)) == 1 and len(mail_to(pat_email)) == 1 and sms_to(sam_phone) == []
    _notify(tid, ids, n2, ids["pat"], ids["ind_pat"], category="billing")
    assert local.wait_for(lambda: len(sms_to(pat_phone)) == 2, timeout=15)

    # the list: Pat's, newest first, the seed's shape
    pat_h = _headers(key, ids["pat"])
    listed = requests.get(f"{local.api}/v1/user-notifications/", headers=pat_h, timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.headers["Content-Type"] == "application/vnd.api+json"
    doc = listed.json()
    assert [d["id"] for d in doc["data"]] == [n2, n1] and doc["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    attrs = doc["data"][1]["attributes"]
    assert set(attrs) == KEYS and doc["data"][1]["type"] == "user-notifications"
    assert attrs["acknowledged"] is False and attrs["active"] is True and attrs["user-id"] == ids["pat"]
    assert (attrs["user-first-name"], attrs["user-last-name"], attrs["individual-id"]) == ("Pat", "Lee", ids["ind_pat"])
    assert attrs["data"]["apn"] == {"title": "Reminder", "body": "Visit at 10", "category": "visit", "data": {"visit": 7}}
    assert attrs["data"]["sms"]["bodies"] == [f"Visit at 10 ({n1[:8]})"]
    assert attrs["deliveries"]["sms"]["outcome"] == "queued" and len(attrs["deliveries"]["sms"]["message-ids"]) == 1
    billing = requests.get(f"{local.api}/v1/user-notifications", params={"filter[category]": "billing", "include[inactive]": "true"},
                           headers=pat_h, timeout=30).json()  # fmt: skip
    assert [d["id"] for d in billing["data"]] == [n2] and billing["meta"]["page[total]"] == 1
    minted = requests.post(f"{local.api}/_local/user-token", json={"sub": ids["pat"], "tenantId": tid}, timeout=30)
    assert minted.status_code == 201, minted.text
    by_token = requests.get(f"{local.api}/v1/user-notifications", headers=_headers(minted.json()["token"]), timeout=30)
    assert by_token.status_code == 200 and [d["id"] for d in by_token.json()["data"]] == [n2, n1]  # the token's subject is the user
    nobody = requests.get(f"{local.api}/v1/user-notifications/", headers=_headers(key), timeout=30)
    assert nobody.status_code == 400 and nobody.json()["errors"][0]["source"] == {"parameter": "X-User-ID"}
    one = requests.get(f"{local.api}/v1/user-notifications/{n1}/", headers=pat_h, timeout=30)
    assert one.status_code == 200 and one.json()["data"]["id"] == n1
    assert requests.get(f"{local.api}/v1/user-notifications/{n_sam}/", headers=pat_h, timeout=30).status_code == 404  # Sam's

    # ack with ack-previous: n2 and the earlier n1; the stored items say so
    acked = requests.post(f"{local.api}/v1/user-notifications/{n2}/ack/", json={"ack-previous": True},
                          headers={**pat_h, "Content-Type": "application/json"}, timeout=30)  # fmt: skip
    assert acked.status_code == 201, acked.text
    assert acked.json()["data"]["attributes"]["acknowledged"] is True
    assert store.get(tid, n1, consistent=True)["acknowledged"] is True and store.get(tid, n_sam, consistent=True)["acknowledged"] is False
    unread = requests.get(f"{local.api}/v1/user-notifications/", params={"acknowledged": "false"}, headers=pat_h, timeout=30).json()
    assert unread["data"] == [] and unread["meta"]["page[total]"] == 0

    # daily counts: no ids; the acting user's, or the tenant's with the API key alone; only <= and >=
    counts = requests.get(f"{local.api}/v1/user-notification-counts/", headers=pat_h, timeout=30)
    assert counts.status_code == 200, counts.text
    (today,) = counts.json()["data"]
    assert set(today) == {"type", "attributes"} and today["type"] == "notification-counts"
    assert today["attributes"]["count"] == 2 and today["attributes"]["user-id"] == ids["pat"]
    everyone = requests.get(f"{local.api}/v1/user-notification-counts", headers=_headers(key), timeout=30).json()
    assert sorted((d["attributes"]["user-id"], d["attributes"]["count"]) for d in everyone["data"]) == sorted(
        [(ids["pat"], 2), (ids["sam"], 1)]
    )
    window = requests.get(f"{local.api}/v1/user-notification-counts/", params={"filter[cmp-created-at]": ["<=2026-01-01T00:00:00Z"]},
                          headers=pat_h, timeout=30).json()  # fmt: skip
    assert window["data"] == [] and window["meta"]["page[total]"] == 0
    bad = requests.get(f"{local.api}/v1/user-notification-counts/", params={"filter[cmp-created-at]": ">2026-01-01T00:00:00Z"},
                       headers=pat_h, timeout=30)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["errors"][0]["source"] == {"parameter": "filter[cmp-created-at]"}
    zero = requests.get(f"{local.api}/v1/user-notification-counts/", params={"page[limit]": 0}, headers=pat_h, timeout=30).json()
    assert zero["data"] == [] and zero["meta"] == {"page[total]": 1, "page[limit]": 0, "page[offset]": 0}

    # badge counters: upsert, last write by timestamp wins
    def badge(count, ts, kind="appointment", individual=None):
        attrs = {
            "count": count,
            "individual-id": individual or ids["ind_pat"],
            "timestamp": ts,
            "type": kind,
            "organization-id": ids["org"],
        }
        return {"data": {"type": "badge-counts", "attributes": attrs}}

    made = requests.post(f"{local.api}/v1/badge-counts/", json=badge(3, "2026-11-01T10:00:00Z"), headers=pat_h, timeout=30)
    assert made.status_code == 201, made.text
    badge_id = made.json()["data"]["id"]
    assert made.json()["data"]["attributes"] == {
        "count": 3, "individual-id": ids["ind_pat"], "last-modified-at": made.json()["data"]["attributes"]["last-modified-at"],
        "organization-id": ids["org"], "timestamp": "2026-11-01T10:00:00.000Z", "type": "appointment",
    }  # fmt: skip
    stale = requests.post(f"{local.api}/v1/badge-counts", json=badge(9, "2026-11-01T09:00:00Z"), headers=pat_h, timeout=30)
    assert stale.status_code == 201 and stale.json()["data"]["id"] == badge_id and stale.json()["data"]["attributes"]["count"] == 3
    values = [
        badge(5, "2026-11-01T11:00:00Z")["data"]["attributes"],
        badge(2, "2026-11-01T11:00:00Z", kind="message")["data"]["attributes"],
    ]
    bulk = {"data": {"type": "bulk-badge-counts", "attributes": {"values": values}}}
    out = requests.post(f"{local.api}/v1/bulk-badge-counts/", json=bulk, headers=pat_h, timeout=30)
    assert out.status_code == 201 and out.text == "null", out.text
    got = requests.get(f"{local.api}/v1/badge-counts/{badge_id}/", headers=pat_h, timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["count"] == 5
    listed = requests.get(f"{local.api}/v1/badge-counts/", params={"individual-id": ids["ind_pat"]}, headers=pat_h, timeout=30).json()
    assert sorted((d["attributes"]["type"], d["attributes"]["count"]) for d in listed["data"]) == [("appointment", 5), ("message", 2)]
    theirs = requests.get(f"{local.api}/v1/badge-counts/", params={"individual-id": ids["ind_sam"]}, headers=pat_h, timeout=30)
    assert theirs.status_code == 403 and theirs.json()["errors"][0]["code"] == "not-owner"
    from parley.domain import badges

    assert badges.total(tid, ids["ind_pat"]) == 7

    # another tenant: 404s, with the same user id
    for path in (f"/v1/user-notifications/{n1}/", f"/v1/badge-counts/{badge_id}/"):
        out = requests.get(local.api + path, headers=_headers(skey, ids["pat"]), timeout=30)
        assert out.status_code == 404 and out.json()["errors"][0]["status"] == 404, (path, out.text)
    out = requests.post(f"{local.api}/v1/user-notifications/{n1}/ack/", json={}, headers=_headers(skey, ids["pat"], "application/json"),
                        timeout=30)  # fmt: skip
    assert out.status_code == 404
    assert requests.get(f"{local.api}/v1/user-notifications/", headers=_headers(skey, ids["pat"]), timeout=30).json()["data"] == []
