"""The courier's user-notifications, daily counts and badge counters on moto (seed 003, issue 16): ``notify`` stores a
notification once and counts it once; its SMS and email go through the send pipeline (queued messages with deterministic
ids) only when the user wants them, is opted in and is not suppressed; a redelivered notify never sends twice; the
routes answer the seed's shapes (list filters, include[inactive], ack with ack-previous, notification-counts without ids,
badge upserts by timestamp, bulk 201 null) and keep tenants and users apart (404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpers import api_event, body

ORG_ID = "6b1c2d3e-0000-4000-8000-000000000001"
USER_ID = "6b1c2d3e-0000-4000-8000-000000000002"
USER2_ID = "6b1c2d3e-0000-4000-8000-000000000003"
IND_ID = "6b1c2d3e-0000-4000-8000-000000000004"  # Pat's primary individual
IND2_ID = "6b1c2d3e-0000-4000-8000-000000000005"  # another of Pat's
OTHER_IND = "6b1c2d3e-0000-4000-8000-000000000006"  # Sam's
PHONE = "+15555550123"
T1 = "2026-11-01T09:00:00Z"
FN = {
    "list": "CourierNotificationsApi.ListUserNotificationsFunction",
    "get": "CourierNotificationsApi.GetUserNotificationFunction",
    "ack": "CourierNotificationsApi.AckUserNotificationFunction",
    "counts": "CourierNotificationsApi.ListUserNotificationCountsFunction",
    "badges": "CourierNotificationsApi.ListBadgeCountsFunction",
    "badge_create": "CourierNotificationsApi.CreateBadgeCountFunction",
    "badge_get": "CourierNotificationsApi.GetBadgeCountFunction",
    "bulk": "CourierNotificationsApi.CreateBulkBadgeCountsFunction",
}
EVENT = {
    "list": "list_user_notifications",
    "get": "get_user_notification",
    "ack": "ack_user_notification",
    "counts": "list_user_notification_counts",
    "badges": "list_badge_counts",
    "badge_create": "create_badge_count",
    "badge_get": "get_badge_count",
    "bulk": "create_bulk_badge_counts",
}


def directory(tenant_id, **pat):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    pat_attrs = {"username": "pat", "first-name": "Pat", "last-name": "Lee", "primary-individual-id": IND_ID, "email": "pat@example.com",
                 "phone": PHONE, "notifications": ["email", "sms"], "sms-mode": "all", **pat}  # fmt: skip
    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG_ID, {"name": "northside"}),
            line("users", USER_ID, pat_attrs),
            line("users", USER2_ID, {"username": "sam", "primary-individual-id": OTHER_IND}),
            line("individuals", IND_ID, {"first-name": "Pat", "owner-id": USER_ID}),
            line("individuals", IND2_ID, {"first-name": "Kid", "owner-id": USER_ID}),
            line("individuals", OTHER_IND, {"first-name": "Sam", "owner-id": USER2_ID}),
        ],
    )
    assert summary.invalid == []


def opt_in(tenant_id, opted=True):
    from parley.domain import optins

    optins.update(tenant_id, phone=PHONE, email=None, opt_in=opted, reason="test")


@pytest.fixture(autouse=True)
def _env(app_env):
    """notify() runs in the multicast worker: the send pipeline's environment (queue, table, bodies)."""
    return app_env


@pytest.fixture
def pat(tenant):
    t, _ = tenant
    directory(t.id)
    return t


def notify(tenant_id, notification_id="n-1", *, user=USER_ID, individual=IND_ID, category="appointment", sms=("Your visit is at 10",),
           email=True, apn=True):  # fmt: skip
    from parley.domain import notifications
    from parley.models.notifications import EmailContent, NotificationData

    data = {"sms": {"bodies": list(sms)}} if sms else {}
    if apn:
        data["apn"] = {"title": "Reminder", "body": "Your visit is at 10", "category": "visit", "data": {"k": 1}}
        data["fcm"] = {"title": "Reminder", "body": "Your visit is at 10"}
    return notifications.notify(
        tenant_id,
        notification_id=notification_id,
        user_id=user,
        individual_id=individual,
        organization_id=ORG_ID,
        category=category,
        data=NotificationData.model_validate(data),
        email=EmailContent(subject="Reminder", html="<p>At <b>10</b></p>", text="At 10") if email else None,
        source={"multicast-id": "mc-1"},
    )


def call(handler, name, tenant_id, *, user=USER_ID, body_=..., query=None, id_=None, headers=None):
    hdrs = {"Content-Type": "application/vnd.api+json", **({"X-User-ID": user} if user else {"X-User-ID": None}), **(headers or {})}
    ev = api_event(f"courier_notifications/{EVENT[name]}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].replace("11111111-1111-1111-1111-111111111111", id_)
    return handler(FN[name])(ev)


def queued(drain, send_queue):
    return [json.loads(m["Body"]) for m in drain(send_queue[1])]


def stored_notification(tenant_id, nid):
    from parley.dal import notifications

    return notifications.get(tenant_id, nid, consistent=True)


# ───────────── notify ─────────────
def test_notify_stores_counts_and_queues_sms_and_email_once(pat, send_queue, drain):
    from parley.dal import messages
    from parley.domain import notifications

    opt_in(pat.id)
    result = notify(pat.id)
    assert result.created
    assert result.deliveries["sms"]["outcome"] == "queued" and result.deliveries["email"]["outcome"] == "queued"
    assert result.deliveries["push"]["devices"] == []  # Pat has no device
    sms_id = notifications.message_id("n-1", "sms", 0)
    email_id = notifications.message_id("n-1", "email")
    assert result.deliveries["sms"]["message_ids"] == [sms_id] and result.deliveries["email"]["message_ids"] == [email_id]
    jobs = queued(drain, send_queue)
    assert sorted(j["message_id"] for j in jobs) == sorted([sms_id, email_id])
    sms = messages.get(pat.id, sms_id)
    assert (sms.channel, sms.recipient, sms.body, sms.status.value, sms.source_api) == (
        "sms",
        PHONE,
        "Your visit is at 10",
        "QUEUED",
        "courier",
    )
    mail = messages.get(pat.id, email_id)
    assert (mail.channel, mail.recipient, mail.subject, mail.body, mail.body_text) == ("email", "pat@example.com", "Reminder",
                                                                                     "<p>At <b>10</b></p>", "At 10")  # fmt: skip
    item = stored_notification(pat.id, "n-1")
    assert item["user_id"] == USER_ID and item["acknowledged"] is False and item["source"] == {"multicast-id": "mc-1"}
    assert item["GSI3PK"] == f"TENANT#{pat.id}#NOTIF#USER#{USER_ID}" and item["GSI6PK"] == f"TENANT#{pat.id}#NOTIF#IND#{IND_ID}"
    assert set(item["deliveries"]) == {"push", "sms", "email"} and item["deliveries"]["sms"]["message_ids"] == [sms_id]
    assert (item["user_first_name"], item["user_last_name"]) == ("Pat", "Lee")
    from parley.dal import notifications as store

    day = item["created_at"][:10]
    count = store.counts_of_user(pat.id, USER_ID, day, day, offset=0, limit=10)[0]
    assert [int(c["n"]) for c in count] == [1]

    # redelivered: nothing new stored, counted, queued or sent
    again = notify(pat.id)
    assert not again.created and again.deliveries["sms"]["message_ids"] == [sms_id]
    assert queued(drain, send_queue) == []
    assert [int(c["n"]) for c in store.counts_of_user(pat.id, USER_ID, day, day, offset=0, limit=10)[0]] == [1]


def test_a_transport_interrupted_before_it_was_recorded_is_resumed_without_a_second_message(pat, send_queue, drain):
    from parley.dal import notifications as store
    from parley.dal import table
    from parley.domain import notifications

    opt_in(pat.id)
    notify(pat.id, "n-crash")
    assert len(queued(drain, send_queue)) == 2
    # a worker killed after queueing the SMS and the email but before recording them: the item as it was created
    table.ddb().update_item(TableName=table.table_name(), Key=table.key(store.pk(pat.id, "n-crash"), store.SK),
                            UpdateExpression="SET deliveries = :none", ExpressionAttributeValues=table.values(none={}))  # fmt: skip
    again = notify(pat.id, "n-crash")
    assert again.deliveries["sms"]["message_ids"] == [notifications.message_id("n-crash", "sms", 0)]
    assert again.deliveries["email"]["outcome"] == "queued"
    assert queued(drain, send_queue) == []  # their messages existed: nothing queued again
    assert set(stored_notification(pat.id, "n-crash")["deliveries"]) == {"push", "sms", "email"}


@pytest.mark.parametrize(
    ("pat_attrs", "opted", "reason"),
    [
        ({"notifications": ["email"]}, True, "do not include sms"),
        ({"sms-mode": "disabled"}, True, "sms-mode is disabled"),
        ({"phone-unsubscribed": True}, True, "unsubscribed"),
        ({}, None, "has not opted in"),
        ({}, False, "has opted out"),
        ({"phone": None}, True, "no phone"),
    ],
)
def test_no_sms_is_queued_when_the_user_does_not_get_sms(tenant, send_queue, drain, pat_attrs, opted, reason):
    t, _ = tenant
    directory(t.id, **pat_attrs)
    if opted is not None:
        opt_in(t.id, opted)
    result = notify(t.id, email=False)
    assert result.deliveries["sms"]["outcome"] == "skipped" and reason in result.deliveries["sms"]["reason"]
    assert queued(drain, send_queue) == []
    assert stored_notification(t.id, "n-1")["deliveries"]["sms"]["outcome"] == "skipped"


def test_no_email_to_a_suppressed_address_or_a_user_without_email_notifications(tenant, send_queue, drain):
    from parley import clock
    from parley.dal import suppressions
    from parley.models.email_events import Suppression

    t, _ = tenant
    directory(t.id)
    suppressions.add(Suppression(tenant_id=t.id, address="pat@example.com", reason="bounce", created_at=clock.now()))
    result = notify(t.id, sms=())
    assert result.deliveries["email"]["outcome"] == "skipped" and "suppression list" in result.deliveries["email"]["reason"]
    assert result.deliveries["sms"]["outcome"] == "skipped"
    assert queued(drain, send_queue) == []
    directory(t.id)  # (same sync time: unchanged)
    from parley.dal import directory as people

    people.put_if_newer(t.id, "users", USER_ID, "2026-11-02T09:00:00Z", {"username": "pat", "email": "pat2@example.com",
                                                                         "notifications": ["sms"]})  # fmt: skip
    result = notify(t.id, "n-2", sms=())
    assert result.deliveries["email"] == {**result.deliveries["email"], "outcome": "skipped"}
    assert "do not include email" in result.deliveries["email"]["reason"]
    assert queued(drain, send_queue) == []


def test_quiet_hours_hold_the_sms_until_the_users_morning(pat, send_queue, drain, frozen):
    from parley.dal import messages, tenants
    from parley.domain import notifications

    tenants.update(pat.id, {"quiet_hours": True})
    from parley.dal import directory as people

    people.put_if_newer(pat.id, "users", USER_ID, "2026-11-02T09:00:00Z", {"username": "pat", "phone": PHONE, "tz": "America/New_York",
                                                                           "notifications": ["sms"]})  # fmt: skip
    opt_in(pat.id)
    frozen(datetime(2026, 11, 5, 4, 0, tzinfo=UTC))  # 23:00 in New York
    result = notify(pat.id, email=False)
    assert result.deliveries["sms"]["outcome"] == "held"
    msg = messages.get(pat.id, notifications.message_id("n-1", "sms", 0))
    assert msg.status.value == "SCHEDULED" and msg.scheduled_at == datetime(2026, 11, 5, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert queued(drain, send_queue) == []
    again = notify(pat.id, email=False)
    assert not again.created and again.deliveries["sms"]["outcome"] == "held"


def test_several_sms_bodies_are_several_messages(pat, send_queue, drain):
    from parley.domain import notifications

    opt_in(pat.id)
    result = notify(pat.id, sms=("one", "two"), email=False)
    ids = [notifications.message_id("n-1", "sms", i) for i in (0, 1)]
    assert result.deliveries["sms"]["message_ids"] == ids
    assert sorted(j["message_id"] for j in queued(drain, send_queue)) == sorted(ids)


# ───────────── the routes ─────────────
def test_list_get_and_the_seed_shape(handler, pat, send_queue):
    opt_in(pat.id)
    notify(pat.id, "n-1")
    notify(pat.id, "n-2", category="billing", individual=IND2_ID)
    notify(pat.id, "n-sam", user=USER2_ID, individual=OTHER_IND)
    out = call(handler, "list", pat.id)
    assert out["statusCode"] == 200, out["body"]
    doc = body(out)
    assert [d["id"] for d in doc["data"]] == ["n-2", "n-1"]  # newest first, Pat's only
    assert doc["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    attrs = doc["data"][1]["attributes"]
    assert set(attrs) >= {"acknowledged", "active", "created-at", "data", "individual-id", "organization-id", "user-first-name", "user-id",
                          "user-last-name"}  # fmt: skip
    assert attrs["acknowledged"] is False and attrs["active"] is True and attrs["user-first-name"] == "Pat"
    assert attrs["data"]["apn"] == {"title": "Reminder", "body": "Your visit is at 10", "category": "visit", "data": {"k": 1}}
    assert attrs["data"]["sms"] == {"bodies": ["Your visit is at 10"]}
    assert attrs["deliveries"]["sms"]["outcome"] == "queued" and attrs["deliveries"]["sms"]["message-ids"]
    for query, ids in (({"filter[category]": "billing"}, ["n-2"]), ({"individual-id": IND_ID}, ["n-1"]), ({"acknowledged": "true"}, []),
                       ({"organization-id": ORG_ID, "page[limit]": "1", "page[offset]": "1"}, ["n-1"])):  # fmt: skip
        got = body(call(handler, "list", pat.id, query=query))
        assert [d["id"] for d in got["data"]] == ids, query
    assert body(call(handler, "list", pat.id, query={"filter[category]": "billing"}))["meta"]["page[total]"] == 1
    one = call(handler, "get", pat.id, id_="n-1")
    assert one["statusCode"] == 200 and body(one)["data"]["id"] == "n-1"
    assert call(handler, "get", pat.id, id_="n-sam")["statusCode"] == 404  # another user's
    assert call(handler, "get", pat.id, id_="nope")["statusCode"] == 404
    assert call(handler, "list", pat.id, user=None)["statusCode"] == 400  # API key without X-User-ID
    bad = call(handler, "list", pat.id, query={"include[inactive]": "perhaps"})
    assert bad["statusCode"] == 400 and body(bad)["errors"][0]["source"] == {"parameter": "include[inactive]"}


def test_inactive_notifications_are_hidden_unless_included(handler, pat, frozen):
    frozen(datetime.now(UTC) - timedelta(days=40))
    notify(pat.id, "n-old", sms=(), email=False)
    frozen(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
    notify(pat.id, "n-new", sms=(), email=False)
    assert [d["id"] for d in body(call(handler, "list", pat.id))["data"]] == ["n-new"]
    doc = body(call(handler, "list", pat.id, query={"include[inactive]": "true"}))
    assert [(d["id"], d["attributes"]["active"]) for d in doc["data"]] == [("n-new", True), ("n-old", False)]
    assert body(call(handler, "get", pat.id, id_="n-old"))["data"]["attributes"]["active"] is False


def test_ack_and_ack_previous(handler, pat, frozen):
    base = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for i, nid in enumerate(("a", "b", "c", "d")):
        frozen(base + timedelta(minutes=i))
        notify(pat.id, nid, sms=(), email=False)
    notify(pat.id, "sam", user=USER2_ID, individual=OTHER_IND, sms=(), email=False)
    frozen(base + timedelta(hours=1))
    out = call(handler, "ack", pat.id, id_="b", body_={"ack-previous": False}, headers={"Content-Type": "application/json"})
    assert out["statusCode"] == 201, out["body"]
    assert body(out)["data"]["attributes"]["acknowledged"] is True
    acked = {nid: stored_notification(pat.id, nid)["acknowledged"] for nid in "abcd"}
    assert acked == {"a": False, "b": True, "c": False, "d": False}
    out = call(handler, "ack", pat.id, id_="c", body_={"ack-previous": True}, headers={"Content-Type": "application/json"})
    assert out["statusCode"] == 201
    acked = {nid: stored_notification(pat.id, nid)["acknowledged"] for nid in "abcd"}
    assert acked == {"a": True, "b": True, "c": True, "d": False}
    assert stored_notification(pat.id, "sam")["acknowledged"] is False  # another user's is untouched
    got = body(call(handler, "list", pat.id, query={"acknowledged": "false", "include[inactive]": "true"}))
    assert [d["id"] for d in got["data"]] == ["d"]
    assert call(handler, "ack", pat.id, id_="sam", body_={})["statusCode"] == 404
    no_body = call(handler, "ack", pat.id, id_="d", body_=None, headers={"Content-Type": None})  # the seed's default: ack-previous false
    assert no_body["statusCode"] == 201, no_body["body"]
    assert body(no_body)["data"]["attributes"]["acknowledged"] is True
    call(handler, "ack", pat.id, id_="d", body_={})  # again: nothing changes
    assert stored_notification(pat.id, "d")["acknowledged"] is True
    bad = call(handler, "ack", pat.id, id_="d", body_={"ack-previous": "maybe"})
    assert bad["statusCode"] == 400
    assert call(handler, "ack", pat.id, id_="d", body_={"other": 1})["statusCode"] == 400


def test_daily_counts_per_user_with_the_seed_quirks(handler, pat, frozen):
    for day, nids in ((1, ("a", "b")), (2, ("c",)), (4, ("d", "e", "f"))):
        for nid in nids:
            frozen(datetime(2026, 11, day, 10, 0, tzinfo=UTC))
            notify(pat.id, nid, sms=(), email=False)
    frozen(datetime(2026, 11, 2, 11, 0, tzinfo=UTC))
    notify(pat.id, "s", user=USER2_ID, individual=OTHER_IND, sms=(), email=False)
    doc = body(call(handler, "counts", pat.id))
    assert doc["data"] == [
        {"type": "notification-counts", "attributes": {"count": 2, "daily-for-date": "2026-11-01", "user-id": USER_ID}},
        {"type": "notification-counts", "attributes": {"count": 1, "daily-for-date": "2026-11-02", "user-id": USER_ID}},
        {"type": "notification-counts", "attributes": {"count": 3, "daily-for-date": "2026-11-04", "user-id": USER_ID}},
    ]  # no id
    assert doc["meta"] == {"page[total]": 3, "page[limit]": 500, "page[offset]": 0}
    window = {"filter[cmp-created-at]": [">=2026-11-02T05:00:00Z", "<=2026-11-03T23:00:00Z"]}
    ev_query = {k: v[-1] for k, v in window.items()}
    ev = api_event("courier_notifications/list_user_notification_counts", tenant_id=pat.id, query=ev_query, headers={"X-User-ID": USER_ID})
    ev["multiValueQueryStringParameters"] = window
    doc = body(handler(FN["counts"])(ev))
    assert [d["attributes"]["daily-for-date"] for d in doc["data"]] == ["2026-11-02"]
    everyone = body(call(handler, "counts", pat.id, user=None))  # the tenant's server: every user's, by day then user
    assert [(d["attributes"]["daily-for-date"], d["attributes"]["user-id"]) for d in everyone["data"]] == [
        ("2026-11-01", USER_ID), ("2026-11-02", USER_ID), ("2026-11-02", USER2_ID), ("2026-11-04", USER_ID)]  # fmt: skip
    zero = body(call(handler, "counts", pat.id, query={"page[limit]": "0"}))
    assert zero["data"] == [] and zero["meta"]["page[total]"] == 3
    for bad in ({"filter[cmp-created-at]": ">2026-11-01T00:00:00Z"}, {"page[limit]": "1001"}):
        out = call(handler, "counts", pat.id, query=bad)
        assert out["statusCode"] == 400, bad


# ───────────── badges ─────────────
def badge(count, ts, kind="appointment", individual=IND_ID, **extra):
    return {"data": {"type": "badge-counts", "attributes": {"count": count, "individual-id": individual, "timestamp": ts, "type": kind,
                                                            **extra}}}  # fmt: skip


def test_badge_counts_upsert_last_write_wins_and_total(handler, pat):
    from parley.domain import badges

    out = call(handler, "badge_create", pat.id, body_=badge(3, "2026-11-01T10:00:00Z", **{"organization-id": ORG_ID}))
    assert out["statusCode"] == 201, out["body"]
    first = body(out)["data"]
    assert first["type"] == "badge-counts" and first["attributes"]["count"] == 3
    assert first["attributes"]["timestamp"] == "2026-11-01T10:00:00.000Z" and first["attributes"]["organization-id"] == ORG_ID
    newer = body(call(handler, "badge_create", pat.id, body_=badge(5, "2026-11-01T11:00:00Z")))["data"]
    assert newer["id"] == first["id"] and newer["attributes"]["count"] == 5  # the same counter
    older = body(call(handler, "badge_create", pat.id, body_=badge(1, "2026-11-01T09:00:00+00:00")))["data"]
    assert older["attributes"]["count"] == 5 and older["attributes"]["timestamp"] == "2026-11-01T11:00:00.000Z"  # ignored
    call(handler, "badge_create", pat.id, body_=badge(2, "2026-11-01T09:00:00Z", kind="message"))
    listed = body(call(handler, "badges", pat.id, query={"individual-id": IND_ID}))
    assert sorted((d["attributes"]["type"], d["attributes"]["count"]) for d in listed["data"]) == [("appointment", 5), ("message", 2)]
    assert badges.total(pat.id, IND_ID) == 7 and badges.total(pat.id, IND2_ID) == 0
    got = call(handler, "badge_get", pat.id, id_=first["id"])
    assert got["statusCode"] == 200 and body(got)["data"]["attributes"]["count"] == 5
    assert call(handler, "badge_get", pat.id, id_=first["id"], user=USER2_ID)["statusCode"] == 403
    assert call(handler, "badge_get", pat.id, id_="nope")["statusCode"] == 404
    # ownership and required members
    assert call(handler, "badge_create", pat.id, body_=badge(1, "2026-11-01T12:00:00Z", individual=OTHER_IND))["statusCode"] == 403
    assert call(handler, "badges", pat.id, query={"individual-id": OTHER_IND})["statusCode"] == 403
    missing = call(
        handler, "badge_create", pat.id, body_={"data": {"type": "badge-counts", "attributes": {"individual-id": IND_ID, "type": "x"}}}
    )
    assert missing["statusCode"] == 422 and body(missing)["errors"][0]["source"] == {"pointer": "/data/attributes/count"}
    assert call(handler, "badge_create", pat.id, body_=badge(-1, "2026-11-01T12:00:00Z"))["statusCode"] == 400
    assert call(handler, "badge_create", pat.id, body_=badge(1, "yesterday"))["statusCode"] == 400
    # the tenant's server (no X-User-ID) may set any individual of the directory, not an unknown one
    server = call(handler, "badge_create", pat.id, user=None, body_=badge(4, "2026-11-01T12:00:00Z", individual=OTHER_IND))
    assert server["statusCode"] == 201
    unknown = call(handler, "badge_create", pat.id, user=None, body_=badge(4, "2026-11-01T12:00:00Z", individual="nobody"))
    assert unknown["statusCode"] == 422


def test_bulk_badge_counts_answer_null_and_check_every_value_first(handler, pat):
    from parley.domain import badges

    values = [
        badge(2, "2026-11-01T10:00:00Z")["data"]["attributes"],
        badge(1, "2026-11-01T10:00:00Z", kind="message", individual=IND2_ID)["data"]["attributes"],
    ]
    out = call(handler, "bulk", pat.id, body_={"data": {"type": "bulk-badge-counts", "attributes": {"values": values}}})
    assert out["statusCode"] == 201 and out["body"] == "null"
    assert badges.total(pat.id, IND_ID) == 2 and badges.total(pat.id, IND2_ID) == 1
    bad = [
        badge(9, "2026-11-02T10:00:00Z")["data"]["attributes"],
        badge(9, "2026-11-02T10:00:00Z", individual=OTHER_IND)["data"]["attributes"],
    ]
    out = call(handler, "bulk", pat.id, body_={"data": {"type": "bulk-badge-counts", "attributes": {"values": bad}}})
    assert out["statusCode"] == 403 and body(out)["errors"][0]["source"] == {"pointer": "/data/attributes/values/1/individual-id"}
    assert badges.total(pat.id, IND_ID) == 2  # nothing written
    empty = call(handler, "bulk", pat.id, body_={"data": {"type": "bulk-badge-counts", "attributes": {"values": []}}})
    assert empty["statusCode"] == 400


def test_an_apns_push_would_carry_the_badge_total(pat, monkeypatch):
    """notify hands push.deliver the individual's badge total and the notification id as collapse id."""
    import sys
    import types

    from parley.domain import badges
    from parley.models.user_notifications import BadgeCountInput

    badges.set_count(pat.id, BadgeCountInput(individual_id=IND_ID, type="appointment", count=4, timestamp="2026-11-01T10:00:00Z"))
    seen = {}

    def deliver(tenant_id, user_id, notification_id, data, *, badge, collapse_id):
        seen.update(tenant=tenant_id, user=user_id, id=notification_id, badge=badge, collapse=collapse_id, title=data.apn.title)
        return [types.SimpleNamespace(device_id="d-1", transport="apn", outcome="sent", reason=None)]

    monkeypatch.setitem(sys.modules, "parley.domain.push", types.SimpleNamespace(deliver=deliver))
    import parley.domain

    monkeypatch.setattr(parley.domain, "push", sys.modules["parley.domain.push"], raising=False)
    result = notify(pat.id, "n-push", sms=(), email=False)
    assert seen == {"tenant": pat.id, "user": USER_ID, "id": "n-push", "badge": 4, "collapse": "n-push", "title": "Reminder"}
    assert result.deliveries["push"] == {**result.deliveries["push"], "outcome": "sent",
                                         "devices": [{"device_id": "d-1", "transport": "apn", "outcome": "sent"}]}  # fmt: skip
    assert stored_notification(pat.id, "n-push")["deliveries"]["push"]["devices"][0]["device_id"] == "d-1"
