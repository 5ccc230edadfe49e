"""Powertools idempotency records, kept in the single table, one partition per tenant.

``PK = TENANT#<t>#IDEMPOTENCY``, ``SK = <scope>#<function>.<qualname>#<md5 of [tenant, scope, key]>``.
Powertools gives a DynamoDB persistence layer one static partition key; ``TenantPartitionedLayer`` derives
it from the request instead (its ``tenant``), so one layer, built once per process, serves every tenant and
two tenants' records never share a partition (nor, with the tenant in the hash too, a key).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from parley.dal import aws, keys
from parley.dal.aws import client
from parley.settings import get_settings

# Between the tenant and the rest of powertools' key string while it travels inside powertools (never
# stored): a tenant id cannot hold a control character.
_SEP = "\x1f"
_PK_PREFIX, _PK_SUFFIX = keys.idempotency_pk("\x00").split("\x00")


class TenantPartitionedLayer(DynamoDBPersistenceLayer):
    """``DynamoDBPersistenceLayer`` whose partition key is the request's tenant and whose sort key starts
    with the request's scope. The request is ``{"tenant", "scope", "key", "payload"}``
    (``domain.idempotency.run_once``)."""

    def _get_hashed_idempotency_key(self, data: dict[str, Any]) -> str | None:
        hashed = super()._get_hashed_idempotency_key(data)
        if hashed is None:
            return None
        tenant, scope = str(data["tenant"]), str(data["scope"])
        if not tenant or _SEP in tenant:
            raise ValueError("an idempotency record needs a tenant id without control characters")
        return f"{tenant}{_SEP}{scope}#{hashed}"

    def _get_key(self, idempotency_key: str) -> dict[str, Any]:
        tenant, _, sort_key = idempotency_key.partition(_SEP)
        return {self.key_attr: {"S": keys.idempotency_pk(tenant)}, self.sort_key_attr: {"S": sort_key}}

    def _item_to_data_record(self, item: dict[str, Any]) -> DataRecord:
        record = super()._item_to_data_record(item)
        tenant = item[self.key_attr]["S"].removeprefix(_PK_PREFIX).removesuffix(_PK_SUFFIX)
        record.idempotency_key = f"{tenant}{_SEP}{item[self.sort_key_attr]['S']}"
        return record


@cache
def persistence_layer() -> TenantPartitionedLayer:
    """The process's one persistence layer (on the shared DynamoDB client); rebuilt after ``aws.reset``."""
    return TenantPartitionedLayer(
        table_name=get_settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value="TENANT#-#IDEMPOTENCY",  # unused: _get_key derives the partition from the tenant
        expiry_attr="ttl",
        boto3_client=client("dynamodb"),
    )


aws.on_reset(persistence_layer.cache_clear)
