"""Tenants (their API keys' items are ``dal.api_keys``')."""

from __future__ import annotations

import time

from parley.dal import api_keys, aws, inbound_mail, keys, table
from parley.models.domain import Tenant

# ``cached``: how long a process reuses a tenant it read, as powertools Parameters caches the tenant's
# secret (``secrets.CACHE_SECONDS``): 300 s. (The authorizer reads the tenant afresh on each cache miss.)
CACHE_SECONDS = 300
_cache: dict[str, tuple[float, Tenant]] = {}
aws.on_reset(_cache.clear)


def create(tenant: Tenant, key_hash: str, key_prefix: str) -> None:
    """The tenant item and its first key's item, in one transaction."""
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
                    "Item": table.marshal(api_keys.item(tenant.id, key_hash, key_prefix, data["created_at"])),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    )


def update(tenant_id: str, settings: dict, *, old_reply_domain: str | None = None, old_issuer: str | None = None) -> bool:
    """Set these settings. A ``reply_domain`` change also moves the tenant's reply-domain membership
    (``inbound_mail.domain_ops``: who receives mail for the domain), and a ``jwt_issuer`` change the issuer's
    index item (``issuer_ops``: which tenant an issuer's user tokens belong to), in the same transaction.
    False (nothing written): the new issuer is another tenant's. This process forgets its cached copy
    (``cached``); others see the change within ``CACHE_SECONDS``."""
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
    ops: list[dict] = [{"Update": update}]
    if "reply_domain" in settings and old_reply_domain is not None:
        ops += inbound_mail.domain_ops(tenant_id, old_reply_domain, settings["reply_domain"])
    claim = None
    if "jwt_issuer" in settings and old_issuer is not None and old_issuer != settings["jwt_issuer"]:
        issuer = issuer_ops(tenant_id, old_issuer, settings["jwt_issuer"])
        claim = len(ops) + len(issuer) - 1 if settings["jwt_issuer"] else None
        ops += issuer
    if len(ops) == 1:
        table.ddb().update_item(TableName=table.table_name(), **update)
        return True
    if claim is None:
        table.transact(ops)
        return True
    return table.try_transact(ops, decisive=[claim])


def issuer_ops(tenant_id: str, old: str, new: str) -> list[dict]:
    """``table.transact`` items moving the tenant's JWT issuer index item from ``old`` to ``new`` (the last op, a Put
    conditional on the issuer being nobody's or already this tenant's, when ``new`` is set)."""
    ops: list[dict] = []
    if old:
        ops.append(
            {
                "Delete": {
                    "Key": table.key(keys.issuer_pk(old), keys.TENANT_SK),
                    "ConditionExpression": "attribute_not_exists(PK) OR tenant_id = :me",
                    "ExpressionAttributeValues": table.values(me=tenant_id),
                }
            }
        )
    if new:
        item = {"PK": keys.issuer_pk(new), "SK": keys.TENANT_SK, "type": "jwt_issuer", "tenant_id": tenant_id}
        ops.append(
            {
                "Put": {
                    "Item": table.marshal(item),
                    "ConditionExpression": "attribute_not_exists(PK) OR tenant_id = :me",
                    "ExpressionAttributeValues": table.values(me=tenant_id),
                }
            }
        )
    return ops


def of_issuer(issuer: str) -> str | None:
    """The id of the tenant whose ``jwt_issuer`` is ``issuer`` (a strongly consistent read), or None."""
    item = table.get(keys.issuer_pk(issuer), keys.TENANT_SK, consistent=True)
    return str(item["tenant_id"]) if item else None


def key(tenant_id: str) -> tuple[str, str]:
    """The tenant item's key, for a batched read (``table.batch_get``)."""
    return keys.tenant_pk(tenant_id), keys.TENANT_SK


def get(tenant_id: str, *, consistent: bool = False) -> Tenant | None:
    item = table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK, consistent=consistent)
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


def forget(tenant_id: str) -> None:
    """Drop this process's cached copy of the tenant (``cached``): a writer of the tenant item calls it."""
    _cache.pop(tenant_id, None)


def set_disabled(tenant_id: str, at: str | None) -> bool:
    """Disable the tenant from ``at`` on (every key of a disabled tenant is refused), or enable it (``None``).
    False: no such tenant."""
    _cache.pop(tenant_id, None)
    update = "SET disabled_at = :at" if at else "REMOVE disabled_at"
    return table.try_update(
        keys.tenant_pk(tenant_id), keys.TENANT_SK, update, condition="attribute_exists(PK)", values=table.values(at=at) if at else None
    )
