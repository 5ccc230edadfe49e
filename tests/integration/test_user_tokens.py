"""The authorizer with the second credential (decision S5): a tenant's user bearer token (JWT) beside its API keys,
on moto: HS256 secrets in Secrets Manager, the issuer index written by configure-tenant, tenant isolation."""

from __future__ import annotations

import copy
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers import api_event, load_event

AUTHORIZER = "root.AuthorizerFunction"
SECRET_A, SECRET_B = "a" * 40, "b" * 40
ISSUER_A, ISSUER_B, ISSUER_C = "https://login.acme.example/", "https://login.globex.example/", "https://idp.initech.example/"
JWKS_URL = "https://idp.initech.example/jwks.json"
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _event(authorization):
    event = copy.deepcopy(load_event("core/authorizer"))
    event["headers"]["Authorization"] = authorization
    event["multiValueHeaders"]["Authorization"] = [authorization]
    return event


def _token(key, *, iss, aud="parley", sub="user-1", alg="HS256", exp_in=300, kid=None) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in}
    return "Bearer " + jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _refused(auth, authorization) -> bool:
    with pytest.raises(Exception) as raised:
        auth(_event(authorization))
    return str(raised.value) == "Unauthorized"


@pytest.fixture
def tenants_with_tokens(aws, tenant, other_tenant, monkeypatch):
    """Tenant A and B take HS256 user tokens (each its own secret, in Secrets Manager); a third, C, RS256 via a JWKS."""
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import user_tokens
    from parley.domain.auth import configure_tenant, create_tenant

    a, b = tenant[0], other_tenant[0]
    put_tenant_secret(f"parley/{a.id}/jwt", {"jwt_secret": SECRET_A})
    put_tenant_secret(f"parley/{b.id}/jwt", {"jwt_secret": SECRET_B})
    configure_tenant(a.id, jwt_issuer=ISSUER_A, jwt_audience="parley", jwt_secret_name=f"parley/{a.id}/jwt")
    configure_tenant(b.id, jwt_issuer=ISSUER_B, jwt_audience="parley", jwt_secret_name=f"parley/{b.id}/jwt")
    c, _ = create_tenant("Initech", "no-reply@parley.example")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA.public_key())) | {"kid": "rsa-1"}
    fetched = []
    monkeypatch.setattr(user_tokens, "JWKS", user_tokens.JwksCache(lambda url: fetched.append(url) or {"keys": [jwk]}))
    configure_tenant(c.id, jwt_issuer=ISSUER_C, jwt_audience="parley", jwt_jwks_url=JWKS_URL)
    return a, b, c, tenant[1], fetched


def test_a_user_token_is_allowed_with_its_tenant_user_and_expiry_in_context(handler, tenants_with_tokens):
    from parley import clock
    from parley.domain.context import Caller

    a, *_ = tenants_with_tokens
    out = handler(AUTHORIZER)(_event(_token(SECRET_A, iss=ISSUER_A, sub="courier-user-42", exp_in=600)))
    assert out["principalId"] == a.id
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    ctx = out["context"]
    assert (ctx["tenantId"], ctx["credential"], ctx["userId"]) == (a.id, "user_token", "courier-user-42")
    assert "keyId" not in ctx
    # the cached Allow stops at the token's exp (+ the 30 s leeway): parley.api.app refuses it from then on
    remaining = (clock.parse_iso(ctx["keyExpiresAt"]) - clock.now()).total_seconds()
    assert 600 < remaining <= 631
    caller = Caller.from_authorizer({k: str(v) if isinstance(v, bool) else v for k, v in ctx.items()})
    assert (caller.tenant_id, caller.credential, caller.user_id) == (a.id, "user_token", "courier-user-42")


def test_the_api_key_still_works_beside_tokens(handler, tenants_with_tokens):
    a, _b, _c, key, _ = tenants_with_tokens
    ctx = handler(AUTHORIZER)(_event(f"Bearer {key}"))["context"]
    assert (ctx["tenantId"], ctx["credential"], ctx["userId"]) == (a.id, "api_key", "")


def test_rs256_token_of_a_jwks_tenant_is_allowed_and_its_keys_fetched_once(handler, tenants_with_tokens):
    *_, c, _key, fetched = tenants_with_tokens
    auth = handler(AUTHORIZER)
    for sub in ("u1", "u2"):
        ctx = auth(_event(_token(RSA, iss=ISSUER_C, alg="RS256", kid="rsa-1", sub=sub)))["context"]
        assert (ctx["tenantId"], ctx["userId"]) == (c.id, sub)
    assert fetched == [JWKS_URL]


def test_tenant_a_token_never_authorizes_as_tenant_b(handler, tenants_with_tokens):
    auth = handler(AUTHORIZER)
    # signed with A's secret but claiming B's issuer: B's own secret decides
    assert _refused(auth, _token(SECRET_A, iss=ISSUER_B))
    # an HS256 token claiming the JWKS tenant's issuer (signed with A's secret): C takes RS256/ES256 only
    assert _refused(auth, _token(SECRET_A, iss=ISSUER_C, kid="rsa-1"))
    # an issuer nobody configured
    assert _refused(auth, _token(SECRET_A, iss="https://unknown.example/"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: _token("z" * 40, iss=ISSUER_A),  # wrong signature
        lambda: _token(SECRET_A, iss=ISSUER_A, aud="another-app"),  # wrong audience
        lambda: _token(SECRET_A, iss=ISSUER_A, exp_in=-120),  # expired beyond the leeway
        lambda: _token(SECRET_A, iss=ISSUER_A, sub=""),  # no subject
        lambda: (
            "Bearer " + jwt.encode({"iss": ISSUER_A, "aud": "parley", "sub": "u", "exp": int(time.time()) + 60}, None, algorithm="none")
        ),
        lambda: _token(RSA, iss=ISSUER_C, alg="RS256", kid="rotated-away"),  # unknown kid
    ],
    ids=["signature", "audience", "expired", "no-sub", "alg-none", "unknown-kid"],
)
def test_bad_tokens_are_refused(make, handler, tenants_with_tokens):
    assert _refused(handler(AUTHORIZER), make())


def test_a_disabled_tenants_tokens_are_refused_until_it_is_enabled(handler, tenants_with_tokens):
    from parley.domain import api_keys

    a, *_ = tenants_with_tokens
    auth = handler(AUTHORIZER)
    token = _token(SECRET_A, iss=ISSUER_A)
    api_keys.set_tenant_disabled(a.id, True)
    assert _refused(auth, token)
    api_keys.set_tenant_disabled(a.id, False)
    assert auth(_event(token))["context"]["tenantId"] == a.id


def test_an_issuer_names_one_tenant_and_moving_it_frees_the_old_one(tenants_with_tokens, table_items):
    from parley.dal import tenants
    from parley.domain.auth import configure_tenant
    from parley.errors import Conflict

    a, b, *_ = tenants_with_tokens
    with pytest.raises(Conflict):
        configure_tenant(b.id, jwt_issuer=ISSUER_A)
    assert tenants.get(b.id).jwt_issuer == ISSUER_B  # nothing written
    assert tenants.of_issuer(ISSUER_A) == a.id
    configure_tenant(a.id, jwt_issuer="https://login2.acme.example/")
    assert tenants.of_issuer(ISSUER_A) is None
    assert tenants.of_issuer("https://login2.acme.example/") == a.id
    configure_tenant(b.id, jwt_issuer=ISSUER_A)  # free now
    assert tenants.of_issuer(ISSUER_A) == b.id and tenants.of_issuer(ISSUER_B) is None
    issuers = sorted(i["PK"] for i in table_items() if i.get("type") == "jwt_issuer")
    assert issuers == sorted(f"ISSUER#{i}" for i in (ISSUER_A, "https://login2.acme.example/", ISSUER_C))


def test_configure_tenant_cli_sets_user_tokens_all_at_once(aws, tenant, capsys):
    from parley.admin import main
    from parley.dal import tenants

    t, _ = tenant
    assert main(["configure-tenant", "--tenant-id", t.id, "--set", f"jwt_issuer={ISSUER_A}"]) == 1  # incomplete
    assert "jwt_audience" in capsys.readouterr().err
    argv = ["--set", f"jwt_issuer={ISSUER_A}", "--set", "jwt_audience=parley", "--set", f"jwt_secret_name=parley/{t.id}/jwt"]
    assert main(["configure-tenant", "--tenant-id", t.id, *argv]) == 0
    assert tenants.of_issuer(ISSUER_A) == t.id
    # turning user tokens off again removes the issuer's index item
    off = ["--set", "jwt_issuer=", "--set", "jwt_audience=", "--set", "jwt_secret_name="]
    assert main(["configure-tenant", "--tenant-id", t.id, *off]) == 0
    assert tenants.of_issuer(ISSUER_A) is None


@pytest.mark.parametrize(
    ("function", "event"),
    [("CandidateApi.SmsOptinGetFunction", "candidate/sms_optin_get"), ("CrmApi.ListTemplatesFunction", "crm/list_templates")],
)
def test_an_endpoint_serves_the_token_context_until_exp_and_not_after(handler, tenants_with_tokens, function, event):
    """The authorizer's context for a user token, as API Gateway hands it over (values as strings), reaches the
    endpoint; past ``keyExpiresAt`` (exp + leeway) the endpoint refuses the cached Allow itself."""
    a, *_ = tenants_with_tokens
    ctx = handler(AUTHORIZER)(_event(_token(SECRET_A, iss=ISSUER_A, sub="u-9")))["context"]
    fn = handler(function)

    def call(**override) -> dict:
        request = api_event(event, tenant_id=a.id)
        authorizer = request["requestContext"]["authorizer"]
        authorizer.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (ctx | override).items()})
        return fn(request)

    assert call()["statusCode"] == 200
    out = call(keyExpiresAt="2000-01-01T00:00:00.000Z")
    assert out["statusCode"] == 401, out
    error = json.loads(out["body"])
    assert error.get("message", error.get("detail")) == "expired user token"
