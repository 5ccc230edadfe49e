"""messaging-plugins on moto (issue 19, area 2): install (name rules, unique per organization → 409, unknown type →
422, args checked per type), list (organization-id, filter[name] by its key item, filter[type]), get, PATCH (rename
moving the name claim, type change, a webhook's write-only secret kept), enable/disable, and expand: a `template`
plugin rendering a tenant template with the channel and the caller, a `webhook` plugin's signed POST to a local
receiver (its JSON or text answer; refused addresses, timeouts, non-2xx, unusable answers → 502 of ours); a
non-member's channel and another tenant's ids → 404; stored state asserted."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from plugin_receiver import PluginReceiver

from helpers import api_event, body

PLUG = "messaging-plugins"
ORG, ORG2 = "org-plug", "org-other"
USERS = {"user-a": "ind-a", "user-b": "ind-b", "user-c": "ind-c"}  # c is not in the channel


def fn_name(fn: str) -> str:
    return f"CourierAutomationApi.{''.join(p.capitalize() for p in fn.split('_'))}Function"


def call(handler, fn, tenant_id, *, user="user-a", path, path_params=None, query=None, payload=...):
    ev = api_event(f"courier_automation/{fn}", tenant_id=tenant_id, query=query, body=payload, headers={"X-User-ID": user})
    ev["path"] = path
    ev["pathParameters"] = path_params
    return handler(fn_name(fn))(ev)


def create(handler, tenant_id, name, type_, args, *, org=ORG):
    doc = {"data": {"type": PLUG, "attributes": {"name": name, "type": type_, "args": args, "organization-id": org}}}
    return call(handler, "create_messaging_plugin", tenant_id, path="/v1/messaging-plugins/", payload=doc)


def get(handler, tenant_id, plugin_id):
    return call(handler, "get_messaging_plugin", tenant_id, path=f"/v1/messaging-plugins/{plugin_id}/", path_params={"id": plugin_id})


def patch(handler, tenant_id, plugin_id, attrs):
    doc = {"data": {"type": PLUG, "id": plugin_id, "attributes": attrs}}
    path = f"/v1/messaging-plugins/{plugin_id}/"
    return call(handler, "update_messaging_plugin", tenant_id, path=path, path_params={"id": plugin_id}, payload=doc)


def action(handler, tenant_id, plugin_id, verb, payload=None, *, user="user-a"):
    path = f"/v1/messaging-plugins/{plugin_id}/{verb}/"
    data = {} if payload is None else payload
    return call(handler, f"{verb}_messaging_plugin", tenant_id, user=user, path=path, path_params={"id": plugin_id}, payload=data)


def listing(handler, tenant_id, query):
    return call(handler, "list_messaging_plugins", tenant_id, path="/v1/messaging-plugins/", query=query)


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


@pytest.fixture
def world(tenant, events_queue):
    from parley.domain import channels, directory

    t, _ = tenant
    lines = [{"type": "organizations", "id": o, "attributes": {"name": o}} for o in (ORG, ORG2)]
    for user, ind in USERS.items():
        lines.append({"type": "users", "id": user, "attributes": {"username": user, "primary-individual-id": ind}})
        person = {"owner-id": user, "first-name": user[-1].upper() + "nn", "last-name": "Lee"}
        lines.append({"type": "individuals", "id": ind, "attributes": person})
    stamped = [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]
    assert directory.import_lines(t.id, stamped).invalid == []
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-b"], name="front desk")
    other, _ = channels.create_channel(
        t.id, organization_id=ORG2, creator_individual_id="ind-a", individual_ids=["ind-b"], name="elsewhere"
    )
    return t.id, chan["id"], other["id"]


@pytest.fixture
def receiver(monkeypatch):
    r = PluginReceiver().start()
    monkeypatch.setenv("TEXT_CALLBACK_ALLOW", f"127.0.0.1:{r.port}")  # this receiver only: every other private address refused
    from parley.settings import get_settings

    get_settings.cache_clear()
    yield r
    r.stop()
    get_settings.cache_clear()


def template(tenant_id, *, text="Hello {{caller.firstName}}, welcome to {{channel.name}} ({{organization.id}})", html=None):
    from parley.domain import templates
    from parley.models.crm import TemplateRequest

    return templates.create(tenant_id, TemplateRequest(name=f"t-{uuid.uuid4().hex[:6]}", subject="Plugin", bodyText=text, bodyHtml=html),
                            user_id=None).id  # fmt: skip


def test_create_stores_the_plugin_and_its_name_claim_and_answers_the_seed_shape(handler, world, table_items):
    t, _, _ = world
    out = create(handler, t, "welcome", "template", {"template-id": template(t)})
    assert out["statusCode"] == 201, out
    data = body(out)["data"]
    assert data["type"] == PLUG and set(data["attributes"]) == {
        "args", "created-at", "created-by", "enabled", "last-modified-at", "last-modified-by", "name", "organization-id", "type",
    }  # fmt: skip
    attrs = data["attributes"]
    assert attrs["enabled"] is True and attrs["created-by"] == attrs["last-modified-by"] == "user-a" and attrs["organization-id"] == ORG
    assert attrs["created-at"].endswith("Z") and attrs["created-at"] == attrs["last-modified-at"] and attrs["type"] == "template"
    items = {i["SK"]: i for i in table_items() if i["SK"] in ("PLUGIN", "PLUGINNAME")}
    assert items["PLUGIN"]["PK"] == f"TENANT#{t}#PLUGIN#{data['id']}" and items["PLUGIN"]["GSI3PK"] == f"TENANT#{t}#PLUGINS#ORG#{ORG}"
    assert items["PLUGIN"]["plugin_type"] == "template" and items["PLUGIN"]["args"] == attrs["args"]
    assert items["PLUGINNAME"]["PK"] == f"TENANT#{t}#PLUGINNAME#{ORG}#welcome" and items["PLUGINNAME"]["plugin_id"] == data["id"]
    assert body(get(handler, t, data["id"]))["data"] == data


@pytest.mark.parametrize(
    ("attrs", "status", "where"),
    [
        ({"name": "abc"}, 400, "/data/attributes/name"),  # 4..15
        ({"name": "a" * 16}, 400, "/data/attributes/name"),
        ({"name": "Welcome"}, 400, "/data/attributes/name"),  # [a-z0-9] only
        ({"name": "wel-come"}, 400, "/data/attributes/name"),
        ({"type": "slack"}, 422, "/data/attributes/type"),
        ({"type": None}, 422, "/data/attributes/type"),
        ({"args": None}, 422, "/data/attributes/args"),
        ({"args": {"url": "ftp://example.com/x"}}, 422, "/data/attributes/args/url"),
        ({"args": {"url": "https://user:pw@example.com/x"}}, 422, "/data/attributes/args/url"),
        ({"args": {"url": "https://example.com/x", "secret": "short"}}, 422, "/data/attributes/args/secret"),
        ({"args": {"url": "https://example.com/x", "method": "GET"}}, 422, "/data/attributes/args/method"),
        ({"organization-id": "org-unknown"}, 404, "/data/attributes/organization-id"),
    ],
)
def test_create_refuses_bad_attributes_with_their_pointer(handler, world, table_items, attrs, status, where):
    t, _, _ = world
    base = {"name": "weather", "type": "webhook", "args": {"url": "https://example.com/hook"}, "organization-id": ORG}
    doc = {"data": {"type": PLUG, "attributes": {**base, **attrs}}}
    out = call(handler, "create_messaging_plugin", t, path="/v1/messaging-plugins/", payload=doc)
    assert out["statusCode"] == status, out
    assert body(out)["errors"][0]["source"]["pointer"] == where
    assert not [i for i in table_items() if i["SK"] in ("PLUGIN", "PLUGINNAME")]


def test_a_template_plugin_needs_an_existing_template(handler, world):
    t, _, _ = world
    missing = create(handler, t, "welcome", "template", {"template-id": "no-such"})
    assert missing["statusCode"] == 422 and body(missing)["errors"][0]["code"] == "template-missing"
    extra = create(handler, t, "welcome", "template", {"template-id": template(t), "url": "https://x.example"})
    assert extra["statusCode"] == 422 and body(extra)["errors"][0]["source"]["pointer"] == "/data/attributes/args/url"


def test_names_are_unique_per_organization_and_rename_moves_the_claim(handler, world, table_items):
    t, _, _ = world
    first = body(create(handler, t, "weather", "webhook", {"url": "https://example.com/a"}))["data"]["id"]
    clash = create(handler, t, "weather", "webhook", {"url": "https://example.com/b"})
    assert clash["statusCode"] == 409 and body(clash)["errors"][0]["code"] == "name-taken"
    assert create(handler, t, "weather", "webhook", {"url": "https://example.com/b"}, org=ORG2)["statusCode"] == 201  # another org
    second = body(create(handler, t, "forecast", "webhook", {"url": "https://example.com/c"}))["data"]["id"]

    taken = patch(handler, t, second, {"name": "weather"})
    assert taken["statusCode"] == 409 and body(taken)["errors"][0]["code"] == "name-taken"
    renamed = patch(handler, t, first, {"name": "climate"})
    assert renamed["statusCode"] == 200 and body(renamed)["data"]["attributes"]["name"] == "climate"
    claims = sorted(i["PK"].rsplit("#", 2)[-2] + "/" + i["PK"].rsplit("#", 1)[-1] for i in table_items() if i["SK"] == "PLUGINNAME")
    assert claims == sorted([f"{ORG}/climate", f"{ORG}/forecast", f"{ORG2}/weather"])
    assert patch(handler, t, second, {"name": "weather"})["statusCode"] == 200  # free again


def test_list_by_organization_with_name_and_type_filters(handler, world):
    t, _, _ = world
    tid = template(t)
    ids = [body(create(handler, t, n, ty, a))["data"]["id"] for n, ty, a in (
        ("weather", "webhook", {"url": "https://example.com/a"}),
        ("welcome", "template", {"template-id": tid}),
        ("forecast", "webhook", {"url": "https://example.com/b"}),
    )]  # fmt: skip
    create(handler, t, "elsewhere", "webhook", {"url": "https://example.com/c"}, org=ORG2)
    every = body(listing(handler, t, {"organization-id": ORG}))
    assert [d["id"] for d in every["data"]] == ids and every["meta"] == {"page[total]": 3, "page[limit]": 100, "page[offset]": 0}
    hooks = body(listing(handler, t, {"organization-id": ORG, "filter[type]": "webhook", "page[limit]": "1", "page[offset]": "1"}))
    assert [d["id"] for d in hooks["data"]] == [ids[2]] and hooks["meta"]["page[total]"] == 2
    named = body(listing(handler, t, {"organization-id": ORG, "filter[name]": "welcome"}))
    assert [d["id"] for d in named["data"]] == [ids[1]] and named["meta"]["page[total]"] == 1
    assert body(listing(handler, t, {"organization-id": ORG, "filter[name]": "welcome", "filter[type]": "webhook"}))["data"] == []
    assert body(listing(handler, t, {"organization-id": ORG, "filter[name]": "nothere"}))["data"] == []
    assert listing(handler, t, {})["statusCode"] == 400  # organization-id required
    assert listing(handler, t, {"organization-id": ORG, "filter[name]": "BAD!"})["statusCode"] == 400
    unknown = listing(handler, t, {"organization-id": "org-unknown"})
    assert unknown["statusCode"] == 404 and body(unknown)["errors"][0]["source"]["parameter"] == "organization-id"


def test_patch_changes_type_and_args_and_keeps_a_webhooks_secret_unless_named(handler, world):
    from parley.dal import plugins as store

    t, _, _ = world
    pid = body(create(handler, t, "weather", "webhook", {"url": "https://example.com/a", "secret": "s3cret-s3cret-s3cret"}))["data"]["id"]
    got = body(get(handler, t, pid))["data"]["attributes"]
    assert got["args"] == {"url": "https://example.com/a"} and store.get(t, pid)["secret"] == "s3cret-s3cret-s3cret"  # write-only
    time.sleep(0.002)
    moved = body(patch(handler, t, pid, {"args": {"url": "https://example.com/b"}}))["data"]["attributes"]
    assert moved["args"] == {"url": "https://example.com/b"} and moved["last-modified-at"] > got["last-modified-at"]
    assert store.get(t, pid)["secret"] == "s3cret-s3cret-s3cret"  # kept
    assert patch(handler, t, pid, {"args": {"url": "https://example.com/b", "secret": None}})["statusCode"] == 200
    assert "secret" not in store.get(t, pid, consistent=True)
    needs_args = patch(handler, t, pid, {"type": "template"})
    assert needs_args["statusCode"] == 422 and body(needs_args)["errors"][0]["source"]["pointer"] == "/data/attributes/args"
    tid = template(t)
    changed = body(patch(handler, t, pid, {"type": "template", "args": {"template-id": tid}}))["data"]["attributes"]
    assert changed["type"] == "template" and changed["args"] == {"template-id": tid} and changed["name"] == "weather"
    assert store.get(t, pid, consistent=True)["plugin_type"] == "template"
    assert patch(handler, t, pid, {"type": "slack", "args": {}})["statusCode"] == 422
    assert patch(handler, t, pid, {"name": None})["statusCode"] == 422
    wrong_id = call(handler, "update_messaging_plugin", t, path=f"/v1/messaging-plugins/{pid}/", path_params={"id": pid},
                    payload={"data": {"type": PLUG, "id": "other", "attributes": {"name": "x1234"}}})  # fmt: skip
    assert wrong_id["statusCode"] == 409


def test_enable_disable_and_expand_of_a_template_plugin(handler, world):
    from parley.dal import plugins as store

    t, chan, other = world
    tid = template(t)
    pid = body(create(handler, t, "welcome", "template", {"template-id": tid}))["data"]["id"]
    out = action(handler, t, pid, "expand", {"channel-id": chan})
    assert (
        out["statusCode"] == 201
        and (out.get("headers") or {}).get("Content-Type", (out.get("multiValueHeaders") or {}).get("Content-Type", [None])[0])
        == "application/json"
    )
    assert body(out) == {"message": f"Hello Ann, welcome to front desk ({ORG})"}
    as_b = action(handler, t, pid, "expand", {"channel-id": chan}, user="user-b")
    assert body(as_b) == {"message": f"Hello Bnn, welcome to front desk ({ORG})"}

    disabled = action(handler, t, pid, "disable")
    assert disabled["statusCode"] == 201 and body(disabled)["data"]["attributes"]["enabled"] is False
    assert store.get(t, pid)["enabled"] is False
    refused = action(handler, t, pid, "expand", {"channel-id": chan})
    assert refused["statusCode"] == 409 and body(refused)["errors"][0]["code"] == "plugin-disabled"
    assert body(action(handler, t, pid, "disable"))["data"]["attributes"]["enabled"] is False  # idempotent
    assert body(action(handler, t, pid, "enable"))["data"]["attributes"]["enabled"] is True and store.get(t, pid)["enabled"] is True
    assert action(handler, t, pid, "enable", {"x": 1})["statusCode"] == 400  # the seed's body is {}

    stranger = action(handler, t, pid, "expand", {"channel-id": chan}, user="user-c")  # not a member
    assert stranger["statusCode"] == 404 and body(stranger)["errors"][0]["source"]["pointer"] == "/channel-id"
    assert action(handler, t, pid, "expand", {"channel-id": str(uuid.uuid4())})["statusCode"] == 404
    elsewhere = action(handler, t, pid, "expand", {"channel-id": other})
    assert elsewhere["statusCode"] == 422 and body(elsewhere)["errors"][0]["code"] == "other-organization"
    assert action(handler, t, pid, "expand", {})["statusCode"] == 400  # channel-id required

    # an HTML-only template is answered as text; a missing variable is a 422 of the plugin's, never a 500
    html = body(create(handler, t, "htmlonly", "template", {"template-id": template(t, text=None, html="<p>Hi {{caller.name}}</p>")}))[
        "data"
    ]["id"]
    assert body(action(handler, t, html, "expand", {"channel-id": chan}))["message"].strip() == "Hi Ann"
    broken = body(create(handler, t, "broken", "template", {"template-id": template(t, text="{{candidate.firstName}}")}))["data"]["id"]
    bad = action(handler, t, broken, "expand", {"channel-id": chan})
    assert bad["statusCode"] == 422 and body(bad)["errors"][0]["code"] == "template-render-failed"


def test_expand_of_a_webhook_plugin_posts_a_signed_request_and_answers_its_message(handler, world, receiver):
    from parley.dal import text_callbacks as plumbing
    from parley.domain import text_callbacks

    t, chan, _ = world
    secret = "whsec_plugin_secret_0123456789"
    pid = body(create(handler, t, "weather", "webhook", {"url": receiver.url, "secret": secret}))["data"]["id"]
    out = action(handler, t, pid, "expand", {"channel-id": chan})
    assert out["statusCode"] == 201, out
    assert body(out) == {"message": "Sunny, 21 degrees"}
    [sent] = receiver.requests
    assert sent["path"] == "/expand?v=1" and sent["headers"]["Content-Type"] == "application/json"
    assert text_callbacks.verify(secret, sent["headers"]["Parley-Signature"], sent["body"])
    payload = json.loads(sent["body"])
    assert payload["event"] == "messaging-plugin.expand" and payload["delivery-id"] == sent["headers"]["Parley-Delivery-Id"]
    assert payload["channel"] == {"id": chan, "name": "front desk", "label": "", "kind": payload["channel"]["kind"], "organizationId": ORG}
    assert (
        payload["caller"]["individualId"] == "ind-a" and payload["caller"]["firstName"] == "Ann" and payload["plugin"]["name"] == "weather"
    )

    receiver.content_type, receiver.answer = "text/plain; charset=utf-8", b"  Rain later  \n"
    assert body(action(handler, t, pid, "expand", {"channel-id": chan})) == {"message": "Rain later"}

    # without a secret of its own: signed with the tenant's callback-signing secret
    patch(handler, t, pid, {"args": {"url": receiver.url, "secret": None}})
    assert action(handler, t, pid, "expand", {"channel-id": chan})["statusCode"] == 201
    assert text_callbacks.verify(
        plumbing.signing_secret(t), receiver.requests[-1]["headers"]["Parley-Signature"], receiver.requests[-1]["body"]
    )


@pytest.mark.parametrize(
    ("status", "content_type", "answer"),
    [
        (500, "application/json", b'{"message": "x"}'),
        (302, "text/plain", b""),  # a redirect is not followed
        (200, "application/json", b'{"text": "no message member"}'),
        (200, "application/json", b"not json"),
        (200, "application/json", b'{"message": ""}'),
        (200, "image/png", b"\x89PNG"),
        (200, "text/plain", b"\xff\xfe not utf-8"),
        (200, "text/plain", b"x" * 70_000),
    ],
)
def test_a_webhook_that_fails_is_a_502_of_ours(handler, world, receiver, status, content_type, answer):
    t, chan, _ = world
    pid = body(create(handler, t, "weather", "webhook", {"url": receiver.url}))["data"]["id"]
    receiver.status, receiver.content_type, receiver.answer = status, content_type, answer
    out = action(handler, t, pid, "expand", {"channel-id": chan})
    assert out["statusCode"] == 502, out
    [error] = body(out)["errors"]
    assert error["status"] == 502 and error["code"] == "plugin-webhook-failed"
    assert len(receiver.requests) == 1  # one attempt: the composer is waiting


def test_a_slow_webhook_times_out_in_about_three_seconds(handler, world, receiver):
    t, chan, _ = world
    pid = body(create(handler, t, "weather", "webhook", {"url": receiver.url}))["data"]["id"]
    receiver.delay = 6
    started = time.monotonic()
    out = action(handler, t, pid, "expand", {"channel-id": chan})
    took = time.monotonic() - started
    assert out["statusCode"] == 502 and "could not be reached" in body(out)["errors"][0]["detail"]
    assert 2.5 < took < 4.5


def test_a_webhook_that_drips_its_answer_is_cut_at_three_seconds_in_all(handler, world, receiver, monkeypatch):
    """Each byte within the per-read timeout, the whole past 3 s: refused (the timeout is the exchange's, not a read's)."""
    t, chan, _ = world
    pid = body(create(handler, t, "weather", "webhook", {"url": receiver.url}))["data"]["id"]
    receiver.content_type, receiver.answer, receiver.drip = "text/plain", b"x" * 40, 0.2  # 8 s in all
    started = time.monotonic()
    out = action(handler, t, pid, "expand", {"channel-id": chan})
    took = time.monotonic() - started
    assert out["statusCode"] == 502 and "could not be reached" in body(out)["errors"][0]["detail"], out
    assert 2.5 < took < 4.5


def test_a_private_or_loopback_url_is_refused_before_any_connection(handler, world, receiver):
    t, chan, _ = world
    for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.7/hook", "http://localhost:1/x"):
        pid = body(create(handler, t, f"hook{uuid.uuid4().hex[:6]}", "webhook", {"url": url}))["data"]["id"]
        out = action(handler, t, pid, "expand", {"channel-id": chan})
        assert out["statusCode"] == 502 and "may not be called" in body(out)["errors"][0]["detail"], (url, out)
    assert receiver.requests == []


def test_another_tenants_plugins_are_404_on_every_route(handler, world, other_tenant):
    t, chan, _ = world
    pid = body(create(handler, t, "welcome", "template", {"template-id": template(t)}))["data"]["id"]
    stranger = other_tenant[0].id
    assert get(handler, stranger, pid)["statusCode"] == 404
    assert patch(handler, stranger, pid, {"name": "stolen"})["statusCode"] == 404
    for verb in ("enable", "disable"):
        assert action(handler, stranger, pid, verb)["statusCode"] == 404
    assert action(handler, stranger, pid, "expand", {"channel-id": chan})["statusCode"] == 404
    assert listing(handler, stranger, {"organization-id": ORG})["statusCode"] == 404
    assert body(get(handler, t, pid))["data"]["attributes"]["name"] == "welcome"


def test_the_purge_of_a_user_unnames_the_plugins_it_made_or_changed(handler, world):
    from parley.dal import plugins as store
    from parley.domain import plugins, purge

    t, _, _ = world
    tid = template(t)
    mine = body(create(handler, t, "welcome", "template", {"template-id": tid}))["data"]["id"]  # by user-a
    patched = call(handler, "update_messaging_plugin", t, user="user-b", path=f"/v1/messaging-plugins/{mine}/", path_params={"id": mine},
                   payload={"data": {"type": PLUG, "id": mine, "attributes": {"name": "greeting"}}})  # fmt: skip
    assert patched["statusCode"] == 200
    other = body(create(handler, t, "weather", "webhook", {"url": "https://example.com/a"}, org=ORG2))["data"]["id"]
    assert plugins.purge_users(t, {"user-a"}) == {"plugins_unnamed": 2}
    first, second = store.get(t, mine, consistent=True), store.get(t, other, consistent=True)
    assert "created_by" not in first and first["last_modified_by"] == "user-b"
    assert "created_by" not in second and "last_modified_by" not in second
    assert plugins.purge_users(t, {"user-a"}) == {"plugins_unnamed": 0}
    done = purge.purge_courier(purge.Subject(tenant_id=t, user_ids={"user-b"}))  # the purge job's courier step
    assert done["plugins_unnamed"] == 1
    attrs = body(get(handler, t, mine))["data"]["attributes"]
    assert attrs["created-by"] is None and attrs["last-modified-by"] is None and attrs["name"] == "greeting"
