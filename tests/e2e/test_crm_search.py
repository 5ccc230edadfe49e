"""The CRM's record reads over HTTP against the local stack: GET /find, /find-list, /find/{id}, /find-all, /page,
GET and POST /dynamic-search, /csv-export. Records are made by POST /send (and sent by the stack's dispatcher);
the seed's shapes, the CSV, what is stored (through ``emulator_env``) and tenant isolation are checked."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import requests
from crm_shapes import PAGE_KEYS, PAGEABLE_KEYS, RECORD_KEYS, SORT_KEYS

BASE = "/api/v1/communications"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-User-ID": "user-7"}


def get(local, key: str, path: str, params=None) -> requests.Response:
    return requests.get(local.api + BASE + path, params=params, headers=auth(key), timeout=30)


def post(local, key: str, path: str, payload) -> requests.Response:
    return requests.post(local.api + BASE + path, json=payload, headers=auth(key), timeout=30)


def addr(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def assert_error(res: requests.Response, status: int) -> str:
    assert res.status_code == status, res.text
    err = res.json()
    assert set(err) == {"title", "detail", "time"}
    return err["detail"]


def ids(res: requests.Response) -> list[str]:
    assert res.status_code == 200, res.text
    data = res.json()
    return [r["id"] for r in (data["content"] if isinstance(data, dict) else data)]


def assert_page(data: dict) -> None:
    assert set(data) == PAGE_KEYS
    assert set(data["pageable"]) == PAGEABLE_KEYS and set(data["sort"]) == SORT_KEYS and set(data["pageable"]["sort"]) == SORT_KEYS
    assert all(set(r) == RECORD_KEYS for r in data["content"])


@pytest.fixture(scope="module")
def world(local):
    """Tenant A with four sent records (oldest first in ``a``), tenant B with one."""
    a, b = local.new_tenant("search-a"), local.new_tenant("search-b")
    sends = [
        {"subject": "Quote for ACME", "body": "<p>Our quote</p>", "recipients": [addr("ada")], "type": "OFFERTE",
         "relatedEntityType": "deal", "relatedEntityId": "42"},
        {"subject": "Follow up", "body": "Just checking in", "recipients": [addr("bob")]},
        {"subject": '=HYPERLINK("http://evil.example","x")', "body": "Comma, \"quote\"\nand newline", "recipients": [addr("+formula")],
         "cc": [addr("cc")]},
        {"subject": "Another quote", "body": "b", "recipients": [addr("cy")], "type": "OFFERTE", "relatedEntityType": "deal",
         "relatedEntityId": "43"},
    ]  # fmt: skip
    created = []
    for payload in sends:
        res = post(local, a["apiKey"], "/send", payload)
        assert res.status_code == 200, res.text
        created.append(res.json())
    res = post(local, b["apiKey"], "/send", {"subject": "Quote for ACME", "body": "x", "recipients": [addr("other")], "type": "OFFERTE"})
    assert res.status_code == 200, res.text
    foreign = res.json()

    def all_sent():
        got = get(local, a["apiKey"], "/find", {"ids": [r["id"] for r in created]}).json()
        return len(got) == 4 and all(r["status"] == "SENT" for r in got)

    assert local.wait_for(all_sent, timeout=15, interval=0.2), "the stack did not send the records"
    return {"a": a, "b": b, "records": created, "foreign": foreign}


def test_find_by_id_shape_and_stored_state_and_tenant_isolation(local, world, emulator_env):
    from parley.dal import messages

    a, b, recs = world["a"], world["b"], world["records"]
    res = get(local, a["apiKey"], f"/find/{recs[0]['id']}")
    assert res.status_code == 200, res.text
    rec = res.json()
    assert set(rec) == RECORD_KEYS
    assert (rec["id"], rec["tenantId"], rec["status"], rec["type"]) == (recs[0]["id"], a["tenantId"], "SENT", "OFFERTE")
    assert (rec["relatedEntityType"], rec["relatedEntityId"], rec["subject"]) == ("deal", "42", "Quote for ACME")
    stored = messages.get(a["tenantId"], rec["id"])
    assert stored.status.value == "SENT" and stored.provider_message_id == rec["messageId"] and stored.subject == rec["subject"]

    assert "not found" in assert_error(get(local, b["apiKey"], f"/find/{recs[0]['id']}"), 404)
    assert_error(get(local, a["apiKey"], f"/find/{world['foreign']['id']}"), 404)
    assert_error(get(local, a["apiKey"], "/find/no-such-record"), 404)
    assert get(local, b["apiKey"], f"/find/{world['foreign']['id']}").status_code == 200


@pytest.mark.parametrize("path", ["/find", "/find-list"])
def test_find_and_find_list_by_ids(local, world, path):
    a, recs, foreign = world["a"], world["records"], world["foreign"]
    asked = [recs[2]["id"], foreign["id"], "nope", recs[0]["id"]]
    res = get(local, a["apiKey"], path, {"ids": asked})  # repeated ?ids=
    assert ids(res) == [recs[2]["id"], recs[0]["id"]]
    assert all(set(r) == RECORD_KEYS for r in res.json())
    assert ids(get(local, a["apiKey"], path, {"ids": ",".join(asked)})) == [recs[2]["id"], recs[0]["id"]]  # comma-separated
    assert get(local, a["apiKey"], path).json() == []
    assert ids(get(local, world["b"]["apiKey"], path, {"ids": asked})) == [foreign["id"]]
    assert_error(get(local, a["apiKey"], path, {"ids": ",".join(str(i) for i in range(101))}), 400)


def test_find_all_newest_first_with_total(local, world, emulator_env):
    from parley.dal import counters

    a, recs = world["a"], world["records"]
    res = get(local, a["apiKey"], "/find-all")
    assert ids(res) == [r["id"] for r in reversed(recs)]
    assert all(set(r) == RECORD_KEYS for r in res.json())
    assert res.headers["X-Total-Count"] == "4" == str(counters.records(a["tenantId"]))
    res = get(local, world["b"]["apiKey"], "/find-all")
    assert ids(res) == [world["foreign"]["id"]] and res.headers["X-Total-Count"] == "1"


def test_page_shape_paging_sorting_and_errors(local, world):
    a, recs = world["a"], world["records"]
    newest = [r["id"] for r in reversed(recs)]
    res = get(local, a["apiKey"], "/page")
    assert res.status_code == 200, res.text
    data = res.json()
    assert_page(data)
    assert [r["id"] for r in data["content"]] == newest
    assert (data["totalElements"], data["totalPages"], data["size"], data["number"], data["first"], data["last"]) == (
        4,
        1,
        20,
        0,
        True,
        True,
    )
    assert data["sort"] == {"empty": False, "sorted": True, "unsorted": False}

    data = get(local, a["apiKey"], "/page", {"page": 1, "size": 3}).json()
    assert [r["id"] for r in data["content"]] == newest[3:]
    assert (data["numberOfElements"], data["totalPages"], data["first"], data["last"], data["pageable"]["offset"]) == (1, 2, False, True, 3)
    assert ids(get(local, a["apiKey"], "/page", {"direction": "ASC", "size": 2})) == [recs[0]["id"], recs[1]["id"]]
    # another field: sorted in memory, case-insensitive ("=HYPERLINK" < "Another" < "Follow" < "Quote")
    assert ids(get(local, a["apiKey"], "/page", {"sortBy": "subject", "direction": "ASC"})) == [recs[i]["id"] for i in (2, 3, 1, 0)]

    assert "sortBy must be one of" in assert_error(get(local, a["apiKey"], "/page", {"sortBy": "colour"}), 400)
    assert_error(get(local, a["apiKey"], "/page", {"direction": "sideways"}), 400)
    assert_error(get(local, a["apiKey"], "/page", {"page": -1}), 400)
    assert_error(get(local, a["apiKey"], "/page", {"size": "many"}), 400)
    assert [r["id"] for r in get(local, world["b"]["apiKey"], "/page").json()["content"]] == [world["foreign"]["id"]]


def test_dynamic_search_get(local, world):
    a, recs = world["a"], world["records"]
    res = get(local, a["apiKey"], "/dynamic-search", {"status": "SENT", "type": "OFFERTE"})
    assert res.status_code == 200, res.text
    assert_page(res.json())
    assert ids(res) == [recs[3]["id"], recs[0]["id"]]
    assert res.json()["totalElements"] == 2 and res.json()["sort"]["sorted"] is False
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"relatedEntityType": "deal", "relatedEntityId": "42"})) == [recs[0]["id"]]
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"conversationId": recs[1]["conversationId"]})) == [recs[1]["id"]]
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"search": "QUOTE"})) == [recs[i]["id"] for i in (3, 2, 0)]  # body of #2 too
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"search": ["quote", "acme"]})) == [recs[0]["id"]]
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"recipients": recs[1]["recipients"][0].upper()})) == [recs[1]["id"]]
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"status": "PENDING"})) == []
    assert ids(get(local, a["apiKey"], "/dynamic-search", {"sort": "subject,desc", "size": 1})) == [recs[0]["id"]]
    assert "unknown filter field 'colour'" in assert_error(get(local, a["apiKey"], "/dynamic-search", {"colour": "red"}), 400)
    assert "status must be one of" in assert_error(get(local, a["apiKey"], "/dynamic-search", {"status": "LOST"}), 400)
    assert ids(get(local, world["b"]["apiKey"], "/dynamic-search", {"search": "quote"})) == [world["foreign"]["id"]]


def test_dynamic_search_post(local, world):
    a, recs = world["a"], world["records"]
    res = post(local, a["apiKey"], "/dynamic-search", {"filters": {}, "page": 0, "search": [], "size": 0, "sort": []})
    assert res.status_code == 200, res.text
    assert_page(res.json())
    assert res.json()["size"] == 20 and ids(res) == [r["id"] for r in reversed(recs)]
    payload = {"filters": {"type": "OFFERTE", "relatedEntityId": ["42", "43"]}, "sort": [{"field": "subject", "ascending": True}]}
    res = post(local, a["apiKey"], "/dynamic-search", payload)
    assert ids(res) == [recs[3]["id"], recs[0]["id"]] and res.json()["sort"]["sorted"] is True
    assert ids(post(local, a["apiKey"], "/dynamic-search", {"filters": {"type": None}, "search": ["follow"]})) == [recs[1]["id"]]
    page = post(local, a["apiKey"], "/dynamic-search", {"filters": {"status": "SENT"}, "page": 1, "size": 3}).json()
    assert [r["id"] for r in page["content"]] == [recs[0]["id"]] and page["totalPages"] == 2
    # the seed's sample body names fields no record has
    sample = {"filters": {"property1": None, "property2": None}, "page": 0, "search": ["string"], "size": 0,
              "sort": [{"ascending": True, "field": "string"}]}  # fmt: skip
    assert "property1" in assert_error(post(local, a["apiKey"], "/dynamic-search", sample), 400)
    assert_error(post(local, a["apiKey"], "/dynamic-search", {"sort": [{"field": "string"}]}), 400)
    assert ids(post(local, world["b"]["apiKey"], "/dynamic-search", {"filters": {"type": "OFFERTE"}})) == [world["foreign"]["id"]]


def test_csv_export(local, world):
    a, recs = world["a"], world["records"]
    res = get(local, a["apiKey"], "/csv-export", {"page": 0, "size": 3})
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert res.headers["Content-Disposition"] == 'attachment; filename="communication-records.csv"'
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8"))))
    assert rows[0] == sorted(RECORD_KEYS) and len(rows[0]) == 37
    got = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in got] == [r["id"] for r in reversed(recs)][:3]
    evil = next(r for r in got if r["id"] == recs[2]["id"])
    assert evil["subject"] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert evil["recipients"] == "'" + recs[2]["recipients"][0]  # starts with +
    assert evil["cc"] == recs[2]["cc"][0] and evil["status"] == "SENT" and evil["tenantId"] == a["tenantId"]
    assert evil["originalBody"] == 'Comma, "quote"\nand newline'
    rest = get(local, a["apiKey"], "/csv-export", {"page": 1, "size": 3})
    assert [r[rows[0].index("id")] for r in list(csv.reader(io.StringIO(rest.text)))[1:]] == [recs[0]["id"]]
    other = list(csv.reader(io.StringIO(get(local, world["b"]["apiKey"], "/csv-export").text)))
    assert [r[rows[0].index("id")] for r in other[1:]] == [world["foreign"]["id"]]
    assert_error(get(local, a["apiKey"], "/csv-export", {"size": 0}), 400)
