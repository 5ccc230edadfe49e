"""The attachments of courier user-emails (seed 003): one table item each, the file in the ``BodyBucket``
(docs/data-model.md §6.10, docs/courier.md "Email attachments").

- item ``PK = TENANT#<t>#UEATT#<id>``, ``SK = UEATT``: ``{type: "user_email_attachment", tenant_id, id, email_id,
  filename, content_type, created_at, ready, size?, object_key?, etag?, refused?, ttl?}``; listed by email on GSI3
  (``GSI3PK = TENANT#<t>#UEMAIL#<email id>#ATT``, ``GSI3SK = <created_at>#<id>``: creation order). ``SK`` is neither
  ``MSG`` nor ``HIST#…``/``FWD#…``, so the table stream's filter for ``TallyFunction`` leaves it out.
- objects: the client's upload at ``uploads/tenants/<t>/email-attachments/<id>`` (the pre-signed POST allows that key
  only; the bucket expires ``uploads/`` after a day), the checked copy at ``tenants/<t>/email-attachments/<id>``
  (written only by process-upload, so what was checked cannot be replaced afterwards).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from parley.dal import aws, table
from parley.dal.aws import client
from parley.settings import get_settings

ITEM_TYPE = "user_email_attachment"
SK = "UEATT"


def pk(tenant_id: str, attachment_id: str) -> str:
    return f"TENANT#{tenant_id}#UEATT#{attachment_id}"


def email_pk(tenant_id: str, email_id: str) -> str:
    return f"TENANT#{tenant_id}#UEMAIL#{email_id}#ATT"


def upload_key(tenant_id: str, attachment_id: str) -> str:
    return f"uploads/tenants/{tenant_id}/email-attachments/{attachment_id}"


def object_key(tenant_id: str, attachment_id: str) -> str:
    return f"tenants/{tenant_id}/email-attachments/{attachment_id}"


# ── items ──
def create(item: dict[str, Any]) -> None:
    """Store a new (pending) attachment; its id is new, so the write is conditional on the key being free."""
    stored = {
        **item,
        "PK": pk(item["tenant_id"], item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": email_pk(item["tenant_id"], item["email_id"]),
        "GSI3SK": f"{item['created_at']}#{item['id']}",
    }
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, attachment_id), SK, consistent=consistent)


def page_of_email(tenant_id: str, email_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the email's attachments in creation order, and how many there are."""
    return table.offset_page(
        offset,
        limit,
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=email_pk(tenant_id, email_id)),
    )


def all_of_email(tenant_id: str, email_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=email_pk(tenant_id, email_id)), index="GSI3")


def mark_ready(tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str) -> bool:
    """Pending → ready, once (False when it was not pending: already ready, or gone). The expiry of a pending item
    and the last refusal are removed."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET ready = :t, #size = :size, object_key = :key, etag = :etag REMOVE #ttl, refused",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(t=True, f=False, size=size, key=key, etag=etag),
        names={"#size": "size", "#ttl": "ttl"},
    )


def note_refusal(tenant_id: str, attachment_id: str, reason: str) -> bool:
    """Record why the last upload was refused (the item stays pending: the client may upload again)."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET refused = :r",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(r=reason, f=False),
    )


# ── objects ──
def _s3() -> Any:
    return client("s3")


@cache
def _presigner() -> Any:
    """An S3 client that signs URLs with SigV4 (``X-Amz-Expires``, the region in the credential scope): botocore's
    default for a pre-signed S3 URL is still the deprecated SigV2 query string."""
    return aws.session().create_client("s3", config=Config(signature_version="s3v4"))


aws.on_reset(_presigner.cache_clear)


def _bucket() -> str:
    return get_settings().body_bucket


def presigned_post(key: str, *, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    """A pre-signed POST (``{"url", "fields"}``) for exactly ``key``, with this Content-Type, 1..``max_bytes`` bytes,
    valid ``expires_in`` seconds."""
    return _presigner().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


def presigned_get(key: str, *, filename: str, content_type: str, expires_in: int) -> str:
    from email.utils import encode_rfc2231

    disposition = f"attachment; filename*={encode_rfc2231(filename, 'utf-8')}"
    return _presigner().generate_presigned_url(
        "get_object",
        Params={"Bucket": _bucket(), "Key": key, "ResponseContentDisposition": disposition, "ResponseContentType": content_type},
        ExpiresIn=expires_in,
    )


def _missing(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _changed(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in ("412", "PreconditionFailed")


def head(key: str) -> dict[str, Any] | None:
    """``{"size", "etag"}`` of the object, or None when there is none."""
    try:
        out = _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as err:
        if _missing(err):
            return None
        raise
    return {"size": int(out["ContentLength"]), "etag": out["ETag"]}


class ObjectChanged(Exception):
    """The object is not the version read before (replaced or deleted in between)."""


def read(key: str, *, etag: str, first: int | None = None) -> bytes:
    """The object's bytes (its first ``first`` bytes), only if it is still the version ``etag``."""
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key, "IfMatch": etag}
    if first is not None:
        params["Range"] = f"bytes=0-{first - 1}"
    try:
        return _s3().get_object(**params)["Body"].read()
    except ClientError as err:
        if _changed(err) or _missing(err):
            raise ObjectChanged(key) from None
        raise


def copy(source: str, target: str, *, etag: str, content_type: str) -> str:
    """Copy the version ``etag`` of ``source`` to ``target`` (``ObjectChanged`` if it is no longer that version);
    the copy's ETag."""
    try:
        out = _s3().copy_object(
            Bucket=_bucket(),
            Key=target,
            CopySource={"Bucket": _bucket(), "Key": source},
            CopySourceIfMatch=etag,
            ContentType=content_type,
            MetadataDirective="REPLACE",
            ServerSideEncryption="AES256",
        )
    except ClientError as err:
        if _changed(err) or _missing(err):
            raise ObjectChanged(source) from None
        raise
    return out["CopyObjectResult"]["ETag"]


def delete(key: str) -> None:
    _s3().delete_object(Bucket=_bucket(), Key=key)
