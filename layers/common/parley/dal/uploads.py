"""Two-phase uploads straight to the ``BodyBucket`` (the S3 side shared by the three attachment stores:
``parley.dal.email_attachments``, ``parley.dal.channel_attachments``, ``parley.dal.bulk_attachments``; their items
are ``parley.dal.attachment_items``; docs/courier.md "Email attachments"): a pre-signed POST for exactly one key, a
short-lived pre-signed GET, and the conditional reads and copy process-upload makes of what was uploaded (``etag``:
the version checked is the version kept)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from parley.dal import aws
from parley.dal.aws import client
from parley.settings import get_settings


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


def presigned_get(key: str, *, filename: str, content_type: str, expires_in: int, inline: bool = False) -> str:
    """A pre-signed GET of ``key`` valid ``expires_in`` seconds, answered with this Content-Type and a
    Content-Disposition naming ``filename`` (``inline``: to be shown, e.g. a thumbnail; else a download)."""
    from email.utils import encode_rfc2231

    disposition = f"{'inline' if inline else 'attachment'}; filename*={encode_rfc2231(filename, 'utf-8')}"
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


def put(key: str, data: bytes, *, content_type: str) -> str:
    """Write ``data`` at ``key`` (server-side encrypted); its ETag."""
    return _s3().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256")["ETag"]
