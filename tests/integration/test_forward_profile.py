"""POST /communications/email/v1/forward-profile and GET …/forward-profile/activity on moto: the composed
email, the stored message and its queue job, the activity item, paging, validation (nothing stored)."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

FORWARD = "CandidateApi.ForwardProfileFunction"
ACTIVITY = "CandidateApi.ForwardProfileActivityFunction"
GOOD = {"subject": "Strong backend candidate", "toEmail": "hiring.manager@acme.example", "candidateEmail": "ada@example.com"}


@pytest.fixture
def ada(tenant):
    from parley.domain import users

    t, _ = tenant
    return users.upsert_candidate(
        t.id,
        email="Ada@Example.com",
        phone="+15555550100",
        firstname="Ada",
        lastname="<Lovelace>",
        headline="Engineer & analyst",
        location="London",
        profile_url="https://profiles.example/ada?x=1&y=2",
    )


def _forward(t_id, payload=GOOD, *, user="recruiter-42", key=None):
    headers = {"x-ph-userid": user, "Idempotency-Key": key}
    if user is None:
        headers["x-ph-userid"] = None
    return api_event("candidate/forward_profile", tenant_id=t_id, body=payload, headers=headers)


def _activity(t_id, **query):
    q = {"email": "ada@example.com", **{k: str(v) for k, v in query.items()}}
    return api_event("candidate/forward_profile_activity", tenant_id=t_id, query=q)


def _forwards(items):
    return [i for i in items if i.get("type") == "forward"]


def test_forward_composes_escaped_profile_queues_it_and_records_activity(handler, tenant, ada, send_queue, drain, table_items):
    from parley.dal import messages
    from parley.domain import users
    from parley.models.domain import MessageStatus, SendJob

    t, _ = tenant
    users.upsert_user(t.id, "recruiter-42", firstname="Grace", lastname="Hopper")
    out = handler(FORWARD)(_forward(t.id, {**GOOD, "candidateEmail": "ADA@example.com"}))
    assert out["statusCode"] == 200, out
    res = body(out)
    assert set(res) == {"data", "status"} and res["status"] == 200
    assert set(res["data"]) == {"emailActivityId", "message"}
    activity_id = res["data"]["emailActivityId"]

    msg = messages.get(t.id, activity_id)
    assert msg.status == MessageStatus.QUEUED
    assert (msg.kind, msg.auto, msg.recruiter_id, msg.recipient) == ("forward_profile", False, "recruiter-42", GOOD["toEmail"])
    assert msg.candidate_id is None  # about the candidate, not to them: not in their history / ATS / archive
    assert msg.subject == GOOD["subject"]
    # every value HTML-escaped in the HTML part; the link only for an http(s) URL
    assert "&lt;Lovelace&gt;" in msg.body and "<Lovelace>" not in msg.body
    assert "Engineer &amp; analyst" in msg.body
    assert 'href="https://profiles.example/ada?x=1&amp;y=2"' in msg.body
    assert "Grace Hopper shared a candidate profile" in msg.body
    assert "+15555550100" in msg.body and "London" in msg.body and "ada@example.com" in msg.body
    assert "Ada <Lovelace>" in msg.body_text and "Last contact: no messages yet" in msg.body_text

    (job,) = drain(send_queue[1])
    assert SendJob.model_validate_json(job["Body"]) == SendJob(tenant_id=t.id, message_id=activity_id)

    (item,) = _forwards(table_items())
    assert item["PK"] == f"TENANT#{t.id}#FWD#ada@example.com"
    assert item["emailActivityId"] == activity_id and item["source"] == "forward-profile"
    assert item["createdDate"] == int(msg.created_at.timestamp() * 1000)
    assert (item["toEmail"], item["fromEmail"], item["candidateId"]) == (GOOD["toEmail"], msg.sender, ada["id"])
    # no contact item: the forward is not communication with the candidate
    assert [i for i in table_items() if i.get("type") == "contact"] == []


def test_unsafe_profile_url_is_not_a_link(handler, tenant):
    from parley.dal import messages
    from parley.domain import users

    t, _ = tenant
    users.upsert_candidate(t.id, email="eve@example.com", firstname="Eve", profile_url="javascript:alert(1)")
    out = handler(FORWARD)(_forward(t.id, {**GOOD, "candidateEmail": "eve@example.com"}))
    assert out["statusCode"] == 200, out
    msg = messages.get(t.id, body(out)["data"]["emailActivityId"])
    assert "href" not in msg.body and "javascript:alert(1)" in msg.body


def test_last_contact_summary_comes_from_the_candidate_index(handler, app_env, tenant, ada):
    from parley.dal import messages
    from parley.domain import emails
    from parley.domain.context import Caller

    t, _ = tenant
    caller = Caller.of(t)
    sent = emails.new_outbound_email(
        caller, source_api="candidate", recipient="ada@example.com", subject="Hi", body="x", candidate_id=ada["id"]
    )
    emails.submit(sent)
    out = handler(FORWARD)(_forward(t.id))
    msg = messages.get(t.id, body(out)["data"]["emailActivityId"])
    assert (
        f"Last contact: EMAIL sent to the candidate at {messages.get(t.id, sent.id).model_dump(mode='json')['created_at']}" in msg.body_text
    )


def test_idempotency_key_forwards_once(handler, tenant, ada, send_queue, drain, table_items):
    t, _ = tenant
    fwd = handler(FORWARD)
    first = fwd(_forward(t.id, key="fwd-1"))
    second = fwd(_forward(t.id, key="fwd-1"))
    assert first["statusCode"] == second["statusCode"] == 200
    assert body(first) == body(second)
    assert len(drain(send_queue[1])) == 1
    assert len(_forwards(table_items())) == 1
    changed = fwd(_forward(t.id, {**GOOD, "subject": "Another subject"}, key="fwd-1"))
    assert changed["statusCode"] == 422 and body(changed)["status"] == 422


BAD = {
    "no subject": {k: v for k, v in GOOD.items() if k != "subject"},
    "no toEmail": {k: v for k, v in GOOD.items() if k != "toEmail"},
    "no candidateEmail": {k: v for k, v in GOOD.items() if k != "candidateEmail"},
    "subject too short": {**GOOD, "subject": "ab"},
    "subject too long": {**GOOD, "subject": "s" * 79},
    "subject with CRLF": {**GOOD, "subject": "Hi\r\nBcc: x@y.example"},
    "toEmail not an address": {**GOOD, "toEmail": "not-an-email"},
    "toEmail too long": {**GOOD, "toEmail": "a" * 70 + "@example.com"},
    "candidateEmail too short": {**GOOD, "candidateEmail": "a@"},
    "unknown candidate": {**GOOD, "candidateEmail": "nobody@example.com"},
}


@pytest.mark.parametrize("payload", BAD.values(), ids=BAD.keys())
def test_bad_input_is_400_and_stores_nothing(handler, tenant, ada, payload, send_queue, drain, table_items):
    t, _ = tenant
    before = table_items()
    out = handler(FORWARD)(_forward(t.id, payload))
    assert out["statusCode"] == 400, out
    res = body(out)
    assert set(res) == {"status", "message"} and res["status"] == 400 and res["message"]
    assert table_items() == before
    assert drain(send_queue[1]) == []


def test_missing_user_header_and_non_json_body(handler, tenant, ada, table_items):
    t, _ = tenant
    before = table_items()
    out = handler(FORWARD)(_forward(t.id, user=None))
    assert out["statusCode"] == 400 and "x-ph-userid" in body(out)["message"].lower().replace("_", "-")
    ev = _forward(t.id)
    ev["body"] = json.dumps([GOOD])
    assert handler(FORWARD)(ev)["statusCode"] == 400
    assert table_items() == before


def test_candidate_of_another_tenant_is_unknown(handler, tenant, other_tenant, ada):
    o, _ = other_tenant
    out = handler(FORWARD)(_forward(o.id))
    assert out["statusCode"] == 400 and "not a candidate" in body(out)["message"]


def test_activity_newest_first_paged_filtered_and_tenant_scoped(handler, tenant, other_tenant, ada):
    from parley.domain import users

    t, _ = tenant
    o, _ = other_tenant
    users.upsert_candidate(o.id, email="ada@example.com")
    fwd = handler(FORWARD)
    ids = []
    for n in range(3):
        out = fwd(_forward(t.id, {**GOOD, "subject": f"Forward number {n}", "toName": f"Manager {n}"}))
        ids.append(body(out)["data"]["emailActivityId"])
    fwd(_forward(o.id))  # the other tenant's forward of its own Ada

    act = handler(ACTIVITY)
    out = act(_activity(t.id))
    assert out["statusCode"] == 200, out
    res = body(out)
    assert set(res) == {"pagination", "data", "status"} and res["status"] == 200
    assert set(res["pagination"]) == {
        "first", "last", "hasPrevious", "hasNext", "totalElements", "totalPages", "size", "currentPage", "numberOfElements"
    }  # fmt: skip
    assert [d["emailActivityId"] for d in res["data"]] == ids[::-1]
    first = res["data"][0]
    assert set(first) == {"createdDate", "toName", "subject", "fromName", "toEmail", "fromEmail", "source", "emailActivityId"}
    assert (first["subject"], first["toName"], first["source"]) == ("Forward number 2", "Manager 2", "forward-profile")
    assert isinstance(first["createdDate"], int) and first["createdDate"] > 1_700_000_000_000
    assert first["fromEmail"] == "no-reply@parley.example"
    assert res["pagination"]["totalElements"] == 3 and res["pagination"]["size"] == 10

    page = body(act(_activity(t.id, offset=1, limit=1)))
    assert [d["emailActivityId"] for d in page["data"]] == [ids[1]]
    p = page["pagination"]
    assert (p["first"], p["last"], p["hasPrevious"], p["hasNext"], p["totalPages"], p["currentPage"]) == (False, False, True, True, 3, 1)

    only = body(act(_activity(t.id, communicationId=ids[0])))
    assert [d["emailActivityId"] for d in only["data"]] == [ids[0]] and only["pagination"]["totalElements"] == 1
    assert body(act(_activity(t.id, communicationId="nope")))["data"] == []
    assert body(act(_activity(t.id, email="ADA@EXAMPLE.COM")))["pagination"]["totalElements"] == 3
    assert body(act(_activity(o.id)))["pagination"]["totalElements"] == 1
    assert body(act(_activity(t.id, email="someone@example.com")))["data"] == []


@pytest.mark.parametrize(
    "query",
    [{"email": None}, {"offset": "-1"}, {"limit": "0"}, {"limit": "-5"}, {"limit": "abc"}, {"offset": "1.5"}, {"limit": "100000"}],
    ids=["no email", "negative offset", "zero limit", "negative limit", "limit not int", "offset not int", "limit too big"],
)
def test_activity_bad_input_is_400(handler, tenant, query):
    t, _ = tenant
    q = {"email": "ada@example.com", **query}
    ev = api_event("candidate/forward_profile_activity", tenant_id=t.id, query={k: v for k, v in q.items() if v is not None})
    out = handler(ACTIVITY)(ev)
    assert out["statusCode"] == 400, out
    assert set(body(out)) == {"status", "message"}


def test_activity_needs_user_header(handler, tenant):
    t, _ = tenant
    ev = api_event("candidate/forward_profile_activity", tenant_id=t.id, headers={"x-ph-userid": None})
    assert handler(ACTIVITY)(ev)["statusCode"] == 400
