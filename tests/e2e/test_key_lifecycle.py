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

import pytest
import requests

from helpers import ROOT
from parley import clock

SLACK = 0.75  # s: a poll's interval and one request's latency


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


def _first_refusal(local, key: str, deadline: float) -> tuple[float, float, list[float]]:
    """Poll with ``key`` until it is refused, or fail at ``deadline``: when the refused request was sent and
    answered, and when each request before it (served) was sent."""
    served: list[float] = []
    while time.time() < deadline:
        asked = time.time()
        if _refused(_get(local, key)):
            return asked, time.time(), served
        served.append(asked)
        time.sleep(0.1)
    pytest.fail(f"the key was still served at the deadline ({len(served)} answers)")


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
    done = time.time()
    assert revoked["state"] == "revoked" and f"within {local.parameters['AuthorizerCacheSeconds']} s" in note
    # a header the gateway has no answer for goes to the authorizer, which refuses the key at once
    assert _refused(_get(local, key, form="{key}"))
    # the cached answer is refused within the cache time
    refused_at, _, _ = _first_refusal(local, key, deadline=done + _ttl(local) + 10)
    assert refused_at - done <= _ttl(local) + SLACK, f"refused {refused_at - done:.2f} s after the revocation"
    assert _get(local, tenant["apiKey"]).status_code == 200  # the tenant's other key still works


def test_the_gateway_serves_the_authorizers_answer_for_the_cache_time(local, emulator_env):
    """What the bound above is made of: a key revoked right after a request keeps being served from the cache."""
    from parley.domain import api_keys

    tenant = local.new_tenant("cache")
    primed = time.time()
    assert _get(local, tenant["apiKey"]).status_code == 200
    api_keys.revoke(tenant["tenantId"], tenant["apiKey"])
    asked = time.time()
    out = _get(local, tenant["apiKey"])
    if asked + SLACK >= primed + _ttl(local):
        pytest.skip("this machine took longer than the cache time between the two requests")
    assert out.status_code == 200  # served from the cache: the authorizer did not run
    refused_at, _, _ = _first_refusal(local, tenant["apiKey"], deadline=primed + _ttl(local) + 10)
    assert refused_at <= primed + _ttl(local) + SLACK


def test_a_rotated_keys_old_half_works_until_its_overlap_ends_and_not_after(local, admin):
    """And an expiring key (create-key --expires-in) likewise: both end exactly on time, cache or not."""
    tenant = local.new_tenant("rotate")
    rotated, note = admin("rotate-key", "--tenant-id", tenant["tenantId"], tenant["apiKey"][:10], "--overlap", "3s")
    expiring, _ = admin("create-key", "--tenant-id", tenant["tenantId"], "--expires-in", "3s")
    old, new = tenant["apiKey"], rotated["apiKey"]
    assert f"works until {rotated['old']['expiresAt']}" in note
    for key, ends in ((old, rotated["old"]["expiresAt"]), (expiring["apiKey"], expiring["expiresAt"])):
        end = clock.parse_iso(ends).timestamp()
        asked, answered, served = _first_refusal(local, key, deadline=end + 10)
        assert served, "the key was never served before its end"
        assert max(served) < end  # served only before its end …
        assert answered >= end and asked <= end + SLACK  # … and refused from then on (not before it, not much after)
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
    for key in (tenant["apiKey"], second["apiKey"]):
        refused_at, _, _ = _first_refusal(local, key, deadline=done + _ttl(local) + 10)
        assert refused_at - done <= _ttl(local) + SLACK
    assert _get(local, other["apiKey"]).status_code == 200

    admin("enable-tenant", "--tenant-id", tenant["tenantId"])
    done = time.time()
    for key in (tenant["apiKey"], second["apiKey"]):
        assert local.wait_for(lambda k=key: _get(local, k).status_code == 200, timeout=_ttl(local) + SLACK)
    assert time.time() - done <= _ttl(local) + 2 * SLACK
