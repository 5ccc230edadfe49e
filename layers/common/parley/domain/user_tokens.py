"""User bearer tokens: JWTs a tenant's identity provider signs, verified by the authorizer (decision S5).

A token names its tenant by its issuer: ``iss`` is looked up in the issuer index (``dal.tenants.of_issuer``,
written by ``configure-tenant --set jwt_issuer=…``; one tenant per issuer). That unverified ``iss`` only picks
which tenant's configuration to verify against; the tenant's own issuer, audience and keys then decide:

- the algorithm comes from the tenant, never from the token: a tenant with ``jwt_jwks_url`` takes RS256 and
  ES256 only (its keys from its JWKS, by ``kid``), one with ``jwt_secret_name`` HS256 only (the secret's
  ``jwt_secret``). ``alg: none``, or an HS256 token against a JWKS tenant (alg confusion), is refused;
- ``exp``, ``iss``, ``aud`` and ``sub`` are required; ``iss`` and ``aud`` must equal the tenant's; ``exp`` and
  ``nbf``/``iat`` are checked with ``LEEWAY_SECONDS`` of clock skew;
- a disabled tenant's tokens are refused, like its keys.

The accepted token's ``sub`` is the calling user (``Caller.user_id``; ``credential`` = ``user_token``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from aws_lambda_powertools import Logger

from parley.dal import jwks, secrets, tenants
from parley.domain.context import Caller
from parley.models.domain import Tenant
from parley.models.validators import has_control_characters

logger = Logger(child=True)

LEEWAY_SECONDS = 30  # clock skew allowed on exp, nbf and iat
MAX_TOKEN_CHARS = 8192
MAX_SUBJECT_CHARS = 255
JWKS_ALGORITHMS = ("RS256", "ES256")
SECRET_ALGORITHMS = ("HS256",)


class JwksCache:
    """Each JWKS URL's keys by ``kid``, per process: fetched on first use (never at init), again after
    ``ttl`` seconds, and at once for a ``kid`` it does not hold (the provider rotated its keys), but at most once
    per ``min_refetch`` seconds per URL, so tokens with made-up ``kid``s cannot make it fetch on every request.
    A failed fetch keeps the keys it had (and counts as a fetch for ``min_refetch``)."""

    def __init__(
        self,
        fetch: Callable[[str], dict[str, Any]] = jwks.fetch,
        *,
        ttl: float = 300.0,
        min_refetch: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self.ttl, self.min_refetch, self._now = fetch, ttl, min_refetch, monotonic
        self._sets: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}

    def key(self, url: str, kid: str) -> jwt.PyJWK | None:
        entry = self._sets.get(url)
        if entry is None or self._now() - entry[0] >= self.ttl:
            entry = self._refresh(url)
        found = entry[1].get(kid)
        if found is None and self._now() - entry[0] >= self.min_refetch:
            found = self._refresh(url)[1].get(kid)
        return found

    def clear(self) -> None:
        self._sets.clear()

    def _refresh(self, url: str) -> tuple[float, dict[str, jwt.PyJWK]]:
        keys = self._sets.get(url, (0.0, {}))[1]
        try:
            data = self._fetch(url)
            keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(data).keys if k.key_id}
        except (jwks.JwksError, jwt.PyJWTError, TypeError, ValueError, KeyError) as err:
            logger.warning("JWKS fetch failed; keeping the keys held", extra={"jwks_url": url, "error": str(err)})
        entry = (self._now(), keys)
        self._sets[url] = entry
        return entry


JWKS = JwksCache()


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated base64url parts (a JWS compact serialisation): not an API key."""
    return token.count(".") == 2 and len(token) <= MAX_TOKEN_CHARS


def check(token: str) -> tuple[Caller, datetime] | None:
    """The calling user and tenant of a user token, with the instant the token stops being accepted
    (``exp`` + leeway), or None when it is not a token Parley accepts."""
    if not looks_like_jwt(token):
        return None
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer or len(issuer) > 512:
        return None
    tenant_id = tenants.of_issuer(issuer)
    tenant = tenants.get(tenant_id, consistent=True) if tenant_id else None
    if tenant is None or tenant.disabled_at is not None or tenant.jwt_issuer != issuer:
        return None
    claims = verify(token, header, tenant)
    if claims is None:
        return None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS or has_control_characters(subject):
        return None
    until = datetime.fromtimestamp(int(claims["exp"]), tz=UTC) + timedelta(seconds=LEEWAY_SECONDS)
    return Caller.of(tenant, credential="user_token", user_id=subject), until


def verify(token: str, header: dict[str, Any], tenant: Tenant) -> dict[str, Any] | None:
    """The token's claims, verified against the tenant's key, issuer and audience; None if anything is wrong."""
    alg = header.get("alg")
    if tenant.jwt_jwks_url:
        kid = header.get("kid")
        if alg not in JWKS_ALGORITHMS or not isinstance(kid, str) or not kid:
            return None
        jwk = JWKS.key(tenant.jwt_jwks_url, kid)
        if jwk is None or (jwk.algorithm_name and jwk.algorithm_name != alg):
            return None
        key: Any = jwk.key
    elif tenant.jwt_secret_name:
        if alg not in SECRET_ALGORITHMS:
            return None
        try:
            key = secrets.named_secret(tenant.jwt_secret_name).get("jwt_secret")
        except LookupError as err:
            logger.warning("user token secret unreadable", extra={"tenant_id": tenant.id, "error": str(err)})
            return None
        if not isinstance(key, str) or not key:
            return None
    else:
        return None  # user tokens are not configured for this tenant
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=tenant.jwt_audience,
            issuer=tenant.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"], "strict_aud": False},
        )
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
