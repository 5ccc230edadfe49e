"""The courier's user-emails on moto (seed 003, issue 15): drafts and auto-send, the send pipeline (SQS → dispatcher →
SES, at most once under retried sends and redelivered jobs), status from the SES events (delivered, bounced), the
individual-id rule (403 for another user's individual, the primary individual by default), the acting user
(400 without X-User-ID, the bearer token's subject), stored state, and tenant isolation (404)."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body
from parley_local.workers import _sqs_record

ORG_ID = "5a1b2c3d-0000-4000-8000-000000000001"
USER_ID = "5a1b2c3d-0000-4000-8000-000000000002"
USER2_ID = "5a1b2c3d-0000-4000-8000-000000000003"
IND_ID = "5a1b2c3d-0000-4000-8000-000000000004"  # Pat's primary individual (owned by USER_ID)
IND2_ID = "5a1b2c3d-0000-4000-8000-000000000005"  # another of Pat's (owner-id USER_ID)
OTHER_IND = "5a1b2c3d-0000-4000-8000-000000000006"  # Sam's
T1 = "2026-11-01T09:00:00Z"
DISPATCHER = "root.DispatcherFunction"
SES_EVENTS = "root.SesEventsFunction"
FN = {
    "create_user_email": "CourierEmailApi.CreateUserEmailFunction",
    "list_user_emails": "CourierEmailApi.ListUserEmailsFunction",
    "get_user_email": "CourierEmailApi.GetUserEmailFunction",
    "send_user_email": "CourierEmailApi.SendUserEmailFunction",
}


def directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG_ID, {"name": "northside", "display-name": "Northside Clinic"}),
            line("users", USER_ID, {"username": "pat", "primary-individual-id": IND_ID}),
            line("users", USER2_ID, {"username": "sam", "primary-individual-id": OTHER_IND}),
            line("individuals", IND_ID, {"first-name": "Pat", "owner-id": USER_ID}),
            line("individuals", IND2_ID, {"first-name": "Kid", "owner-id": USER_ID}),
            line("individuals", OTHER_IND, {"first-name": "Sam", "owner-id": USER2_ID}),
        ],
    )
    assert summary.invalid == []


@pytest.fixture
def pat(tenant):
    t, _ = tenant
    directory(t.id)
    return t


def call(handler, fn, tenant_id, *, user=USER_ID, body_=..., query=None, email_id=None, headers=None, context=None):
    hdrs = {"X-User-ID": user, "Content-Type": "application/vnd.api+json", **(headers or {})}
    ev = api_event(f"courier_email/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if email_id is not None:
        ev["pathParameters"] = {"id": email_id}
        ev["path"] = f"/v1/user-emails/{email_id}/" + ("send/" if fn == "send_user_email" else "")
    if context:
        ev["requestContext"]["authorizer"].update(context)
    return handler(FN[fn])(ev)


def doc(**attributes):
    base = {"to": "ada@example.com", "subject": "Your appointment", "message": "See you Tuesday.", "sender-organization-id": ORG_ID}
    return {"data": {"type": "user-emails", "attributes": {**base, **attributes}}}


def create(handler, tenant_id, **attributes):
    out = call(handler, "create_user_email", tenant_id, body_=doc(**attributes))
    assert out["statusCode"] == 201, out["body"]
    return body(out)["data"]


def dispatch_all(handler, send_queue, drain):
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    if records:
        assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}
    return records


def stored(tenant_id, email_id):
    from parley.dal import user_emails

    return user_emails.get(tenant_id, email_id)


def test_a_draft_is_stored_and_answered_in_the_seed_shape(handler, pat, send_queue, drain, table_items):
    data = create(handler, pat.id)
    assert data["type"] == "user-emails" and set(data) == {"id", "type", "attributes"}
    attrs = data["attributes"]
    assert set(attrs) == {
        "to", "subject", "message", "message-html", "sender-organization-id", "individual-id", "user-id", "created-by",
        "status", "result", "task-id", "created-at", "last-modified-at",
    }  # fmt: skip
    assert attrs["to"] == ["ada@example.com"]  # one address in, an array out
    assert attrs["status"] == "draft" and attrs["task-id"] is None and attrs["result"] is None
    assert attrs["individual-id"] == IND_ID  # the user's primary individual, by default
    assert attrs["user-id"] == attrs["created-by"] == USER_ID
    assert attrs["created-at"].endswith("Z") and attrs["last-modified-at"] == attrs["created-at"]
    item = stored(pat.id, data["id"])
    assert item["state"] == "draft" and "message_id" not in item and item["GSI3PK"] == f"TENANT#{pat.id}#UEMAIL#IND#{IND_ID}"
    assert drain(send_queue[1]) == []  # nothing queued for a draft
    assert not [i for i in table_items() if i.get("type") == "message"]


def test_auto_send_goes_through_the_pipeline_once_and_ses_events_move_the_status(handler, pat, send_queue, drain, sent_emails):
    data = create(handler, pat.id, **{"auto-send": True, "message-html": "<p>See you <b>Tuesday</b>.</p>"})
    attrs = data["attributes"]
    assert attrs["status"] == "queued" and attrs["task-id"]
    from parley.dal import messages

    msg = messages.get(pat.id, attrs["task-id"])
    assert msg.source_api == "courier" and msg.recipient == "ada@example.com" and msg.sender_name == "Northside Clinic"
    assert msg.created_by == USER_ID and msg.body == "<p>See you <b>Tuesday</b>.</p>" and msg.body_text == "See you Tuesday."
    records = dispatch_all(handler, send_queue, drain)
    assert len(records) == 1
    assert len(sent_emails()) == 1
    got = body(call(handler, "get_user_email", pat.id, email_id=data["id"]))["data"]["attributes"]
    assert got["status"] == "sent" and got["result"].startswith("ses: accepted")
    # the same job delivered again (SQS at-least-once): acknowledged, nothing sent twice
    assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1

    ses_id = messages.get(pat.id, attrs["task-id"]).provider_message_id
    delivery = {"timestamp": "2026-12-07T04:00:00.000Z", "recipients": ["ada@example.com"]}
    _ses(handler, pat.id, attrs["task-id"], ses_id, "Delivery", delivery=delivery)
    got = body(call(handler, "get_user_email", pat.id, email_id=data["id"]))["data"]["attributes"]
    assert got["status"] == "delivered" and got["result"] == "ses: delivered"


def _ses(handler, tenant_id, message_id, ses_id, etype, **detail):
    from helpers import load_event

    event = {
        "eventType": etype,
        "mail": {
            "timestamp": "2026-12-07T04:00:00.000Z",
            "source": "no-reply@parley.example",
            "messageId": ses_id,
            "destination": ["ada@example.com"],
            "tags": {"parley_tenant_id": [tenant_id], "parley_message_id": [message_id]},
        },
        **detail,
    }
    record = json.loads(json.dumps(load_event("core/ses_events")["Records"][0]))
    envelope = json.loads(record["body"])
    envelope.update(MessageId=f"sns-{etype}", Message=json.dumps(event))
    record["body"], record["messageId"] = json.dumps(envelope), f"sqs-{etype}"
    assert handler(SES_EVENTS)({"Records": [record]}) == {"batchItemFailures": []}


def test_a_draft_sent_twice_makes_one_message_and_a_bounce_is_reported(handler, pat, send_queue, drain, sent_emails, table_items):
    data = create(handler, pat.id)
    first = call(handler, "send_user_email", pat.id, email_id=data["id"], body_="{}")
    assert first["statusCode"] == 201, first["body"]
    sent = body(first)["data"]["attributes"]
    assert sent["status"] == "queued" and sent["task-id"]
    again = call(handler, "send_user_email", pat.id, email_id=data["id"], body_="{}")  # a client retry
    assert again["statusCode"] == 201 and body(again)["data"]["attributes"]["task-id"] == sent["task-id"]
    assert [i["id"] for i in table_items() if i.get("type") == "message"] == [sent["task-id"]]
    assert len(dispatch_all(handler, send_queue, drain)) == 1 and len(sent_emails()) == 1
    item = stored(pat.id, data["id"])
    assert item["state"] == "queued" and item["message_id"] == sent["task-id"]

    from parley.dal import messages, suppressions

    ses_id = messages.get(pat.id, sent["task-id"]).provider_message_id
    bounce = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": "ada@example.com"}],
              "timestamp": "2026-12-07T04:00:00.000Z"}  # fmt: skip
    _ses(handler, pat.id, sent["task-id"], ses_id, "Bounce", bounce=bounce)
    got = body(call(handler, "get_user_email", pat.id, email_id=data["id"]))["data"]["attributes"]
    assert got["status"] == "bounced" and got["result"] == "ses: bounced"
    assert suppressions.get(pat.id, "ada@example.com") is not None
    # the address is now suppressed: a new auto-send to it is refused before anything is stored
    refused = call(handler, "create_user_email", pat.id, body_=doc(**{"auto-send": True}))
    assert refused["statusCode"] == 400 and body(refused)["errors"][0]["status"] == 400


def test_a_send_racing_another_sends_once(handler, pat, send_queue, drain, monkeypatch):
    """The second send read the email as a draft, but the first one queued it meanwhile: the transaction's condition
    refuses the second message, which answers the email as it is."""
    from parley.dal import user_emails as store
    from parley.domain import user_emails
    from parley.domain.context import Caller

    data = create(handler, pat.id)
    caller = Caller.of(pat)
    _, first = user_emails.send(caller, data["id"])
    real_get = store.get
    reads = []

    def stale_first(tenant_id, email_id, consistent=False):
        reads.append(email_id)
        found = real_get(tenant_id, email_id, consistent=consistent)
        return {**found, "state": "draft"} if len(reads) == 1 else found  # the racing request's read, before the first send

    monkeypatch.setattr(store, "get", stale_first)
    _, second = user_emails.send(caller, data["id"])
    assert second.task_id == first.task_id and second.status == "queued"
    assert len(drain(send_queue[1])) == 1  # one message, one job


def test_list_pages_newest_first_with_totals(handler, pat):
    ids = [create(handler, pat.id, subject=f"n{n}")["id"] for n in range(3)]
    other = create(handler, pat.id, **{"individual-id": IND2_ID})
    out = call(handler, "list_user_emails", pat.id, query={"individual-id": IND_ID, "page[limit]": "2"})
    assert out["statusCode"] == 200
    doc_ = body(out)
    assert doc_["meta"] == {"page[total]": 3, "page[limit]": 2, "page[offset]": 0}
    assert [d["id"] for d in doc_["data"]] == ids[::-1][:2] and all(d["type"] == "user-emails" for d in doc_["data"])
    rest = body(call(handler, "list_user_emails", pat.id, query={"individual-id": IND_ID, "page[limit]": "2", "page[offset]": "2"}))
    assert [d["id"] for d in rest["data"]] == [ids[0]] and rest["meta"]["page[total]"] == 3
    beyond = body(call(handler, "list_user_emails", pat.id, query={"individual-id": IND_ID, "page[offset]": "7"}))
    assert beyond["data"] == [] and beyond["meta"]["page[total]"] == 3
    theirs = body(call(handler, "list_user_emails", pat.id, query={"individual-id": IND2_ID}))
    assert [d["id"] for d in theirs["data"]] == [other["id"]] and theirs["meta"]["page[total]"] == 1


def test_another_users_individual_is_403(handler, pat, table_items):
    before = len(table_items())
    out = call(handler, "create_user_email", pat.id, body_=doc(**{"individual-id": OTHER_IND}))
    assert out["statusCode"] == 403
    assert body(out)["errors"] == [
        {"status": 403, "code": "not-owner", "detail": f"individual {OTHER_IND!r} is not one of user {USER_ID!r}'s individuals",
         "source": {"pointer": "/data/attributes/individual-id"}}
    ]  # fmt: skip
    assert len(table_items()) == before  # nothing stored
    listing = call(handler, "list_user_emails", pat.id, query={"individual-id": OTHER_IND})
    assert listing["statusCode"] == 403 and body(listing)["errors"][0]["source"] == {"parameter": "individual-id"}
    unknown = call(handler, "list_user_emails", pat.id, query={"individual-id": "no-such-individual"})
    assert unknown["statusCode"] == 403  # the same answer as another user's: nothing told
    # Sam cannot read or send Pat's email
    mine = create(handler, pat.id)
    assert call(handler, "get_user_email", pat.id, email_id=mine["id"], user=USER2_ID)["statusCode"] == 403
    assert call(handler, "send_user_email", pat.id, email_id=mine["id"], user=USER2_ID, body_="{}")["statusCode"] == 403
    assert stored(pat.id, mine["id"])["state"] == "draft"


def test_the_acting_user(handler, pat):
    # the API key without X-User-ID: 400 naming the header
    out = call(handler, "create_user_email", pat.id, user=None, body_=doc())
    assert out["statusCode"] == 400 and body(out)["errors"][0]["source"] == {"parameter": "X-User-ID"}
    # a user bearer token: its subject is the user; X-User-ID may only repeat it
    token = {"credential": "user_token", "userId": USER_ID}
    data = body(call(handler, "create_user_email", pat.id, user=None, body_=doc(), context=token))["data"]
    assert data["attributes"]["user-id"] == USER_ID and data["attributes"]["individual-id"] == IND_ID
    clash = call(handler, "create_user_email", pat.id, user=USER2_ID, body_=doc(), context=token)
    assert clash["statusCode"] == 403 and body(clash)["errors"][0]["code"] == "user-mismatch"
    # a user without a primary individual, and none named: 422
    nobody = call(handler, "create_user_email", pat.id, user="no-such-user", body_=doc())
    assert nobody["statusCode"] == 422 and body(nobody)["errors"][0]["code"] == "no-primary-individual"


@pytest.mark.parametrize(
    ("attributes", "status", "pointer"),
    [
        ({"to": None}, 422, "/data/attributes/to"),
        ({"subject": None}, 422, "/data/attributes/subject"),
        ({"message": None}, 422, "/data/attributes/message"),
        ({"sender-organization-id": None}, 422, "/data/attributes/sender-organization-id"),
        ({"sender-organization-id": "no-such-org"}, 422, "/data/attributes/sender-organization-id"),
        ({"to": "not an address"}, 400, "/data/attributes/to"),
        ({"to": ["ada@example.com"]}, 400, "/data/attributes/to"),
        ({"nickname": "x"}, 400, "/data/attributes/nickname"),
        ({"subject": "two\nlines"}, 400, "/data/attributes/subject"),
    ],
)
def test_bad_creates_are_4xx_naming_the_member(handler, pat, table_items, attributes, status, pointer):
    before = len(table_items())
    d = doc()
    for k, v in attributes.items():
        if v is None:
            d["data"]["attributes"].pop(k)
        else:
            d["data"]["attributes"][k] = v
    out = call(handler, "create_user_email", pat.id, body_=d)
    assert out["statusCode"] == status, out["body"]
    assert pointer in [e.get("source", {}).get("pointer") for e in body(out)["errors"]]
    assert len(table_items()) == before


def test_idempotency_key_makes_a_retried_create_return_the_first(handler, pat, send_queue, drain):
    key = {"Idempotency-Key": "create-1"}
    first = call(handler, "create_user_email", pat.id, body_=doc(**{"auto-send": True}), headers=key)
    again = call(handler, "create_user_email", pat.id, body_=doc(**{"auto-send": True}), headers=key)
    assert first["statusCode"] == again["statusCode"] == 201
    assert body(first)["data"]["id"] == body(again)["data"]["id"]
    assert len(drain(send_queue[1])) == 1
    other = call(handler, "create_user_email", pat.id, body_=doc(subject="changed"), headers=key)
    assert other["statusCode"] == 422


def test_tenant_isolation(handler, pat, other_tenant):
    o, _ = other_tenant
    directory(o.id)  # the same directory ids in the other tenant
    data = create(handler, pat.id)
    for fn, extra in (("get_user_email", {}), ("send_user_email", {"body_": "{}"})):
        out = call(handler, fn, o.id, email_id=data["id"], **extra)
        assert out["statusCode"] == 404, fn
        assert body(out)["errors"][0]["status"] == 404 and body(out)["errors"][0]["code"] == "not-found"
    listing = body(call(handler, "list_user_emails", o.id, query={"individual-id": IND_ID}))
    assert listing["data"] == [] and listing["meta"]["page[total]"] == 0
    assert stored(pat.id, data["id"])["state"] == "draft"  # the other tenant's send did nothing
