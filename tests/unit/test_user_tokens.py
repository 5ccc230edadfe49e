"""User bearer tokens (decision S5): the verification matrix against a tenant's configuration, and the JWKS cache."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from parley.dal import jwks
from parley.domain import user_tokens
from parley.domain.user_tokens import JwksCache, verify
from parley.models.domain import Tenant

ISSUER, AUDIENCE, URL = "https://idp.example/", "parley", "https://idp.example/.well-known/jwks.json"
SECRET = "s" * 32
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())


def _jwk(private, kid: str, alg: str | None = None) -> dict:
    algo = jwt.algorithms.RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    data = json.loads(algo.to_jwk(private.public_key()))
    data["kid"] = kid
    if alg:
        data["alg"] = alg
    return data


def _tenant(**jwt_settings) -> Tenant:
    return Tenant(id="t-1", name="T", sender_email="a@b.example", created_at=datetime.now(UTC), jwt_issuer=ISSUER,
                  jwt_audience=AUDIENCE, **jwt_settings)  # fmt: skip


def _claims(**over) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": now + 300, "iat": now} | over


def _token(key, alg: str, kid: str | None = "k1", **over) -> str:
    claims = {k: v for k, v in _claims(**over).items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _check(token: str, tenant: Tenant):
    return verify(token, jwt.get_unverified_header(token), tenant)


@pytest.fixture
def jwks_tenant(monkeypatch):
    keys = {"keys": [_jwk(RSA, "k1"), _jwk(EC, "k2")]}
    monkeypatch.setattr(user_tokens, "JWKS", JwksCache(lambda url: keys if url == URL else {}))
    return _tenant(jwt_jwks_url=URL)


@pytest.fixture
def secret_tenant(monkeypatch):
    monkeypatch.setattr(user_tokens.secrets, "named_secret", lambda name: {"jwt_secret": SECRET} if name == "parley/t-1/jwt" else {})
    return _tenant(jwt_secret_name="parley/t-1/jwt")


def test_rs256_and_es256_tokens_verify_against_the_tenants_jwks(jwks_tenant):
    assert _check(_token(RSA, "RS256"), jwks_tenant)["sub"] == "user-1"
    assert _check(_token(EC, "ES256", kid="k2"), jwks_tenant)["sub"] == "user-1"


def test_hs256_token_verifies_with_the_tenants_secret(secret_tenant):
    assert _check(_token(SECRET, "HS256"), secret_tenant)["sub"] == "user-1"


@pytest.mark.parametrize(
    "over",
    [
        {"iss": "https://evil.example/"},
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 120},  # beyond the 30 s leeway
        {"nbf": int(time.time()) + 120},
        {"exp": None},
        {"sub": None},
        {"aud": None},
    ],
    ids=["issuer", "audience", "expired", "not-yet-valid", "no-exp", "no-sub", "no-aud"],
)
def test_wrong_or_missing_claims_are_refused(over, jwks_tenant, secret_tenant):
    assert _check(_token(RSA, "RS256", **over), jwks_tenant) is None
    assert _check(_token(SECRET, "HS256", **over), secret_tenant) is None


def test_an_expiry_within_the_leeway_is_still_accepted(jwks_tenant):
    assert _check(_token(RSA, "RS256", exp=int(time.time()) - 5), jwks_tenant) is not None


def test_wrong_signature_is_refused(jwks_tenant, secret_tenant):
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _check(_token(other_rsa, "RS256"), jwks_tenant) is None
    assert _check(_token("x" * 32, "HS256"), secret_tenant) is None
    good = _token(RSA, "RS256")
    head, _, sig = good.split(".")
    forged = jwt.utils.base64url_encode(json.dumps(_claims(sub="admin")).encode()).decode()
    assert _check(f"{head}.{forged}.{sig}", jwks_tenant) is None


def test_unknown_kid_is_refused(jwks_tenant):
    assert _check(_token(RSA, "RS256", kid="nope"), jwks_tenant) is None
    assert _check(_token(RSA, "RS256", kid=None), jwks_tenant) is None


def test_alg_none_is_refused(jwks_tenant, secret_tenant):
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"})
    assert _check(unsigned, jwks_tenant) is None
    assert _check(unsigned, secret_tenant) is None


def test_alg_confusion_is_refused(jwks_tenant, secret_tenant):
    # HS256 signed with the tenant's public key (the classic confusion) against an RS256 tenant
    pem = RSA.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(_claims()).encode())
    sig = jwt.utils.base64url_encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest())
    assert _check((header + b"." + payload + b"." + sig).decode(), jwks_tenant) is None
    # and an RS256 token against an HS256 tenant, and ES256 signed but labelled with an RSA key's kid
    assert _check(_token(RSA, "RS256"), secret_tenant) is None
    assert _check(_token(EC, "ES256", kid="k1"), jwks_tenant) is None


def test_a_jwk_pinned_to_another_algorithm_is_not_used_for_this_one(monkeypatch):
    keys = {"keys": [_jwk(RSA, "k1", alg="RS384")]}
    monkeypatch.setattr(user_tokens, "JWKS", JwksCache(lambda url: keys))
    assert _check(_token(RSA, "RS256"), _tenant(jwt_jwks_url=URL)) is None


def test_unreadable_secret_refuses(monkeypatch):
    def missing(name):
        raise LookupError(name)

    monkeypatch.setattr(user_tokens.secrets, "named_secret", missing)
    assert _check(_token(SECRET, "HS256"), _tenant(jwt_secret_name="parley/t-1/jwt")) is None


class _Fetcher:
    def __init__(self, *sets):
        self.sets, self.calls = list(sets), 0

    def __call__(self, url):
        self.calls += 1
        value = self.sets[min(self.calls, len(self.sets)) - 1]
        if isinstance(value, Exception):
            raise value
        return value


class _Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_jwks_cache_fetches_once_per_ttl():
    fetch, clock = _Fetcher({"keys": [_jwk(RSA, "k1")]}), _Clock()
    cache = JwksCache(fetch, ttl=300, min_refetch=10, monotonic=clock)
    assert cache.key(URL, "k1") is not None and cache.key(URL, "k1") is not None
    assert fetch.calls == 1
    clock.t += 301
    assert cache.key(URL, "k1") is not None
    assert fetch.calls == 2


def test_jwks_cache_refetches_on_an_unknown_kid_at_most_once_per_min_refetch():
    fetch, clock = _Fetcher({"keys": [_jwk(RSA, "k1")]}, {"keys": [_jwk(RSA, "k1"), _jwk(EC, "k2")]}), _Clock()
    cache = JwksCache(fetch, ttl=300, min_refetch=10, monotonic=clock)
    assert cache.key(URL, "k1") is not None
    assert cache.key(URL, "k2") is None  # just fetched: no refetch yet
    assert fetch.calls == 1
    clock.t += 11
    assert cache.key(URL, "k2") is not None  # rotated in: one refetch finds it
    assert fetch.calls == 2
    for _ in range(5):
        assert cache.key(URL, "made-up") is None
    assert fetch.calls == 2  # made-up kids do not hammer the provider


def test_jwks_cache_keeps_its_keys_when_a_fetch_fails():
    fetch, clock = _Fetcher({"keys": [_jwk(RSA, "k1")]}, jwks.JwksError("down")), _Clock()
    cache = JwksCache(fetch, ttl=300, min_refetch=10, monotonic=clock)
    assert cache.key(URL, "k1") is not None
    clock.t += 301
    assert cache.key(URL, "k1") is not None
    assert fetch.calls == 2


def test_jwks_cache_with_a_failing_first_fetch_refuses():
    cache = JwksCache(_Fetcher(jwks.JwksError("down")), monotonic=_Clock())
    assert cache.key(URL, "k1") is None


def test_jwks_fetch_refuses_plain_http_without_a_request():
    with pytest.raises(jwks.JwksError):
        jwks.fetch("http://idp.example/jwks.json")


def test_tenant_user_token_settings_are_all_or_nothing():
    now = datetime.now(UTC)
    Tenant(id="t", name="T", sender_email="a@b.example", created_at=now)  # off
    for partial in (
        {"jwt_issuer": ISSUER},
        {"jwt_issuer": ISSUER, "jwt_audience": AUDIENCE},
        {"jwt_issuer": ISSUER, "jwt_audience": AUDIENCE, "jwt_jwks_url": URL, "jwt_secret_name": "parley/x"},
        {"jwt_audience": AUDIENCE, "jwt_jwks_url": URL},
    ):
        with pytest.raises(ValueError):
            Tenant(id="t", name="T", sender_email="a@b.example", created_at=now, **partial)
    with pytest.raises(ValueError):
        Tenant(id="t", name="T", sender_email="a@b.example", created_at=now, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
               jwt_jwks_url="http://idp.example/jwks")  # fmt: skip


class _Response:
    def __init__(self, body: bytes):
        self.body = body

    def read(self, n: int) -> bytes:
        return self.body[:n]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"x" * (jwks.MAX_BYTES + 1), "larger than"), (b"<html>", "not JSON"), (b"[]", "not a JSON object")],
)
def test_jwks_fetch_refuses_what_is_not_a_small_json_object(monkeypatch, body, problem):
    monkeypatch.setattr(jwks.urllib.request, "urlopen", lambda request, timeout: _Response(body))
    with pytest.raises(jwks.JwksError, match=problem):
        jwks.fetch(URL)


def test_jwks_fetch_is_bounded_in_time_and_reports_network_errors(monkeypatch):
    seen = {}

    def urlopen(request, timeout):
        seen["timeout"], seen["url"] = timeout, request.full_url
        raise TimeoutError("timed out")

    monkeypatch.setattr(jwks.urllib.request, "urlopen", urlopen)
    with pytest.raises(jwks.JwksError, match="timed out"):
        jwks.fetch(URL)
    assert seen == {"timeout": jwks.TIMEOUT_SECONDS, "url": URL}
    monkeypatch.setattr(jwks.urllib.request, "urlopen", lambda request, timeout: _Response(b'{"keys": []}'))
    assert jwks.fetch(URL) == {"keys": []}
