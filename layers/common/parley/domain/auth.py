"""API keys: generated once, shown once, stored only as a SHA-256 hash.

Keys carry 256 bits of randomness, so a fast unsalted hash is safe here (nothing to brute-force);
the hash is the lookup key of the key item.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from pydantic import ValidationError

from parley import clock
from parley.dal import tenants
from parley.domain.context import Caller
from parley.domain.ids import new_id
from parley.errors import BadRequest, NotFound
from parley.models.domain import TENANT_SETTINGS, Tenant

KEY_PREFIX = "prl_"
_BARE_KEY = re.compile(re.escape(KEY_PREFIX) + r"[\x21-\x7e]+")


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_tenant(name: str, sender_email: str, sender_name: str = "", tenant_id: str | None = None) -> tuple[Tenant, str]:
    tenant = Tenant(id=tenant_id or new_id(), name=name, sender_email=sender_email, sender_name=sender_name, created_at=clock.now())
    key = new_key()
    tenants.create(tenant, hash_key(key), _prefix(key))
    return tenant, key


def configure_tenant(tenant_id: str, **settings: object) -> Tenant:
    """Change a tenant's settings (names in ``models.domain.TENANT_SETTINGS``); returns the new tenant.

    Values are validated by the Tenant model first, so a bad value changes nothing. API keys keep
    working; the authorizer picks up the change when its cache (300 s) expires.
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
    tenants.update(tenant_id, {k: getattr(updated, k) for k in settings}, old_reply_domain=current.reply_domain)
    return updated


def _country(value: object) -> str:
    """A ``default_country`` setting: an ISO 3166-1 alpha-2 code libphonenumber knows (``gb`` is taken as ``GB``)."""
    from parley.models.phones import supported_region

    code = str(value).strip().upper()
    if not supported_region(code):
        raise BadRequest(f"invalid tenant settings: default_country: {value!r} is not a country code with a numbering plan (US, GB, …)")
    return code


def issue_key(tenant_id: str) -> str | None:
    """Another API key for an existing tenant (None if there is no such tenant)."""
    if tenants.get(tenant_id) is None:
        return None
    key = new_key()
    tenants.add_key(tenant_id, hash_key(key), _prefix(key), clock.iso(clock.now()))
    return key


def _prefix(key: str) -> str:
    """The non-secret start of a key, kept to help people tell their keys apart."""
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


def authenticate(authorization: str | None) -> Caller | None:
    """``Authorization: Bearer <key>``, ``<key>`` or ``Basic`` with the key as password → the calling tenant, or None."""
    token = api_key(authorization)
    if not token or not token.startswith(KEY_PREFIX) or len(token) > 128:
        return None
    tenant_id = tenants.tenant_for_key(hash_key(token))
    if tenant_id is None:
        return None
    tenant = tenants.get(tenant_id)
    if tenant is None:
        return None
    return Caller.of(tenant)
