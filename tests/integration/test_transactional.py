"""GET /communications/{email,sms}/v1/transactional/*: distinct candidates per window, from the contact
index written with each message (no Scan, no message read); paging, scope and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import api_event, body

EMAIL = "CandidateApi.EmailTransactionalFunction"
SMS = "CandidateApi.SmsTransactionalFunction"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAGINATION = {
    "first",
    "last",
    "hasPrevious",
    "hasNext",
    "hasErrors",
    "totalElements",
    "totalPages",
    "size",
    "currentPage",
    "numberOfElements",
}


def _store(tenant_id, at, *, candidate_id, address, channel="email", direction="outbound", msg_id=None):
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    us = "no-reply@parley.example" if channel == "email" else "+15555550199"
    msg = Message(
        tenant_id=tenant_id,
        id=msg_id or new_id(),
        channel=channel,
        direction=direction,
        status=MessageStatus.SENT if direction == "outbound" else MessageStatus.RECEIVED,
        source_api="candidate",
        sender=us if direction == "outbound" else address,
        recipient=address if direction == "outbound" else us,
        body="hello",
        candidate_id=candidate_id,
        conversation_id="c",
        provider="ses",
        created_at=at,
    )
    messages.create(msg)
    return msg


def _query(fn, tenant_id, **params):
    q = {"fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T23:59:59Z"}
    q.update({k: str(v) for k, v in params.items() if v is not None})
    for k in [k for k, v in params.items() if v is None]:
        q.pop(k, None)
    name = "candidate/email_transactional" if fn == EMAIL else "candidate/sms_transactional"
    return api_event(name, tenant_id=tenant_id, query=q)


def test_distinct_candidates_in_window_either_direction_ordered_by_first_contact(handler, tenant, other_tenant, table_items):
    t, _ = tenant
    o, _ = other_tenant
    _store(t.id, T0 + timedelta(days=1), candidate_id="c-b", address="b@example.com")
    _store(t.id, T0, candidate_id="c-a", address="a@example.com", direction="inbound")
    _store(t.id, T0 + timedelta(hours=1), candidate_id="c-a", address="a@example.com")  # same day, same candidate
    _store(t.id, T0 + timedelta(days=3), candidate_id="c-a", address="a@example.com")  # another day: still once
    _store(t.id, T0 + timedelta(days=2), candidate_id="c-c", address="c@example.com", channel="sms")  # other channel
    _store(t.id, T0 + timedelta(days=40), candidate_id="c-d", address="d@example.com")  # outside the window
    _store(o.id, T0, candidate_id="c-x", address="x@example.com")  # another tenant
    _store(t.id, T0, candidate_id=None, address="nobody@example.com")  # not filed under a candidate

    out = handler(EMAIL)(_query(EMAIL, t.id))
    assert out["statusCode"] == 200, out
    res = body(out)
    assert set(res) == {"pagination", "data", "status"} and res["status"] == 200
    assert res["data"] == [
        {"candidateId": "c-a", "candidateEmail": "a@example.com"},
        {"candidateId": "c-b", "candidateEmail": "b@example.com"},
    ]
    p = res["pagination"]
    assert set(p) == PAGINATION
    assert (p["totalElements"], p["totalPages"], p["size"], p["currentPage"], p["numberOfElements"], p["hasErrors"]) == (
        2,
        1,
        10,
        0,
        2,
        False,
    )

    sms = body(handler(SMS)(_query(SMS, t.id)))
    assert sms["data"] == [{"candidateId": "c-c", "candidatePhone": "c@example.com"}]

    # one contact item per candidate per channel per day: c-a has two (day 0, day 3), not three
    contacts = [i for i in table_items() if i.get("type") == "contact" and i["PK"].startswith(f"TENANT#{t.id}#CONTACT#EMAIL#")]
    assert sorted((i["PK"].rsplit("#", 1)[1], i["candidate_id"]) for i in contacts) == [
        ("2026-11-02", "c-a"),
        ("2026-11-03", "c-b"),
        ("2026-11-05", "c-a"),
        ("2026-12-12", "c-d"),
    ]


def test_partial_days_are_exact(handler, tenant):
    t, _ = tenant
    _store(t.id, T0, candidate_id="c-early", address="e@example.com")  # 09:00
    _store(t.id, T0 + timedelta(hours=11), candidate_id="c-late", address="l@example.com")  # 20:00
    _store(t.id, T0 + timedelta(hours=4), candidate_id="c-mid", address="m@example.com")  # 13:00
    ev = _query(EMAIL, t.id, fromTime="2026-11-02T10:00:00Z", toTime="2026-11-02T18:00:00Z")
    assert [d["candidateId"] for d in body(handler(EMAIL)(ev))["data"]] == ["c-mid"]
    # inclusive bounds, epoch-ms accepted
    ms = int(T0.timestamp() * 1000)
    ev = _query(EMAIL, t.id, fromTime=str(ms), toTime=str(ms))
    assert [d["candidateId"] for d in body(handler(EMAIL)(ev))["data"]] == ["c-early"]


def test_paging(handler, tenant):
    t, _ = tenant
    for n in range(5):
        _store(t.id, T0 + timedelta(hours=n), candidate_id=f"c-{n}", address=f"p{n}@example.com")
    fn = handler(EMAIL)
    res = body(fn(_query(EMAIL, t.id, pageLimit=2, offset=2)))
    assert [d["candidateId"] for d in res["data"]] == ["c-2", "c-3"]
    p = res["pagination"]
    assert (p["first"], p["last"], p["hasPrevious"], p["hasNext"], p["totalPages"], p["currentPage"]) == (False, False, True, True, 3, 1)
    last = body(fn(_query(EMAIL, t.id, pageLimit=2, offset=4)))
    assert [d["candidateId"] for d in last["data"]] == ["c-4"] and last["pagination"]["last"] is True
    beyond = body(fn(_query(EMAIL, t.id, offset=50)))
    assert beyond["data"] == [] and beyond["pagination"]["totalElements"] == 5


def test_contact_is_written_atomically_with_the_message(handler, tenant, table_items):
    from botocore.exceptions import ClientError

    from parley.dal import table

    t, _ = tenant
    _store(t.id, T0, candidate_id="c-1", address="one@example.com", msg_id="m-1")
    with pytest.raises(ClientError) as err:  # same id again: refused, and no second contact time recorded
        _store(t.id, T0 + timedelta(hours=1), candidate_id="c-1", address="one@example.com", msg_id="m-1")
    assert table.is_condition_failure(err.value)
    (contact,) = [i for i in table_items() if i.get("type") == "contact"]
    assert contact["times"] == {int(T0.timestamp() * 1000)}


def test_email_sent_through_the_api_is_archived(handler, app_env, tenant):
    t, _ = tenant
    sent = handler("CandidateApi.SendEmailFunction")(
        api_event(
            "candidate/send_email",
            tenant_id=t.id,
            body={"toEmail": "new.person@example.com", "subject": "Hello there", "emailContent": "Hi!"},
            headers={"Idempotency-Key": None},
        )
    )
    assert sent["statusCode"] == 200, sent
    now = datetime.now(UTC)
    ev = _query(EMAIL, t.id, fromTime=(now - timedelta(minutes=5)).isoformat(), toTime=(now + timedelta(minutes=5)).isoformat())
    (row,) = body(handler(EMAIL)(ev))["data"]
    assert row["candidateEmail"] == "new.person@example.com" and row["candidateId"]


BAD = {
    "no fromTime": {"fromTime": None},
    "no toTime": {"toTime": None},
    "bad fromTime": {"fromTime": "yesterday"},
    "from after to": {"fromTime": "2026-12-01T00:00:00Z", "toTime": "2026-11-01T00:00:00Z"},
    "negative offset": {"offset": -1},
    "offset not int": {"offset": "x"},
    "zero pageLimit": {"pageLimit": 0},
    "negative pageLimit": {"pageLimit": -3},
    "pageLimit too big": {"pageLimit": 5000},
    "window too long": {"fromTime": "2020-01-01T00:00:00Z", "toTime": "2026-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("fn", [EMAIL, SMS])
@pytest.mark.parametrize("params", BAD.values(), ids=BAD.keys())
def test_bad_input_is_400(handler, tenant, fn, params):
    t, _ = tenant
    out = handler(fn)(_query(fn, t.id, **params))
    assert out["statusCode"] == 400, out
    res = body(out)
    assert set(res) == {"status", "message"} and res["status"] == 400
