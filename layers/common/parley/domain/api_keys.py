"""An API key's life after its issue: list, revoke, rotate with an overlap, expire; disable a whole tenant.

Operator actions (``python -m parley.admin list-keys|create-key|revoke-key|rotate-key|disable-tenant|
enable-tenant``). How soon each takes effect at the gateway (docs/architecture.md §5.1):

- an expiry (``create-key --expires-in``, or the end of a rotation's overlap) is exact: the authorizer refuses an
  expired key, and its cached answer carries the expiry, which every endpoint enforces by itself;
- a revocation and a disabled tenant are seen by the authorizer at once (strongly consistent reads), and by the
  requests its cached answers serve within the authorizer's cache time (``AuthorizerCacheSeconds``, ≤ 60 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from parley import clock
from parley.dal import api_keys, tenants
from parley.domain.auth import KEY_PREFIX, display_prefix, hash_key, new_key
from parley.errors import BadRequest, Conflict, NotFound
from parley.models.api_keys import KEY_ID_LENGTH, ApiKey
from parley.models.domain import Tenant

DEFAULT_OVERLAP = timedelta(hours=24)  # how long a rotated key keeps working beside its successor
_MIN_ID = 6  # hex digits of a key id an operator must give at least


def _tenant(tenant_id: str) -> Tenant:
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant


def issue(tenant_id: str, *, name: str = "", expires_at: datetime | None = None, now: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for an existing tenant: its record and the key itself (shown once, never stored)."""
    now = now or clock.now()
    _tenant(tenant_id)
    if expires_at is not None and expires_at <= now:
        raise BadRequest(f"the expiry {clock.iso(expires_at)} is not in the future")
    plain = new_key()
    item = api_keys.item(
        tenant_id, hash_key(plain), display_prefix(plain), clock.iso(now), name=name,
        expires_at=clock.iso(expires_at) if expires_at else None,
    )  # fmt: skip
    api_keys.put(item)
    return api_keys.from_item(item), plain


def listing(tenant_id: str) -> list[ApiKey]:
    """Every key of the tenant, oldest first (revoked and expired ones included)."""
    _tenant(tenant_id)
    return api_keys.of_tenant(tenant_id)


def find(tenant_id: str, ref: str) -> ApiKey:
    """The tenant's key that ``ref`` names: the key itself, its id (``list-keys``; at least 6 hex digits of it),
    or its display prefix (``prl_`` + 6). NotFound when none does, BadRequest when several do."""
    ref = ref.strip()
    if ref.startswith(KEY_PREFIX) and len(ref) > len(KEY_PREFIX) + 6:
        key = api_keys.get(hash_key(ref))  # the whole key: found by its hash, no listing
        if key is None or key.tenant_id != tenant_id:
            raise NotFound(f"that key is not a key of tenant {tenant_id}")
        return key
    if ref.startswith(KEY_PREFIX):
        matches = [k for k in listing(tenant_id) if k.key_prefix == ref]
    elif len(ref) >= _MIN_ID and all(c in "0123456789abcdef" for c in ref.lower()):
        matches = [k for k in listing(tenant_id) if k.key_hash.startswith(ref.lower())]
    else:
        raise BadRequest(
            f"name a key by its id (at least {_MIN_ID} hex digits, from list-keys), its prefix ({KEY_PREFIX}xxxxxx) or the key itself"
        )
    if not matches:
        raise NotFound(
            f"tenant {tenant_id} has no key {ref} (list-keys shows its keys; one made before the key index is listed "
            "after backfill-key-index, or can be named by the whole key)"
        )
    if len(matches) > 1:
        raise BadRequest(f"{ref} names {len(matches)} keys of tenant {tenant_id} ({', '.join(k.id for k in matches)}): give more of the id")
    return matches[0]


def revoke(tenant_id: str, ref: str, *, now: datetime | None = None) -> tuple[ApiKey, bool]:
    """Revoke the key ``ref`` names (``find``): its record after, and whether this call revoked it (False: it
    was revoked already, and is left as it was)."""
    now = now or clock.now()
    key = find(tenant_id, ref)
    if key.state(now) != "revoked" and api_keys.revoke(tenant_id, key.key_hash, clock.iso(now)):
        return key.model_copy(update={"revoked_at": now}), True
    return api_keys.get(key.key_hash, consistent=True) or key, False


def rotate(
    tenant_id: str,
    ref: str,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    name: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiKey, ApiKey, str]:
    """Replace the key ``ref`` names with a new one: the old key keeps working for ``overlap`` more (or until its
    own expiry, if sooner) and is refused from then on. Returns (old record, new record, the new key). The new
    key takes the old one's name unless ``name`` is given, and expires at ``expires_at`` (default: never)."""
    now = now or clock.now()
    if overlap < timedelta(0):
        raise BadRequest("the overlap must not be negative")
    if expires_at is not None and expires_at <= now:
        raise BadRequest(f"the new key's expiry {clock.iso(expires_at)} is not in the future")
    old = find(tenant_id, ref)
    state = old.state(now)
    if state != "active":
        raise Conflict(f"key {old.id} is {state}: issue a new key with create-key instead")
    if old.rotated_to:
        raise Conflict(f"key {old.id} was rotated already, to {old.rotated_to}: rotate that one, or revoke this one")
    ends = now + overlap
    if old.expires_at is not None and old.expires_at < ends:
        ends = old.expires_at
    plain = new_key()
    new_hash = hash_key(plain)
    item = api_keys.item(
        tenant_id, new_hash, display_prefix(plain), clock.iso(now), name=old.name if name is None else name,
        expires_at=clock.iso(expires_at) if expires_at else None, rotated_from=old.id,
    )  # fmt: skip
    if not api_keys.rotate(old, item, old_expires_at=clock.iso(ends), now=clock.iso(now)):
        raise Conflict(f"key {old.id} changed while it was being rotated (revoked, expired or rotated): see list-keys")
    updated = old.model_copy(update={"expires_at": ends, "rotated_to": new_hash[:KEY_ID_LENGTH]})
    return updated, api_keys.from_item(item), plain


def set_tenant_disabled(tenant_id: str, disabled: bool, *, now: datetime | None = None) -> Tenant:
    """Disable a tenant (every key of it is refused; its keys and data are kept) or enable it again."""
    tenant = _tenant(tenant_id)
    at = (now or clock.now()) if disabled else None
    if disabled and tenant.disabled_at is not None:
        return tenant  # disabled already: keep the first time
    if not tenants.set_disabled(tenant_id, clock.iso(at) if at else None):
        raise NotFound(f"no tenant {tenant_id}")
    return tenant.model_copy(update={"disabled_at": at})
