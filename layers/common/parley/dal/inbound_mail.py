"""Inbound email at rest: raw mail in the inbound bucket, the inbound queue, receipt records, reply domains.

- ``INBOUND_BUCKET``: SES receiving writes raw MIME under ``ses/`` (its receipt rule's S3 action); the
  Inbound Parse webhook writes the raw POST under ``parse/<tenant>/<message id>`` (its Content-Type travels in the pointer).
  Objects are kept: a large attachment stays there, never in a table item.
- ``INBOUND_QUEUE_URL``: S3 event notifications for ``ses/`` and the webhook's own pointers
  (``models.inbound.ParsePointer``), consumed by ``InboundMailFunction``.
- ``PK = TENANT#<t>#INMAIL#<ref>``, ``SK = RECEIPT``: what became of a received mail that was not stored as
  a message (rejected by a verdict, unmatched); ``ref`` is its Message-ID (or ``sha256:<hex>``).
- ``PK = REPLYDOMAIN#<domain>``, ``SK = TENANT#<t>``: the tenants whose ``reply_domain`` is this domain
  (written by ``tenants.update``): who may receive mail for it.
"""

from __future__ import annotations

from typing import Any

from parley import clock
from parley.dal import table
from parley.dal.aws import client
from parley.settings import get_settings

RECEIPT_SK = "RECEIPT"
RECEIPT_TTL_SECONDS = 90 * 86400


def parse_key(tenant_id: str, message_id: str) -> str:
    return f"parse/{tenant_id}/{message_id}"


def put_raw(key: str, body: bytes) -> None:
    """Keep a raw post as bytes (its Content-Type travels in the queue pointer: S3 emulators treat an object
    stored as multipart/form-data as a browser form upload)."""
    client("s3").put_object(
        Bucket=get_settings().inbound_bucket, Key=key, Body=body, ContentType="application/octet-stream", ServerSideEncryption="AES256"
    )


def uri(key: str, bucket: str | None = None) -> str:
    """``s3://<bucket>/<key>``: where a stored inbound message's raw mail (attachments included) is kept."""
    return f"s3://{bucket or get_settings().inbound_bucket}/{key}"


def is_inbound_bucket(bucket: str) -> bool:
    return bool(bucket) and bucket == get_settings().inbound_bucket


def get_raw(key: str, bucket: str | None = None) -> bytes:
    """A stored raw mail or post."""
    return client("s3").get_object(Bucket=bucket or get_settings().inbound_bucket, Key=key)["Body"].read()


def enqueue(body: str) -> None:
    client("sqs").send_message(QueueUrl=get_settings().inbound_queue_url, MessageBody=body)


def _receipt_pk(tenant_id: str, ref: str) -> str:
    from parley.dal.threads import _ref_pk  # the same normalising (and hashing of long ids)

    return _ref_pk(tenant_id, ref).replace("#IMID#", "#INMAIL#", 1)


def record_receipt(tenant_id: str, ref: str, outcome: str, **details: Any) -> None:
    """Record (overwrite: a redelivery records the same) a received mail that was not stored as a message."""
    now = clock.now()
    item = {
        "PK": _receipt_pk(tenant_id, ref),
        "SK": RECEIPT_SK,
        "type": "inbound_receipt",
        "tenant_id": tenant_id,
        "ref": ref,
        "outcome": outcome,
        "received_at": clock.iso(now),
        "ttl": int(now.timestamp()) + RECEIPT_TTL_SECONDS,
        **{k: v for k, v in details.items() if v not in (None, "")},
    }
    table.put_item(item)


def get_receipt(tenant_id: str, ref: str) -> dict[str, Any] | None:
    return table.get(_receipt_pk(tenant_id, ref), RECEIPT_SK)


def domain_pk(domain: str) -> str:
    return f"REPLYDOMAIN#{domain.strip().lower()}"


def tenants_for_domain(domain: str) -> list[str]:
    """The tenants whose reply domain this is (usually one; a shared domain lists each)."""
    if not domain.strip():
        return []
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=domain_pk(domain)))
    return [i["tenant_id"] for i in items if i.get("type") == "reply_domain"]


def domain_ops(tenant_id: str, old: str, new: str) -> list[dict[str, Any]]:
    """``table.transact`` items moving a tenant's reply-domain membership from ``old`` to ``new``."""
    ops: list[dict[str, Any]] = []
    if old and old.strip().lower() != new.strip().lower():
        ops.append({"Delete": {"Key": table.key(domain_pk(old), f"TENANT#{tenant_id}")}})
    if new:
        item = {"PK": domain_pk(new), "SK": f"TENANT#{tenant_id}", "type": "reply_domain", "tenant_id": tenant_id}
        ops.append({"Put": {"Item": table.marshal(item)}})
    return ops
