"""A key's life through the local gateway, driven by the admin CLI as an operator runs it: a revoked key is refused
within the authorizer's cache time, a rotated key's old half works until its overlap ends and not after, an
expiring key likewise, and a disabled tenant's keys are refused until it is enabled.

The session's stack runs with ``AuthorizerCacheSeconds`` = ``conftest.AUTHORIZER_CACHE_SECONDS`` (2 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import ROOT
from parley import clock

SLACK = 0.75  # s: a poll's interval and one request's latency
ENDS_IN = 4  # s: the rotation's overlap and the expiring key's life


@pytest.fixture
def admin(local, tmp_path):
    """``python -m parley.admin …`` as README shows it, in a directory whose .local/stack.json is the session's stack."""
    state = tmp_path / ".local" / "stack.json"
    state.parent.mkdir(parents=True)
    state.write_text(
        json.dumps({"api": local.api, "emulator": local.emulator, "resources": local.resources, "parameters": local.parameters})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env |= {"PYTHONPATH": str(ROOT / "layers" / "common"), "HOME": str(tmp_path)}

    def run(*argv: str) -> tuple[dict | list, str]:
        argv = (sys.executable, "-m", "parley.admin", *argv)
        out = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout), out.stderr

    return run


def _ttl(local) -> float:
    return float(local.parameters["AuthorizerCacheSeconds"])


def _get(local, key: str, form: str = "Bearer {key}") -> requests.Response:
    return requests.get(
        f"{local.api}/communications/sms/v1/optIn", params={"phoneNumber": "+15555550123"},
        headers={"Authorization": form.format(key=key), "x-ph-userid": "recruiter-1"}, timeout=30,
    )  # fmt: skip


def _refused(out: requests.Response) -> bool:
    if out.status_code == 200:
        return False
    assert (out.status_code, out.json()) == (401, {"status": 401, "message": "missing or invalid API key"}), out.text
    return True


def _until_refused(local, keys: list[str], deadline: float) -> dict[str, tuple[list[float], float]]:
    """Poll with each key until it is refused (fail at ``deadline``): per key, when each request it was served
    for was sent, and when its first refused request was answered.

    The assertions on these are timing-proof: a request *sent* after an instant the key must be refused from
    is handled after it too, and a request *answered* before an instant it must work until was handled before it;
    how long the machine takes between polls does not matter."""
    served: dict[str, list[float]] = {k: [] for k in keys}
    refused: dict[str, float] = {}
    while len(refused) < len(keys):
        if time.time() > deadline:
            pytest.fail(f"still served at the deadline: {[k[:10] for k in keys if k not in refused]}")
        for key in keys:
            if key in refused:
                continue
            asked = time.time()
            if _refused(_get(local, key)):
                refused[key] = time.time()
            else:
                served[key].append(asked)
        time.sleep(0.1)
    return {k: (served[k], refused[k]) for k in keys}


def test_a_revoked_key_is_refused_within_the_authorizer_cache_time(local, admin):
    tenant = local.new_tenant("revoke")
    made, _ = admin("create-key", "--tenant-id", tenant["tenantId"], "--name", "leaked")
    key = made["apiKey"]
    assert _get(local, key).status_code == 200  # the gateway now holds the authorizer's Allow for this header
    listed, _ = admin("list-keys", "--tenant-id", tenant["tenantId"], "--json")
    row = next(r for r in listed if r["keyId"] == made["keyId"])
    assert (row["name"], row["state"], row["prefix"]) == ("leaked", "active", key[:10])
    assert row["lastUsedAt"] is not None  # the authorizer noted the use

    revoked, note = admin("revoke-key", "--tenant-id", tenant["tenantId"], made["keyId"])
    done = time.time()  # the revocation is written before this
    assert revoked["state"] == "revoked" and f"within {local.parameters['AuthorizerCacheSeconds']} s" in note
    # a header the gateway has no answer for goes to the authorizer, which refuses the key at once
    assert _refused(_get(local, key, form="{key}"))
    # the cached answer: no request sent later than the cache time after the revocation is served
    ((served, _),) = _until_refused(local, [key], deadline=done + _ttl(local) + 30).values()
    assert all(asked < done + _ttl(local) for asked in served), [round(a - done, 2) for a in served]
    assert _get(local, tenant["apiKey"]).status_code == 200  # the tenant's other key still works
    # the console: GET /_local/keys says each key's state; the page's list shows only the keys that still work
    states = {k["apiKey"]: k["state"] for k in requests.get(f"{local.api}/_local/keys", timeout=10).json()}
    assert (states[key], states[tenant["apiKey"]]) == ("revoked", "active")
    shown = [t["apiKey"] for t in requests.get(f"{local.api}/_local/console/state", timeout=30).json()["tenants"]]
    assert key not in shown and tenant["apiKey"] in shown


def test_the_gateway_serves_the_authorizers_answer_for_the_cache_time(local, emulator_env):
    """What the bound above is made of: a key revoked right after a request keeps being served from the cache."""
    from parley.domain import api_keys

    tenant = local.new_tenant("cache")
    assert _get(local, tenant["apiKey"]).status_code == 200
    primed = time.time()  # the gateway cached the Allow before this
    api_keys.revoke(tenant["tenantId"], tenant["apiKey"])
    asked = time.time()
    out = _get(local, tenant["apiKey"])
    if asked + SLACK >= primed + _ttl(local) - 0.5:
        pytest.skip("this machine took longer than the cache time between the two requests")
    assert out.status_code == 200  # served from the cache: the authorizer did not run
    ((served, _),) = _until_refused(local, [tenant["apiKey"]], deadline=primed + _ttl(local) + 30).values()
    assert all(a < primed + _ttl(local) for a in served)


def test_a_rotated_keys_old_half_works_until_its_overlap_ends_and_not_after(local, admin):
    """And an expiring key (create-key --expires-in) likewise: both end exactly on time, cache or not."""
    tenant = local.new_tenant("rotate")
    with ThreadPoolExecutor(2) as pool:  # the two commands at once: the keys' few seconds are not spent waiting
        rotating = pool.submit(admin, "rotate-key", "--tenant-id", tenant["tenantId"], tenant["apiKey"][:10], "--overlap", f"{ENDS_IN}s")
        creating = pool.submit(admin, "create-key", "--tenant-id", tenant["tenantId"], "--expires-in", f"{ENDS_IN}s")
        (rotated, note), (expiring, _) = rotating.result(), creating.result()
    old, new = tenant["apiKey"], rotated["apiKey"]
    assert f"works until {rotated['old']['expiresAt']}" in note
    ends = {
        old: clock.parse_iso(rotated["old"]["expiresAt"]).timestamp(),
        expiring["apiKey"]: clock.parse_iso(expiring["expiresAt"]).timestamp(),
    }
    if time.time() + SLACK >= min(ends.values()):
        pytest.skip("the admin commands took longer than the keys' remaining seconds on this machine")
    for key, (served, refused_answered) in _until_refused(local, list(ends), deadline=max(ends.values()) + 30).items():
        assert served, "the key was never served before its end"
        assert max(served) < ends[key]  # no request sent after its end was served …
        assert refused_answered >= ends[key]  # … and none answered before its end was refused
    assert _get(local, new).status_code == 200
    listed, _ = admin("list-keys", "--tenant-id", tenant["tenantId"], "--json")
    states = {r["keyId"]: (r["state"], r["rotatedFrom"], r["rotatedTo"]) for r in listed}
    assert states[rotated["old"]["keyId"]] == ("expired", None, rotated["keyId"])
    assert states[rotated["keyId"]] == ("active", rotated["old"]["keyId"], None)
    assert states[expiring["keyId"]][0] == "expired"


def test_a_disabled_tenants_keys_are_refused_until_it_is_enabled(local, admin):
    tenant, other = local.new_tenant("disable"), local.new_tenant("bystander")
    second, _ = admin("create-key", "--tenant-id", tenant["tenantId"])
    for key in (tenant["apiKey"], second["apiKey"], other["apiKey"]):
        assert _get(local, key).status_code == 200
    _, note = admin("disable-tenant", "--tenant-id", tenant["tenantId"])
    done = time.time()
    assert "refuses its keys within" in note
    for served, _ in _until_refused(local, [tenant["apiKey"], second["apiKey"]], deadline=done + _ttl(local) + 30).values():
        assert all(asked < done + _ttl(local) for asked in served)
    assert _get(local, other["apiKey"]).status_code == 200

    admin("enable-tenant", "--tenant-id", tenant["tenantId"])
    # the gateway keeps no refusal (docs allow the cache time for API Gateway): the next request is authorized
    assert _get(local, tenant["apiKey"]).status_code == 200
    assert _get(local, second["apiKey"]).status_code == 200
