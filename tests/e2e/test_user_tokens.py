"""The second credential over HTTP (decision S5): a user bearer token minted by the local stack for the demo tenant
(``POST /_local/user-token``) is accepted by the shared authorizer like the tenant's API key; a tampered, expired
or foreign token is refused with 401 in each family's own error shape."""

from __future__ import annotations

import base64
import json
import time

import requests

OPT_IN = "/communications/sms/v1/optIn"
CRM_SCHEDULED = "/api/v1/communications/scheduled"
CANDIDATE_401 = {"status": 401, "message": "missing or invalid API key"}


def _mint(local, **body) -> requests.Response:
    return requests.post(f"{local.api}/_local/user-token", json=body, timeout=30)


def _token(local, sub: str = "user-1", **body) -> str:
    out = _mint(local, sub=sub, **body)
    assert out.status_code == 201, out.text
    return out.json()["token"]


def _opt_in(local, token: str) -> requests.Response:
    return requests.get(
        f"{local.api}{OPT_IN}", params={"phoneNumber": "+15555550123"},
        headers={"Authorization": f"Bearer {token}", "x-ph-userid": "recruiter-1"}, timeout=30,
    )  # fmt: skip


def _crm(local, token: str) -> requests.Response:
    return requests.get(f"{local.api}{CRM_SCHEDULED}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_minted_user_token_calls_the_candidate_and_crm_apis(local):
    minted = _mint(local, sub="courier-user-7")
    assert minted.status_code == 201, minted.text
    body = minted.json()
    assert body["sub"] == "courier-user-7" and body["token"].count(".") == 2 and body["tenantId"]
    header, claims = (json.loads(base64.urlsafe_b64decode(part + "==")) for part in body["token"].split(".")[:2])
    assert header["alg"] == "HS256"
    assert (claims["sub"], claims["aud"], claims["iss"]) == ("courier-user-7", "parley-local", body["issuer"])
    out = _opt_in(local, body["token"])
    assert out.status_code == 200, out.text
    assert _crm(local, body["token"]).status_code == 200
    # the demo tenant's API key keeps working beside its user tokens
    assert _opt_in(local, local.demo_key).status_code == 200


def test_a_tampered_token_is_401_in_each_familys_shape(local):
    token = _token(local, sub="user-1")
    head, _, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    for forged in (
        f"{head}.{_b64(claims | {'sub': 'admin'})}.{sig}",  # another subject under the same signature
        f"{head}.{token.split('.')[1]}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}",  # a changed signature
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{token.split('.')[1]}.",  # alg none
    ):
        out = _opt_in(local, forged)
        assert (out.status_code, out.json()) == (401, CANDIDATE_401), out.text
        crm = _crm(local, forged)
        assert crm.status_code == 401 and set(crm.json()) == {"title", "detail"}, crm.text


def test_an_expired_token_is_401(local):
    token = _token(local, sub="user-1", expiresIn=-120)  # past exp and the 30 s leeway
    out = _opt_in(local, token)
    assert (out.status_code, out.json()) == (401, CANDIDATE_401), out.text


def test_a_token_stops_at_its_expiry_even_while_the_gateway_caches_the_allow(local):
    # expired 27 s ago: within the authorizer's 30 s leeway for 3 s more, and refused from then on
    token = _token(local, sub="user-1", expiresIn=-27)
    first = _opt_in(local, token)
    assert first.status_code == 200, first.text
    time.sleep(3.5)
    out = _opt_in(local, token)
    assert out.status_code == 401 and out.json()["status"] == 401, out.text


def test_a_token_of_another_tenant_is_that_tenants_not_the_demos(local):
    other = local.new_tenant("user-tokens")
    token = _token(local, sub="user-1", tenantId=other["tenantId"])
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert other["tenantId"] in claims["iss"]
    assert _opt_in(local, token).status_code == 200
    # its claims re-signed by nobody: pointing it at the demo tenant's issuer breaks the signature
    demo_iss = json.loads(base64.urlsafe_b64decode(_token(local).split(".")[1] + "=="))["iss"]
    head, _, sig = token.split(".")
    out = _opt_in(local, f"{head}.{_b64(claims | {'iss': demo_iss})}.{sig}")
    assert (out.status_code, out.json()) == (401, CANDIDATE_401), out.text


def test_the_mint_tool_refuses_bad_requests(local):
    assert _mint(local).status_code == 400  # no sub
    assert _mint(local, sub="u", expiresIn="soon").status_code == 400
    assert _mint(local, sub="u", colour="blue").status_code == 400
    assert _mint(local, sub="u", tenantId="no-such-tenant").status_code == 404
    assert requests.get(f"{local.api}/_local/user-token", timeout=10).status_code == 405
