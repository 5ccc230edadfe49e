"""GET /communications/email/v1/history: windows, filters, offset pagination — tenant-scoped, index-served."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import api_event, body

HISTORY = "CandidateApi.EmailHistoryFunction"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _store(tenant_id, n, *, to="ada@example.com", channel="email", direction="outbound", candidate_id=None, body_text=None):
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    msg = Message(
        tenant_id=tenant_id,
        id=new_id(),
        channel=channel,
        direction=direction,
        status=MessageStatus.SENT if direction == "outbound" else MessageStatus.RECEIVED,
        source_api="candidate",
        sender="no-reply@parley.example" if direction == "outbound" else to,
        recipient=to if direction == "outbound" else "no-reply@parley.example",
        subject=f"Message {n}",
        body=body_text or f"body {n}",
        recruiter_id="rec-1",
        candidate_id=candidate_id,
        conversation_id="c-1",
        provider="ses",
        created_at=T0 + timedelta(hours=n),
    )
    messages.create(msg)
    return msg


def _query(tenant_id, **params):
    q = {"fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T00:00:00Z", "limit": "10", "offset": "0"}
    q.update({k: str(v) for k, v in params.items() if v is not None})
    for k in [k for k, v in params.items() if v is None]:
        q.pop(k, None)
    return api_event("candidate/email_history", tenant_id=tenant_id, query=q)


def test_window_order_shape_and_tenant_scope(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    for n in range(5):
        _store(t.id, n)
    _store(t.id, 2, channel="sms", to="+15555550100")  # another channel: never in email history
    _store(o.id, 1)  # another tenant: never visible
    _store(t.id, 24 * 40)  # outside the window

    out = handler(HISTORY)(_query(t.id))
    assert out["statusCode"] == 200, out
    res = body(out)
    assert res["status"] == 200
    assert [d["subject"] for d in res["data"]] == [f"Message {n}" for n in range(5)]
    first = res["data"][0]
    assert first == {
        "sender": "no-reply@parley.example",
        "recipient": "ada@example.com",
        "timeStamp": "2026-11-02T09:00:00.000Z",
        "subject": "Message 0",
        "emailBody": "body 0",
        "messageType": "outbound",
        "recruiterId": "rec-1",
        "candidateId": None,
    }
    assert res["pagination"] == {
        "first": True, "last": True, "hasPrevious": False, "hasNext": False, "hasErrors": False,
        "totalElements": 5, "totalPages": 1, "size": 10, "currentPage": 0, "numberOfElements": 5,
    }  # fmt: skip


def test_offset_pagination(handler, tenant):
    t, _ = tenant
    for n in range(5):
        _store(t.id, n)
    res = body(handler(HISTORY)(_query(t.id, limit=2, offset=2)))
    assert [d["subject"] for d in res["data"]] == ["Message 2", "Message 3"]
    assert res["pagination"] | {} == {
        "first": False, "last": False, "hasPrevious": True, "hasNext": True, "hasErrors": False,
        "totalElements": 5, "totalPages": 3, "size": 2, "currentPage": 1, "numberOfElements": 2,
    }  # fmt: skip
    tail = body(handler(HISTORY)(_query(t.id, limit=2, offset=4)))
    assert [d["subject"] for d in tail["data"]] == ["Message 4"]
    assert tail["pagination"]["last"] is True and tail["pagination"]["hasNext"] is False
    beyond = body(handler(HISTORY)(_query(t.id, limit=2, offset=9)))
    assert beyond["data"] == [] and beyond["pagination"]["totalElements"] == 5


def test_filters_by_email_and_candidate_and_includes_inbound(handler, tenant):
    t, _ = tenant
    _store(t.id, 0, to="ada@example.com", candidate_id="cand-ada")
    _store(t.id, 1, to="bob@example.com", candidate_id="cand-bob")
    _store(t.id, 2, to="ada@example.com", direction="inbound", candidate_id="cand-ada")
    by_email = body(handler(HISTORY)(_query(t.id, email="ADA@example.com")))
    assert [(d["subject"], d["messageType"]) for d in by_email["data"]] == [("Message 0", "outbound"), ("Message 2", "inbound")]
    by_candidate = body(handler(HISTORY)(_query(t.id, candidateId="cand-bob")))
    assert [d["recipient"] for d in by_candidate["data"]] == ["bob@example.com"]
    both = body(handler(HISTORY)(_query(t.id, email="ada@example.com", candidateId="cand-bob")))
    assert both["data"] == [] and both["pagination"]["totalElements"] == 0


def test_epoch_ms_and_inclusive_bounds(handler, tenant):
    t, _ = tenant
    _store(t.id, 0)
    exact = int(T0.timestamp() * 1000)
    res = body(handler(HISTORY)(_query(t.id, fromTime=exact, toTime=exact)))
    assert [d["subject"] for d in res["data"]] == ["Message 0"]


def test_large_body_comes_back_whole(handler, tenant):
    t, _ = tenant
    history = handler(HISTORY)  # sets the function's environment (BODY_BUCKET) for the store below
    big = "x" * 100_000
    _store(t.id, 0, body_text=big)
    res = body(history(_query(t.id)))
    assert res["data"][0]["emailBody"] == big


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"fromTime": "2026-11-30T00:00:00Z", "toTime": "2026-11-01T00:00:00Z"}, "fromTime must not be after toTime"),
        ({"fromTime": "yesterday"}, "fromTime"),
        ({"toTime": "2026-13-01"}, "toTime"),
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": None}, "limit"),
        ({"fromTime": None}, "fromTime"),
    ],
)
def test_bad_input_is_400_in_candidate_shape(handler, tenant, params, needle):
    t, _ = tenant
    out = handler(HISTORY)(_query(t.id, **params))
    assert out["statusCode"] == 400, out
    res = body(out)
    assert res["status"] == 400
    assert needle in res["message"]
