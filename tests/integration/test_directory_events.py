"""Directory events (issue 15) on moto: events put on the stack's directory bus (EventBridge) reach
DirectoryEventsQueue through the declared rule, and DirectoryEventsFunction applies them in last-sync-time order —
upserts, deletes (tombstones: an older upsert after a newer delete is ignored, reads 404, lists skip them), an
out-of-order older update ignored; a malformed event or an unknown tenant fails alone (partial batch failure) and its
reason is noted on its last receive; tenants never see each other's entities."""

from __future__ import annotations

import json

import pytest

from helpers import _deliver, api_event, body

CONSUMER = "root.DirectoryEventsFunction"
USER_ID = "1b4d2c7f-6e8a-4f3b-8c2d-9e7f6a5b4c32"
T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z"


def user(email, sync_time, id_=USER_ID):
    return {"type": "users", "id": id_, "attributes": {"username": "pat", "email": email, "last-sync-time": sync_time}}


def entry(tenant_id, entity, kind="upsert", **over):
    from parley.dal.aws import client

    bus = client("events").list_event_buses(NamePrefix="parley-local-directory")["EventBuses"][0]["Name"]
    detail = {"tenant-id": tenant_id, "entity": entity}
    return {"Source": "parley.directory", "DetailType": kind, "Detail": json.dumps(detail), "EventBusName": bus, **over}


def put(*entries):
    from parley.dal.aws import client

    out = client("events").put_events(Entries=list(entries))
    assert out["FailedEntryCount"] == 0, out


def queue_url(suffix="-DirectoryEventsQueue"):
    from parley.dal.aws import client

    return next(u for u in client("sqs").list_queues()["QueueUrls"] if u.endswith(suffix))


def deliver(handler):
    return _deliver(handler, CONSUMER, queue_url())


def get_user(handler, tenant_id, user_id=USER_ID):
    ev = api_event("courier_admin/get_user", tenant_id=tenant_id)
    ev["path"], ev["pathParameters"] = f"/v1/users/{user_id}/", {"id": user_id}
    return handler("CourierAdminApi.GetUserFunction")(ev)


def list_users(handler, tenant_id, query=None):
    ev = api_event("courier_admin/list_users", tenant_id=tenant_id, query=query)
    ev["path"] = "/v1/users/"
    return body(handler("CourierAdminApi.ListUsersFunction")(ev))


def test_the_rule_routes_only_directory_events_to_the_queue(aws, tenant):
    from parley.dal.aws import client

    t, _ = tenant
    put(entry(t.id, user("pat@example.com", T1)), {**entry(t.id, {}), "Source": "someone.else"},
        {**entry(t.id, {}), "DetailType": "rename"})  # fmt: skip
    got = client("sqs").receive_message(QueueUrl=queue_url(), MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 1
    envelope = json.loads(got[0]["Body"])
    assert envelope["source"] == "parley.directory" and envelope["detail-type"] == "upsert"
    assert envelope["detail"] == {"tenant-id": t.id, "entity": user("pat@example.com", T1)}


def test_upserts_and_deletes_are_applied_in_last_sync_time_order(handler, tenant, table_items):
    from parley.dal import directory as store

    t, _ = tenant
    put(entry(t.id, user("new@example.com", T2)), entry(t.id, user("old@example.com", T1)))  # the older one last
    delivered, failures = deliver(handler)
    assert len(delivered) == 2 and failures == []
    assert store.attributes(store.get(t.id, "users", USER_ID))["email"] == "new@example.com"
    assert body(get_user(handler, t.id))["data"]["attributes"]["email"] == "new@example.com"

    # a delete newer than what is stored: a tombstone; reads 404, lists and the email index do not show it
    put(entry(t.id, {"type": "users", "id": USER_ID, "last-sync-time": T3}, kind="delete"))
    assert deliver(handler)[1] == []
    (stored,) = [i for i in table_items() if i.get("type") == "directory"]
    assert stored["deleted"] is True and stored["sync_time"] == "2026-11-03T09:00:00.000Z" and "attrs" not in stored
    assert "GSI3PK" not in stored and "GSI6PK" not in stored
    out = get_user(handler, t.id)
    assert out["statusCode"] == 404 and body(out)["errors"][0]["code"] == "not-found"
    assert list_users(handler, t.id) == {"data": [], "meta": {"page[total]": 0, "page[limit]": 100, "page[offset]": 0}}
    assert list_users(handler, t.id, {"filter[email]": "new@example.com"})["data"] == []

    # an upsert older than the delete, arriving after it, is ignored; a newer one brings the user back
    put(entry(t.id, user("late@example.com", T2)))
    assert deliver(handler)[1] == []
    assert store.get(t.id, "users", USER_ID) is None and store.get_any(t.id, "users", USER_ID)["deleted"] is True
    put(entry(t.id, user("back@example.com", "2026-11-04T09:00:00Z")))
    assert deliver(handler)[1] == []
    assert body(get_user(handler, t.id))["data"]["attributes"]["email"] == "back@example.com"
    assert [u["id"] for u in list_users(handler, t.id, {"filter[email]": "BACK@example.com"})["data"]] == [USER_ID]


def test_an_upsert_event_saying_deleted_is_refused(handler, tenant):
    t, _ = tenant
    put(entry(t.id, {**user("x@example.com", T1), "deleted": True}))
    assert len(deliver(handler)[1]) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"Detail": json.dumps({"tenant-id": "no-such-tenant", "entity": user("x@example.com", T1)})},  # unknown tenant
        {"Detail": json.dumps({"entity": user("x@example.com", T1)})},  # no tenant
        {"Detail": json.dumps({"tenant-id": "{tenant}", "entity": {"type": "pets", "id": "p1", "last-sync-time": T1}})},
        {"Detail": json.dumps({"tenant-id": "{tenant}", "entity": {"type": "users", "id": "u1", "attributes": {}}})},  # no time
        {"Detail": json.dumps({"tenant-id": "{tenant}", "entity": "not an object"})},
        {"Detail": json.dumps({"tenant-id": "{tenant}", "entity": user("x@example.com", T1), "extra": 1})},
        {"Detail": json.dumps({"tenant-id": "{tenant}", "entity": {**user("x@example.com", T1), "attributes": {"nickname": "x"}}})},
    ],
)
def test_a_malformed_event_fails_alone_and_its_reason_is_kept_on_its_last_receive(handler, tenant, bad):
    from parley.dal import dead_letters as reasons
    from parley.dal import directory as store
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    t, _ = tenant
    bad = {k: v.replace("{tenant}", t.id) for k, v in bad.items()}
    good = user("pat@example.com", T1, id_="good-user")
    put(entry(t.id, user("a@example.com", T1, id_="before")), entry(t.id, {}, **bad), entry(t.id, good))
    got = client("sqs").receive_message(QueueUrl=queue_url(), MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(got) == 3
    records = [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:q") for m in got]
    for r in records:
        r["attributes"]["ApproximateReceiveCount"] = "5"  # the queue's maxReceiveCount: the redrive policy moves it next
    out = handler(CONSUMER)({"Records": records})
    (failure,) = out["batchItemFailures"]
    failed = next(m for m in got if m["MessageId"] == failure["itemIdentifier"])
    assert json.loads(failed["Body"])["detail"] == json.loads(bad["Detail"])
    assert store.get(t.id, "users", "before") is not None and store.get(t.id, "users", "good-user") is not None
    kept = reasons.reasons("directory-events", [failure["itemIdentifier"]])[failure["itemIdentifier"]]
    assert "BadRequest" in json.dumps(kept, default=str)


def test_a_raw_message_that_is_not_an_event_fails_alone(handler, tenant):
    from parley.dal.aws import client

    t, _ = tenant
    client("sqs").send_message(QueueUrl=queue_url(), MessageBody="not json")
    client("sqs").send_message(QueueUrl=queue_url(), MessageBody=json.dumps({"source": "parley.directory"}))
    put(entry(t.id, user("pat@example.com", T1)))
    delivered, failures = deliver(handler)
    assert len(delivered) == 3 and len(failures) == 2


def test_tenants_are_isolated(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    put(entry(t.id, user("pat@example.com", T1)), entry(o.id, {"type": "users", "id": USER_ID, "last-sync-time": T3}, kind="delete"))
    assert deliver(handler)[1] == []
    assert get_user(handler, t.id)["statusCode"] == 200  # the other tenant's delete of the same id did not touch it
    assert get_user(handler, o.id)["statusCode"] == 404
    assert list_users(handler, o.id)["data"] == []
