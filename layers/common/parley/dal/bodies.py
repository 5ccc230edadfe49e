"""Large message bodies live in S3, not in the table (DynamoDB items stop at 400 KB, and every
GSI with ALL projection would copy the body again). The item keeps a ``body_ref`` instead."""

from __future__ import annotations

from parley.dal.aws import client
from parley.settings import get_settings

INLINE_LIMIT = 32 * 1024  # bytes of UTF-8; larger bodies go to S3


def key_for(tenant_id: str, message_id: str) -> str:
    return f"tenants/{tenant_id}/messages/{message_id}/body"


def put(tenant_id: str, message_id: str, body: str) -> str:
    key = key_for(tenant_id, message_id)
    client("s3").put_object(
        Bucket=get_settings().body_bucket,
        Key=key,
        Body=body.encode(),
        ContentType="text/plain; charset=utf-8",
        ServerSideEncryption="AES256",
    )
    return key


def get(key: str) -> str:
    return client("s3").get_object(Bucket=get_settings().body_bucket, Key=key)["Body"].read().decode()


def delete(key: str) -> None:
    client("s3").delete_object(Bucket=get_settings().body_bucket, Key=key)
