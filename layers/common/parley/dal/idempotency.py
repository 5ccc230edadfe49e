"""Powertools idempotency records, kept in the single table (PK ``IDEMPOTENCY``, SK = key hash)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from parley.dal.aws import client
from parley.settings import get_settings


def persistence_layer() -> DynamoDBPersistenceLayer:
    """Cheap to build: it reuses the shared DynamoDB client."""
    return DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value="IDEMPOTENCY",
        expiry_attr="ttl",
        boto3_client=client("dynamodb"),
    )
