"""Courier bulk messages on moto (issue 19, area 1): the four routes of messaging-bulk-messages, the asynchronous
posting (the bulk-post jobs run through AutomationFunction's handler), exactly once per recipient under redelivery and a
crash between a post and its count, skipped and failed recipients, message-js per recipient locale, and the 4xx of bad
input; stored state asserted."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

T1 = "2026-11-01T09:00:00Z"
ORG_ID = "b1000000-0000-4000-8000-000000000001"
OTHER_ORG = "b1000000-0000-4000-8000-000000000002"
GROUP = "b1000000-0000-4000-8000-0000000000g1"
OTHER_GROUP = "b1000000-0000-4000-8000-0000000000g2"
NAMES = ("pat", "sam", "lee", "kim", "ana")
USERS = {n: f"b1000000-0000-4000-8000-0000000000u{i}" for i, n in enumerate(NAMES, 1)}
IND = {n: f"b1000000-0000-4000-8000-0000000000i{i}" for i, n in enumerate(NAMES, 1)}
LOCALE = {"pat": "en_US", "sam": "es-US", "lee": None, "kim": "es_MX", "ana": "fr_FR"}
JS = {"en_US": "Closed Friday", "es_US": "Cerrado el viernes"}
FN = {
    "list": "CourierMessagingApi.ListMessagingBulkMessagesFunction",
    "create": "CourierMessagingApi.CreateMessagingBulkMessageFunction",
    "get": "CourierMessagingApi.GetMessagingBulkMessageFunction",
    "update": "CourierMessagingApi.UpdateMessagingBulkMessageFunction",
}
EVENTS = {"list": "list_messaging_bulk_messages", "create": "create_messaging_bulk_message", "get": "get_messaging_bulk_message",
          "update": "update_messaging_bulk_message"}  # fmt: skip
TYPE = "messaging-bulk-messages"


def line(type_, id_, attributes):
    return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})


def seed_directory(tenant_id):
    from parley.domain import directory as d

    lines = [line("organizations", ORG_ID, {"name": "northside"}), line("organizations", OTHER_ORG, {"name": "southside"})]
    for name, user in USERS.items():
        attrs = {"username": name, "primary-individual-id": IND[name], "email": f"{name}@example.com", "last-sync-time": T1}
        if LOCALE[name]:
            attrs["locale"] = LOCALE[name]
        lines.append(line("users", user, attrs))
        lines.append(line("individuals", IND[name], {"first-name": name.title(), "last-name": "Doe", "owner-id": user}))
    lines.append(line("individual-groups", GROUP, {"name": "Care team", "organization-id": ORG_ID, "last-sync-time": T1,
                                                   "individuals": [{"id": IND[n]} for n in ("pat", "lee", "kim")],
                                                   "leaders": [{"id": IND["ana"]}]}))  # fmt: skip
    lines.append(line("individual-groups", OTHER_GROUP, {"name": "South", "organization-id": OTHER_ORG, "last-sync-time": T1,
                                                         "individuals": [{"id": IND["sam"]}]}))  # fmt: skip
    summary = d.import_lines(tenant_id, lines)
    assert summary.invalid == []


@pytest.fixture
def queues(aws, monkeypatch):
    """(automation queue URL, channel events queue URL), in the environment as the API functions have them."""
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    automation = aws.queues[next(a for a in aws.queues if a.endswith("-AutomationQueue"))]
    events = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("AUTOMATION_QUEUE_URL", automation)
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", events)
    get_settings.cache_clear()
    aws_clients.reset()
    return automation, events


@pytest.fixture
def org(tenant, queues):
    t, _ = tenant
    seed_directory(t.id)
    return t


def call(handler, route, tenant_id, *, as_="pat", id_=None, body_=..., query=None):
    ev = api_event(f"courier_messaging/{EVENTS[route]}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": USERS[as_], "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = f"/v1/messaging-bulk-messages/{id_}/"
    out = handler(FN[route])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def doc(**attributes):
    return {"data": {"type": TYPE, "attributes": attributes}}


def run_jobs(handler, drain, url, *, twice=False):
    """Feed AutomationQueue's jobs to AutomationFunction until none is left (``twice``: every job delivered twice)."""
    from parley_local.workers import _sqs_record

    fn = handler("root.AutomationFunction")
    ran = []
    while got := drain(url):
        for m in got:
            for _ in range(2 if twice else 1):
                out = fn({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:AutomationQueue")]})
                assert out["batchItemFailures"] == [], out
            ran.append(json.loads(m["Body"]))
    return ran


def stored_bulk(tenant_id, bulk_id):
    from parley.dal import bulk_messages as store

    return store.get(tenant_id, bulk_id, consistent=True)


def messages_in(tenant_id, a, b):
    """The messages of the direct channel between two individuals of ORG_ID (None when there is none)."""
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore

    pointer = cstore.get_direct(tenant_id, ORG_ID, [a, b])
    if pointer is None:
        return None
    items, _ = mstore.message_page(tenant_id, pointer["channel_id"], offset=0, limit=100)
    return items


def test_a_draft_is_edited_then_posted_once_to_each_recipient_in_its_locale(handler, org, queues, drain):
    automation, _events = queues
    status, out = call(handler, "create", org.id, body_=doc(**{"individual-ids": [IND["sam"], IND["lee"]], "individual-group-ids": [GROUP],
                                                              "message": "draft text", "auto-create-channel": True}))  # fmt: skip
    assert status == 201, out
    bulk_id, a = out["data"]["id"], out["data"]["attributes"]
    assert out["data"]["type"] == TYPE
    assert (a["draft"], a["status"], a["organization-id"], a["created-by"], a["sender-individual-id"]) == (
        True,
        "draft",
        ORG_ID,
        IND["pat"],
        IND["pat"],
    )
    assert a["individual-ids"] == [IND["sam"], IND["lee"]] and a["individual-group-ids"] == [GROUP] and a["posted-time"] is None
    item = stored_bulk(org.id, bulk_id)
    assert item["GSI6PK"] == f"TENANT#{org.id}#BULKS#DRAFT" and item["GSI3PK"] == f"TENANT#{org.id}#BULKS#ALL"
    assert drain(automation) == []  # a draft posts nothing

    edit = {"data": {"type": TYPE, "id": bulk_id, "attributes": {"message": "Closed", "message-js": JS}}}
    status, out = call(handler, "update", org.id, id_=bulk_id, body_=edit)
    assert status == 200 and out["data"]["attributes"]["message"] == "Closed" and out["data"]["attributes"]["message-js"] == JS
    status, listed = call(handler, "list", org.id)
    assert status == 200 and [d["id"] for d in listed["data"]] == [bulk_id] and listed["meta"]["page[total]"] == 1

    status, out = call(handler, "update", org.id, id_=bulk_id, body_=doc(draft=False))
    assert status == 200 and (out["data"]["attributes"]["draft"], out["data"]["attributes"]["status"]) == (False, "queued")
    assert "GSI6PK" not in stored_bulk(org.id, bulk_id)
    status, listed = call(handler, "list", org.id)
    assert listed["data"] == [] and listed["meta"]["page[total]"] == 0
    status, listed = call(handler, "list", org.id, query={"include-posted": "true"})
    assert [d["id"] for d in listed["data"]] == [bulk_id]

    # queued, its plan not run yet: draft false again queues the plan job again (a lost send is recoverable), nothing else
    status, out = call(handler, "update", org.id, id_=bulk_id, body_=doc(draft=False))
    assert status == 200 and out["data"]["attributes"]["status"] == "queued"
    status, out = call(handler, "update", org.id, id_=bulk_id, body_=doc(draft=False, message="changed"))
    assert status == 409 and stored_bulk(org.id, bulk_id)["message"] == "Closed"
    ran = run_jobs(handler, drain, automation, twice=True)  # every job delivered twice (the plan job four times)
    assert ran[0]["data"]["step"] == "plan" and {j["kind"] for j in ran} == {"bulk-post"}
    status, out = call(handler, "get", org.id, id_=bulk_id)
    a = out["data"]["attributes"]
    # sam, lee, and the group's lee (once), kim; pat is the sender and is not a recipient
    assert a["status"] == "posted" and a["progress"] == {"total": 3, "posted": 3, "skipped": 0, "failed": 0, "pending": 0}
    assert a["posted-time"] is not None
    texts = {}
    for name in ("sam", "lee", "kim"):
        items = messages_in(org.id, IND["pat"], IND[name])
        assert len(items) == 1, name
        m = items[0]
        assert (m["source"], m["individual_id"], m["user_id"]) == ("bulk", IND["pat"], USERS["pat"])
        texts[name] = m["message"]
    assert texts == {"sam": "Cerrado el viernes", "lee": "Closed", "kim": "Cerrado el viernes"}
    assert messages_in(org.id, IND["pat"], IND["ana"]) is None
    from parley.dal import bulk_messages as store
    from parley.domain import bulk_messages

    rcpts = {r["individual_id"]: r for r in store.recipients(org.id, bulk_id)}
    assert set(rcpts) == {IND["sam"], IND["lee"], IND["kim"]} and {r["state"] for r in rcpts.values()} == {"posted"}
    assert rcpts[IND["sam"]]["message_id"] == bulk_messages.message_id(bulk_id, IND["sam"])

    # posted: any change is a 409, and nothing is stored
    status, out = call(handler, "update", org.id, id_=bulk_id, body_=doc(message="again"))
    assert status == 409 and out["errors"][0]["code"] == "already-posted"
    status, _ = call(handler, "update", org.id, id_=bulk_id, body_=doc(draft=False))
    assert status == 409 and stored_bulk(org.id, bulk_id)["message"] == "Closed"
    assert run_jobs(handler, drain, automation) == []


def test_existing_channels_are_used_missing_ones_skipped_and_a_recipients_error_fails_only_it(handler, org, queues, drain):
    from parley.domain import channels

    automation, _ = queues
    sam, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["sam"], individual_ids=[IND["pat"]])
    kim, _ = channels.create_channel(org.id, organization_id=ORG_ID, creator_individual_id=IND["pat"], individual_ids=[IND["kim"]])
    channels.set_archived(org.id, kim["id"], IND["pat"], True)
    status, out = call(handler, "create", org.id, body_=doc(**{"individual-ids": [IND["sam"], IND["lee"], IND["kim"]], "message": "Hi",
                                                              "draft": False, "organization-id": ORG_ID}))  # fmt: skip
    assert status == 201 and out["data"]["attributes"]["status"] == "queued", out
    bulk_id = out["data"]["id"]
    run_jobs(handler, drain, automation)
    a = call(handler, "get", org.id, id_=bulk_id)[1]["data"]["attributes"]
    assert a["status"] == "partially-failed"
    assert a["progress"] == {"total": 3, "posted": 1, "skipped": 1, "failed": 1, "pending": 0}
    from parley.dal import bulk_messages as store

    rcpts = {r["individual_id"]: r for r in store.recipients(org.id, bulk_id)}
    assert (rcpts[IND["sam"]]["state"], rcpts[IND["sam"]]["channel_id"]) == ("posted", sam["id"])
    assert (rcpts[IND["lee"]]["state"], rcpts[IND["lee"]]["reason"]) == ("skipped", "no-channel")
    assert (rcpts[IND["kim"]]["state"], rcpts[IND["kim"]]["reason"]) == ("failed", "channel-archived")
    assert messages_in(org.id, IND["pat"], IND["lee"]) is None  # no channel was made without auto-create-channel
    assert [m["message"] for m in messages_in(org.id, IND["pat"], IND["sam"])] == ["Hi"]


def test_a_crash_between_the_post_and_its_count_posts_once_and_counts_once(handler, org, queues, drain, monkeypatch):
    from parley.dal import bulk_messages as store
    from parley.domain import bulk_messages
    from parley_local.workers import _sqs_record

    automation, _ = queues
    bulk = bulk_messages.create(org.id, IND["ana"], USERS["ana"], _create(**{"individual-group-ids": [GROUP], "message": "Hello",
                                                                          "auto-create-channel": True}))  # fmt: skip
    bulk_messages.start(org.id, bulk["id"])
    fn = handler("root.AutomationFunction")
    real = store.settle
    crashed = []

    def settle_then_crash(tenant_id, bulk_id, recipient, state, fields):
        if state == "posted" and not crashed:
            crashed.append(recipient["individual_id"])
            raise RuntimeError("worker killed after the post, before its count")
        return real(tenant_id, bulk_id, recipient, state, fields)

    monkeypatch.setattr(store, "settle", settle_then_crash)
    plan = drain(automation)
    fn({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:AutomationQueue") for m in plan]})
    batch = drain(automation)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    assert len(batch) == 1
    with pytest.raises(BatchProcessingError):  # the whole (one-job) invocation fails: SQS delivers the job again ...
        fn({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:AutomationQueue") for m in batch]})
    assert crashed
    mid = stored_bulk(org.id, bulk["id"])
    assert mid["posted"] + mid["skipped"] + mid["failed"] < 3 and mid["status"] == "posting"
    out = fn({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:AutomationQueue") for m in batch]})  # ... and again
    assert out["batchItemFailures"] == []
    final = stored_bulk(org.id, bulk["id"])
    assert (final["total"], final["posted"], final["failed"], final["status"]) == (3, 3, 0, "posted")
    for name in ("pat", "lee", "kim"):  # ana (a leader, the sender) excluded; one message each, the crashed one too
        assert len(messages_in(org.id, IND["ana"], IND[name])) == 1


def _create(**attributes):
    from parley.models.bulk_messages import BulkMessageCreate

    return BulkMessageCreate.model_validate(attributes)


def test_bad_input_answers_4xx_and_stores_nothing(handler, org, other_tenant, queues, table_items):
    before = len(table_items())
    cases = [
        ({"individual-ids": [IND["sam"]]}, 422, "/data/attributes/message"),
        ({"message": "x"}, 422, "/data/attributes/individual-ids"),
        ({"message": "x", "individual-ids": [IND["sam"], "nobody"], "organization-id": ORG_ID}, 404, "/data/attributes/individual-ids/1"),
        ({"message": "x", "individual-group-ids": ["no-group"]}, 404, "/data/attributes/individual-group-ids/0"),
        ({"message": "x", "individual-ids": [IND["sam"]]}, 422, "/data/attributes/organization-id"),
        ({"message": "x", "individual-ids": [IND["sam"]], "organization-id": "no-org"}, 404, "/data/attributes/organization-id"),
        ({"message": "x", "individual-group-ids": [GROUP, OTHER_GROUP]}, 422, "/data/attributes/individual-group-ids/1"),
        ({"message": "x", "individual-ids": [IND["sam"]], "organization-id": ORG_ID, "sender-individual-id": IND["sam"]}, 403,
         "/data/attributes/sender-individual-id"),
        ({"message": "x", "individual-ids": [IND["sam"]], "sender-individual-group-id": OTHER_GROUP}, 403,
         "/data/attributes/sender-individual-group-id"),
        ({"message": "x", "individual-ids": [IND["sam"]], "sender-individual-group-id": GROUP, "sender-individual-id": IND["pat"]}, 422,
         "/data/attributes/sender-individual-group-id"),
        ({"message": "x", "individual-ids": [IND["sam"]], "organization-id": ORG_ID, "message-js": {"english": "x"}}, 400,
         "/data/attributes/message-js/english"),
        ({"message": "x", "individual-ids": [IND["sam"]], "organization-id": ORG_ID, "colour": "red"}, 400, "/data/attributes/colour"),
        ({"message": "", "individual-ids": [IND["sam"]], "organization-id": ORG_ID}, 400, "/data/attributes/message"),
    ]  # fmt: skip
    for attrs, status, pointer in cases:
        got, out = call(handler, "create", org.id, body_=doc(**attrs))
        assert got == status and out["errors"][0]["source"].get("pointer", "").startswith(pointer), (attrs, got, out)
    got, out = call(handler, "create", org.id, body_={"data": {"type": "messaging-messages", "attributes": {"message": "x"}}})
    assert got == 409
    assert len(table_items()) == before

    # a draft: another tenant's caller gets 404 (the same as an unknown id), another user of the tenant may read it, not change it
    _, out = call(handler, "create", org.id, body_=doc(**{"message": "x", "individual-group-ids": [GROUP]}))
    bulk_id = out["data"]["id"]
    t2, _ = other_tenant
    seed_directory(t2.id)
    for route, body_ in (("get", ...), ("update", doc(message="mine now"))):
        got, out = call(handler, route, t2.id, id_=bulk_id, body_=body_)
        assert got == 404 and out["errors"][0]["code"] == "not-found"
        got, _ = call(handler, route, org.id, id_="no-such-bulk", body_=body_)
        assert got == 404
    assert call(handler, "get", org.id, as_="sam", id_=bulk_id)[0] == 200
    got, out = call(handler, "update", org.id, as_="sam", id_=bulk_id, body_=doc(message="mine now"))
    assert got == 403 and stored_bulk(org.id, bulk_id)["message"] == "x"
    got, _ = call(handler, "update", org.id, id_=bulk_id, body_={"data": {"type": TYPE, "id": "another", "attributes": {"message": "y"}}})
    assert got == 409
    assert call(handler, "list", t2.id, query={"include-posted": "true"})[1]["data"] == []


def test_the_list_filters_by_creator_and_pages(handler, org, queues):
    ids = []
    for as_ in ("pat", "sam", "pat"):
        _, out = call(handler, "create", org.id, as_=as_, body_=doc(**{"message": as_, "individual-group-ids": [GROUP]}))
        ids.append(out["data"]["id"])
    status, out = call(handler, "list", org.id, query={"filter[created-by]": IND["pat"]})
    assert status == 200 and [d["id"] for d in out["data"]] == [ids[2], ids[0]] and out["meta"]["page[total]"] == 2
    status, out = call(handler, "list", org.id, query={"page[limit]": "1", "page[offset]": "1"})
    assert [d["id"] for d in out["data"]] == [ids[1]] and out["meta"]["page[total]"] == 3
    status, out = call(handler, "list", org.id, query={"page[limit]": "0"})
    assert status == 400


def test_a_bulk_whose_only_recipient_is_its_sender_is_posted_to_no_one(handler, org, queues, drain):
    automation, _ = queues
    status, out = call(handler, "create", org.id, body_=doc(**{"individual-ids": [IND["pat"]], "message": "Me", "draft": False,
                                                              "organization-id": ORG_ID}))  # fmt: skip
    assert status == 201, out
    assert [j["data"]["step"] for j in run_jobs(handler, drain, automation)] == ["plan"]
    a = call(handler, "get", org.id, id_=out["data"]["id"])[1]["data"]["attributes"]
    assert a["status"] == "posted" and a["progress"]["total"] == 0 and a["posted-time"]
    assert messages_in(org.id, IND["pat"], IND["pat"]) is None
