"""GET /communications/sms/v1/history: both directions, window, phone/candidate filters, paging, isolation, 400s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import api_event, body

SEND, HISTORY = "CandidateApi.SendSmsFunction", "CandidateApi.SmsHistoryFunction"
ADA, BOB = "+15555550100", "+15555550111"
WIDE = {"fromTime": "2020-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": "20", "offset": "0"}
ITEM_KEYS = {"sender", "recipient", "timeStamp", "messageBody", "messageType", "recruiterId", "candidateId"}


def history(handler, tenant_id, **query):
    q = {**WIDE, **{k: str(v) for k, v in query.items() if v is not None}}
    q = {k: v for k, v in q.items() if query.get(k, "") is not None}
    return handler(HISTORY)(api_event("candidate/sms_history", tenant_id=tenant_id, query=q))


@pytest.fixture
def at(monkeypatch):
    from parley import clock

    def set_to(when: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: when)

    return set_to


def send(handler, tenant_id, phone, text, user="recruiter-7"):
    from parley.domain import optins

    optins.update(tenant_id, phone=phone, email=None, opt_in=True, reason="test")
    event = api_event("candidate/send_sms", tenant_id=tenant_id, body={"message": text, "phoneNumber": phone},
                      headers={"x-ph-userid": user, "Idempotency-Key": None})  # fmt: skip
    out = handler(SEND)(event)
    assert out["statusCode"] == 200, out
    return body(out)["data"]["messageSID"]


def inbound(tenant_id, phone, text, when):
    """An inbound SMS as the Twilio inbound webhook stores it (filed under the sender's candidate)."""
    from parley.dal import messages
    from parley.domain import candidates
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    mid = new_id()
    msg = Message(
        tenant_id=tenant_id,
        id=mid,
        channel="sms",
        direction="inbound",
        status=MessageStatus.RECEIVED,
        source_api="twilio",
        sender=phone,
        recipient="+15555550199",
        body=text,
        candidate_id=candidates.resolve(tenant_id, phone=phone),
        conversation_id=mid,
        provider="twilio",
        created_at=when,
    )
    messages.create(msg)
    return mid


@pytest.fixture
def conversation(handler, tenant, at):
    """Ada: out (10:00), in (10:05), out (11:00); Bob: out (10:30); an email at 10:10. Day 2030-06-18 UTC."""
    t, _ = tenant
    base = datetime(2030, 6, 18, 10, 0, tzinfo=UTC)
    at(base)
    send(handler, t.id, ADA, "Interview Tuesday?")
    inbound(t.id, ADA, "Yes, works for me", base + timedelta(minutes=5))
    at(base + timedelta(minutes=10))
    email = api_event("candidate/send_email", tenant_id=t.id, headers={"Idempotency-Key": None},
                      body={"subject": "Hello there", "emailContent": "Body text", "toEmail": "ada@example.com"})  # fmt: skip
    assert handler("CandidateApi.SendEmailFunction")(email)["statusCode"] == 200
    at(base + timedelta(minutes=30))
    send(handler, t.id, BOB, "Hi Bob", user="recruiter-8")
    at(base + timedelta(hours=1))
    send(handler, t.id, ADA, "See you at 10")
    return t.id


def test_history_has_both_directions_oldest_first_in_the_seed_shape(handler, conversation):
    from parley.domain import candidates

    res = history(handler, conversation)
    assert res["statusCode"] == 200, res
    page = body(res)
    assert set(page) == {"pagination", "data", "status"} and page["status"] == 200
    assert [(d["messageType"], d["messageBody"]) for d in page["data"]] == [
        ("outbound", "Interview Tuesday?"),
        ("inbound", "Yes, works for me"),
        ("outbound", "Hi Bob"),
        ("outbound", "See you at 10"),
    ]
    ada = candidates.find(conversation, phone=ADA).id
    first, reply, bob, _ = page["data"]
    assert all(set(d) == ITEM_KEYS for d in page["data"])
    assert first == {
        "sender": "+15555550199",
        "recipient": ADA,
        "timeStamp": "2030-06-18T10:00:00.000Z",
        "messageBody": "Interview Tuesday?",
        "messageType": "outbound",
        "recruiterId": "recruiter-7",
        "candidateId": ada,
    }
    assert (reply["sender"], reply["recipient"], reply["candidateId"], reply["recruiterId"]) == (ADA, "+15555550199", ada, None)
    assert bob["recruiterId"] == "recruiter-8" and bob["candidateId"] != ada
    assert page["pagination"] == {
        "first": True, "last": True, "hasPrevious": False, "hasNext": False, "hasErrors": False,
        "totalElements": 4, "totalPages": 1, "size": 20, "currentPage": 0, "numberOfElements": 4,
    }  # fmt: skip


def test_phone_and_candidate_filters(handler, conversation):
    from parley.domain import candidates

    by_phone = body(history(handler, conversation, phone="+1 555 555 0100"))["data"]
    assert [d["messageBody"] for d in by_phone] == ["Interview Tuesday?", "Yes, works for me", "See you at 10"]
    bob = candidates.find(conversation, phone=BOB).id
    assert [d["messageBody"] for d in body(history(handler, conversation, candidateId=bob))["data"]] == ["Hi Bob"]
    assert body(history(handler, conversation, candidateId=bob, phone=ADA))["data"] == []
    assert body(history(handler, conversation, phone="+15555550999"))["pagination"]["totalElements"] == 0


def test_window_bounds_and_epoch_millis(handler, conversation):
    page = body(history(handler, conversation, fromTime="2030-06-18T10:05:00Z", toTime="2030-06-18T10:30:00.000Z"))
    assert [d["messageBody"] for d in page["data"]] == ["Yes, works for me", "Hi Bob"]  # both ends inclusive
    start = int(datetime(2030, 6, 18, 10, 31, tzinfo=UTC).timestamp() * 1000)
    assert [d["messageBody"] for d in body(history(handler, conversation, fromTime=start))["data"]] == ["See you at 10"]


def test_offset_paging(handler, conversation):
    page = body(history(handler, conversation, limit=3, offset=3))
    assert [d["messageBody"] for d in page["data"]] == ["See you at 10"]
    assert page["pagination"] == {
        "first": False, "last": True, "hasPrevious": True, "hasNext": False, "hasErrors": False,
        "totalElements": 4, "totalPages": 2, "size": 3, "currentPage": 1, "numberOfElements": 1,
    }  # fmt: skip
    first = body(history(handler, conversation, limit=2, offset=0))["pagination"]
    assert (first["hasNext"], first["last"], first["numberOfElements"]) == (True, False, 2)


def test_another_tenant_sees_nothing(handler, conversation, other_tenant):
    o, _ = other_tenant
    page = body(history(handler, o.id))
    assert page["data"] == [] and page["pagination"]["totalElements"] == 0
    assert body(history(handler, o.id, phone=ADA))["data"] == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"fromTime": None}, "fromTime"),
        ({"toTime": None}, "toTime"),
        ({"limit": None}, "limit"),
        ({"offset": None}, "offset"),
        ({"fromTime": "yesterday"}, "fromTime"),
        ({"fromTime": "2030-06-19T00:00:00Z", "toTime": "2030-06-18T00:00:00Z"}, "fromTime must not be after toTime"),
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"phone": "call-me"}, "phone"),
    ],
)
def test_bad_query_is_400(handler, tenant, query, fragment):
    t, _ = tenant
    res = history(handler, t.id, **query)
    assert res["statusCode"] == 400, res
    err = body(res)
    assert set(err) == {"status", "message"} and err["status"] == 400 and fragment in err["message"], err
