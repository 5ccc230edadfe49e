"""POST /communications/sms/v1/send, GET /communications/sms/v1/activity and SMS dispatch (moto SNS, fake Twilio)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import pytest

from helpers import api_event, body

SEND, ACTIVITY, DISPATCHER = "CandidateApi.SendSmsFunction", "CandidateApi.SmsActivityFunction", "root.DispatcherFunction"
PHONE = "+15555550100"
GOOD = {"message": "Hi Ada, your interview is Tuesday 10:00.", "phoneNumber": PHONE}
ACCOUNT, REGION = "123456789012", "us-east-1"


def _ctx(event, **authorizer):
    event["requestContext"]["authorizer"].update(authorizer)
    return event


def send_event(tenant_id, payload=GOOD, *, user="recruiter-7", key=None, **authorizer):
    headers = {"x-ph-userid": user, "Idempotency-Key": key}
    return _ctx(api_event("candidate/send_sms", tenant_id=tenant_id, body=payload, headers=headers), **authorizer)


def activity(handler, tenant_id, activity_id, phone=PHONE):
    return handler(ACTIVITY)(
        api_event("candidate/sms_activity", tenant_id=tenant_id, query={"activityId": activity_id, "phoneNumber": phone})
    )


def opt_in(tenant_id, phone=PHONE, opted=True):
    from parley.domain import optins

    optins.update(tenant_id, phone=phone, email=None, opt_in=opted, reason="test")


def sms_items(table_items, tenant_id):
    return [i for i in table_items() if i.get("type") == "message" and i.get("channel") == "sms" and i["tenant_id"] == tenant_id]


def sns_sent():
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


# ── send ──


def test_send_returns_seed_shape_stores_an_sms_under_the_candidate_and_queues_it(handler, tenant, send_queue, drain, table_items):
    from parley.dal import messages
    from parley.domain import candidates
    from parley.models.domain import MessageStatus, SendJob

    t, _ = tenant
    opt_in(t.id)
    out = handler(SEND)(send_event(t.id))
    assert out["statusCode"] == 200, out
    payload = body(out)
    assert set(payload) == {"data", "status"} and payload["status"] == "SUCCESS"
    assert set(payload["data"]) == {"messageSID", "message"}
    assert payload["data"]["message"] == GOOD["message"]
    sid = payload["data"]["messageSID"]

    msg = messages.get(t.id, sid)
    assert (msg.channel, msg.direction, msg.status, msg.provider) == ("sms", "outbound", MessageStatus.QUEUED, "sns")
    assert (msg.sender, msg.recipient, msg.body) == ("+15555550199", PHONE, GOOD["message"])  # sender: the authorizer's smsSender
    assert msg.recruiter_id == "recruiter-7" and msg.source_api == "candidate"
    cand = candidates.find(t.id, phone=PHONE)
    assert cand is not None and msg.candidate_id == cand.id and cand.phone == PHONE
    assert [i["id"] for i in sms_items(table_items, t.id)] == [sid]
    (job,) = drain(send_queue[1])
    assert SendJob.model_validate_json(job["Body"]) == SendJob(tenant_id=t.id, message_id=sid)


def test_a_known_candidate_keeps_its_id_and_the_number_is_normalised(handler, tenant, send_queue, drain):
    from parley.dal import messages
    from parley.domain import candidates

    t, _ = tenant
    known = candidates.upsert(t.id, phone=PHONE, firstname="Ada")
    opt_in(t.id)
    out = handler(SEND)(send_event(t.id, {**GOOD, "phoneNumber": "+1 555-555-0100"}))
    assert out["statusCode"] == 200, out
    msg = messages.get(t.id, body(out)["data"]["messageSID"])
    assert msg.recipient == PHONE and msg.candidate_id == known.id


@pytest.mark.parametrize("state", ["never", "opted_out"])
def test_a_number_not_opted_in_is_refused_and_nothing_is_stored(state, handler, tenant, send_queue, drain, table_items):
    t, _ = tenant
    if state == "opted_out":
        opt_in(t.id)
        opt_in(t.id, opted=False)
    out = handler(SEND)(send_event(t.id))
    assert out["statusCode"] == 400, out
    err = body(out)
    assert set(err) == {"status", "message"} and err["status"] == 400
    assert PHONE in err["message"] and ("opted out" in err["message"] if state == "opted_out" else "not opted in" in err["message"])
    assert sms_items(table_items, t.id) == []
    assert drain(send_queue[1]) == []


def test_consent_is_per_tenant(handler, tenant, other_tenant, send_queue, drain):
    t, _ = tenant
    o, _ = other_tenant
    opt_in(o.id)
    assert handler(SEND)(send_event(t.id))["statusCode"] == 400
    assert drain(send_queue[1]) == []


BAD = {
    "message too short": ({**GOOD, "message": "x"}, "message"),
    "message too long": ({**GOOD, "message": "x" * 79}, "message"),
    "phone too short": ({**GOOD, "phoneNumber": "+123"}, "phoneNumber"),
    "phone too long": ({**GOOD, "phoneNumber": "+12345678901234567"}, "phoneNumber"),
    "phone with letters": ({**GOOD, "phoneNumber": "+1555CALLME"}, "phoneNumber"),
    "missing message": ({"phoneNumber": PHONE}, "message"),
    "missing phoneNumber": ({"message": GOOD["message"]}, "phoneNumber"),
    "message not a string": ({**GOOD, "message": 12345}, "message"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_body_is_400_naming_the_field_and_stores_nothing(case, handler, tenant, send_queue, drain, table_items):
    payload, field = BAD[case]
    t, _ = tenant
    opt_in(t.id)
    out = handler(SEND)(send_event(t.id, payload))
    assert out["statusCode"] == 400, out
    err = body(out)
    assert err["status"] == 400 and err["message"].startswith(f"{field}: "), err
    assert sms_items(table_items, t.id) == []
    assert drain(send_queue[1]) == []


def test_78_characters_is_the_longest_message(handler, tenant, send_queue, drain):
    t, _ = tenant
    opt_in(t.id)
    assert handler(SEND)(send_event(t.id, {**GOOD, "message": "x" * 78}))["statusCode"] == 200


def test_missing_recruiter_header_is_400(handler, tenant, send_queue, drain, table_items):
    t, _ = tenant
    opt_in(t.id)
    event = send_event(t.id)
    for section in ("headers", "multiValueHeaders"):
        event[section].pop("x-ph-userid")
    out = handler(SEND)(event)
    assert out["statusCode"] == 400 and body(out) == {"status": 400, "message": "x-ph-userid: Field required"}
    assert sms_items(table_items, t.id) == []
    assert drain(send_queue[1]) == []


def test_idempotency_key_repeats_return_the_first_result_and_queue_once(handler, tenant, send_queue, drain, table_items):
    t, _ = tenant
    opt_in(t.id)
    key = f"sms-{uuid.uuid4()}"
    first = handler(SEND)(send_event(t.id, key=key))
    second = handler(SEND)(send_event(t.id, key=key))
    assert first["statusCode"] == second["statusCode"] == 200
    assert body(first) == body(second)
    assert len(sms_items(table_items, t.id)) == 1
    assert len(drain(send_queue[1])) == 1
    changed = handler(SEND)(send_event(t.id, {**GOOD, "message": "Something else"}, key=key))
    assert changed["statusCode"] == 422 and body(changed)["status"] == 422


# ── quiet hours ──


def test_quiet_hours_hold_an_evening_sms_until_eight_in_the_tenant_zone(handler, tenant, send_queue, drain, frozen):
    from parley.dal import messages, schedules
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus
    from parley.settings import get_settings

    t, _ = tenant
    opt_in(t.id)
    frozen(datetime(2030, 6, 19, 2, 0, tzinfo=UTC))  # 22:00 in New York
    out = handler(SEND)(send_event(t.id, quietHours="true", timezone="America/New_York"))
    assert out["statusCode"] == 200, out
    assert body(out)["data"]["message"] == GOOD["message"] and body(out)["status"] == "SUCCESS"
    sid = body(out)["data"]["messageSID"]

    msg = messages.get(t.id, sid)
    assert msg.status == MessageStatus.SCHEDULED
    assert msg.scheduled_at == datetime(2030, 6, 19, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert msg.scheduled_tz == "America/New_York"
    sched = client("scheduler").get_schedule(Name=schedules.schedule_name(sid), GroupName=get_settings().schedule_group)
    assert sched["ScheduleExpression"] == "at(2030-06-19T12:00:00)"
    assert drain(send_queue[1]) == []  # nothing goes out now

    res = activity(handler, t.id, sid)
    assert res["statusCode"] == 200, res
    assert body(res)["status"] == "SCHEDULED"
    assert "quiet hours" in body(res)["data"]["message"] and "2030-06-19 08:00 America/New_York" in body(res)["data"]["message"]


def test_the_candidates_own_zone_wins_over_the_tenants(handler, tenant, send_queue, drain, frozen):
    from parley.dal import messages
    from parley.domain import candidates
    from parley.models.domain import MessageStatus

    t, _ = tenant
    candidates.upsert(t.id, phone=PHONE, timezone="Asia/Tokyo")
    opt_in(t.id)
    frozen(datetime(2030, 6, 19, 2, 0, tzinfo=UTC))  # 22:00 in New York, 11:00 in Tokyo
    out = handler(SEND)(send_event(t.id, quietHours="true", timezone="America/New_York"))
    assert messages.get(t.id, body(out)["data"]["messageSID"]).status == MessageStatus.QUEUED
    assert len(drain(send_queue[1])) == 1


@pytest.mark.parametrize(
    ("now", "quiet", "expected"),
    [
        (datetime(2030, 6, 19, 18, 0, tzinfo=UTC), "true", "QUEUED"),  # 14:00 New York
        (datetime(2030, 6, 19, 2, 0, tzinfo=UTC), "false", "QUEUED"),  # 22:00, quiet hours off
        (datetime(2030, 6, 19, 11, 59, tzinfo=UTC), "true", "SCHEDULED"),  # 07:59
        (datetime(2030, 6, 19, 12, 0, tzinfo=UTC), "true", "QUEUED"),  # 08:00
    ],
)
def test_quiet_hours_only_hold_what_falls_outside_the_window(now, quiet, expected, handler, tenant, send_queue, drain, frozen):
    from parley.dal import messages

    t, _ = tenant
    opt_in(t.id)
    frozen(now)
    out = handler(SEND)(send_event(t.id, quietHours=quiet, timezone="America/New_York"))
    assert messages.get(t.id, body(out)["data"]["messageSID"]).status.value == expected
    assert len(drain(send_queue[1])) == (1 if expected == "QUEUED" else 0)


# ── activity ──


def _sent(handler, tenant_id, **authorizer):
    opt_in(tenant_id)
    out = handler(SEND)(send_event(tenant_id, **authorizer))
    assert out["statusCode"] == 200, out
    return body(out)["data"]["messageSID"]


def test_activity_of_a_queued_sms(handler, tenant):
    t, _ = tenant
    sid = _sent(handler, t.id)
    res = activity(handler, t.id, sid, phone="+1 555 555 0100")
    assert res["statusCode"] == 200, res
    assert body(res) == {"data": {"message": f"SMS to {PHONE} is queued for sending"}, "status": "QUEUED"}


def test_activity_prefers_the_providers_delivery_state(handler, tenant):
    from parley.dal import keys, table

    t, _ = tenant
    sid = _sent(handler, t.id)
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.message_pk(t.id, sid), keys.MESSAGE_SK),
        UpdateExpression="SET delivery_status = :d",
        ExpressionAttributeValues=table.values(d="DELIVERED"),
    )
    assert body(activity(handler, t.id, sid)) == {"data": {"message": f"SMS to {PHONE} was delivered"}, "status": "DELIVERED"}


def test_unknown_foreign_or_mismatched_activity_is_404(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    sid = _sent(handler, t.id)
    for tenant_id, activity_id, phone in ((t.id, "no-such-id", PHONE), (o.id, sid, PHONE), (t.id, sid, "+15555550111")):
        res = activity(handler, tenant_id, activity_id, phone)
        assert res["statusCode"] == 404, res
        assert set(body(res)) == {"status", "message"} and body(res)["status"] == 404


def test_an_email_id_is_not_an_sms_activity(handler, tenant):
    t, _ = tenant
    email = api_event(
        "candidate/send_email",
        tenant_id=t.id,
        body={"subject": "Hello there", "emailContent": "Body text", "toEmail": "ada@example.com"},
        headers={"Idempotency-Key": None},
    )
    eid = body(handler("CandidateApi.SendEmailFunction")(email))["data"]["emailActivityId"]
    assert activity(handler, t.id, eid)["statusCode"] == 404


@pytest.mark.parametrize(
    "query",
    [
        {"phoneNumber": PHONE},
        {"activityId": "x"},
        {"activityId": "x", "phoneNumber": "not-a-phone"},
        {"activityId": "", "phoneNumber": PHONE},
    ],
)
def test_activity_bad_query_is_400(handler, tenant, query):
    t, _ = tenant
    res = handler(ACTIVITY)(api_event("candidate/sms_activity", tenant_id=t.id, query=query))
    assert res["statusCode"] == 400, res
    assert body(res)["status"] == 400


def test_activity_needs_the_recruiter_header(handler, tenant):
    t, _ = tenant
    event = api_event("candidate/sms_activity", tenant_id=t.id, headers={"x-ph-userid": None})
    res = handler(ACTIVITY)(event)
    assert res["statusCode"] == 400 and body(res) == {"status": 400, "message": "x-ph-userid: Field required"}


# ── dispatch ──


def _records(send_queue, drain):
    from parley_local.workers import _sqs_record

    arn, url = send_queue
    return [_sqs_record(m, arn) for m in drain(url)]


def test_dispatch_sends_an_sms_through_sns_exactly_once(handler, tenant, send_queue, drain):
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, _ = tenant
    sid = _sent(handler, t.id)
    (record,) = _records(send_queue, drain)
    dispatcher = handler(DISPATCHER)
    assert dispatcher({"Records": [copy.deepcopy(record) for _ in range(2)]}) == {"batchItemFailures": []}
    for n in (2, 3):  # SQS redeliveries in later invocations
        rec = copy.deepcopy(record)
        rec["attributes"]["ApproximateReceiveCount"] = str(n)
        assert dispatcher({"Records": [rec]}) == {"batchItemFailures": []}
    assert sns_sent() == [(PHONE, GOOD["message"])]

    msg, events = messages.get_with_events(t.id, sid)
    assert msg.status == MessageStatus.SENT and msg.attempts == 1 and msg.provider == "sns"
    from moto.sns.models import sns_backends

    assert msg.provider_message_id in sns_backends[ACCOUNT][REGION].sms_messages
    assert messages.find_by_provider_id(t.id, "sns", msg.provider_message_id) == sid
    assert [e.event for e in events] == ["sent"]
    res = body(activity(handler, t.id, sid))
    assert res["status"] == "SENT" and "accepted by sns" in res["data"]["message"]


def test_a_permanent_sns_refusal_fails_the_sms(handler, tenant, send_queue, drain):
    """SNS refuses a number that is not E.164 (no leading +, starts with 0): FAILED, visible in the activity. The API
    now stores every number in E.164; a message queued before it did (and its consent under the same old key, as
    it was kept then) still reaches SNS this way."""
    from parley import clock
    from parley.dal import messages
    from parley.dal import optins as optin_state
    from parley.domain import emails, optins
    from parley.domain.context import Caller
    from parley.domain.sms import new_outbound_sms
    from parley.models.domain import MessageStatus

    t, _ = tenant
    entry = optins.history_entry("0555550100", phone="0555550100", opt_in=True, reason="legacy", communication_id=None,
                                 now_ms=clock.epoch_ms(clock.now()))  # fmt: skip
    optin_state.record(t.id, "0555550100", opted_in=True, entry=entry)
    legacy = new_outbound_sms(Caller(tenant_id=t.id, sender_email="x@parley.example"), source_api="candidate",
                              recipient="0555550100", body=GOOD["message"])  # fmt: skip
    handler(SEND)  # the send function's environment: its queue
    sid = emails.submit(legacy).id
    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert sns_sent() == []
    assert messages.get(t.id, sid).status == MessageStatus.FAILED
    res = body(activity(handler, t.id, sid, phone="0555550100"))
    assert res["status"] == "FAILED" and "E164" in res["data"]["message"]


def test_dispatch_sends_a_twilio_sms_once_with_the_status_callback(handler, tenant, twilio, send_queue, drain):
    from parley.dal import messages
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.models.domain import MessageStatus

    t, _ = tenant
    sid_acct, token = twilio.add_account()
    name = f"parley/{t.id}/twilio"
    put_tenant_secret(name, {"twilio_account_sid": sid_acct, "twilio_auth_token": token})
    configure_tenant(t.id, sms_provider="twilio", sms_sender="+15555550177", secret_name=name)
    sid = _sent(handler, t.id, smsProvider="twilio", smsSender="+15555550177")
    (record,) = _records(send_queue, drain)
    dispatcher = handler(DISPATCHER)
    for n in (1, 2):
        rec = copy.deepcopy(record)
        rec["attributes"]["ApproximateReceiveCount"] = str(n)
        assert dispatcher({"Records": [rec]}) == {"batchItemFailures": []}

    (req,) = twilio.messages()
    assert req.form["To"] == PHONE and req.form["From"] == "+15555550177" and req.form["Body"] == GOOD["message"]
    assert req.form["StatusCallback"] == f"http://127.0.0.1:3000/_url/TwilioStatusFunction/?tenant={t.id}"
    msg = messages.get(t.id, sid)
    assert msg.status == MessageStatus.SENT and msg.provider == "twilio"
    assert msg.provider_message_id.startswith("SM")
    assert messages.find_by_provider_id(t.id, "twilio", msg.provider_message_id) == sid
    assert sns_sent() == []


def test_twilio_5xx_is_retried_then_sent_once(handler, tenant, twilio, send_queue, drain):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from parley.dal import messages
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant
    from parley.models.domain import MessageStatus

    t, _ = tenant
    acct, token = twilio.add_account()
    put_tenant_secret(f"parley/{t.id}/tw2", {"twilio_account_sid": acct, "twilio_auth_token": token})
    configure_tenant(t.id, sms_provider="twilio", sms_sender="+15555550177", secret_name=f"parley/{t.id}/tw2")
    sid = _sent(handler, t.id, smsProvider="twilio", smsSender="+15555550177")
    (record,) = _records(send_queue, drain)
    twilio.fail_next(503, 20503, "Service Unavailable")
    with pytest.raises(BatchProcessingError):  # the whole (one-record) batch failed: SQS redelivers it
        handler(DISPATCHER)({"Records": [copy.deepcopy(record)]})
    assert messages.get(t.id, sid).status == MessageStatus.QUEUED
    rec = copy.deepcopy(record)
    rec["attributes"]["ApproximateReceiveCount"] = "2"
    assert handler(DISPATCHER)({"Records": [rec]}) == {"batchItemFailures": []}
    assert len(twilio.messages()) == 1
    assert messages.get(t.id, sid).status == MessageStatus.SENT


def test_a_held_sms_two_seconds_before_eight_is_scheduled_just_after_eight(handler, tenant, send_queue, drain, frozen):
    from parley.dal import messages

    t, _ = tenant
    opt_in(t.id)
    frozen(datetime(2030, 6, 19, 11, 59, 58, tzinfo=UTC))  # 07:59:58 in New York
    out = handler(SEND)(send_event(t.id, quietHours="true", timezone="America/New_York"))
    assert out["statusCode"] == 200, out
    msg = messages.get(t.id, body(out)["data"]["messageSID"])
    assert msg.status.value == "SCHEDULED"
    assert datetime(2030, 6, 19, 12, 0, tzinfo=UTC) <= msg.scheduled_at <= datetime(2030, 6, 19, 12, 0, 10, tzinfo=UTC)


def test_when_the_schedule_fires_the_held_sms_is_sent_once(handler, tenant, send_queue, drain, frozen):
    """The schedule's target input is the SendJob; delivering it to the dispatcher sends the SCHEDULED SMS."""
    from parley.dal import messages, schedules
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus, SendJob
    from parley.settings import get_settings

    t, _ = tenant
    opt_in(t.id)
    frozen(datetime(2030, 6, 19, 2, 0, tzinfo=UTC))
    sid = body(handler(SEND)(send_event(t.id, quietHours="true", timezone="America/New_York")))["data"]["messageSID"]
    sched = client("scheduler").get_schedule(Name=schedules.schedule_name(sid), GroupName=get_settings().schedule_group)
    job = SendJob.model_validate_json(sched["Target"]["Input"])
    assert job == SendJob(tenant_id=t.id, message_id=sid)
    frozen(datetime(2030, 6, 19, 12, 0, tzinfo=UTC))  # 08:00 in New York: the schedule fires
    client("sqs").send_message(QueueUrl=send_queue[1], MessageBody=sched["Target"]["Input"])  # what the schedule does
    records = _records(send_queue, drain)
    assert handler(DISPATCHER)({"Records": [*records, copy.deepcopy(records[0])]}) == {"batchItemFailures": []}
    assert sns_sent() == [(PHONE, GOOD["message"])]
    msg, events = messages.get_with_events(t.id, sid)
    assert msg.status == MessageStatus.SENT
    assert [e.event for e in events] == ["scheduled", "sent"]
