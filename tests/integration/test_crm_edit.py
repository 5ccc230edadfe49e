"""POST /api/v1/communications/{id}/comment, DELETE /{id} and DELETE /delete-list on moto: what each stores or
removes (the table, the schedule, the S3 body, the record counter), and tenant isolation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from helpers import api_event, body
from parley_local.workers import _sqs_record

COMMENT = "CrmApi.CommentFunction"
DELETE = "CrmApi.DeleteFunction"
DELETE_LIST = "CrmApi.DeleteListFunction"
THREAD = "CrmApi.ThreadFunction"
DISPATCHER = "root.DispatcherFunction"


# ── helpers ──


@pytest.fixture
def crm(app_env, tenant):
    from parley.domain.context import Caller

    t, _ = tenant
    return t, Caller.of(t)


def new_record(caller, *, text="<p>Hello Ada</p>", entity=("contact", "c-1")):
    from parley.domain import emails

    msg = emails.new_outbound_email(caller, source_api="crm", recipient="ada@example.com", subject="Your offer", body=text)
    return msg.model_copy(
        update={"recipients": ["ada@example.com"], "related_entity_type": entity[0], "related_entity_id": entity[1], "category": "OFFERTE"}
    )


def make_record(caller, **kw):
    from parley.domain import emails

    return emails.submit(new_record(caller, **kw))


def dispatch_all(handler, send_queue, drain):
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}
    return records


def with_id(event, message_id, suffix=""):
    event["pathParameters"] = {"id": message_id}
    event["path"] = f"/api/v1/communications/{message_id}{suffix}"
    return event


def comment(handler, tenant_id, message_id, raw, *, content_type="application/json", user="user-7", b64=False):
    headers = {"Content-Type": content_type, "X-User-ID": user}
    event = with_id(api_event("crm/comment", tenant_id=tenant_id, headers=headers), message_id, "/comment")
    if b64:
        event["body"], event["isBase64Encoded"] = (base64.b64encode(raw.encode()).decode() if raw is not None else None), True
    else:
        event["body"], event["isBase64Encoded"] = raw, False
    return handler(COMMENT)(event)


def delete(handler, tenant_id, message_id):
    return handler(DELETE)(with_id(api_event("crm/delete", tenant_id=tenant_id), message_id))


def delete_list(handler, tenant_id, *, single=None, multi=None):
    """``single``: ``?ids=<single>``; ``multi``: ``?ids=<m1>&ids=<m2>…``."""
    values = multi if multi is not None else [single]
    event = api_event("crm/delete_list", tenant_id=tenant_id)
    event["queryStringParameters"] = {"ids": values[-1]}
    event["multiValueQueryStringParameters"] = {"ids": values}
    return handler(DELETE_LIST)(event)


def items_of(table_items, tenant_id, message_id):
    from parley.dal import keys

    return [i for i in table_items() if i["PK"] == keys.message_pk(tenant_id, message_id)]


def record_total(tenant_id):
    from parley.dal import counters

    return counters.records(tenant_id)


def assert_error(out, status, title):
    assert out["statusCode"] == status, out
    assert set(body(out)) == {"title", "detail", "time"} and body(out)["title"] == title


# ── comment ──


def test_comment_appends_an_event_with_the_acting_user(handler, crm):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller)
    out = comment(handler, t.id, rec.id, "Called the customer;\r\nthey will reply tomorrow.", content_type="text/plain")
    assert out["statusCode"] == 200, out
    assert body(out) == {}

    stored = messages.get(t.id, rec.id)
    (entry,) = [e for e in stored.timeline if e.type == "COMMENT"]
    assert entry.description == "Called the customer;\r\nthey will reply tomorrow."
    assert entry.author_id == "user-7" and entry.id
    assert stored.updated_by == "user-7" and stored.updated_at is not None

    # The record's events[] shows it (read through the thread endpoint).
    ev = with_id(api_event("crm/thread", tenant_id=t.id), rec.id, "/thread")
    (record,) = body(handler(THREAD)(ev))["outbound"]
    (shown,) = [e for e in record["events"] if e["type"] == "COMMENT"]
    assert shown == {"authorId": "user-7", "date": shown["date"], "description": entry.description, "id": entry.id, "type": "COMMENT"}
    assert record["updatedBy"] == "user-7"


@pytest.mark.parametrize(
    ("raw", "content_type", "b64", "text"),
    [
        ("string", "application/json", False, "string"),  # the seed's curl
        ('"a JSON string"', "application/json", False, "a JSON string"),
        (json.dumps({"comment": "object body"}), "application/json", False, "object body"),
        (json.dumps({"text": "via text"}), "application/json; charset=utf-8", True, "via text"),
        ("plain ünïcödé ✓", "text/plain; charset=utf-8", True, "plain ünïcödé ✓"),  # */* binary media type: base64 in AWS
    ],
)
def test_comment_body_forms(handler, crm, raw, content_type, b64, text):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller)
    out = comment(handler, t.id, rec.id, raw, content_type=content_type, b64=b64)
    assert out["statusCode"] == 200, out
    assert [e.description for e in messages.get(t.id, rec.id).timeline if e.type == "COMMENT"] == [text]


def test_comments_accumulate_in_order_and_without_user_have_no_author(handler, crm):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller)
    assert comment(handler, t.id, rec.id, "one")["statusCode"] == 200
    event = with_id(api_event("crm/comment", tenant_id=t.id, headers={"X-User-ID": None}), rec.id, "/comment")
    event["body"] = "two"
    assert handler(COMMENT)(event)["statusCode"] == 200
    entries = [e for e in messages.get(t.id, rec.id).timeline if e.type == "COMMENT"]
    assert [(e.description, e.author_id) for e in entries] == [("one", "user-7"), ("two", None)]


@pytest.mark.parametrize(
    ("raw", "b64"),
    [(None, False), ("", False), ("   \n ", False), ('""', False), ('{"note": "x"}', False), ("x" * 4001, False), (None, True)],
)
def test_comment_refuses_an_empty_or_oversized_body(handler, crm, raw, b64):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller)
    assert_error(comment(handler, t.id, rec.id, raw, b64=b64), 400, "Bad Request")
    assert not [e for e in messages.get(t.id, rec.id).timeline if e.type == "COMMENT"]


def test_comment_refuses_a_body_that_is_not_utf8(handler, crm):
    t, caller = crm
    rec = make_record(caller)
    event = with_id(api_event("crm/comment", tenant_id=t.id), rec.id, "/comment")
    event["body"], event["isBase64Encoded"] = base64.b64encode(b"\xff\xfe bad").decode(), True
    assert_error(handler(COMMENT)(event), 400, "Bad Request")


def test_comment_on_an_unknown_or_another_tenants_id_is_404(handler, crm, other_tenant):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller)
    o, _ = other_tenant
    assert_error(comment(handler, o.id, rec.id, "sneaky"), 404, "Not Found")
    assert_error(comment(handler, t.id, "no-such-id", "hello"), 404, "Not Found")
    assert not [e for e in messages.get(t.id, rec.id).timeline if e.type == "COMMENT"]


def test_comment_on_a_full_trail_is_400(handler, crm):
    from parley import clock
    from parley.dal import keys, messages, table
    from parley.models.domain import TIMELINE_LIMIT, TimelineEntry

    t, caller = crm
    rec = make_record(caller)
    full = [TimelineEntry(id=f"e{i}", type="UPDATE", date=clock.now()).model_dump(mode="json") for i in range(TIMELINE_LIMIT)]
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.message_pk(t.id, rec.id), keys.MESSAGE_SK),
        UpdateExpression="SET timeline = :tl",
        ExpressionAttributeValues=table.values(tl=full),
    )
    out = comment(handler, t.id, rec.id, "one too many")
    assert_error(out, 400, "Bad Request")
    assert "200 events" in body(out)["detail"]
    assert len(messages.get(t.id, rec.id).timeline) == TIMELINE_LIMIT


# ── delete ──


def test_delete_removes_the_record_its_events_token_ref_body_and_counts_it_out(handler, crm, send_queue, drain, table_items, aws):
    from parley.dal import counters, keys, messages, table
    from parley.dal.aws import client

    t, caller = crm
    big = "<p>" + "x" * 40_000 + "</p>"  # over the inline limit: kept in S3
    msg = new_record(caller, text=big).model_copy(update={"track_token": "tok-delete-1", "tracking_enabled": True})
    from parley.domain import emails

    emails.submit(msg)
    keep = make_record(caller)
    dispatch_all(handler, send_queue, drain)
    table.put_item({"PK": keys.track_pk("tok-delete-1"), "SK": keys.TRACK_SK, "tenant_id": t.id, "message_id": msg.id})

    sent = messages.get(t.id, msg.id, load_body=False)
    assert sent.body_ref and sent.provider_message_id
    bucket = aws.root.ref("BodyBucket")
    assert client("s3").get_object(Bucket=bucket, Key=sent.body_ref)["Body"].read().decode() == big
    assert {i["SK"][:4] for i in items_of(table_items, t.id, msg.id)} == {"MSG", "EVT#"}
    ref_key = keys.provider_message_pk(t.id, sent.provider, sent.provider_message_id)
    assert table.get(ref_key, keys.PROVIDER_MESSAGE_SK) is not None
    assert record_total(t.id) == 2
    day = counters.days(t.id, "2000-01-01", "2100-01-01")

    out = delete(handler, t.id, msg.id)
    assert out["statusCode"] == 200, out
    assert not out.get("body")

    assert items_of(table_items, t.id, msg.id) == []  # the message and every activity event
    assert table.get(keys.track_pk("tok-delete-1"), keys.TRACK_SK) is None
    assert table.get(ref_key, keys.PROVIDER_MESSAGE_SK) is None
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix=f"tenants/{t.id}/messages/{msg.id}/").get("KeyCount", 0) == 0
    assert record_total(t.id) == 1
    assert counters.days(t.id, "2000-01-01", "2100-01-01") == day  # analytics history stays
    assert messages.get(t.id, keep.id) is not None

    # Gone: a second delete, a comment, a thread read are 404.
    assert_error(delete(handler, t.id, msg.id), 404, "Not Found")
    assert_error(comment(handler, t.id, msg.id, "late"), 404, "Not Found")
    assert handler(THREAD)(with_id(api_event("crm/thread", tenant_id=t.id), msg.id, "/thread"))["statusCode"] == 404


def test_delete_of_a_scheduled_record_removes_its_schedule(handler, crm, aws, table_items):
    from parley import clock
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.domain import emails

    t, caller = crm
    msg = emails.schedule(new_record(caller), clock.now() + timedelta(days=2))
    scheduler = client("scheduler")
    group = aws.schedule_groups[0]
    assert scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=group)["Name"] == f"send-{msg.id}"
    assert record_total(t.id) == 1

    out = delete(handler, t.id, msg.id)
    assert out["statusCode"] == 200, out
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=group)
    assert items_of(table_items, t.id, msg.id) == []
    assert messages.get(t.id, msg.id) is None
    assert record_total(t.id) == 0


def test_delete_of_a_cancelled_record_removes_a_schedule_its_cancel_left_behind(handler, crm, aws, table_items):
    from parley import clock
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.domain import emails
    from parley.models.domain import MessageStatus

    t, caller = crm
    msg = emails.schedule(new_record(caller), clock.now() + timedelta(days=1))
    # a cancel that stopped after the state change, before deleting the schedule
    assert messages.transition(t.id, msg.id, to=MessageStatus.CANCELLED, expect=(MessageStatus.SCHEDULED,))
    scheduler, group = client("scheduler"), aws.schedule_groups[0]
    assert scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=group)

    assert delete(handler, t.id, msg.id)["statusCode"] == 200
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"send-{msg.id}", GroupName=group)
    assert items_of(table_items, t.id, msg.id) == []


def test_a_deleted_queued_record_is_never_sent(handler, crm, send_queue, drain, sent_emails, table_items):
    t, caller = crm
    msg = make_record(caller)
    assert delete(handler, t.id, msg.id)["statusCode"] == 200
    dispatch_all(handler, send_queue, drain)  # the job still in the queue finds nothing to claim
    assert sent_emails() == []
    assert items_of(table_items, t.id, msg.id) == []


def test_delete_of_a_record_being_sent_is_409_until_its_claim_is_stale(handler, crm, table_items):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, caller = crm
    fresh = make_record(caller)
    assert messages.claim(t.id, fresh.id, clock.now()) is not None
    out = delete(handler, t.id, fresh.id)
    assert_error(out, 409, "Conflict")
    assert messages.get(t.id, fresh.id).status == MessageStatus.SENDING
    assert record_total(t.id) == 1

    stale = make_record(caller)
    assert messages.claim(t.id, stale.id, clock.now() - timedelta(hours=1)) is not None
    assert delete(handler, t.id, stale.id)["statusCode"] == 200
    assert items_of(table_items, t.id, stale.id) == []
    assert record_total(t.id) == 1  # only the fresh one is left


def test_delete_of_another_tenants_record_an_unknown_id_or_an_inbound_reply_is_404(handler, crm, other_tenant, table_items):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import Message, MessageStatus

    t, caller = crm
    rec = make_record(caller)
    o, _ = other_tenant
    assert_error(delete(handler, o.id, rec.id), 404, "Not Found")
    assert_error(delete(handler, t.id, "00000000-0000-4000-8000-000000000000"), 404, "Not Found")
    assert messages.get(t.id, rec.id) is not None and record_total(t.id) == 1

    reply = Message(tenant_id=t.id, id="in-1", channel="email", direction="inbound", status=MessageStatus.RECEIVED, source_api="candidate",
                    sender="ada@example.com", recipient="jobs@acme.example", body="hi", conversation_id=rec.conversation_id,
                    provider="sendgrid-inbound", parent_id=rec.id, created_at=clock.now())  # fmt: skip
    messages.create(reply)
    assert_error(delete(handler, t.id, "in-1"), 404, "Not Found")
    assert messages.get(t.id, "in-1") is not None
    # …but an inbound reply can carry comments
    assert comment(handler, t.id, "in-1", "replied by phone")["statusCode"] == 200
    assert [e.description for e in messages.get(t.id, "in-1").timeline] == ["replied by phone"]


# ── delete-list ──


def test_delete_list_deletes_the_listed_records_and_ignores_unknown_and_foreign_ids(handler, crm, other_tenant, table_items):
    from parley.dal import messages
    from parley.domain.context import Caller

    t, caller = crm
    a, b, c, keep = (make_record(caller) for _ in range(4))
    o, _ = other_tenant
    foreign = make_record(Caller.of(o))

    out = delete_list(handler, t.id, multi=[a.id, "unknown-id", f"{b.id},{foreign.id}"])
    assert out["statusCode"] == 200, out
    assert not out.get("body")
    for gone in (a, b):
        assert items_of(table_items, t.id, gone.id) == []
    assert messages.get(o.id, foreign.id) is not None
    assert record_total(t.id) == 2 and record_total(o.id) == 1

    assert delete_list(handler, t.id, single=f"{c.id},{a.id}")["statusCode"] == 200  # a: already gone, ignored
    assert messages.get(t.id, c.id) is None and messages.get(t.id, keep.id) is not None
    assert record_total(t.id) == 1

    assert delete_list(handler, t.id, single="nothing-here")["statusCode"] == 200
    assert messages.get(t.id, keep.id) is not None


@pytest.mark.parametrize(("single", "multi"), [(None, None), ("", None), (None, [" , ,"])])
def test_delete_list_without_ids_is_400(handler, crm, single, multi):
    t, _ = crm
    event = api_event("crm/delete_list", tenant_id=t.id, query={"ids": single} if single is not None else None)
    if multi is not None:
        event["queryStringParameters"] = {"ids": multi[-1]}
        event["multiValueQueryStringParameters"] = {"ids": multi}
    assert_error(handler(DELETE_LIST)(event), 400, "Bad Request")


def test_delete_list_leaves_a_record_being_sent_and_names_it(handler, crm):
    from parley import clock
    from parley.dal import messages

    t, caller = crm
    busy, free = make_record(caller), make_record(caller)
    messages.claim(t.id, busy.id, clock.now())
    out = delete_list(handler, t.id, multi=[busy.id, free.id])
    assert_error(out, 409, "Conflict")
    assert busy.id in body(out)["detail"]
    assert messages.get(t.id, free.id) is None and messages.get(t.id, busy.id) is not None
