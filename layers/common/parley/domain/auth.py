"""API keys: generated once, shown once, stored only as a SHA-256 hash; and the authorizer's check of them.

Keys carry 256 bits of randomness, so a fast unsalted hash is safe here (nothing to brute-force);
the hash is the lookup key of the key item. A key's life after issue (list, revoke, rotate, expire,
disable its tenant) is ``domain.api_keys``'.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from parley import clock
from parley.dal import api_keys, tenants
from parley.domain.context import Caller
from parley.domain.ids import new_id
from parley.errors import BadRequest, Conflict, NotFound
from parley.models.api_keys import ApiKey
from parley.models.domain import TENANT_SETTINGS, Tenant

KEY_PREFIX = "prl_"
# A key's ``last_used_at`` is written at most once per this long (the authorizer runs only on cache misses
# anyway): "last used" is exact to within it, and a busy key costs at most 4 writes an hour.
LAST_USED_EVERY = timedelta(minutes=15)
_BARE_KEY = re.compile(re.escape(KEY_PREFIX) + r"[\x21-\x7e]+")


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_tenant(name: str, sender_email: str, sender_name: str = "", tenant_id: str | None = None) -> tuple[Tenant, str]:
    tenant = Tenant(id=tenant_id or new_id(), name=name, sender_email=sender_email, sender_name=sender_name, created_at=clock.now())
    key = new_key()
    tenants.create(tenant, hash_key(key), display_prefix(key))
    return tenant, key


def configure_tenant(tenant_id: str, **settings: object) -> Tenant:
    """Change a tenant's settings (names in ``models.domain.TENANT_SETTINGS``); returns the new tenant.

    Values are validated by the Tenant model first, so a bad value changes nothing. API keys keep
    working; requests see the change when the authorizer's cache expires (``AuthorizerCacheSeconds``, ≤ 60 s).
    """
    unknown = set(settings) - set(TENANT_SETTINGS)
    if unknown:
        raise BadRequest(f"unknown tenant settings: {', '.join(sorted(unknown))}")
    current = tenants.get(tenant_id)
    if current is None:
        raise NotFound(f"no tenant {tenant_id}")
    if "default_country" in settings:
        settings["default_country"] = _country(settings["default_country"])
    try:
        updated = Tenant.model_validate(current.model_dump() | settings)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise BadRequest(f"invalid tenant settings: {problems}") from None
    changes = {k: getattr(updated, k) for k in settings}
    if not tenants.update(tenant_id, changes, old_reply_domain=current.reply_domain, old_issuer=current.jwt_issuer):
        raise Conflict(f"jwt_issuer {updated.jwt_issuer!r} is another tenant's: an issuer's user tokens name one tenant")
    return updated


def _country(value: object) -> str:
    """A ``default_country`` setting: an ISO 3166-1 alpha-2 code libphonenumber knows (``gb`` is taken as ``GB``)."""
    from parley.models.phones import supported_region

    code = str(value).strip().upper()
    if not supported_region(code):
        raise BadRequest(f"invalid tenant settings: default_country: {value!r} is not a country code with a numbering plan (US, GB, …)")
    return code


def display_prefix(key: str) -> str:
    """The non-secret start of a key (``prl_`` + 6), stored to help people tell their keys apart."""
    return key[: len(KEY_PREFIX) + 6]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def basic_key(authorization: str | None) -> str | None:
    """The API key in ``Authorization: Basic base64(user:password)``: the password, or the user name
    when only it is a key. Webhook senders that can only put credentials in the URL
    (``https://user:<key>@host/...``, e.g. SendGrid Inbound Parse) send it this way."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    for candidate in (password, user):
        if candidate.startswith(KEY_PREFIX):
            return candidate
    return None


def bare_key(authorization: str | None) -> str | None:
    """``Authorization: <key>`` with no scheme: the seeds show the header as a plain string, so a client
    may send the key itself. Only what looks like a Parley key qualifies (``prl_`` and visible ASCII)."""
    value = (authorization or "").strip()
    return value if _BARE_KEY.fullmatch(value) else None


def api_key(authorization: str | None) -> str | None:
    """The API key an ``Authorization`` header carries: ``Bearer <key>``, the bare ``<key>``, or ``Basic``
    with the key as password (decision C8)."""
    return bearer_token(authorization) or bare_key(authorization) or basic_key(authorization)


@dataclass(frozen=True)
class Grant:
    """An accepted credential: the calling tenant (and, for a user token, user), and the key's record (None for a
    user token) or the instant the token stops being accepted."""

    caller: Caller
    key: ApiKey | None = None
    expires_at: datetime | None = None

    def authorizer_context(self) -> dict[str, Any]:
        """The caller's context, the key's id, and, for a key with an expiry or a user token, ``keyExpiresAt``: API
        Gateway caches this answer, so every endpoint refuses the credential from that instant on by itself
        (``parley.api.app``)."""
        context = self.caller.authorizer_context()
        expires_at = self.expires_at
        if self.key is not None:
            context["keyId"] = self.key.id
            expires_at = self.key.expires_at
        if expires_at is not None:
            context["keyExpiresAt"] = clock.iso(expires_at)
        return context


def check(authorization: str | None, *, now: datetime | None = None) -> Grant | None:
    """The credential an ``Authorization`` header carries, if Parley accepts it: an API key (``check_key``) or,
    as ``Bearer <jwt>``, a user token of a tenant's identity provider (``user_tokens.check``, decision S5)."""
    token = api_key(authorization)
    if token and not token.startswith(KEY_PREFIX) and token == bearer_token(authorization):
        from parley.domain import user_tokens  # imported on first use: API-key calls never load PyJWT

        if user_tokens.looks_like_jwt(token):
            accepted = user_tokens.check(token)
            return Grant(accepted[0], expires_at=accepted[1]) if accepted else None
    return check_key(token, now=now)


def check_key(token: str | None, *, now: datetime | None = None) -> Grant | None:
    """The key, if it is known, not revoked, not expired and its tenant not disabled. Two strongly consistent
    GetItems (the key, then its tenant), so a revocation or a disabled tenant is seen by the next check that
    runs, never by a stale read."""
    if not token or not token.startswith(KEY_PREFIX) or len(token) > 128:
        return None
    key = api_keys.get(hash_key(token), consistent=True)
    if key is None or key.state(now or clock.now()) != "active":
        return None
    tenant = tenants.get(key.tenant_id, consistent=True)
    if tenant is None or tenant.disabled_at is not None:
        return None
    return Grant(Caller.of(tenant), key)


def authenticate(authorization: str | None) -> Caller | None:
    """``Authorization: Bearer <key>``, ``<key>``, ``Basic`` with the key as password, or ``Bearer <user token>``
    → the caller, or None."""
    grant = check(authorization)
    return grant.caller if grant else None


def authorize(authorization: str | None) -> Grant | None:
    """The authorizer's check: ``check``, and a key's use noted (``note_use``)."""
    now = clock.now()
    grant = check(authorization, now=now)
    if grant is not None and grant.key is not None:
        note_use(grant.key, now)
    return grant


def note_use(key: ApiKey, now: datetime) -> None:
    """Write the key's ``last_used_at``, unless a use within ``LAST_USED_EVERY`` is recorded: nothing at all
    when the record read says so, else one conditional UpdateItem (concurrent authorizers write it once)."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    api_keys.note_use(key.key_hash, clock.iso(now), unless_since=clock.iso(now - LAST_USED_EVERY))
