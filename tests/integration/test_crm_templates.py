"""CRM email templates (/api/v1/communications/templates): the five handlers on moto, with what they store,
tenant isolation, validation that stores nothing, the per-tenant cap, and rendering a stored template."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import api_event, body

CREATE, LIST, GET, UPDATE, DELETE = (
    f"CrmApi.{n}Function" for n in ("CreateTemplate", "ListTemplates", "GetTemplate", "UpdateTemplate", "DeleteTemplate")
)
SAMPLES = {
    CREATE: "crm/create_template",
    LIST: "crm/list_templates",
    GET: "crm/get_template",
    UPDATE: "crm/update_template",
    DELETE: "crm/delete_template",
}
BASE = "/api/v1/communications/templates"
QUOTE = {
    "name": "Quote",
    "subject": "Your quote {{ quote.number }}",
    "bodyHtml": "<p>Dear {{firstName}},</p><p>Amount: {{quote.amount}}</p>",
    "bodyText": "Dear {{firstName}}, amount: {{quote.amount}}",
    "type": "OFFERTE",
}


@pytest.fixture
def call(handler):
    """``call(CREATE, tenant_id, body=…, template_id=…, headers=…)`` → the handler's response."""

    def invoke(fn: str, tenant_id: str, *, template_id: str | None = None, headers: dict[str, str | None] | None = None, **kwargs: Any):
        event = api_event(SAMPLES[fn], tenant_id=tenant_id, headers=headers, **kwargs)
        if fn in (GET, UPDATE, DELETE):
            event["pathParameters"] = {"templateId": template_id}
            event["path"] = f"{BASE}/{template_id}"
        return handler(fn)(event)

    return invoke


def template_items(table_items, tenant_id: str) -> list[dict[str, Any]]:
    from parley.dal import keys

    return sorted((i for i in table_items() if i["PK"] == keys.template_pk(tenant_id)), key=lambda i: i["SK"])


def stored(table_items, tenant_id: str) -> tuple[dict[str, dict[str, Any]], int | None]:
    """The tenant's template items by id, and the counter's value (None: no counter item)."""
    items = template_items(table_items, tenant_id)
    counter = [i for i in items if i["SK"] == "COUNT"]
    return {i["id"]: i for i in items if i["SK"].startswith("TPL#")}, (counter[0]["n"] if counter else None)


def assert_crm_error(out: dict[str, Any], status: int, *fragments: str) -> None:
    assert out["statusCode"] == status, out
    payload = body(out)
    assert set(payload) == {"title", "detail", "time"}
    for fragment in fragments:
        assert fragment in payload["detail"], payload


def test_create_returns_201_with_location_and_stores_the_template(call, tenant, table_items):
    t, _ = tenant
    out = call(CREATE, t.id, body=QUOTE, headers={"X-User-ID": "user-7"})

    assert out["statusCode"] == 201, out
    created = body(out)
    assert set(created) == {
        "id",
        "tenantId",
        "name",
        "subject",
        "type",
        "created",
        "createdBy",
        "updated",
        "updatedBy",
        "bodyHtml",
        "bodyText",
        "variables",
    }
    assert created["tenantId"] == t.id
    assert (created["name"], created["subject"], created["bodyHtml"], created["bodyText"], created["type"]) == (
        QUOTE["name"],
        QUOTE["subject"],
        QUOTE["bodyHtml"],
        QUOTE["bodyText"],
        "OFFERTE",
    )
    assert created["variables"] == ["firstName", "quote.amount", "quote.number"]
    assert created["createdBy"] == "user-7"
    assert created["created"].endswith("Z")
    assert created["updated"] is None and created["updatedBy"] is None
    location = out["multiValueHeaders"]["Location"][0]
    assert location.endswith(f"{BASE}/{created['id']}")
    assert location.startswith("https://")

    items, count = stored(table_items, t.id)
    assert count == 1
    item = items[created["id"]]
    assert item["SK"] == f"TPL#{created['id']}"
    assert item["type"] == "template"
    assert item["tenant_id"] == t.id
    assert (item["name"], item["subject"], item["body_html"], item["body_text"], item["category"]) == (
        QUOTE["name"],
        QUOTE["subject"],
        QUOTE["bodyHtml"],
        QUOTE["bodyText"],
        "OFFERTE",
    )
    assert item["variables"] == ["firstName", "quote.amount", "quote.number"]
    assert item["created_by"] == "user-7"
    assert item["created_at"] == created["created"]
    assert not any(k.startswith("GSI") for k in item)  # templates are in no index


def test_get_returns_what_create_returned_and_list_orders_by_name_without_bodies(call, tenant):
    t, _ = tenant
    made = [body(call(CREATE, t.id, body={**QUOTE, "name": name})) for name in ("beta", "Alpha", "gamma")]

    got = call(GET, t.id, template_id=made[0]["id"])
    assert got["statusCode"] == 200, got
    assert body(got) == made[0]

    listed = call(LIST, t.id)
    assert listed["statusCode"] == 200, listed
    rows = body(listed)
    assert [r["name"] for r in rows] == ["Alpha", "beta", "gamma"]
    assert {r["id"] for r in rows} == {m["id"] for m in made}
    for row in rows:
        assert set(row) == {"id", "tenantId", "name", "subject", "type", "created", "createdBy", "updated", "updatedBy"}
        full = next(m for m in made if m["id"] == row["id"])
        assert row == {k: full[k] for k in row}


def test_list_of_a_tenant_without_templates_is_an_empty_array(call, tenant):
    t, _ = tenant
    out = call(LIST, t.id)
    assert out["statusCode"] == 200
    assert body(out) == []


def test_update_replaces_every_field_and_keeps_created(call, tenant, table_items):
    t, _ = tenant
    created = body(call(CREATE, t.id, body=QUOTE, headers={"X-User-ID": "user-7"}))
    change = {"name": "Quote v2", "subject": "Quote for {{name}}", "bodyHtml": "<p>Hello {{ name }}</p>"}

    out = call(UPDATE, t.id, template_id=created["id"], body=change, headers={"X-User-ID": "user-9"})

    assert out["statusCode"] == 200, out
    updated = body(out)
    assert updated["id"] == created["id"]
    assert (updated["name"], updated["subject"], updated["bodyHtml"]) == (change["name"], change["subject"], change["bodyHtml"])
    assert updated["bodyText"] is None and updated["type"] is None  # a full update: omitted fields are gone
    assert updated["variables"] == ["name"]
    assert (updated["created"], updated["createdBy"]) == (created["created"], "user-7")
    assert updated["updatedBy"] == "user-9"
    assert updated["updated"] >= created["created"]
    assert body(call(GET, t.id, template_id=created["id"])) == updated

    items, count = stored(table_items, t.id)
    assert count == 1
    item = items[created["id"]]
    assert "body_text" not in item and "category" not in item
    assert (item["name"], item["subject"], item["body_html"]) == ("Quote v2", change["subject"], change["bodyHtml"])
    assert item["variables"] == ["name"]
    assert (item["created_by"], item["updated_by"], item["updated_at"]) == ("user-7", "user-9", updated["updated"])

    # without X-User-ID the next update has no known author
    again = body(call(UPDATE, t.id, template_id=created["id"], body=change, headers={"X-User-ID": None}))
    assert again["updatedBy"] is None
    assert "updated_by" not in stored(table_items, t.id)[0][created["id"]]


def test_delete_returns_200_empty_removes_the_item_and_counts_it_out(call, tenant, table_items):
    t, _ = tenant
    keep = body(call(CREATE, t.id, body=QUOTE))
    gone = body(call(CREATE, t.id, body={**QUOTE, "name": "Other"}))
    assert stored(table_items, t.id)[1] == 2

    out = call(DELETE, t.id, template_id=gone["id"])

    assert out["statusCode"] == 200, out
    assert out["body"] == ""
    items, count = stored(table_items, t.id)
    assert set(items) == {keep["id"]}
    assert count == 1
    assert_crm_error(call(GET, t.id, template_id=gone["id"]), 404, gone["id"])
    assert_crm_error(call(DELETE, t.id, template_id=gone["id"]), 404, gone["id"])
    assert stored(table_items, t.id)[1] == 1  # a failed delete does not count anything out
    assert [r["id"] for r in body(call(LIST, t.id))] == [keep["id"]]


def test_another_tenants_template_is_404_for_get_update_delete_and_absent_from_its_list(call, tenant, other_tenant, table_items):
    t, _ = tenant
    o, _ = other_tenant
    created = body(call(CREATE, t.id, body=QUOTE))
    before = stored(table_items, t.id)

    assert_crm_error(call(GET, o.id, template_id=created["id"]), 404, "not found")
    assert_crm_error(call(UPDATE, o.id, template_id=created["id"], body={**QUOTE, "name": "hijacked"}), 404, "not found")
    assert_crm_error(call(DELETE, o.id, template_id=created["id"]), 404, "not found")
    assert body(call(LIST, o.id)) == []

    assert stored(table_items, t.id) == before
    assert template_items(table_items, o.id) == []  # the failed update created nothing in the other tenant
    assert body(call(GET, t.id, template_id=created["id"]))["name"] == "Quote"


def test_unknown_and_overlong_ids_are_404(call, tenant, table_items):
    t, _ = tenant
    for template_id in ("no-such-template", "x" * 2000):
        assert_crm_error(call(GET, t.id, template_id=template_id), 404, "not found")
        assert_crm_error(call(UPDATE, t.id, template_id=template_id, body=QUOTE), 404, "not found")
        assert_crm_error(call(DELETE, t.id, template_id=template_id), 404, "not found")
    assert template_items(table_items, t.id) == []


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        ({"name": "n", "subject": "s"}, ["bodyHtml, bodyText or both"]),
        ({"name": "n", "subject": "s", "bodyHtml": "", "bodyText": ""}, ["bodyHtml, bodyText or both"]),
        ({"name": "n", "subject": "s", "bodyHtml": "<p>Hi {{firstName</p>"}, ["unclosed placeholder", "bodyHtml", "line 1, character 7"]),
        ({"name": "n", "subject": "Hi {{}}", "bodyText": "x"}, ["empty placeholder", "subject"]),
        ({"name": "n", "subject": "s", "bodyText": "line\nHi {{ 1x }}"}, ["'{{1x}}'", "bodyText (line 2, character 4)"]),
        ({"name": "n", "subject": "s", "bodyText": "{{{raw}}}"}, ["invalid placeholder"]),
        ({"name": "n", "subject": "s", "bodyText": "{{a..b}}"}, ["invalid placeholder"]),
        ({"name": "n", "subject": "s", "bodyText": "".join(f"{{{{v{i}}}}}" for i in range(201))}, ["at most 200 distinct placeholders"]),
        ({"name": "n", "subject": "s", "bodyHtml": "é" * 170_000}, ["at most 327680 bytes"]),
        ({"name": "n", "subject": "a\r\nBcc: x@example.com", "bodyText": "x"}, ["subject"]),
        ({"name": "", "subject": "s", "bodyText": "x"}, ["name"]),
        ({"name": "n" * 201, "subject": "s", "bodyText": "x"}, ["name"]),
        ({"name": "n", "subject": "s", "bodyText": "x", "type": "not a type!"}, ["type"]),
        ({"subject": "s", "bodyText": "x"}, ["name"]),
    ],
)
def test_invalid_templates_are_400_and_store_nothing(call, tenant, table_items, payload, fragments):
    t, _ = tenant
    assert_crm_error(call(CREATE, t.id, body=payload), 400, *fragments)
    assert template_items(table_items, t.id) == []


def test_invalid_update_is_400_and_changes_nothing(call, tenant, table_items):
    t, _ = tenant
    created = body(call(CREATE, t.id, body=QUOTE))
    before = stored(table_items, t.id)
    bad = {**QUOTE, "bodyText": "{{ oops"}
    assert_crm_error(call(UPDATE, t.id, template_id=created["id"], body=bad), 400, "unclosed placeholder", "bodyText")
    assert_crm_error(call(UPDATE, t.id, template_id=created["id"], body={"name": "n", "subject": "s"}), 400, "bodyHtml, bodyText or both")
    assert stored(table_items, t.id) == before


def test_x_tenant_id_naming_another_tenant_is_403_and_stores_nothing(call, tenant, other_tenant, table_items):
    t, _ = tenant
    o, _ = other_tenant
    assert_crm_error(call(CREATE, t.id, body=QUOTE, headers={"X-Tenant-ID": o.id}), 403, "X-Tenant-ID")
    assert template_items(table_items, t.id) == [] and template_items(table_items, o.id) == []
    assert call(CREATE, t.id, body=QUOTE, headers={"X-Tenant-ID": t.id})["statusCode"] == 201


def test_a_tenant_has_at_most_max_templates_and_a_delete_makes_room(call, tenant, other_tenant, table_items, monkeypatch):
    from parley.domain import templates

    monkeypatch.setattr(templates, "MAX_TEMPLATES", 2)
    t, _ = tenant
    o, _ = other_tenant
    first = body(call(CREATE, t.id, body=QUOTE))
    call(CREATE, t.id, body=QUOTE)

    assert_crm_error(call(CREATE, t.id, body=QUOTE), 400, "at most 2 templates")
    items, count = stored(table_items, t.id)
    assert (len(items), count) == (2, 2)
    assert call(CREATE, o.id, body=QUOTE)["statusCode"] == 201  # the cap is per tenant

    assert call(DELETE, t.id, template_id=first["id"])["statusCode"] == 200
    assert call(CREATE, t.id, body=QUOTE)["statusCode"] == 201
    items, count = stored(table_items, t.id)
    assert (len(items), count) == (2, 2)


def test_render_for_send_renders_the_stored_template_of_the_callers_tenant(call, tenant, other_tenant, app_env):
    from parley.domain.templates import render_for_send
    from parley.errors import BadRequest, NotFound

    t, _ = tenant
    o, _ = other_tenant
    created = body(call(CREATE, t.id, body=QUOTE))
    variables = {"firstName": "<script>alert(1)</script>", "quote": {"number": "Q-7", "amount": 1250.5}}

    out = render_for_send(t.id, created["id"], variables)

    assert (out.template_id, out.template_name, out.category) == (created["id"], "Quote", "OFFERTE")
    assert out.subject == "Your quote Q-7"
    assert out.html == "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt;,</p><p>Amount: 1250.5</p>"
    assert out.text == "Dear <script>alert(1)</script>, amount: 1250.5"
    with pytest.raises(BadRequest, match=r"missing template variables: firstName, quote\.amount"):
        render_for_send(t.id, created["id"], {"quote": {"number": "Q-7"}})
    with pytest.raises(NotFound):
        render_for_send(o.id, created["id"], variables)
    with pytest.raises(NotFound):
        render_for_send(t.id, "no-such-template", variables)
