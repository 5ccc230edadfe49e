"""SMS opt-in: GET status, PUT change (with history), GET history as a Spring Page."""

from __future__ import annotations

import pytest

from helpers import api_event, body

GET, PUT, HISTORY = "CandidateApi.SmsOptinGetFunction", "CandidateApi.SmsOptinPutFunction", "CandidateApi.SmsOptinHistoryFunction"
PHONE = "+15555550100"


def put(handler, tenant_id, payload, user="recruiter-9"):
    return handler(PUT)(api_event("candidate/sms_optin_put", tenant_id=tenant_id, body=payload, headers={"x-ph-userid": user}))


def get(handler, tenant_id, query):
    return handler(GET)(api_event("candidate/sms_optin_get", tenant_id=tenant_id, query=query))


def history(handler, tenant_id, **query):
    q = {"phoneNumber": PHONE, **{k: str(v) for k, v in query.items()}}
    return handler(HISTORY)(api_event("candidate/sms_optin_history", tenant_id=tenant_id, query=q))


def test_unknown_number_is_opted_out(handler, tenant):
    t, _ = tenant
    res = body(get(handler, t.id, {"phoneNumber": PHONE}))
    assert res == {"details": {"message": f"{PHONE} is not opted in to SMS"}, "status": "OPTED_OUT"}


def test_put_sets_state_and_appends_history(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    out = put(handler, t.id, {"phoneNumber": "+1 555-555-0100", "email": "Ada@Example.com", "optIn": True})
    assert out["statusCode"] == 200, out
    assert body(out)["status"] == "SUCCESS"
    assert body(get(handler, t.id, {"phoneNumber": PHONE}))["status"] == "OPTED_IN"  # normalised number
    assert body(get(handler, t.id, {"email": "ada@example.com"}))["status"] == "OPTED_IN"
    assert body(get(handler, o.id, {"phoneNumber": PHONE}))["status"] == "OPTED_OUT"  # tenant-scoped

    put(handler, t.id, {"phoneNumber": PHONE, "optIn": False}, user="recruiter-2")
    assert body(get(handler, t.id, {"phoneNumber": PHONE}))["status"] == "OPTED_OUT"
    assert body(get(handler, t.id, {"email": "ada@example.com"}))["status"] == "OPTED_IN"  # only the number changed

    page = body(history(handler, t.id))
    assert page["status"] == "SUCCESS"
    details = page["details"]
    assert [(c["actionType"], c["reason"]) for c in details["content"]] == [
        ("OPT_OUT", "Updated via API by recruiter-2"),
        ("OPT_IN", "Updated via API by recruiter-9"),
    ]
    assert all(c["phoneNumber"] == PHONE and isinstance(c["createdDate"], int) for c in details["content"])
    assert details["totalElements"] == 2 and details["totalPages"] == 1 and details["numberOfElements"] == 2
    assert details["first"] is True and details["last"] is True and details["empty"] is False
    assert details["pageable"] == {
        "sort": {"sorted": False, "empty": True, "unsorted": True},
        "pageNumber": 0, "pageSize": 20, "offset": 0, "paged": True, "unpaged": False,
    }  # fmt: skip
    assert body(history(handler, o.id))["details"]["totalElements"] == 0


def test_history_offset_is_a_page_index(handler, tenant):
    t, _ = tenant
    for i in range(5):
        put(handler, t.id, {"phoneNumber": PHONE, "optIn": i % 2 == 0}, user=f"r{i}")
    second = body(history(handler, t.id, offset=1, size=2))["details"]
    assert [c["reason"] for c in second["content"]] == ["Updated via API by r2", "Updated via API by r1"]
    assert second["number"] == 1 and second["pageable"]["offset"] == 2 and second["totalPages"] == 3
    assert second["first"] is False and second["last"] is False
    past = body(history(handler, t.id, offset=7, size=2))["details"]
    assert past["content"] == [] and past["empty"] is True and past["totalElements"] == 5


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"optIn": True}, "phoneNumber or email is required"),
        ({"phoneNumber": PHONE}, "optIn"),
        ({"phoneNumber": "12", "optIn": True}, "phoneNumber"),
        ({"phoneNumber": "+1555abc0100", "optIn": True}, "phoneNumber"),
        ({"email": "nope", "optIn": True}, "email"),
        ({"phoneNumber": PHONE, "optIn": "maybe"}, "optIn"),
    ],
)
def test_bad_put_is_400_and_stores_nothing(handler, tenant, payload, needle):
    t, _ = tenant
    out = put(handler, t.id, payload)
    assert out["statusCode"] == 400, out
    assert needle in body(out)["message"] and body(out)["status"] == 400
    assert body(history(handler, t.id))["details"]["totalElements"] == 0


@pytest.mark.parametrize("query", [{"offset": "9999999999999999999"}, {"offset": "2147483648"}, {"size": "9999999999999999999"}])
def test_history_paging_beyond_a_java_int_is_400(handler, tenant, query):
    # Issue 11: offset=9999999999999999999 was 200 with "pageNumber": 9999999999999999999 (decision S3).
    t, _ = tenant
    out = history(handler, t.id, **query)
    assert out["statusCode"] == 400
    (name,) = query
    assert body(out) == {"status": 400, "message": f"{name}: Input should be less than or equal to 2147483647"}


def test_bad_reads_are_400(handler, tenant):
    t, _ = tenant
    assert get(handler, t.id, None)["statusCode"] == 400
    assert history(handler, t.id, offset=-1)["statusCode"] == 400
    assert history(handler, t.id, size=0)["statusCode"] == 400
    no_phone = handler(HISTORY)(api_event("candidate/sms_optin_history", tenant_id=t.id, query={"offset": "0"}))
    assert no_phone["statusCode"] == 400 and "phoneNumber" in body(no_phone)["message"]
