"""API key items: one per key, ``PK = APIKEY#<sha256>``, ``SK = APIKEY`` (docs/data-model.md, ApiKey).

The authorizer finds a key by its hash (one strongly consistent GetItem); ``admin list-keys`` finds a
tenant's keys on GSI1 (``GSI1PK = TENANT#<t>#APIKEYS``, ``GSI1SK = <created_at>#<hash>``), so no Scan.
Keys stored before the index carry no GSI1 attributes: ``index_unlisted`` (``admin backfill-key-index``)
puts them on it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from parley.dal import keys, table
from parley.models.api_keys import KEY_ID_LENGTH, ApiKey

logger = Logger(child=True)

_UNUSABLE = "attribute_exists(revoked_at) OR revoked = :true"  # a revoked key (the legacy flag included)


def item(
    tenant_id: str,
    key_hash: str,
    key_prefix: str,
    created_at: str,
    *,
    name: str = "",
    expires_at: str | None = None,
    rotated_from: str = "",
) -> dict[str, Any]:
    """A new key's item (``None`` and ``""`` attributes are left out)."""
    return {
        "PK": keys.api_key_pk(key_hash),
        "SK": keys.API_KEY_SK,
        "type": "api_key",
        "tenant_id": tenant_id,
        "key_prefix": key_prefix,
        "created_at": created_at,
        "name": name or None,
        "expires_at": expires_at,
        "rotated_from": rotated_from or None,
        "GSI1PK": keys.tenant_keys_pk(tenant_id),
        "GSI1SK": keys.tenant_key_sk(created_at, key_hash),
    }


def from_item(data: dict[str, Any]) -> ApiKey:
    present = {k: v for k, v in data.items() if v is not None}  # a new item's unset options are None (never stored)
    return ApiKey.model_validate({**present, "key_hash": data["PK"].removeprefix("APIKEY#")})


def put(new: dict[str, Any]) -> None:
    table.put_item(new, condition="attribute_not_exists(PK)")


def get(key_hash: str, *, consistent: bool = False) -> ApiKey | None:
    data = table.get(keys.api_key_pk(key_hash), keys.API_KEY_SK, consistent=consistent)
    return from_item(data) if data else None


def of_tenant(tenant_id: str) -> list[ApiKey]:
    """Every key of the tenant on the index (GSI1), oldest first."""
    found = table.query_all(index="GSI1", key_condition="GSI1PK = :pk", expr_values=table.values(pk=keys.tenant_keys_pk(tenant_id)))
    return [from_item(i) for i in found]


def revoke(tenant_id: str, key_hash: str, at: str) -> bool:
    """Set ``revoked_at`` on the tenant's key unless it is revoked already (False then: nothing written)."""
    return table.try_update(
        keys.api_key_pk(key_hash), keys.API_KEY_SK, "SET revoked_at = :at",
        condition=f"attribute_exists(PK) AND tenant_id = :t AND NOT ({_UNUSABLE})", values=table.values(at=at, t=tenant_id, true=True),
    )  # fmt: skip


def rotate(old: ApiKey, new: dict[str, Any], *, old_expires_at: str, now: str) -> bool:
    """In one transaction: put the ``new`` key item, and end the ``old`` key at ``old_expires_at`` (and name its
    successor), only while the old key is the tenant's, not revoked, not expired and not rotated yet. False:
    the old key changed meanwhile and nothing was written."""
    return table.try_transact(
        [
            {"Put": {"Item": table.marshal(new), "ConditionExpression": "attribute_not_exists(PK)"}},
            {
                "Update": {
                    "Key": table.key(keys.api_key_pk(old.key_hash), keys.API_KEY_SK),
                    "UpdateExpression": "SET expires_at = :exp, rotated_to = :to",
                    "ConditionExpression": (
                        f"attribute_exists(PK) AND tenant_id = :t AND NOT ({_UNUSABLE}) AND attribute_not_exists(rotated_to)"
                        " AND (attribute_not_exists(expires_at) OR expires_at > :now)"
                    ),
                    "ExpressionAttributeValues": table.values(
                        exp=old_expires_at, to=new["PK"].removeprefix("APIKEY#")[:KEY_ID_LENGTH], t=old.tenant_id, true=True, now=now
                    ),
                }
            },
        ],
        decisive=[1],
    )


def note_use(key_hash: str, at: str, *, unless_since: str) -> bool:
    """Record that the key was used at ``at``, unless a use after ``unless_since`` is recorded already
    (one conditional UpdateItem; False when it wrote nothing). Bookkeeping: any failure is logged, never raised
    (a request must not fail because its key's ``last_used_at`` could not be written)."""
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(keys.api_key_pk(key_hash), keys.API_KEY_SK),
            UpdateExpression="SET last_used_at = :at",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at <= :since)",
            ExpressionAttributeValues=table.values(at=at, since=unless_since),
        )
    except (ClientError, BotoCoreError) as err:
        if not (isinstance(err, ClientError) and table.is_condition_failure(err)):
            logger.warning("could not record the use of an API key", extra={"key_id": key_hash[:KEY_ID_LENGTH], "error": str(err)})
        return False
    return True


def index_unlisted(*, dry_run: bool = False) -> dict[str, int]:
    """Put every key item without GSI1 attributes on the tenant index (keys stored before it existed): one Scan
    of the table filtered to such items, then one conditional UpdateItem each. Idempotent."""
    found = indexed = 0
    unlisted = table.scan_all(
        FilterExpression="#t = :t AND attribute_not_exists(GSI1PK)", ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues=table.values(t="api_key"),
    )  # fmt: skip
    for data in unlisted:
        found += 1
        if dry_run:
            continue
        key_hash = data["PK"].removeprefix("APIKEY#")
        indexed += table.try_update(
            data["PK"], data["SK"], "SET GSI1PK = :pk, GSI1SK = :sk",
            condition="attribute_exists(PK) AND attribute_not_exists(GSI1PK)",
            values=table.values(pk=keys.tenant_keys_pk(data["tenant_id"]), sk=keys.tenant_key_sk(data.get("created_at") or "", key_hash)),
        )  # fmt: skip
    return {"found": found, "indexed": indexed}
