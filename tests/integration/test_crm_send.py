"""The CRM send side on moto: send, send-template, schedule, scheduled, cancel, resend.

Each test goes through the declared functions' handlers, then reads what was stored (table items,
the send queue, the scheduler) and runs the real dispatcher on the queued jobs.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from crm_shapes import RECORD_KEYS

from helpers import api_event, body, send_windows
from parley_local.workers import _sqs_record

SEND = "CrmApi.SendFunction"
SEND_TEMPLATE = "CrmApi.SendTemplateFunction"
SCHEDULE = "CrmApi.ScheduleFunction"
SCHEDULED = "CrmApi.ScheduledFunction"
CANCEL = "CrmApi.CancelFunction"
RESEND = "CrmApi.ResendFunction"
DISPATCHER = "root.DispatcherFunction"
BASE = "https://abc123defg.execute-api.us-east-1.amazonaws.com/v1"  # the sample events' host and stage

GOOD = {"subject": "Your quote", "body": "<p>Hello Jan, here is your quote.</p>", "recipients": ["jan@example.com"]}


def _event(sample, tenant_id, *, body=..., headers=None, path=None, reply_domain=None):
    headers = {"Idempotency-Key": None, **(headers or {})}
    event = api_event(f"crm/{sample}", tenant_id=tenant_id, body=body, headers=headers)
    if path is not None:
        params, route = path
        event["pathParameters"] = params
        event["path"] = route
        event["requestContext"]["path"] = "/v1" + route
    if reply_domain is not None:
        event["requestContext"]["authorizer"]["replyDomain"] = reply_domain
    return event


def _id_path(action, message_id):
    return {"id": message_id}, f"/api/v1/communications/{message_id}/{action}"


@pytest.fixture
def api(handler):
    """``api(function, sample, tenant_id, ...)`` → (status, parsed body)."""

    def call(key, sample, tenant_id, **kwargs):
        out = handler(key)(_event(sample, tenant_id, **kwargs))
        return out["statusCode"], body(out) if out.get("body") else None

    return call


@pytest.fixture
def dispatch(handler, send_queue, drain):
    """Run the real dispatcher on every job waiting in the send queue; returns the jobs' count."""

    def run():
        arn, url = send_queue
        queued = drain(url)
        if queued:
            out = handler(DISPATCHER)({"Records": [_sqs_record(q, arn) for q in queued]})
            assert out == {"batchItemFailures": []}
        return len(queued)

    return run


def _stored(tenant_id, message_id):
    from parley.dal import keys, table

    return table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)


def _messages(table_items):
    return [i for i in table_items() if i.get("type") == "message"]


def _firer(aws):
    from parley_local.stack import Provisioner
    from parley_local.workers import SchedulerFirer

    return SchedulerFirer(Provisioner(None), aws, None, threading.Event())


# ───────────── send ─────────────


def test_send_answers_the_pending_record_stores_it_queues_one_job_and_the_dispatcher_sends_it(
    api, handler, tenant, send_queue, drain, sent_emails
):
    from parley.dal import keys
    from parley.models.domain import SendJob

    t, _ = tenant
    request = {
        **GOOD,
        "recipients": ["jan@example.com", "Piet@Example.com"],
        "cc": ["boss@example.com", "JAN@example.com"],  # already a To address: once is enough
        "bcc": ["archive@example.com"],
        "type": "OFFERTE",
        "relatedEntityType": "deal",
        "relatedEntityId": "42",
        "recipientListId": "list-9",
        "variables": {"amount": 1200},
        "senderName": "Sales Team",
    }
    status, rec = api(SEND, "send", t.id, body=request, reply_domain="reply.parley.example")
    assert status == 200, rec
    assert set(rec) == RECORD_KEYS
    assert rec["status"] == "PENDING"
    assert rec["recipients"] == ["jan@example.com", "Piet@Example.com"]
    assert rec["cc"] == ["boss@example.com"]
    assert rec["bcc"] == ["archive@example.com"]
    assert (rec["subject"], rec["body"], rec["originalBody"]) == (GOOD["subject"], GOOD["body"], GOOD["body"])
    assert (rec["type"], rec["relatedEntityType"], rec["relatedEntityId"], rec["recipientListId"]) == ("OFFERTE", "deal", "42", "list-9")
    assert rec["variables"] == {"amount": 1200}
    assert (rec["senderEmail"], rec["senderName"], rec["createdBy"], rec["tenantId"]) == (
        "no-reply@parley.example",
        "Sales Team",
        "user-7",
        t.id,
    )
    assert rec["conversationId"] == rec["id"]
    assert rec["replyTo"] == f"reply+{rec['id']}@reply.parley.example"
    assert (rec["sentAt"], rec["messageId"], rec["scheduledAt"], rec["errorMessage"]) == (None, None, None, None)
    assert [e["type"] for e in rec["events"]] == ["CREATE"]
    assert rec["events"][0]["authorId"] == "user-7"

    item = _stored(t.id, rec["id"])
    assert item["status"] == "QUEUED"
    assert (item["source_api"], item["channel"], item["direction"], item["recipient"]) == ("crm", "email", "outbound", "jan@example.com")
    assert item["recipients"] == ["jan@example.com", "Piet@Example.com"]
    assert item["cc"] == ["boss@example.com"] and item["bcc"] == ["archive@example.com"]
    assert item["category"] == "OFFERTE" and item["created_by"] == "user-7"
    assert "original_body" not in item  # untracked: the body is stored once
    assert "candidate_id" not in item  # nobody in the directory owns the address, and none is created
    assert item["GSI5PK"] == keys.records_pk(t.id)
    assert item["GSI6PK"] == keys.entity_pk(t.id, "deal", "42")
    assert item["GSI7PK"] == keys.status_pk(t.id, "QUEUED")

    arn, url = send_queue
    queued = drain(url)
    assert [SendJob.model_validate_json(q["Body"]) for q in queued] == [SendJob(tenant_id=t.id, message_id=rec["id"])]
    assert handler(DISPATCHER)({"Records": [_sqs_record(q, arn) for q in queued]}) == {"batchItemFailures": []}

    (sent,) = sent_emails()
    assert sent.destinations["ToAddresses"] == ["jan@example.com", "Piet@Example.com"]
    assert sent.destinations["CcAddresses"] == ["boss@example.com"]
    assert sent.destinations["BccAddresses"] == ["archive@example.com"]
    assert sent.subject == GOOD["subject"]
    assert "Sales Team" in sent.source

    from parley.dal import messages

    msg = messages.get(t.id, rec["id"])
    assert msg.status.value == "SENT"
    assert msg.provider_message_id == sent.id and msg.sent_at is not None
    assert [e.type for e in msg.timeline] == ["CREATE", "STATUS_CHANGE"]
    assert msg.timeline[1].description == "Status changed to SENT"
    assert _stored(t.id, rec["id"])["GSI7PK"] == keys.status_pk(t.id, "SENT")


def test_send_files_the_record_under_an_existing_candidate_without_creating_any(api, tenant, table_items):
    from parley.domain import candidates

    t, _ = tenant
    known = candidates.upsert(t.id, email="Known@Example.com", firstname="Kim")
    before = len([i for i in table_items() if i["PK"].startswith(f"TENANT#{t.id}#CAND")])

    status, rec = api(SEND, "send", t.id, body={**GOOD, "recipients": ["known@example.com", "other@example.com"]})
    assert status == 200, rec
    assert _stored(t.id, rec["id"])["candidate_id"] == known.id

    status, rec = api(SEND, "send", t.id, body={**GOOD, "recipients": ["stranger@example.com", "known@example.com"]})
    assert status == 200, rec
    assert "candidate_id" not in _stored(t.id, rec["id"])
    assert candidates.find(t.id, email="stranger@example.com") is None
    assert len([i for i in table_items() if i["PK"].startswith(f"TENANT#{t.id}#CAND")]) == before


def test_reply_to_from_the_request_wins_and_no_reply_domain_means_none(api, tenant):
    t, _ = tenant
    status, rec = api(SEND, "send", t.id, body={**GOOD, "replyTo": "sales@example.com"}, reply_domain="reply.parley.example")
    assert status == 200 and rec["replyTo"] == "sales@example.com"
    assert _stored(t.id, rec["id"])["reply_to"] == "sales@example.com"
    status, rec = api(SEND, "send", t.id, body=GOOD)
    assert status == 200 and rec["replyTo"] is None
    assert rec["senderName"] == "Example Sales"  # the authorizer's (tenant's) sender name


def test_tracked_send_stores_the_instrumented_body_the_submitted_one_and_the_token(api, tenant, dispatch, sent_emails):
    from parley.dal import tracking as track_store

    t, _ = tenant
    html = '<html><body><p>See <a href="https://example.com/quote/42">your quote</a>.</p></body></html>'
    status, rec = api(SEND, "send", t.id, body={**GOOD, "body": html, "trackingEnabled": True, "linkTrackingEnabled": True})
    assert status == 200, rec
    assert rec["trackingEnabled"] is True and rec["linkTrackingEnabled"] is True
    assert rec["originalBody"] == html
    item = _stored(t.id, rec["id"])
    token = item["track_token"]
    assert item["original_body"] == html
    assert f"{BASE}/api/v1/communications/link/{token}/0" in item["body"]
    assert f"{BASE}/api/v1/communications/track/{token}" in item["body"]
    assert "https://example.com/quote/42" not in item["body"]
    assert rec["clickedLinks"] == [
        {
            "clickCount": 0,
            "clickedAt": None,
            "originalUrl": "https://example.com/quote/42",
            "url": f"{BASE}/api/v1/communications/link/{token}/0",
        }
    ]
    ref = track_store.lookup(token)
    assert (ref.tenant_id, ref.message_id) == (t.id, rec["id"])
    assert dispatch() == 1
    (sent,) = sent_emails()
    assert f"/link/{token}/0" in sent.body


def test_a_suppressed_cc_or_bcc_is_refused_naming_it_and_nothing_is_stored(api, tenant, send_queue, drain, table_items):
    from parley import clock
    from parley.dal import suppressions
    from parley.models.email_events import Suppression

    t, _ = tenant
    suppressions.add(Suppression(tenant_id=t.id, address="gone@example.com", reason="bounce", created_at=clock.now()))
    before = table_items()
    for field in ("recipients", "cc", "bcc"):
        request = (
            {**GOOD, field: ["ok@example.com", "Gone@example.com"]}
            if field != "recipients"
            else {**GOOD, field: ["ok@example.com", "gone@example.com"]}
        )
        request["trackingEnabled"] = True
        status, err = api(SEND, "send", t.id, body=request)
        assert status == 400, (field, err)
        assert set(err) == {"title", "detail", "time"}
        assert "gone@example.com" in err["detail"] and "suppression list" in err["detail"]
    after, windows = send_windows(table_items())
    assert after == before  # no record, no tracking token, no counter
    assert [w["day_n"] for w in windows] == [0]  # counted as requests (the rate), not against the daily quota
    assert drain(send_queue[1]) == []


def _dynamodb_calls():
    """Every DynamoDB operation this process makes from now on, by name (a botocore event hook)."""
    from parley.dal import aws

    seen: list[str] = []
    aws.client("dynamodb").meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.append(model.name))
    return seen


@pytest.mark.parametrize(("n", "tracked"), [(1, False), (50, True)])
def test_a_send_reads_the_suppression_list_once_whatever_its_addressees(handler, tenant, n, tracked):
    """One BatchGetItem covers every To/Cc/Bcc address (no GetItem per address, no second check), and the
    tracking token is written in the record's own create transaction (no separate PutItem)."""
    t, _ = tenant
    recipients = [f"r{i}@example.com" for i in range(min(n, 30))]
    cc = [f"c{i}@example.com" for i in range(n - len(recipients))]
    send = handler(SEND)  # loading a handler starts fresh clients: hook them after
    calls = _dynamodb_calls()
    out = send(_event("send", t.id, body={**GOOD, "recipients": recipients, "cc": cc, "trackingEnabled": tracked}))
    assert out["statusCode"] == 200, out
    rec = body(out)
    assert calls.count("BatchGetItem") == 1, calls  # every addressee's suppression entry
    assert calls.count("GetItem") == 1, calls  # the directory's owner of the first recipient
    # One write stores the record: a PutItem, or with tracking a transaction that adds the token lookup.
    assert calls.count("TransactWriteItems" if tracked else "PutItem") == 1, calls
    assert calls.count("PutItem") + calls.count("TransactWriteItems") == 1, calls
    # + the record counter's UpdateItem and the send's admission to the tenant's send window (§6.4): the same
    # for 1 or 50 addressees
    assert calls.count("UpdateItem") == 2, calls
    assert len(calls) == 5, calls
    from parley.dal import keys, table
    from parley.domain import tracking

    stored = table.get(keys.message_pk(t.id, rec["id"]), keys.MESSAGE_SK)
    assert len(stored["recipients"]) + len(stored.get("cc", [])) == n
    if tracked:
        ref = tracking.store.lookup(stored["track_token"])
        assert (ref.tenant_id, ref.message_id) == (t.id, rec["id"])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"subject": "Hi\r\nBcc: evil@example.com"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["not-an-address"]}, "recipients"),
        ({"cc": ["a@example.com>, evil@example.com"]}, "cc"),
        ({"recipients": [f"r{i}@example.com" for i in range(30)], "cc": [f"c{i}@example.com" for i in range(21)]}, "at most 50"),
        ({"body": "   "}, "body"),
        ({"relatedEntityType": "deal"}, "relatedEntityId"),
        ({"type": "OFFERTE\nX"}, "type"),
        ({"templateId": "no-such-template"}, "template"),
    ],
)
def test_invalid_sends_are_refused_and_store_nothing(api, tenant, table_items, change, words):
    t, _ = tenant
    status, err = api(SEND, "send", t.id, body={**GOOD, **change})
    assert status in (400, 404), err
    assert words in err["detail"]
    assert _messages(table_items) == []


def test_idempotency_key_same_body_same_record_one_send_other_body_422(api, tenant, send_queue, drain, dispatch, sent_emails):
    t, _ = tenant
    headers = {"Idempotency-Key": "send-1"}
    s1, first = api(SEND, "send", t.id, body=GOOD, headers=headers)
    assert s1 == 200
    assert dispatch() == 1  # it went out meanwhile
    s2, again = api(SEND, "send", t.id, body=GOOD, headers=headers)
    assert s2 == 200
    assert again["id"] == first["id"]
    assert again["status"] == "SENT"  # the record as it is now
    assert dispatch() == 0
    assert len(sent_emails()) == 1
    s3, err = api(SEND, "send", t.id, body={**GOOD, "subject": "Another"}, headers=headers)
    assert s3 == 422, err
    assert drain(send_queue[1]) == []


def test_x_tenant_id_naming_another_tenant_is_403(api, tenant, other_tenant, table_items):
    t, _ = tenant
    status, err = api(SEND, "send", t.id, body=GOOD, headers={"X-Tenant-ID": other_tenant[0].id})
    assert status == 403, err
    assert _messages(table_items) == []


@pytest.mark.parametrize("header", ["X-User-ID", "X-Tenant-ID"])
def test_identifier_header_with_control_characters_is_400_and_stores_nothing(api, tenant, table_items, header):
    # Decision S4: a tab or NUL in X-User-ID would have become createdBy.
    t, _ = tenant
    status, err = api(SEND, "send", t.id, body=GOOD, headers={header: "a\tb\x01"})
    assert status == 400, err
    assert err["title"] == "Bad Request" and err["detail"] == f"{header} must not contain control characters"
    assert _messages(table_items) == []


def test_path_id_with_control_characters_is_400(api, tenant):
    t, _ = tenant
    status, err = api(RESEND, "resend", t.id, path=_id_path("resend", "ab\x01c"))
    assert status == 400, err
    assert err["detail"] == "id must not contain control characters"


# ───────────── send-template ─────────────


@pytest.fixture
def template(tenant):
    from parley.domain import templates
    from parley.models.crm import TemplateRequest

    t, _ = tenant
    return templates.create(
        t.id,
        TemplateRequest(
            name="Quote",
            subject="Quote for {{firstName}}",
            bodyHtml="<p>Dear {{firstName}}, the amount is {{amount}}.</p>",
            bodyText="Dear {{firstName}}, the amount is {{amount}}.",
            type="OFFERTE",
        ),
        user_id="user-1",
    )


def _template_path(template_id):
    return {"templateId": template_id}, f"/api/v1/communications/send-template/{template_id}"


def test_send_template_renders_and_records_the_template(api, tenant, template, dispatch, sent_emails):
    t, _ = tenant
    request = {"recipients": ["jan@example.com"], "variables": {"firstName": "Jan <3", "amount": "€ 1.200"}}
    status, rec = api(SEND_TEMPLATE, "send_template", t.id, body=request, path=_template_path(template.id))
    assert status == 200, rec
    assert set(rec) == RECORD_KEYS
    assert rec["subject"] == "Quote for Jan <3"
    assert rec["body"] == "<p>Dear Jan &lt;3, the amount is € 1.200.</p>"
    assert (rec["templateId"], rec["templateName"], rec["type"], rec["status"]) == (template.id, "Quote", "OFFERTE", "PENDING")
    assert rec["variables"] == request["variables"]
    item = _stored(t.id, rec["id"])
    assert item["template_id"] == template.id and item["template_name"] == "Quote"
    assert item["body_text"] == "Dear Jan <3, the amount is € 1.200."
    assert dispatch() == 1
    (sent,) = sent_emails()
    assert sent.subject == "Quote for Jan <3"

    status, rec = api(SEND_TEMPLATE, "send_template", t.id, body={**request, "type": "REMINDER"}, path=_template_path(template.id))
    assert status == 200 and rec["type"] == "REMINDER"


def test_send_template_unknown_template_404_missing_variable_400_other_tenant_404(api, tenant, other_tenant, template, table_items):
    t, _ = tenant
    status, err = api(SEND_TEMPLATE, "send_template", t.id, body={"recipients": ["a@example.com"]}, path=_template_path("nope"))
    assert status == 404 and "nope" in err["detail"]
    status, err = api(
        SEND_TEMPLATE,
        "send_template",
        t.id,
        body={"recipients": ["a@example.com"], "variables": {"firstName": "A"}},
        path=_template_path(template.id),
    )
    assert status == 400 and "amount" in err["detail"]
    status, err = api(
        SEND_TEMPLATE,
        "send_template",
        other_tenant[0].id,
        body={"recipients": ["a@example.com"], "variables": {"firstName": "A", "amount": 1}},
        path=_template_path(template.id),
    )
    assert status == 404
    assert _messages(table_items) == []


# ───────────── schedule, scheduled, cancel ─────────────


def _future(minutes=60):
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def test_schedule_stores_a_scheduled_record_and_a_one_time_schedule_nothing_queued(api, aws, tenant, send_queue, drain):
    from parley.dal.aws import client

    t, _ = tenant
    at = _future(120)
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Amsterdam"))
    request = {**GOOD, "scheduledAt": local.isoformat(), "timeZone": "Europe/Amsterdam"}
    status, rec = api(SCHEDULE, "schedule", t.id, body=request)
    assert status == 200, rec
    assert set(rec) == RECORD_KEYS
    assert rec["status"] == "SCHEDULED"
    assert rec["scheduledAt"] == at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert rec["sentAt"] is None
    item = _stored(t.id, rec["id"])
    assert item["status"] == "SCHEDULED" and item["scheduled_tz"] == "Europe/Amsterdam"
    assert item["scheduled_at"] == rec["scheduledAt"]
    sched = client("scheduler").get_schedule(Name=f"send-{rec['id']}", GroupName=aws.schedule_groups[0])
    assert sched["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"
    assert drain(send_queue[1]) == []


def test_schedule_wall_clock_time_in_the_named_zone(api, tenant):
    from zoneinfo import ZoneInfo

    t, _ = tenant
    wall = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    request = {**GOOD, "scheduledAt": wall.replace(tzinfo=None).isoformat(), "timeZone": "America/New_York"}
    status, rec = api(SCHEDULE, "schedule", t.id, body=request)
    assert status == 200, rec
    assert rec["scheduledAt"] == wall.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"scheduledAt": "2020-01-01T09:00:00Z"}, "future"),
        ({"scheduledAt": "tomorrow at nine"}, "scheduledAt"),
        ({"scheduledAt": "2099-01-01T09:00:00"}, "offset"),
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"scheduledAt": None}, "scheduledAt"),
    ],
)
def test_bad_schedules_are_400_and_create_nothing(api, aws, tenant, table_items, change, words):
    from parley.dal.aws import client

    t, _ = tenant
    before = table_items()
    request = {**GOOD, "scheduledAt": _future().isoformat(), "trackingEnabled": True, **change}
    status, err = api(SCHEDULE, "schedule", t.id, body=request)
    assert status == 400, err
    assert words in err["detail"]
    after, windows = send_windows(table_items())
    assert after == before  # no record, no tracking token
    # refused by the handler: counted as a request (the rate), not against the daily quota; by the request's
    # validation (before the handler): not counted at all
    assert [w["day_n"] for w in windows] in ([0], [])
    assert client("scheduler").list_schedules(GroupName=aws.schedule_groups[0])["Schedules"] == []


def test_scheduled_lists_the_tenants_scheduled_records_by_time(api, tenant, other_tenant, dispatch):
    t, _ = tenant
    ids = {}
    for minutes in (90, 30, 60):
        status, rec = api(
            SCHEDULE, "schedule", t.id, body={**GOOD, "subject": f"in {minutes}", "scheduledAt": _future(minutes).isoformat()}
        )
        assert status == 200, rec
        ids[minutes] = rec["id"]
    api(SEND, "send", t.id, body=GOOD)  # pending, not scheduled
    api(SCHEDULE, "schedule", other_tenant[0].id, body={**GOOD, "scheduledAt": _future(10).isoformat()})
    status, listed = api(SCHEDULED, "scheduled", t.id)
    assert status == 200
    assert [r["id"] for r in listed] == [ids[30], ids[60], ids[90]]
    assert all(set(r) == RECORD_KEYS and r["status"] == "SCHEDULED" for r in listed)

    status, rec = api(CANCEL, "cancel", t.id, path=_id_path("cancel", ids[60]))
    assert status == 200
    status, listed = api(SCHEDULED, "scheduled", t.id)
    assert [r["id"] for r in listed] == [ids[30], ids[90]]


def _due_attrs(tenant_id, message_id):
    """The due-index (GSI9) attributes of a stored record; None when the record is gone."""
    item = _stored(tenant_id, message_id)
    return None if item is None else {k: v for k, v in item.items() if k in ("GSI9PK", "GSI9SK")}


def test_scheduled_is_in_due_order_whatever_the_zone_and_the_creation_order(api, tenant, other_tenant, frozen):
    """Created in one order, due in another, written in five zones (one as a wall-clock time with timeZone): the
    list is by the instant each is due, then by creation (two due at the same instant). Each record is on the
    tenant's due index under ``<due>#<created>#<id>``; another tenant's record due before all of them is not listed."""
    from zoneinfo import ZoneInfo

    t, _ = tenant
    now = frozen(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    base = now + timedelta(hours=1)

    def zoned(hours, zone):
        return (base + timedelta(hours=hours)).astimezone(ZoneInfo(zone)).isoformat()

    plan = [  # (name, scheduledAt as sent, timeZone)
        ("kolkata", zoned(3, "Asia/Kolkata"), None),  # 13:00Z written +05:30
        ("new_york", (base + timedelta(hours=1)).astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None).isoformat(),
         "America/New_York"),  # 11:00Z as 06:00 wall clock in New York
        ("utc", (base + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), None),  # 15:00Z
        ("amsterdam", zoned(2, "Europe/Amsterdam"), "Europe/Amsterdam"),  # 12:00Z written +01:00
        ("tokyo", zoned(1, "Asia/Tokyo"), None),  # 11:00Z written +09:00: due with new_york, created after it
    ]  # fmt: skip
    ids = {}
    for n, (name, at, zone) in enumerate(plan):
        frozen(now + timedelta(milliseconds=n))
        status, rec = api(SCHEDULE, "schedule", t.id, body={**GOOD, "subject": name, "scheduledAt": at, "timeZone": zone})
        assert status == 200, rec
        ids[name] = rec["id"]
    _, theirs = api(SCHEDULE, "schedule", other_tenant[0].id, body={**GOOD, "scheduledAt": base.isoformat()})

    status, listed = api(SCHEDULED, "scheduled", t.id)
    assert status == 200
    assert [r["subject"] for r in listed] == ["new_york", "tokyo", "amsterdam", "kolkata", "utc"]
    assert [r["scheduledAt"] for r in listed] == [
        f"2026-12-06T{h}:00:00.000Z" for h in (12, 12, 13, 14, 16)
    ]  # due = base (11:00Z) + 1..5 h
    first = _stored(t.id, ids["new_york"])
    assert _due_attrs(t.id, ids["new_york"]) == {
        "GSI9PK": f"TENANT#{t.id}#DUE",
        "GSI9SK": f"{first['scheduled_at']}#{first['created_at']}#{ids['new_york']}",
    }
    assert _due_attrs(other_tenant[0].id, theirs["id"])["GSI9PK"] == f"TENANT#{other_tenant[0].id}#DUE"
    assert [r["id"] for r in api(SCHEDULED, "scheduled", other_tenant[0].id)[1]] == [theirs["id"]]


@pytest.mark.parametrize("way", ["cancel", "delete", "dispatched", "claimed", "failed"])
def test_a_record_that_stops_being_scheduled_leaves_the_due_index(api, aws, tenant, dispatch, sent_emails, way):
    """Every way out of SCHEDULED removes GSI9PK/GSI9SK from the item (or the item): the CRM's cancel and
    delete, the schedule firing and the dispatcher sending it (the batch claim), a single claim (given back to
    QUEUED afterwards, as on a retryable error, and still off), a schedule that could not be created (FAILED)."""
    from parley import clock
    from parley.dal import messages
    from parley.domain import crm_edit
    from parley.models.domain import MessageStatus

    t, _ = tenant
    at = _future(5)
    _, leaving = api(SCHEDULE, "schedule", t.id, body={**GOOD, "subject": "leaving", "scheduledAt": at.isoformat()})
    _, staying = api(SCHEDULE, "schedule", t.id, body={**GOOD, "subject": "staying", "scheduledAt": _future(90).isoformat()})
    assert set(_due_attrs(t.id, leaving["id"])) == {"GSI9PK", "GSI9SK"}

    if way == "cancel":
        assert api(CANCEL, "cancel", t.id, path=_id_path("cancel", leaving["id"]))[0] == 200
    elif way == "delete":
        crm_edit.delete(t.id, leaving["id"])
    elif way == "dispatched":
        assert _firer(aws).fire_due(now=at + timedelta(seconds=1)) == 1
        assert dispatch() == 1 and len(sent_emails()) == 1
    elif way == "claimed":
        assert messages.claim(t.id, leaving["id"], clock.now()) is not None
        assert _due_attrs(t.id, leaving["id"]) == {}
        assert messages.transition(t.id, leaving["id"], to=MessageStatus.QUEUED, expect=(MessageStatus.SENDING,))
    else:
        assert messages.transition(t.id, leaving["id"], to=MessageStatus.FAILED, expect=(MessageStatus.SCHEDULED,),
                                   extra={"error": "could not schedule"})  # fmt: skip

    expected = {"cancel": "CANCELLED", "delete": None, "dispatched": "SENT", "claimed": "QUEUED", "failed": "FAILED"}[way]
    item = _stored(t.id, leaving["id"])
    assert (item or {}).get("status") == expected
    assert _due_attrs(t.id, leaving["id"]) == (None if way == "delete" else {})
    assert set(_due_attrs(t.id, staying["id"])) == {"GSI9PK", "GSI9SK"}
    assert [r["id"] for r in api(SCHEDULED, "scheduled", t.id)[1]] == [staying["id"]]


def test_cancel_a_scheduled_record(api, aws, tenant, send_queue, drain):
    from parley.dal import messages
    from parley.dal.aws import client

    t, _ = tenant
    _, rec = api(SCHEDULE, "schedule", t.id, body={**GOOD, "scheduledAt": _future().isoformat()})
    status, cancelled = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 200, cancelled
    assert set(cancelled) == RECORD_KEYS
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["body"] == GOOD["body"]
    assert cancelled["updatedBy"] == "user-7" and cancelled["updated"] is not None
    assert [e["type"] for e in cancelled["events"]] == ["CREATE", "STATUS_CHANGE"]
    assert cancelled["events"][1]["authorId"] == "user-7"
    assert cancelled["events"][1]["description"] == "Status changed to CANCELLED"
    msg, events = messages.get_with_events(t.id, rec["id"])
    assert msg.status.value == "CANCELLED"
    assert [e.event for e in events] == ["cancelled"]
    with pytest.raises(client("scheduler").exceptions.ResourceNotFoundException):
        client("scheduler").get_schedule(Name=f"send-{rec['id']}", GroupName=aws.schedule_groups[0])

    status, err = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 400
    assert err["detail"] == f"communication {rec['id']} is CANCELLED; only a scheduled email can be cancelled"
    assert len(messages.get(t.id, rec["id"]).timeline) == 2


def test_cancel_of_a_pending_or_sent_record_is_400(api, tenant, dispatch):
    from parley.dal import messages

    t, _ = tenant
    _, rec = api(SEND, "send", t.id, body=GOOD)
    status, err = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 400 and "is PENDING" in err["detail"]
    dispatch()
    status, err = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 400 and "is SENT" in err["detail"]
    assert messages.get(t.id, rec["id"]).status.value == "SENT"


def test_cancel_after_the_schedule_fired_and_the_dispatcher_claimed_it_is_400_and_it_is_sent(
    api, aws, tenant, send_queue, drain, handler, sent_emails
):
    from parley import clock
    from parley.dal import messages

    t, _ = tenant
    at = _future(5)
    _, rec = api(SCHEDULE, "schedule", t.id, body={**GOOD, "scheduledAt": at.isoformat()})
    assert _firer(aws).fire_due(now=at + timedelta(seconds=1)) == 1
    arn, url = send_queue
    (job,) = drain(url)
    # A dispatcher has claimed it (SCHEDULED → SENDING) and is handing it to the provider.
    claimed = messages.claim(t.id, rec["id"], clock.now())
    assert claimed is not None
    status, err = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 400 and "is PENDING" in err["detail"]

    # The claim is given back (as the dispatcher does on a retryable error) and the job delivered.
    from parley.models.domain import MessageStatus

    assert messages.transition(t.id, rec["id"], to=MessageStatus.QUEUED, expect=(MessageStatus.SENDING,), remove=("claimed_at",))
    assert handler(DISPATCHER)({"Records": [_sqs_record(job, arn)]}) == {"batchItemFailures": []}
    status, err = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))
    assert status == 400 and "is SENT" in err["detail"]
    msg = messages.get(t.id, rec["id"])
    assert msg.status == MessageStatus.SENT
    assert [e.type for e in msg.timeline] == ["CREATE", "STATUS_CHANGE"]
    assert len(sent_emails()) == 1


def test_cancel_racing_the_dispatcher_one_wins(api, aws, tenant, send_queue, drain, handler, sent_emails):
    """The schedule fired; the cancel and the dispatcher race: either CANCELLED and nothing sent, or SENT and 400."""
    from parley.dal import messages

    t, _ = tenant
    at = _future(5)
    _, rec = api(SCHEDULE, "schedule", t.id, body={**GOOD, "scheduledAt": at.isoformat()})
    assert _firer(aws).fire_due(now=at + timedelta(seconds=1)) == 1
    arn, url = send_queue
    (job,) = drain(url)
    results = {}

    def cancel():
        results["cancel"] = api(CANCEL, "cancel", t.id, path=_id_path("cancel", rec["id"]))[0]

    def deliver():
        results["dispatch"] = handler(DISPATCHER)({"Records": [_sqs_record(job, arn)]})

    threads = [threading.Thread(target=cancel), threading.Thread(target=deliver)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    final = messages.get(t.id, rec["id"]).status.value
    if final == "CANCELLED":
        assert results["cancel"] == 200 and sent_emails() == []
    else:
        assert final == "SENT" and results["cancel"] == 400 and len(sent_emails()) == 1


def test_other_tenants_unknown_sms_and_inbound_ids_are_404_for_cancel_and_resend(api, tenant, other_tenant, dispatch):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import Message, MessageStatus

    t, _ = tenant
    _, scheduled_rec = api(SCHEDULE, "schedule", t.id, body={**GOOD, "scheduledAt": _future().isoformat()})
    _, sent_rec = api(SEND, "send", t.id, body=GOOD)
    dispatch()
    sms = Message(
        tenant_id=t.id, id="sms-1", channel="sms", direction="outbound", status=MessageStatus.SENT, source_api="candidate",
        sender="+15550001", recipient="+15550002", body="hi", conversation_id="sms-1", provider="sns", created_at=clock.now(),
    )  # fmt: skip
    inbound = sms.model_copy(
        update={"id": "in-1", "channel": "email", "direction": "inbound", "status": MessageStatus.RECEIVED, "conversation_id": "in-1"}
    )
    messages.create(sms)
    messages.create(inbound)
    o = other_tenant[0].id
    for action, key, rid in (("cancel", CANCEL, scheduled_rec["id"]), ("resend", RESEND, sent_rec["id"])):
        status, err = api(key, action, o, path=_id_path(action, rid))
        assert status == 404, err
        assert set(err) == {"title", "detail", "time"} and err["title"] == "Not Found"
        for other_id in ("no-such-id", "sms-1", "in-1", "x" * 300):
            assert api(key, action, t.id, path=_id_path(action, other_id))[0] == 404
    assert messages.get(t.id, scheduled_rec["id"]).status.value == "SCHEDULED"
    assert len(messages.get(t.id, sent_rec["id"]).timeline) == 2


# ───────────── resend ─────────────


def test_resend_makes_a_new_record_in_the_same_conversation_and_marks_the_original(api, tenant, send_queue, drain, dispatch, sent_emails):
    from parley.dal import messages

    t, _ = tenant
    html = '<p>Quote: <a href="https://example.com/q/1">open</a></p>'
    request = {
        **GOOD,
        "body": html,
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "type": "OFFERTE",
        "relatedEntityType": "deal",
        "relatedEntityId": "7",
        "variables": {"x": "y"},
        "trackingEnabled": True,
        "linkTrackingEnabled": True,
    }
    _, original = api(SEND, "send", t.id, body=request)
    status, err = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]))
    assert status == 400 and "is PENDING" in err["detail"] and "SENT or FAILED" in err["detail"]
    assert dispatch() == 1

    status, new = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]), headers={"X-User-ID": "user-9"})
    assert status == 200, new
    assert set(new) == RECORD_KEYS
    assert new["id"] != original["id"]
    assert new["status"] == "PENDING"
    assert new["conversationId"] == original["conversationId"]
    for field in ("subject", "originalBody", "recipients", "cc", "bcc", "type", "relatedEntityType", "relatedEntityId", "variables"):
        assert new[field] == original[field], field
    assert new["createdBy"] == "user-9"
    assert [e["type"] for e in new["events"]] == ["CREATE"]
    assert original["id"] in new["events"][0]["description"]

    old_item, new_item = _stored(t.id, original["id"]), _stored(t.id, new["id"])
    assert new_item["parent_id"] == original["id"]
    assert new_item["original_body"] == html
    assert new_item["track_token"] != old_item["track_token"]
    assert f"/link/{new_item['track_token']}/0" in new_item["body"] and old_item["track_token"] not in new_item["body"]

    old = messages.get(t.id, original["id"])
    assert old.status.value == "SENT"
    assert [e.type for e in old.timeline] == ["CREATE", "STATUS_CHANGE", "RESEND"]
    assert old.timeline[-1].description == f"Resent as {new['id']}"
    assert old.timeline[-1].author_id == "user-9" and old.updated_by == "user-9"

    assert dispatch() == 1
    assert len(sent_emails()) == 2
    assert messages.get(t.id, new["id"]).status.value == "SENT"
    from parley.dal import records

    conversation = records.conversation(t.id, original["conversationId"], limit=10)
    assert {m.id for m in conversation} == {original["id"], new["id"]}


def test_resend_of_a_failed_record_and_idempotent_resend(api, tenant, dispatch, sent_emails):
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, _ = tenant
    _, original = api(SEND, "send", t.id, body=GOOD)
    assert messages.transition(t.id, original["id"], to=MessageStatus.FAILED, expect=(MessageStatus.QUEUED,), extra={"error": "boom"})
    dispatch()  # the job finds it FAILED: nothing is sent
    assert sent_emails() == []

    headers = {"Idempotency-Key": "resend-1"}
    s1, first = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]), headers=headers)
    s2, again = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]), headers=headers)
    assert s1 == s2 == 200
    assert first["id"] == again["id"]
    assert dispatch() == 1
    assert len(sent_emails()) == 1
    assert [e.type for e in messages.get(t.id, original["id"]).timeline] == ["CREATE", "STATUS_CHANGE", "RESEND"]


def test_resend_refuses_a_record_whose_delivery_outcome_is_unknown(api, tenant, dispatch, sent_emails, table_items, monkeypatch):
    """SES accepted the email but its answer was lost (a read timeout): the record is UNCONFIRMED, not FAILED,
    and resend refuses it (400, nothing created or queued: the provider may have delivered it). Once SES's
    own event confirms it SENT, it can be resent."""
    import json as json_module

    from botocore.exceptions import ReadTimeoutError

    from parley.dal import messages
    from parley.dal.aws import client
    from parley.domain import email_events
    from parley.domain.crm_records import to_record
    from parley.providers import ses as ses_adapter

    t, _ = tenant
    _, original = api(SEND, "send", t.id, body=GOOD)
    ses = client("sesv2", retry=False)
    real_send = ses.send_email

    def accepted_then_timed_out(**params):
        real_send(**params)
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com/v2/email/outbound-emails")

    monkeypatch.setattr(ses, "send_email", accepted_then_timed_out)
    monkeypatch.setattr(ses_adapter, "client", lambda service, retry=True: ses)
    assert dispatch() == 1
    assert len(sent_emails()) == 1
    record = to_record(messages.get(t.id, original["id"]))  # as every CRM read shows it
    assert (record.status, record.errorMessage) == ("UNCONFIRMED", None)

    before = _messages(table_items)
    status, err = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]))
    assert status == 400 and "is UNCONFIRMED" in err["detail"] and "may have sent it" in err["detail"]
    assert _messages(table_items) == before
    assert dispatch() == 0 and len(sent_emails()) == 1

    (sent,) = sent_emails()
    tags = {"parley_tenant_id": [t.id], "parley_message_id": [original["id"]]}
    ses_event = {
        "eventType": "Delivery",
        "mail": {"messageId": sent.id, "timestamp": "2026-12-06T10:00:00.000Z", "destination": ["ada@example.com"], "tags": tags},
        "delivery": {"timestamp": "2026-12-06T10:00:01.000Z", "recipients": ["ada@example.com"], "smtpResponse": "250 OK"},
    }
    assert email_events.receive_ses(json_module.dumps(ses_event)) == "recorded"
    assert messages.get(t.id, original["id"]).status.value == "SENT"
    status, new = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]))
    assert status == 200, new


def test_resend_to_an_address_suppressed_since_is_400_and_creates_nothing(api, tenant, dispatch, table_items):
    from parley import clock
    from parley.dal import messages, suppressions
    from parley.models.email_events import Suppression

    t, _ = tenant
    _, original = api(SEND, "send", t.id, body={**GOOD, "bcc": ["later@example.com"]})
    dispatch()
    suppressions.add(Suppression(tenant_id=t.id, address="later@example.com", reason="spamreport", created_at=clock.now()))
    status, err = api(RESEND, "resend", t.id, path=_id_path("resend", original["id"]))
    assert status == 400 and "later@example.com" in err["detail"]
    assert [m["id"] for m in _messages(table_items)] == [original["id"]]
    assert [e.type for e in messages.get(t.id, original["id"]).timeline] == ["CREATE", "STATUS_CHANGE"]


def test_a_candidate_api_email_is_a_record_and_can_be_resent(api, handler, tenant, dispatch, sent_emails):
    from parley.dal import messages

    t, _ = tenant
    payload = {"subject": "Your interview", "emailContent": "Hi, see you on Tuesday.", "toEmail": "ada@example.com"}
    out = handler("CandidateApi.SendEmailFunction")(
        api_event("candidate/send_email", tenant_id=t.id, body=payload, headers={"Idempotency-Key": None})
    )
    original_id = body(out)["data"]["emailActivityId"]
    dispatch()
    status, new = api(RESEND, "resend", t.id, path=_id_path("resend", original_id))
    assert status == 200, new
    assert new["recipients"] == ["ada@example.com"] and new["body"] == "Hi, see you on Tuesday."
    assert _stored(t.id, new["id"])["candidate_id"] == messages.get(t.id, original_id).candidate_id
    dispatch()
    assert len(sent_emails()) == 2


def test_large_untracked_body_goes_to_s3_and_a_record_too_large_to_keep_is_400(api, tenant, table_items):
    from parley.dal import messages

    t, _ = tenant
    big = "<p>" + "x" * 100_000 + "</p>"
    status, rec = api(SEND, "send", t.id, body={**GOOD, "body": big})
    assert status == 200, rec
    item = _stored(t.id, rec["id"])
    assert "body_ref" in item and "body" not in item and "original_body" not in item
    assert messages.get(t.id, rec["id"]).body == big

    huge = "<p>" + "é" * 200_000 + "</p>"  # 400 KB of UTF-8 kept as the submitted body of a tracked email
    status, err = api(SEND, "send", t.id, body={**GOOD, "body": huge, "trackingEnabled": True})
    assert status == 400, err
    assert "too large" in err["detail"]
    assert [m["id"] for m in _messages(table_items)] == [rec["id"]]


def test_send_with_a_template_id_labels_the_record_with_that_template(api, tenant, other_tenant, template):
    t, _ = tenant
    status, rec = api(SEND, "send", t.id, body={**GOOD, "templateId": template.id})
    assert status == 200, rec
    assert (rec["templateId"], rec["templateName"], rec["type"]) == (template.id, "Quote", "OFFERTE")
    assert (rec["subject"], rec["body"]) == (GOOD["subject"], GOOD["body"])  # the caller's content, not rendered
    item = _stored(t.id, rec["id"])
    assert (item["template_id"], item["template_name"], item["category"]) == (template.id, "Quote", "OFFERTE")
    status, err = api(SEND, "send", other_tenant[0].id, body={**GOOD, "templateId": template.id})
    assert status == 404, err
