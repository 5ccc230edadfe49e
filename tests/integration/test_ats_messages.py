"""GET /company/{companyID}/applicant/{applicantID}/messages (seed 002) on moto: the applicant's email from
the candidate index, the always-present fields and the `fields` expansions, user numbering (on the send
paths; a GET never writes), 400/404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import api_event, body

ATS = "AtsApi.ApplicantMessagesFunction"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BASE = {"id", "created_by", "created_at", "auto", "delivered", "deliver_at"}
ALL = "author,replied,mail,attachments,candidate"


def _store(tenant_id, n, *, candidate_id, direction="outbound", channel="email", recruiter="recruiter-42", conversation="conv-1", **extra):
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    cand = "ada@example.com" if channel == "email" else "+15555550100"
    us = "no-reply@parley.example"
    fields = dict(
        tenant_id=tenant_id,
        id=new_id(),
        channel=channel,
        direction=direction,
        status=MessageStatus.SENT if direction == "outbound" else MessageStatus.RECEIVED,
        source_api="candidate",
        sender=us if direction == "outbound" else cand,
        recipient=cand if direction == "outbound" else us,
        subject=f"Subject {n}",
        body=f"Hello Ada,\n\nmessage {n} <3",
        recruiter_id=recruiter if direction == "outbound" else None,
        candidate_id=candidate_id,
        conversation_id=conversation,
        provider="ses",
        created_at=T0 + timedelta(hours=n),
    )
    fields.update(extra)
    msg = Message(**fields)
    messages.create(msg)
    return msg


def _get(tenant_id, company, applicant, fields=ALL):
    ev = api_event("ats/applicant_messages", tenant_id=tenant_id, query={"fields": fields} if fields is not None else None)
    ev["path"] = f"/company/{company}/applicant/{applicant}/messages"
    ev["pathParameters"] = {"companyID": company, "applicantID": applicant}
    return ev


@pytest.fixture
def ada(tenant):
    from parley.domain import users

    t, _ = tenant
    users.upsert_user(t.id, "recruiter-42", firstname="Grace", lastname="Hopper")
    return users.upsert_candidate(t.id, email="ada@example.com", phone="+15555550100", firstname="Ada", lastname="Lovelace")


def test_messages_oldest_first_with_every_expansion(handler, tenant, ada):
    from parley.models.domain import MessageStatus

    t, _ = tenant
    cid = ada["id"]
    first = _store(t.id, 0, candidate_id=cid, delivery_status="DELIVERED", sent_at=T0 + timedelta(minutes=1))
    reply = _store(
        t.id, 1, candidate_id=cid, direction="inbound", body="<p>Yes &amp; thanks</p>", body_text="Yes & thanks",
        attachments=[{"filename": "cv.pdf", "contentType": "application/pdf", "size": 1234}],
    )  # fmt: skip
    later = _store(
        t.id, 2, candidate_id=cid, recruiter="recruiter-99", status=MessageStatus.SCHEDULED, scheduled_at=T0 + timedelta(days=1), auto=True
    )
    bounced = _store(t.id, 3, candidate_id=cid, conversation="conv-2", delivery_status="BOUNCED", sent_at=T0 + timedelta(hours=3))
    _store(t.id, 4, candidate_id=cid, channel="sms")  # not email: not listed
    _store(t.id, 5, candidate_id="someone-else")  # another candidate

    out = handler(ATS)(_get(t.id, t.id, cid))
    assert out["statusCode"] == 200, out
    res = body(out)
    assert isinstance(res, list)
    assert [m["id"] for m in res] == [first.id, reply.id, later.id, bounced.id]
    m0, m1, m2, m3 = res
    assert set(m0) == BASE | {"mail", "author", "candidate", "attachments", "replied"}

    assert m0["created_by"] == 1 and isinstance(m0["created_by"], int)  # recruiter-42 was numbered first (upsert-user)
    assert m0["created_at"] == "2026-11-02T09:00:00.000Z"
    assert (m0["auto"], m0["delivered"], m0["deliver_at"]) == (False, True, "2026-11-02T09:01:00.000Z")
    assert m0["mail"] == {
        "subject": "Subject 0",
        "text": "Hello Ada,\n\nmessage 0 <3",
        "html": "<p>Hello Ada,</p><p>message 0 &lt;3</p>",
        "status": "DELIVERED",
    }
    assert m0["author"] == {"firstname": "Grace", "lastname": "Hopper"}
    assert m0["candidate"] == {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}
    assert m0["attachments"] == [] and m0["replied"] is True  # the inbound message answered it

    assert m1["created_by"] is None and m1["delivered"] is True and m1["deliver_at"] == m1["created_at"]
    assert m1["mail"] == {"subject": "Subject 1", "text": "Yes & thanks", "html": "<p>Yes &amp; thanks</p>", "status": None}
    assert m1["author"] == {"firstname": "Ada", "lastname": "Lovelace"}  # the candidate wrote it
    assert m1["attachments"] == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": 1234}]
    assert m1["replied"] is True  # recruiter wrote after it (m2)

    assert m2["created_by"] is None  # a recruiter never numbered (stored without a send path): read, not numbered
    assert (m2["auto"], m2["delivered"], m2["deliver_at"]) == (True, False, "2026-11-03T09:00:00.000Z")
    assert m2["author"] == {"firstname": "", "lastname": ""} and m2["replied"] is False

    assert m3["delivered"] is False and m3["mail"]["status"] == "BOUNCED" and m3["replied"] is False

    again = body(handler(ATS)(_get(t.id, t.id, cid)))
    assert [m["created_by"] for m in again] == [1, None, None, 1]  # stable


def test_fields_select_the_expansions(handler, tenant, ada):
    t, _ = tenant
    _store(t.id, 0, candidate_id=ada["id"])
    fn = handler(ATS)
    (plain,) = body(fn(_get(t.id, t.id, ada["id"], fields=None)))
    assert set(plain) == BASE
    (some,) = body(fn(_get(t.id, t.id, ada["id"], fields=" mail , candidate,")))
    assert set(some) == BASE | {"mail", "candidate"}
    assert body(fn(_get(t.id, t.id, ada["id"], fields="")))[0].keys() == BASE


def test_no_messages_is_an_empty_array(handler, tenant, ada):
    t, _ = tenant
    out = handler(ATS)(_get(t.id, t.id, ada["id"]))
    assert out["statusCode"] == 200 and body(out) == []


def test_errors(handler, tenant, other_tenant, ada, table_items):
    from parley.domain import users

    t, _ = tenant
    o, _ = other_tenant
    theirs = users.upsert_candidate(o.id, email="bob@example.com")
    fn = handler(ATS)
    before = table_items()
    cases = [
        (_get(t.id, t.id, ada["id"], fields="author,salary"), 400),
        (_get(t.id, o.id, ada["id"]), 404),  # another tenant's company id
        (_get(t.id, "nope", ada["id"]), 404),
        (_get(t.id, t.id, "no-such-applicant"), 404),
        (_get(t.id, t.id, theirs["id"]), 404),  # another tenant's applicant
        (_get(t.id, t.id, "x" * 300), 404),
    ]
    for event, status in cases:
        out = fn(event)
        assert out["statusCode"] == status, (event["path"], out)
        res = body(out)
        assert set(res) == {"status", "message"} and res["status"] == status
    assert table_items() == before


def test_email_sent_via_candidate_api_is_listed(handler, app_env, tenant):
    from parley.domain import candidates

    t, _ = tenant
    sent = handler("CandidateApi.SendEmailFunction")(
        api_event(
            "candidate/send_email",
            tenant_id=t.id,
            body={"toEmail": "grace@example.com", "subject": "Phone interview", "emailContent": "<p>Free tomorrow?</p>"},
            headers={"Idempotency-Key": None, "x-ph-userid": "recruiter-7"},
        )
    )
    activity_id = body(sent)["data"]["emailActivityId"]
    cid = candidates.find(t.id, email="grace@example.com").id
    (m,) = body(handler(ATS)(_get(t.id, t.id, cid, fields="mail,author")))
    assert m["id"] == activity_id and m["delivered"] is False and m["deliver_at"] is None
    assert m["mail"]["html"] == "<p>Free tomorrow?</p>" and m["mail"]["text"] == "Free tomorrow?"
    assert isinstance(m["created_by"], int) and m["author"] == {"firstname": "", "lastname": ""}


def test_directory_admin_commands(aws, tenant, capsys):
    import json

    from parley.admin import main

    t, _ = tenant
    assert main(["upsert-candidate", "--tenant-id", t.id, "--email", "Ada@Example.com", "--firstname", "Ada"]) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["email"] == "ada@example.com" and c["firstname"] == "Ada"
    assert (
        main(["upsert-candidate", "--tenant-id", t.id, "--candidate-id", c["id"], "--lastname", "Lovelace", "--timezone", "Europe/London"])
        == 0
    )
    c2 = json.loads(capsys.readouterr().out)
    assert (c2["id"], c2["lastname"], c2["email"], c2["timezone"]) == (c["id"], "Lovelace", "ada@example.com", "Europe/London")
    for bad in (["--email", "bad"], ["--email", "z@example.com", "--timezone", "Mars/Base"], ["--firstname", "No address"]):
        assert main(["upsert-candidate", "--tenant-id", t.id, *bad]) == 1
    assert main(["upsert-candidate", "--tenant-id", "no-such-tenant", "--email", "z@example.com"]) == 1
    capsys.readouterr()

    assert main(["upsert-user", "--tenant-id", t.id, "--user-id", "r-1", "--firstname", "Grace"]) == 0
    assert json.loads(capsys.readouterr().out)["numericId"] == 1
    assert main(["upsert-user", "--tenant-id", t.id, "--user-id", "r-2"]) == 0
    assert json.loads(capsys.readouterr().out)["numericId"] == 2
    assert main(["upsert-user", "--tenant-id", t.id, "--user-id", "r-1", "--lastname", "Hopper"]) == 0
    u = json.loads(capsys.readouterr().out)
    assert (u["numericId"], u["firstname"], u["lastname"]) == (1, "Grace", "Hopper")  # renamed, same integer


def test_user_numbers_are_per_tenant_and_never_reused(aws, tenant, other_tenant):
    from parley.domain import users

    t, _ = tenant
    o, _ = other_tenant
    assert sorted(users.number(t.id, u) for u in ("a", "b", "c")) == [1, 2, 3]
    found = users.known(t.id, {"a", "b", "c", "never-seen"})
    assert sorted(u.numeric_id for u in found.values()) == [1, 2, 3]  # an unknown user is left out
    assert [users.number(t.id, u) for u in ("a", "b", "c")] == [found[u].numeric_id for u in ("a", "b", "c")]
    assert users.known(t.id, {"a", "b", "c"}) == found
    assert users.number(o.id, "a") == 1


def test_a_get_never_writes(handler, tenant, ada, table_items):
    """Recruiters the directory does not number yet (one unknown, one with names only) are read, not
    numbered: the table is the same after the GET. Their messages show created_by null and the names the
    directory has."""
    from parley.domain import users

    t, _ = tenant
    cid = ada["id"]
    users.users.set_names(t.id, "recruiter-named", firstname="Ada", lastname="Byron")  # the dal: names, no number
    _store(t.id, 0, candidate_id=cid)  # recruiter-42: numbered (upsert-user)
    _store(t.id, 1, candidate_id=cid, recruiter="recruiter-unknown")
    _store(t.id, 2, candidate_id=cid, recruiter="recruiter-named")
    before = table_items()
    res = body(handler(ATS)(_get(t.id, t.id, cid)))
    assert table_items() == before
    assert [m["created_by"] for m in res] == [1, None, None]
    assert [m["author"] for m in res] == [
        {"firstname": "Grace", "lastname": "Hopper"},
        {"firstname": "", "lastname": ""},
        {"firstname": "Ada", "lastname": "Byron"},
    ]


def test_sending_numbers_the_recruiter(handler, app_env, tenant):
    """The send path gives a new recruiter its integer (so the ATS read has nothing to write)."""
    from parley.dal import users as users_table

    t, _ = tenant
    for user, scheduled in (("recruiter-a", False), ("recruiter-b", True), ("recruiter-a", False)):
        payload = {"toEmail": "grace@example.com", "subject": "Hello", "emailContent": "<p>Hello</p>"}
        if scheduled:
            from parley.domain import emails
            from parley.domain.context import Caller

            caller = Caller.of(t)
            msg = emails.new_outbound_email(caller, source_api="candidate", recipient="grace@example.com", subject="Hi", body="x",
                                            recruiter_id=user)  # fmt: skip
            emails.schedule(msg, datetime.now(UTC) + timedelta(hours=1))
            continue
        out = handler("CandidateApi.SendEmailFunction")(
            api_event("candidate/send_email", tenant_id=t.id, body=payload, headers={"Idempotency-Key": None, "x-ph-userid": user})
        )
        assert out["statusCode"] == 200, out
    assert users_table.get(t.id, "recruiter-a")["numeric_id"] == 1
    assert users_table.get(t.id, "recruiter-b")["numeric_id"] == 2
