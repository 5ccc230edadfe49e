"""Multicasts on moto (seed 003, issue 16): the four entry points and the dry run, the fan-out through MulticastQueue and
MulticastFunction (pages, batches, redelivery, progress), per-recipient rendering with escaping, the recipient records
and the received list, 4xx answers naming what is wrong, and tenant isolation (404).

Most tests stand in for notify() (parley.domain.notifications) at the boundary — tests/multicast_fake.py: same
signature, idempotent by notification id, its calls stored and counted — to see exactly what the pipeline asked; the
last one runs the real notify()."""

from __future__ import annotations

import json
import time

import multicast_fake
import pytest

from helpers import _deliver, api_event, body

ORG = "6b000000-0000-4000-8000-000000000001"
PAT, SAM, KIM = "6b000000-0000-4000-8000-0000000000a1", "6b000000-0000-4000-8000-0000000000a2", "6b000000-0000-4000-8000-0000000000a3"
IND_PAT, IND_KID, IND_SAM, IND_ORPHAN = (f"6b000000-0000-4000-8000-0000000000b{i}" for i in range(1, 5))
GROUP = "6b000000-0000-4000-8000-0000000000c1"
T1 = "2026-11-01T09:00:00Z"
MULTICAST = "root.MulticastFunction"
FN = {
    name: f"CourierNotificationsApi.{fn}Function"
    for name, fn in {
        "list_multicasts": "ListMulticasts", "create_multicast": "CreateMulticast", "get_multicast": "GetMulticast",
        "list_user_multicasts": "ListUserMulticasts", "create_user_multicast": "CreateUserMulticast",
        "multicast_to_user": "MulticastToUser", "multicast_to_individual": "MulticastToIndividual",
        "validate_multicast_params": "ValidateMulticastParams",
    }.items()
}  # fmt: skip
PATHS = {
    "get_multicast": "/v1/multicasts/{id}/",
    "multicast_to_user": "/v1/users/{id}/multicast/",
    "multicast_to_individual": "/v1/individuals/{id}/multicast/",
    "validate_multicast_params": "/v1/users/{id}/validate-multicast-params/",
}


def directory(tenant_id: str) -> None:
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(tenant_id, [
        line("organizations", ORG, {"name": "northside"}),
        line("users", PAT, {"username": "pat", "first-name": "Pat", "primary-individual-id": IND_PAT, "locale": "en-GB"}),
        line("users", SAM, {"username": "sam", "primary-individual-id": IND_SAM}),
        line("users", KIM, {"username": "kim"}),
        line("individuals", IND_PAT, {"first-name": "Pat", "last-name": "Lee", "owner-id": PAT}),
        line("individuals", IND_KID, {"first-name": "Kid", "preferred-name": "Kiddo", "owner-id": PAT}),
        line("individuals", IND_SAM, {"first-name": "Sam <b>", "owner-id": SAM}),
        line("individuals", IND_ORPHAN, {"first-name": "Nobody"}),
        line("individual-groups", GROUP, {"name": "Care team", "organization-id": ORG, "individuals": [{"id": IND_SAM}, {"id": IND_KID}],
                                          "leaders": [{"id": KIM}]}),
    ])  # fmt: skip
    assert summary.invalid == []


def template(tenant_id: str, **fields) -> str:
    from parley.domain import templates
    from parley.models.crm import TemplateRequest

    base = {
        "name": "Reminder",
        "subject": "Hi {{recipient.name}}: {{clinic}}",
        "bodyHtml": "<p>{{clinic}} for {{recipient.first_name}}</p>",
        "bodyText": "{{clinic}} for {{recipient.first_name}}",
        "type": "REMINDER",
    }
    return templates.create(tenant_id, TemplateRequest(**{**base, **fields}), user_id=None).id


@pytest.fixture
def org(tenant, monkeypatch):
    t, _ = tenant
    directory(t.id)
    multicast_fake.install(monkeypatch)
    return t


@pytest.fixture
def tpl(org):
    return template(org.id)


def call(handler, fn, tenant_id, *, body_=..., query=None, id_=None, headers=None):
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    ev = api_event(f"courier_notifications/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if query:  # a list value is a repeated parameter (filter[cmp-created-at]=>…&filter[cmp-created-at]=<…)
        ev["multiValueQueryStringParameters"] = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
        ev["queryStringParameters"] = {k: v[-1] if isinstance(v, list) else v for k, v in query.items()}
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = PATHS[fn].format(id=id_)
    return handler(FN[fn])(ev)


def ok(out, status=201):
    assert out["statusCode"] == status, out["body"]
    return body(out)


def queue_url():
    from parley.dal.aws import client

    return next(u for u in client("sqs").list_queues()["QueueUrls"] if u.endswith("-MulticastQueue"))


def run_worker(handler):
    delivered, failures = _deliver(handler, MULTICAST, queue_url())
    assert failures == []
    return delivered


def stored(tenant_id, multicast_id):
    from parley.dal import multicasts

    return multicasts.get(tenant_id, multicast_id, consistent=True)


def recipients(tenant_id, multicast_id):
    from parley.dal import multicasts

    return {r["SK"]: r for r in multicasts.all_recipient_keys(tenant_id, multicast_id)}


def test_an_org_multicast_reaches_every_individuals_user_once_with_progress(handler, org, tpl):
    doc = {"data": {"type": "multicasts", "attributes": {"template-id": tpl, "data": {"clinic": "Northside & Co"},
                                                         "filter-type": "all-participants"}}}  # fmt: skip
    data = ok(call(handler, "create_multicast", org.id, body_=doc))["data"]
    attrs = data["attributes"]
    assert data["type"] == "multicasts" and attrs["status"] == "queued" and attrs["template-id"] == tpl
    assert attrs["data"] == attrs["template-args"] == {"clinic": "Northside & Co"} and attrs["kind"] == "multicasts"
    assert attrs["created-at"].endswith("Z") and attrs["progress"] == {"audience": 0, "notified": 0, "skipped": 0, "failed": 0}
    assert stored(org.id, data["id"])["status"] == "queued"

    run_worker(handler)
    got = ok(call(handler, "get_multicast", org.id, id_=data["id"]), 200)["data"]["attributes"]
    # four individuals: Pat's two (one user, notified once: the same notification id), Sam's, and one without an owner
    assert got["status"] == "done" and got["progress"] == {"audience": 4, "notified": 3, "skipped": 1, "failed": 0}
    rows = recipients(org.id, data["id"])
    assert {k: r["state"] for k, r in rows.items()} == {f"MCRCPT#{i}": s for i, s in (
        (IND_PAT, "notified"), (IND_KID, "notified"), (IND_SAM, "notified"), (IND_ORPHAN, "skipped"))}  # fmt: skip
    assert rows[f"MCRCPT#{IND_PAT}"]["notification_id"] == rows[f"MCRCPT#{IND_KID}"]["notification_id"]
    sent = {n["user_id"]: n for n in multicast_fake.notifications(org.id)}
    assert set(sent) == {PAT, SAM}
    assert sent[SAM]["html"] == "<p>Northside &amp; Co for Sam &lt;b&gt;</p>"  # escaped in HTML, per recipient
    assert sent[SAM]["text"] == sent[SAM]["body"] == "Northside & Co for Sam <b>" and sent[SAM]["sms"] == ["Northside & Co for Sam <b>"]
    assert sent[SAM]["subject"] == "Hi Sam <b>: Northside & Co" and sent[SAM]["category"] == "REMINDER"
    assert sent[PAT]["calls"] == 2 and sent[SAM]["calls"] == 1  # Pat reached twice, notified once (idempotent id)

    # a redelivered batch (SQS at-least-once) changes nothing
    from parley.domain import multicasts

    batch = next(r["batch"] for r in rows.values())
    ids_ = [r["individual_id"] for r in rows.values() if r["batch"] == batch]
    assert multicasts.run_batch(org.id, data["id"], batch, ids_) == {}
    assert ok(call(handler, "get_multicast", org.id, id_=data["id"]), 200)["data"]["attributes"]["progress"]["notified"] == 3
    assert {n["user_id"]: n["calls"] for n in multicast_fake.notifications(org.id)} == {PAT: 2, SAM: 1}


def test_a_batch_interrupted_after_some_notifies_resumes_without_counting_twice(handler, org, tpl, monkeypatch):
    from parley.domain import multicasts

    out = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": tpl, "template-data": {"clinic": "N"},
                                                                 "individual-ids": [IND_PAT, IND_SAM, IND_ORPHAN]}))  # fmt: skip
    mid = out["task-id"]
    monkeypatch.setattr(multicasts, "FLUSH", 1)
    calls = []

    def crash_on_second(tenant_id, **kw):
        calls.append(kw["user_id"])
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return multicast_fake.notify(tenant_id, **kw)

    monkeypatch.setattr(multicasts, "_notify", crash_on_second)
    multicasts.run_page(org.id, mid, 0, 0, 0)
    with pytest.raises(RuntimeError):
        multicasts.run_batch(org.id, mid, "000000.000", [IND_PAT, IND_SAM, IND_ORPHAN])
    assert {r["state"] for r in recipients(org.id, mid).values()} == {"notified"}  # Pat's, flushed before the crash
    assert stored(org.id, mid)["notified"] == 0  # progress moves only with the batch's marker
    multicast_fake.install(monkeypatch)
    assert multicasts.run_batch(org.id, mid, "000000.000", [IND_PAT, IND_SAM, IND_ORPHAN]) == {
        "notified": 2, "skipped": 1, "failed": 0, "audience": 0, "batches_done": 1}  # fmt: skip
    mc = stored(org.id, mid)
    assert mc["status"] == "done" and (mc["notified"], mc["skipped"], mc["audience"]) == (2, 1, 3)
    assert {n["user_id"]: n["calls"] for n in multicast_fake.notifications(org.id)} == {PAT: 1, SAM: 1}


def test_user_multicasts_flat_body_groups_and_the_received_list(handler, org, tpl):
    out = ok(call(handler, "create_user_multicast", org.id, body_={
        "template-id": tpl, "template-data": {"clinic": "Northside"}, "individual-ids": [IND_PAT],
        "individual-group-ids": [GROUP]}))  # fmt: skip
    assert set(out) == {"task-id", "message-data"}
    assert out["message-data"]["subject"] == "Hi {{recipient.name}}: Northside"  # per recipient, filled in by the fan-out
    run_worker(handler)
    mc = ok(call(handler, "get_multicast", org.id, id_=out["task-id"], query={"include-individual-group": "true",
                                                                               "include-individual-ids": "true"}), 200)  # fmt: skip
    attrs = mc["data"]["attributes"]
    assert attrs["kind"] == "user-multicasts" and attrs["status"] == "done" and attrs["individual-ids"] == [IND_PAT]
    assert attrs["progress"] == {"audience": 3, "notified": 3, "skipped": 0, "failed": 0}
    group = attrs["individual-group"]
    assert group["individual-ids"] == [IND_SAM, IND_KID] and group["individuals-count"] == 2 and group["leader-ids"] == [KIM]
    assert group["individuals"][1]["name"] == "Kiddo" and group["organization-id"] == ORG and attrs["individual-group-id"] == GROUP
    plain = ok(call(handler, "get_multicast", org.id, id_=out["task-id"]), 200)["data"]["attributes"]
    assert plain["individual-group"] is None and plain["individual-ids"] is None

    received = ok(call(handler, "list_user_multicasts", org.id, query={"individual-id": IND_KID}, headers={"X-User-ID": PAT}), 200)
    assert received["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    (item,) = received["data"]
    assert item["type"] == "user-multicasts" and item["id"] == out["task-id"]
    assert item["attributes"] == {"created-at": attrs["created-at"], "individual-id": IND_KID, "organization-id": None,
                                  "template-data": {"clinic": "Northside"}, "template-id": tpl, "status": "notified"}  # fmt: skip
    # another user's individual: 403 (the individual-id rule)
    assert call(handler, "list_user_multicasts", org.id, query={"individual-id": IND_SAM}, headers={"X-User-ID": PAT})["statusCode"] == 403


def test_an_individual_named_twice_is_one_recipient(handler, org, tpl):
    payload = {"template-id": tpl, "template-data": {"clinic": "N"}, "individual-ids": [IND_SAM], "individual-group-ids": [GROUP]}
    out = ok(call(handler, "create_user_multicast", org.id, body_=payload))
    run_worker(handler)
    mc = stored(org.id, out["task-id"])
    assert mc["status"] == "done" and (mc["audience"], mc["notified"]) == (2, 2)  # Sam once (named, and in the group), Kid
    assert set(recipients(org.id, out["task-id"])) == {f"MCRCPT#{IND_SAM}", f"MCRCPT#{IND_KID}"}
    assert {n["user_id"]: n["calls"] for n in multicast_fake.notifications(org.id)} == {SAM: 1, PAT: 1}


def test_single_recipient_entry_points(handler, org, tpl):
    to_user = ok(call(handler, "multicast_to_user", org.id, id_=PAT, body_={"template-id": tpl, "data": {"clinic": "N"},
                                                                          "individual-id": IND_KID}))  # fmt: skip
    assert to_user["message-data"]["subject"] == "Hi Kiddo: N" and to_user["message-data"]["text"] == "N for Kid"
    to_ind = ok(call(handler, "multicast_to_individual", org.id, id_=IND_SAM, body_={"template-id": tpl, "template-data": {"clinic": "N"},
                                                                                    "organization-id": ORG}))  # fmt: skip
    assert to_ind["message-data"]["html"] == "<p>N for Sam &lt;b&gt;</p>"
    run_worker(handler)
    for task in (to_user["task-id"], to_ind["task-id"]):
        mc = stored(org.id, task)
        assert mc["status"] == "done" and mc["notified"] == 1 and mc["audience"] == 1
    users = sorted(n["user_id"] for n in multicast_fake.notifications(org.id))
    assert users == [PAT, SAM]
    assert ok(call(handler, "get_multicast", org.id, id_=to_ind["task-id"]), 200)["data"]["attributes"]["organization-id"] == ORG
    # a user without an individual: keyed by the user
    kim = ok(call(handler, "multicast_to_user", org.id, id_=KIM, body_={"template-id": tpl, "data": {"clinic": "N"}}))
    run_worker(handler)
    assert list(recipients(org.id, kim["task-id"])) == [f"MCRCPT#U#{KIM}"]


def test_validate_names_every_missing_variable_and_stores_nothing(handler, org, tpl, table_items):
    rich = template(org.id, name="Rich", subject="{{a}} {{recipient.name}}", bodyHtml=None, bodyText="{{b.c}} {{d}} {{recipient.nope}}")
    before = len(table_items())
    params = {"template-id": rich, "data": {"d": 1}, "individual-id": IND_KID, "organization-id": ORG}
    out = ok(call(handler, "validate_multicast_params", org.id, id_=PAT, body_=params))
    assert out == {"success": False, "info": "missing template variables: a, b.c, recipient.nope"}
    good = ok(call(handler, "validate_multicast_params", org.id, id_=PAT, body_={**params, "template-id": tpl, "data": {"clinic": "N"}}))
    assert good["success"] is True
    notmine = ok(call(handler, "validate_multicast_params", org.id, id_=PAT, body_={**params, "template-id": tpl, "individual-id": IND_SAM,
                                                                                  "data": {"clinic": "N"}}))  # fmt: skip
    assert notmine["success"] is False and IND_SAM in notmine["info"]
    unknown = ok(call(handler, "validate_multicast_params", org.id, id_=PAT, body_={**params, "template-id": "nope"}))
    assert unknown == {"success": False, "info": "template nope not found"}
    assert call(handler, "validate_multicast_params", org.id, id_="nobody", body_=params)["statusCode"] == 404
    missing = call(handler, "validate_multicast_params", org.id, id_=PAT, body_={"template-id": tpl})
    assert missing["statusCode"] == 400
    assert len(table_items()) == before


@pytest.mark.parametrize(
    ("fn", "id_", "payload", "status", "where"),
    [
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x"}}, 400, "/individual-ids"),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {}, "individual-ids": [IND_PAT]}, 400, "/template-data"),
        ("create_user_multicast", None, {"template-id": "nope", "template-data": {}, "individual-ids": [IND_PAT]}, 404, "/template-id"),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x"}, "individual-group-ids": ["g"]}, 404,
         "/individual-group-ids"),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x"}, "individual-ids": []}, 400, None),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x"}, "individual-ids": [IND_PAT],
                                         "organization-id": "other-org"}, 404, "/organization-id"),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x"}, "individual-ids": [IND_PAT, "ghost"]},
         404, "/individual-ids"),
        ("create_user_multicast", None, {"template-id": "T", "template-data": {"clinic": "x" * 70_000}, "individual-ids": [IND_PAT]},
         400, "/template-data"),
        ("multicast_to_user", "nobody", {"template-id": "T", "data": {"clinic": "x"}}, 404, None),
        ("multicast_to_user", PAT, {"template-id": "T", "data": {"clinic": "x"}, "individual-id": IND_SAM}, 404, "/individual-id"),
        ("multicast_to_individual", "nobody", {"template-id": "T", "template-data": {"clinic": "x"}}, 404, None),
        ("multicast_to_individual", IND_PAT, {"template-id": "T", "template-data": {"clinic": "x"}, "extra": 1}, 400, None),
        ("create_multicast", None, {"data": {"type": "multicasts", "attributes": {"data": {"clinic": "x"}}}}, 400,
         "/data/attributes/template-id"),
        ("create_multicast", None, {"data": {"type": "multicasts", "attributes": {"template-id": "T", "data": {"clinic": "x"},
                                                                                   "filter-type": "everyone"}}}, 400,
         "/data/attributes/filter-type"),
        ("create_multicast", None, {"data": {"type": "multicasts", "attributes": {"template-id": "T", "data": {"clinic": "x"},
                                                                                   "filter-type": "individuals", "filter-value": {}}}}, 400,
         "/data/attributes/filter-value"),
        ("create_multicast", None, {"data": {"type": "multicasts", "attributes": {"template-id": "T", "data": {"clinic": "x"},
                                                                                   "filter-type": "individual-group",
                                                                                   "filter-value": {"individual-group-id": "g"}}}}, 404,
         "/data/attributes/filter-value"),
    ],
)  # fmt: skip
def test_bad_requests_are_4xx_naming_the_member_and_store_nothing(handler, org, tpl, table_items, fn, id_, payload, status, where):
    payload = json.loads(json.dumps(payload).replace('"T"', json.dumps(tpl)))
    before = len(table_items())
    out = call(handler, fn, org.id, body_=payload, id_=id_)
    assert out["statusCode"] == status, out["body"]
    error = body(out)["errors"][0]
    assert error["status"] == status
    if where:
        assert error["source"] == {"pointer": where}, error
    if "missing" in error["detail"]:
        assert error["detail"] == "missing template variable: clinic"
    assert len(table_items()) == before


def test_list_filters_window_and_paging(handler, org, tpl):
    other = template(org.id, name="Other")
    first = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": tpl, "template-data": {"clinic": "a"},
                                                                    "individual-group-ids": [GROUP]}))["task-id"]  # fmt: skip
    time.sleep(0.01)  # a later millisecond: the window tests below tell the two apart by created-at
    second = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": other, "template-data": {"clinic": "b"},
                                                                     "individual-ids": [IND_PAT]}))["task-id"]  # fmt: skip
    every = ok(call(handler, "list_multicasts", org.id, query={}), 200)
    assert [d["id"] for d in every["data"]] == [second, first] and every["meta"]["page[total]"] == 2
    by_tpl = ok(call(handler, "list_multicasts", org.id, query={"template-id": other}), 200)
    assert [d["id"] for d in by_tpl["data"]] == [second] and by_tpl["meta"]["page[total]"] == 1
    by_group = ok(call(handler, "list_multicasts", org.id, query={"individual-group-id": GROUP, "include-individual-group": "true"}), 200)
    assert [d["id"] for d in by_group["data"]] == [first] and by_group["data"][0]["attributes"]["individual-group"]["name"] == "Care team"
    paged = ok(call(handler, "list_multicasts", org.id, query={"page[limit]": "1", "page[offset]": "1"}), 200)
    assert [d["id"] for d in paged["data"]] == [first] and paged["meta"]["page[total]"] == 2
    future = ok(call(handler, "list_multicasts", org.id, query={"filter[cmp-created-at]": ">=2099-01-01T00:00:00Z"}), 200)
    assert future["data"] == [] and future["meta"]["page[total]"] == 0
    past = ok(call(handler, "list_multicasts", org.id, query={"filter[cmp-created-at]": "<2099-01-01T00:00:00Z"}), 200)
    assert len(past["data"]) == 2
    from parley.dal import multicasts as mc_store

    at = mc_store.get(org.id, first)["created_at"]
    for window, ids_ in (([f">{at}"], [second]), ([f">={at}"], [second, first]), ([f"<{at}"], []), ([f"<={at}"], [first]),
                         ([f">={at}", f"<={at}"], [first])):  # fmt: skip
        got = ok(call(handler, "list_multicasts", org.id, query={"filter[cmp-created-at]": window}), 200)
        assert [d["id"] for d in got["data"]] == ids_ and got["meta"]["page[total]"] == len(ids_), (window, got)
    bad = call(handler, "list_multicasts", org.id, query={"filter[cmp-created-at]": "~yesterday"})
    assert bad["statusCode"] == 400 and body(bad)["errors"][0]["source"] == {"parameter": "filter[cmp-created-at]"}


def test_org_audience_by_organization_and_group_filter(handler, org, tpl):
    by_org = {"data": {"type": "multicasts", "attributes": {"template-id": tpl, "data": {"clinic": "x"}, "organization-id": ORG}}}
    mid = ok(call(handler, "create_multicast", org.id, body_=by_org))["data"]["id"]
    by_group = {"data": {"type": "multicasts", "attributes": {"template-id": tpl, "data": {"clinic": "x"},
                                                              "filter-type": "individual-group",
                                                              "filter-value": {"individual-group-id": GROUP}}}}  # fmt: skip
    gid = ok(call(handler, "create_multicast", org.id, body_=by_group))["data"]["id"]
    run_worker(handler)
    for m in (mid, gid):  # the organization's care team: Sam and Kid
        assert set(recipients(org.id, m)) == {f"MCRCPT#{IND_SAM}", f"MCRCPT#{IND_KID}"}
        assert stored(org.id, m)["status"] == "done"


def test_a_template_failing_for_one_recipient_fails_only_that_one(handler, org):
    nasty = template(org.id, name="Subject", subject="For {{recipient.first_name}}", bodyHtml=None, bodyText="x")
    data = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": nasty, "template-data": {},
                                                                   "individual-ids": [IND_PAT, IND_SAM]}))  # fmt: skip
    from parley.dal import directory as dirstore

    # Sam's first name gains a line break after the accept: the subject cannot carry it
    dirstore.put_if_newer(org.id, "individuals", IND_SAM, "2026-11-02T09:00:00Z", {"first-name": "Sam\nX", "owner-id": SAM})
    run_worker(handler)
    rows = recipients(org.id, data["task-id"])
    assert rows[f"MCRCPT#{IND_SAM}"]["state"] == "failed" and "line break" in rows[f"MCRCPT#{IND_SAM}"]["reason"]
    assert rows[f"MCRCPT#{IND_PAT}"]["state"] == "notified"
    mc = stored(org.id, data["task-id"])
    assert mc["status"] == "done" and (mc["notified"], mc["failed"]) == (1, 1)


def test_tenant_isolation(handler, org, tpl, other_tenant):
    made = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": tpl, "template-data": {"clinic": "x"},
                                                                   "individual-ids": [IND_PAT]}))  # fmt: skip
    b = other_tenant[0]
    assert call(handler, "get_multicast", b.id, id_=made["task-id"])["statusCode"] == 404
    assert ok(call(handler, "list_multicasts", b.id, query={}), 200)["data"] == []
    assert call(handler, "multicast_to_individual", b.id, id_=IND_PAT, body_={"template-id": tpl, "template-data": {}})["statusCode"] == 404
    assert call(handler, "create_user_multicast", b.id, body_={"template-id": tpl, "template-data": {"clinic": "x"},
                                                             "individual-ids": [IND_PAT]})["statusCode"] == 404  # fmt: skip


def test_a_step_failing_five_times_is_dead_lettered_with_its_reason_and_redriven_once_fixed(handler, org, tpl, aws, monkeypatch,
                                                                                            capsys):  # fmt: skip
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from parley import admin
    from parley.dal.aws import client
    from parley.domain import multicasts
    from parley.settings import get_settings
    from parley_local.workers import _sqs_record

    out = ok(call(handler, "create_user_multicast", org.id, body_={"template-id": tpl, "template-data": {"clinic": "N"},
                                                                 "individual-ids": [IND_SAM]}))  # fmt: skip
    mid = out["task-id"]

    def down(tenant_id, **kw):
        raise RuntimeError("push transport down")

    monkeypatch.setattr(multicasts, "_notify", down)
    sqs, url = client("sqs"), queue_url()
    arn = next(a for a in aws.queues if a.endswith("-MulticastQueue"))
    worker = handler(MULTICAST)
    page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"]
    assert worker({"Records": [_sqs_record(page[0], arn)]}) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=page[0]["ReceiptHandle"])
    for _ in range(5):  # the batch job, received as often as the queue's maxReceiveCount allows
        (job,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0, AttributeNames=["All"])["Messages"]
        with pytest.raises(BatchProcessingError):  # the whole batch failed: the invocation fails (Lambda retries it)
            worker({"Records": [_sqs_record(job, arn)]})
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []) == []  # moved to the DLQ
    assert stored(org.id, mid)["status"] == "running" and recipients(org.id, mid) == {}

    monkeypatch.setenv("MULTICAST_DLQ_URL", aws.queues[next(a for a in aws.queues if a.endswith("-MulticastDLQ"))])
    get_settings.cache_clear()
    capsys.readouterr()
    assert admin.main(["dlq", "list", "--queue", "multicast"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert listed["id"] == job["MessageId"] and "push transport down" in json.dumps(listed)

    multicast_fake.install(monkeypatch)  # the transport is back
    assert admin.main(["dlq", "redrive", "--queue", "multicast", "--all"]) == 0
    run_worker(handler)
    mc = stored(org.id, mid)
    assert mc["status"] == "done" and mc["notified"] == 1
    assert [n["user_id"] for n in multicast_fake.notifications(org.id)] == [SAM]


def test_with_the_real_notify_each_user_gets_one_user_notification_rendered_for_them(handler, tenant):
    """No stand-in: the notifications family's notify() makes the user-notifications (push skipped: no devices; no SMS
    or email: these users have neither), once each, also when a batch is delivered again."""
    from parley.dal import notifications as notif_store
    from parley.domain import multicasts

    t, _ = tenant
    directory(t.id)
    tpl_id = template(t.id)
    out = ok(call(handler, "create_user_multicast", t.id, body_={"template-id": tpl_id, "template-data": {"clinic": "N & co"},
                                                               "individual-ids": [IND_PAT, IND_KID, IND_SAM]}))  # fmt: skip
    run_worker(handler)
    rows = recipients(t.id, out["task-id"])
    assert {r["state"] for r in rows.values()} == {"notified"}
    nids = {r["notification_id"] for r in rows.values()}
    assert len(nids) == 2  # Pat (two individuals) and Sam
    made = {n: notif_store.get(t.id, n) for n in nids}
    assert all(made.values())
    sam = next(m for m in made.values() if m["user_id"] == SAM)
    data = json.loads(sam["data"]) if isinstance(sam["data"], str) else sam["data"]
    assert data["apn"]["title"] == "Hi Sam <b>: N & co" and data["apn"]["body"] == "N & co for Sam <b>"
    assert sam["source"]["multicast-id"] == out["task-id"] and sam["category"] == "REMINDER"
    # the same batch again: nothing new
    batch = next(iter(rows.values()))["batch"]
    assert multicasts.run_batch(t.id, out["task-id"], batch, [IND_PAT, IND_KID, IND_SAM]) == {}
    assert {n: notif_store.get(t.id, n)["created_at"] for n in nids} == {n: m["created_at"] for n, m in made.items()}
