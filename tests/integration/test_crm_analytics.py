"""GET /api/v1/communications/analytics on moto: records of two types and templates sent (and one failed)
through the real pipeline, opened and clicked through the tracking code, read back as totals and rates;
another tenant's mail never shows; windows, aliases and bad dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpers import api_event, body

ANALYTICS = "CrmApi.GetAnalyticsFunction"
BASE = "https://crm.parley.example/v1"
HTML = '<html><body><p>Hello, see <a href="https://shop.example/offer">the offer</a>.</p></body></html>'
KEYS = {"byTemplate", "byType", "clickRate", "failureRate", "openRate", "sendVolumeByDay", "totalClicked", "totalOpened", "totalSent"}
ROW_KEYS = {"clickRate", "openRate", "totalClicked", "totalOpened", "totalSent"}


def caller_of(tenant):
    from parley.domain.context import Caller

    t, _ = tenant
    return Caller.of(t)


def record(caller, *, category, template=None, to="ada@example.com", before_dispatch=None):
    """A tracked CRM record through the real path (prepare → submit → register → dispatcher)."""
    from parley.dal import messages
    from parley.domain import dispatch, emails, tracking
    from parley.models.domain import SendJob

    msg = emails.new_outbound_email(caller, source_api="crm", recipient=to, subject="Hello", body=HTML)
    msg = msg.model_copy(
        update={
            "recipients": [to],
            "category": category,
            "template_id": template[0] if template else None,
            "template_name": template[1] if template else None,
            "tracking_enabled": True,
            "link_tracking_enabled": True,
        }
    )
    msg = tracking.prepare(msg, BASE)
    emails.submit(msg)
    tracking.register(msg)
    if before_dispatch:
        before_dispatch()
    dispatch.dispatch(SendJob(tenant_id=msg.tenant_id, message_id=msg.id), receive_count=1)
    return messages.get(msg.tenant_id, msg.id, load_body=False)


def analytics(handler, tenant_id, query=None):
    return handler(ANALYTICS)(api_event("crm/get_analytics", tenant_id=tenant_id, query=query, headers={"X-User-ID": None}))


@pytest.fixture
def mail(app_env, tenant, other_tenant):
    """Tenant A: 3 OFFERTE (template Quote), 2 INVOICE (no template), 1 INVOICE failed (suppressed after it
    was queued); 2 OFFERTE opened (one of them twice and clicked), 1 INVOICE clicked without a pixel load.
    Tenant B: 2 sent, both opened and clicked."""
    from parley.dal import suppressions
    from parley.domain import tracking
    from parley.models.domain import MessageStatus
    from parley.models.email_events import Suppression

    a, b = caller_of(tenant), caller_of(other_tenant)
    quote = ("tpl-quote", "Quote")
    offers = [record(a, category="OFFERTE", template=quote) for _ in range(3)]
    invoices = [record(a, category="INVOICE") for _ in range(2)]
    bounce = Suppression(tenant_id=a.tenant_id, address="gone@example.com", reason="bounce", created_at=datetime.now(UTC))
    failed = record(a, category="INVOICE", to="gone@example.com", before_dispatch=lambda: suppressions.add(bounce))
    assert failed.status == MessageStatus.FAILED
    assert all(m.status == MessageStatus.SENT for m in offers + invoices)

    tracking.open_pixel(offers[0].track_token)
    tracking.open_pixel(offers[0].track_token)
    tracking.click(offers[0].track_token, "0")
    tracking.open_pixel(offers[1].track_token)
    tracking.click(invoices[0].track_token, "0")
    for _ in range(2):
        m = record(b, category="OFFERTE", template=quote)
        tracking.open_pixel(m.track_token)
        tracking.click(m.track_token, "0")
    return a.tenant_id, b.tenant_id, offers[0].sent_at.strftime("%Y-%m-%d")


def test_totals_rates_by_type_by_template_and_daily_volume(handler, mail):
    tenant_a, _, day = mail
    out = analytics(handler, tenant_a)
    assert out["statusCode"] == 200, out
    data = body(out)
    assert set(data) == KEYS
    assert (data["totalSent"], data["totalOpened"], data["totalClicked"]) == (5, 3, 2)
    assert data["openRate"] == pytest.approx(3 / 5)
    assert data["clickRate"] == pytest.approx(2 / 5)
    assert data["failureRate"] == pytest.approx(1 / 6)
    assert data["sendVolumeByDay"] == [{"date": day, "count": 5}]

    by_type = {row["type"]: row for row in data["byType"]}
    assert [row["type"] for row in data["byType"]] == ["OFFERTE", "INVOICE"]  # most sent first
    assert all(set(row) == ROW_KEYS | {"type"} for row in data["byType"])
    offerte, invoice = by_type["OFFERTE"], by_type["INVOICE"]
    assert (offerte["totalSent"], offerte["totalOpened"], offerte["totalClicked"]) == (3, 2, 1)
    assert offerte["openRate"] == pytest.approx(2 / 3) and offerte["clickRate"] == pytest.approx(1 / 3)
    # the invoice clicked without its image loading counts as opened too
    assert (invoice["totalSent"], invoice["totalOpened"], invoice["totalClicked"]) == (2, 1, 1)
    assert invoice["openRate"] == 0.5 and invoice["clickRate"] == 0.5

    (tpl,) = data["byTemplate"]
    assert set(tpl) == ROW_KEYS | {"templateId", "templateName"}
    assert tpl == {
        "templateId": "tpl-quote",
        "templateName": "Quote",
        "totalSent": 3,
        "totalOpened": 2,
        "totalClicked": 1,
        "openRate": pytest.approx(2 / 3),
        "clickRate": pytest.approx(1 / 3),
    }


def test_numbers_come_from_the_stored_day_counters(mail):
    """What the endpoint reports is what the pipeline and the tracking code stored, per tenant and day."""
    from parley.dal import counters

    tenant_a, tenant_b, day = mail
    (a,) = counters.days(tenant_a, day, day)
    assert (a["sent"], a["failed"], a["opened"], a["clicked"]) == (5, 1, 3, 2)
    assert (a["t:OFFERTE:sent"], a["t:INVOICE:sent"], a["t:INVOICE:failed"]) == (3, 2, 1)
    (b,) = counters.days(tenant_b, day, day)
    assert (b["sent"], b["opened"], b["clicked"]) == (2, 2, 2) and "failed" not in b


def test_another_tenants_mail_is_not_included(handler, mail):
    tenant_a, tenant_b, day = mail
    b = body(analytics(handler, tenant_b))
    assert (b["totalSent"], b["totalOpened"], b["totalClicked"]) == (2, 2, 2)
    assert b["openRate"] == 1.0 and b["failureRate"] == 0.0
    assert [r["type"] for r in b["byType"]] == ["OFFERTE"]
    assert b["sendVolumeByDay"] == [{"date": day, "count": 2}]
    assert body(analytics(handler, tenant_a))["totalSent"] == 5


def test_window_selects_whole_utc_days(handler, mail):
    from parley.dal import counters

    tenant_a, _, day = mail
    # earlier days of the same tenant (counters only: the endpoint never reads records)
    counters.bump(tenant_a, "2030-01-01", "sent", category="OFFERTE", template_id="tpl-quote", template_name="Quote v2")
    counters.bump(tenant_a, "2030-01-01", "sent", category="OFFERTE")
    counters.bump(tenant_a, "2030-01-03", "sent", category="NEWS", template_id="tpl-news", template_name="News")
    counters.bump(tenant_a, "2030-01-03", "failed", category="NEWS")

    jan = body(analytics(handler, tenant_a, {"from": "2030-01-01T12:00:00Z", "to": "2030-01-31T23:59:59Z"}))
    assert jan["totalSent"] == 3 and jan["totalOpened"] == 0 and jan["openRate"] == 0.0
    assert jan["failureRate"] == pytest.approx(1 / 4)
    assert jan["sendVolumeByDay"] == [{"date": "2030-01-01", "count": 2}, {"date": "2030-01-03", "count": 1}]
    assert {r["type"]: r["totalSent"] for r in jan["byType"]} == {"OFFERTE": 2, "NEWS": 1}
    assert {r["templateId"]: (r["templateName"], r["totalSent"]) for r in jan["byTemplate"]} == {
        "tpl-quote": ("Quote v2", 1),
        "tpl-news": ("News", 1),
    }

    one_day = body(analytics(handler, tenant_a, {"from": "2030-01-03T00:00:00+02:00", "to": "2030-01-03T08:00:00"}))
    # 2030-01-03T00:00+02:00 is 2030-01-02T22:00Z: the window is the UTC days 01-02 .. 01-03
    assert one_day["sendVolumeByDay"] == [{"date": "2030-01-03", "count": 1}]

    everything = body(analytics(handler, tenant_a))
    assert everything["totalSent"] == 8
    assert [d["date"] for d in everything["sendVolumeByDay"]] == sorted(["2030-01-01", "2030-01-03", day])
    # a template's name is the one of the newest day in the window that has it
    assert {r["templateId"]: r["templateName"] for r in everything["byTemplate"]}["tpl-quote"] == "Quote v2"
    today = body(analytics(handler, tenant_a, {"from": day, "to": day}))
    assert [(r["templateId"], r["templateName"], r["totalSent"]) for r in today["byTemplate"]] == [("tpl-quote", "Quote", 3)]

    only_from = body(analytics(handler, tenant_a, {"from": "2030-01-02"}))
    assert only_from["totalSent"] == 1 + (5 if day >= "2030-01-02" else 0)
    aliases = body(analytics(handler, tenant_a, {"startDate": "2030-01-01T00:00:00Z", "endDate": "2030-01-01T23:59:59Z"}))
    assert aliases["totalSent"] == 2 and aliases["sendVolumeByDay"] == [{"date": "2030-01-01", "count": 2}]


def test_nothing_sent_gives_zeros_not_errors(handler, app_env, tenant):
    t, _ = tenant
    data = body(analytics(handler, t.id))
    assert data == {
        "byTemplate": [],
        "byType": [],
        "clickRate": 0.0,
        "failureRate": 0.0,
        "openRate": 0.0,
        "sendVolumeByDay": [],
        "totalClicked": 0,
        "totalOpened": 0,
        "totalSent": 0,
    }


@pytest.mark.parametrize(
    "query",
    [
        {"from": "yesterday"},
        {"to": "2030-13-01T00:00:00Z"},
        {"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
        {"startDate": "2030-02-01", "endDate": "2030-01-01"},
        {"from": "2030-01-01", "startDate": "2030-01-05"},
        {"from": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_bad_window_is_400_in_crm_shape(handler, app_env, tenant, query):
    t, _ = tenant
    out = analytics(handler, t.id, query)
    assert out["statusCode"] == 400, out
    err = body(out)
    assert set(err) == {"title", "detail", "time"} and err["title"] == "Bad Request"


def test_without_a_tenant_it_is_401(handler, app_env):
    event = api_event("crm/get_analytics")
    event["requestContext"].pop("authorizer")
    out = handler(ANALYTICS)(event)
    assert out["statusCode"] == 401
    assert body(out)["title"] == "Unauthorized"


def test_x_tenant_id_of_another_tenant_is_403(handler, app_env, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    out = handler(ANALYTICS)(api_event("crm/get_analytics", tenant_id=t.id, query=None, headers={"X-Tenant-ID": o.id}))
    assert out["statusCode"] == 403
