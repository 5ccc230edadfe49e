"""messaging-plugins (seed 003, issue 19 area 2) over HTTP on the local stack: every route in the seed's shapes —
create, list (organization-id, filter[name], filter[type]), get, PATCH, disable, enable, expand — with a `template`
plugin (a tenant template rendered with the channel and the caller) and a `webhook` plugin (a signed POST from the
function to a local receiver; the stack allows 127.0.0.1 as its only callable private address), the stored state,
409/422/502 answers, and another tenant's ids as 404s."""

from __future__ import annotations

import json
import uuid

import requests
from plugin_receiver import PluginReceiver

from helpers import import_directory

MEDIA = "application/vnd.api+json"
T1 = "2026-11-01T09:00:00Z"
ATTRS = {"args", "created-at", "created-by", "enabled", "last-modified-at", "last-modified-by", "name", "organization-id", "type"}


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "uc", "ia", "ib", "ic")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i, first in (("ua", "ia", "Ann"), ("ub", "ib", "Bob"), ("uc", "ic", "Cy")):
        lines.append({"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": u, "primary-individual-id": ids[i]}})
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"owner-id": ids[u], "first-name": first}})
    return ids, lines


def test_plugins_over_http(local, emulator_env, tmp_path):
    from parley.dal import plugins as store
    from parley.domain import templates, text_callbacks
    from parley.models.crm import TemplateRequest

    tenant, stranger = local.new_tenant("courier-plugins"), local.new_tenant("courier-plugins-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0
    api = local.api

    def h(user="ua", credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": MEDIA, "X-User-ID": ids[user]}

    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["ib"]],
                                                                "name": "front desk"}}}  # fmt: skip
    chan = requests.post(f"{api}/v1/messaging-channels/", json=doc, headers=h(), timeout=30)
    assert chan.status_code == 201, chan.text
    cid = chan.json()["data"]["id"]
    request = TemplateRequest(name="welcome", subject="Welcome", bodyText="Hi {{caller.firstName}}, this is {{channel.name}}")
    tpl = templates.create(tid, request, user_id=None).id

    def create(name, type_, args, credential=key):
        doc = {
            "data": {"type": "messaging-plugins", "attributes": {"name": name, "type": type_, "args": args, "organization-id": ids["org"]}}
        }
        return requests.post(f"{api}/v1/messaging-plugins/", json=doc, headers=h(credential=credential), timeout=30)

    def act(pid, verb, payload=None, user="ua", credential=key):
        return requests.post(f"{api}/v1/messaging-plugins/{pid}/{verb}/", json=payload or {}, headers=h(user, credential), timeout=30)

    # ── create, get ──
    made = create("welcome", "template", {"template-id": tpl})
    assert made.status_code == 201 and made.headers["Content-Type"] == MEDIA, made.text
    welcome = made.json()["data"]
    assert welcome["type"] == "messaging-plugins" and set(welcome["attributes"]) == ATTRS
    assert welcome["attributes"]["enabled"] is True and welcome["attributes"]["created-by"] == ids["ua"]
    assert welcome["attributes"]["args"] == {"template-id": tpl} and welcome["attributes"]["organization-id"] == ids["org"]
    assert store.get(tid, welcome["id"], consistent=True)["plugin_type"] == "template"
    got = requests.get(f"{api}/v1/messaging-plugins/{welcome['id']}/", headers=h(), timeout=30)
    assert got.status_code == 200 and got.json()["data"] == welcome
    clash = create("welcome", "webhook", {"url": "https://example.com/x"})
    assert clash.status_code == 409 and clash.json()["errors"][0]["code"] == "name-taken"
    assert create("slackbot", "slack", {}).status_code == 422
    assert create("ab", "template", {"template-id": tpl}).status_code == 400

    receiver = PluginReceiver().start()
    try:
        secret = "whsec_e2e_plugin_secret_42"
        hook = create("weather", "webhook", {"url": receiver.url, "secret": secret}).json()["data"]
        assert hook["attributes"]["args"] == {"url": receiver.url}  # the secret is write-only
        assert store.get(tid, hook["id"], consistent=True)["secret"] == secret

        # ── list ──
        def listing(credential=key, **params):
            query = {"organization-id": ids["org"], **params}
            return requests.get(f"{api}/v1/messaging-plugins/", params=query, headers=h(credential=credential), timeout=30)

        every = listing()
        assert every.status_code == 200 and [d["id"] for d in every.json()["data"]] == [welcome["id"], hook["id"]]
        assert every.json()["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
        assert [d["id"] for d in listing(**{"filter[type]": "webhook"}).json()["data"]] == [hook["id"]]
        assert [d["id"] for d in listing(**{"filter[name]": "welcome"}).json()["data"]] == [welcome["id"]]

        # ── expand: template, then the signed webhook ──
        expanded = act(welcome["id"], "expand", {"channel-id": cid})
        assert expanded.status_code == 201 and expanded.headers["Content-Type"].startswith("application/json"), expanded.text
        assert expanded.json() == {"message": "Hi Ann, this is front desk"}
        from_hook = act(hook["id"], "expand", {"channel-id": cid}, user="ub")
        assert from_hook.status_code == 201 and from_hook.json() == {"message": "Sunny, 21 degrees"}, from_hook.text
        [sent] = receiver.requests
        assert text_callbacks.verify(secret, sent["headers"]["Parley-Signature"], sent["body"])
        payload = json.loads(sent["body"])
        assert (
            payload["channel"]["id"] == cid and payload["caller"]["individualId"] == ids["ib"] and payload["caller"]["firstName"] == "Bob"
        )
        receiver.status = 503
        failed = act(hook["id"], "expand", {"channel-id": cid})
        assert failed.status_code == 502 and failed.json()["errors"][0]["code"] == "plugin-webhook-failed"
        assert act(welcome["id"], "expand", {"channel-id": cid}, user="uc").status_code == 404  # not a member
    finally:
        receiver.stop()

    # ── PATCH, disable, enable ──
    doc = {"data": {"type": "messaging-plugins", "id": welcome["id"], "attributes": {"name": "greeting"}}}
    renamed = requests.patch(f"{api}/v1/messaging-plugins/{welcome['id']}/", json=doc, headers=h(), timeout=30)
    assert renamed.status_code == 200 and renamed.json()["data"]["attributes"]["name"] == "greeting"
    assert store.by_name(tid, ids["org"], "greeting")["id"] == welcome["id"] and store.by_name(tid, ids["org"], "welcome") is None
    off = act(welcome["id"], "disable")
    assert off.status_code == 201 and off.json()["data"]["attributes"]["enabled"] is False
    assert store.get(tid, welcome["id"], consistent=True)["enabled"] is False
    blocked = act(welcome["id"], "expand", {"channel-id": cid})
    assert blocked.status_code == 409 and blocked.json()["errors"][0]["code"] == "plugin-disabled"
    on = act(welcome["id"], "enable")
    assert on.status_code == 201 and on.json()["data"]["attributes"]["enabled"] is True
    assert act(welcome["id"], "expand", {"channel-id": cid}).json() == {"message": "Hi Ann, this is front desk"}

    # ── isolation: another tenant gets 404 on every route ──
    other = stranger["apiKey"]
    assert requests.get(f"{api}/v1/messaging-plugins/{welcome['id']}/", headers=h(credential=other), timeout=30).status_code == 404
    assert (
        requests.patch(f"{api}/v1/messaging-plugins/{welcome['id']}/", json=doc, headers=h(credential=other), timeout=30).status_code == 404
    )
    for verb in ("enable", "disable"):
        assert act(welcome["id"], verb, credential=other).status_code == 404
    assert act(welcome["id"], "expand", {"channel-id": cid}, credential=other).status_code == 404
    theirs = listing(other)  # the same organization id in the other tenant's directory: none of these plugins
    assert theirs.status_code == 200 and theirs.json()["data"] == [] and theirs.json()["meta"]["page[total]"] == 0
    assert store.get(tid, welcome["id"], consistent=True)["enabled"] is True
