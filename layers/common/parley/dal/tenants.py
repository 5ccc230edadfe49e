"""Tenants and their API keys (only a SHA-256 of each key is stored)."""

from __future__ import annotations

import time

from parley.dal import aws, inbound_mail, keys, table
from parley.models.domain import Tenant

# ``cached``: how long a process reuses a tenant it read, as powertools Parameters caches the tenant's
# secret (``secrets.CACHE_SECONDS``) and API Gateway the authorizer's answer: 300 s.
CACHE_SECONDS = 300
_cache: dict[str, tuple[float, Tenant]] = {}
aws.on_reset(_cache.clear)


def _key_item(tenant_id: str, key_hash: str, key_prefix: str, created_at: str) -> dict:
    return {
        "PK": keys.api_key_pk(key_hash),
        "SK": keys.API_KEY_SK,
        "type": "api_key",
        "tenant_id": tenant_id,
        "key_prefix": key_prefix,
        "created_at": created_at,
    }


def create(tenant: Tenant, key_hash: str, key_prefix: str) -> None:
    _cache.pop(tenant.id, None)
    data = tenant.model_dump(mode="json")
    table.transact(
        [
            {
                "Put": {
                    "Item": table.marshal({"PK": keys.tenant_pk(tenant.id), "SK": keys.TENANT_SK, "type": "tenant"} | data),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "Item": table.marshal(_key_item(tenant.id, key_hash, key_prefix, data["created_at"])),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    )


def add_key(tenant_id: str, key_hash: str, key_prefix: str, created_at: str) -> None:
    table.put_item(_key_item(tenant_id, key_hash, key_prefix, created_at), condition="attribute_not_exists(PK)")


def update(tenant_id: str, settings: dict, *, old_reply_domain: str | None = None) -> None:
    """Set these settings. A ``reply_domain`` change also moves the tenant's reply-domain membership
    (``inbound_mail.domain_ops``: who receives mail for the domain), in the same transaction. This
    process forgets its cached copy (``cached``); others see the change within ``CACHE_SECONDS``."""
    _cache.pop(tenant_id, None)
    names = {f"#k{i}": k for i, k in enumerate(settings)}
    values = {f"v{i}": v for i, v in enumerate(settings.values())}
    update = {
        "Key": table.key(keys.tenant_pk(tenant_id), keys.TENANT_SK),
        "UpdateExpression": "SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(settings))),
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": table.values(**values),
    }
    if "reply_domain" in settings and old_reply_domain is not None:
        table.transact([{"Update": update}, *inbound_mail.domain_ops(tenant_id, old_reply_domain, settings["reply_domain"])])
        return
    table.ddb().update_item(TableName=table.table_name(), **update)


def get(tenant_id: str) -> Tenant | None:
    item = table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    return Tenant.model_validate(item) if item else None


def cached(tenant_id: str, *, max_age: float = CACHE_SECONDS) -> Tenant | None:
    """``get``, through a per-process cache: a tenant read less than ``max_age`` seconds ago is not read
    again (provider sends: each send needs the tenant's secret name). A missing tenant is not cached."""
    now = time.monotonic()
    hit = _cache.get(tenant_id)
    if hit is not None and now - hit[0] < max_age:
        return hit[1]
    tenant = get(tenant_id)
    if tenant is None:
        _cache.pop(tenant_id, None)
    else:
        _cache[tenant_id] = (now, tenant)
    return tenant


def tenant_for_key(key_hash: str) -> str | None:
    item = table.get(keys.api_key_pk(key_hash), keys.API_KEY_SK)
    if not item or item.get("revoked"):
        return None
    return item["tenant_id"]


def retire(tenant_id: str, key_hashes: list[str], at: str) -> bool:
    """Take a tenant out of use: revoke these API keys of it (``revoked``, which ``tenant_for_key`` refuses: the
    authorizer answers 401 once its cached answer for the key expires) and stamp the tenant ``retired_at``, in one
    transaction. False (nothing written) when the tenant does not exist or a key is not one of its keys.

    Used by the smoke test (``parley.smoke``) to end its throwaway tenant. The tenant's data stays (its messages,
    suppressions, …, under ``TENANT#<id>…``): nothing reads a retired tenant's items, and finding them all would
    take a Scan. The key lifecycle commands (``revoke-key``, ``disable-tenant``) are meant to replace this."""
    _cache.pop(tenant_id, None)
    ops: list[dict] = [
        {
            "Update": {
                "Key": table.key(keys.api_key_pk(key_hash), keys.API_KEY_SK),
                "UpdateExpression": "SET revoked = :yes, revoked_at = :at",
                "ConditionExpression": "tenant_id = :tenant",
                "ExpressionAttributeValues": table.values(yes=True, at=at, tenant=tenant_id),
            }
        }
        for key_hash in dict.fromkeys(key_hashes)
    ]
    ops.append(
        {
            "Update": {
                "Key": table.key(keys.tenant_pk(tenant_id), keys.TENANT_SK),
                "UpdateExpression": "SET retired_at = :at",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": table.values(at=at),
            }
        }
    )
    return table.try_transact(ops)
