"""The checks of a two-phase upload, shared by the three attachment kinds (``parley.domain.email_attachments``,
``parley.domain.channel_attachments``, ``parley.domain.bulk_attachments``; docs/courier.md "Email attachments"):
the allowed types and the check of a declared Content-Type (``media_type``), the check of the stored bytes against it
(``sniff``), and ``check_upload``: the uploaded object's real size and type, then its copy to the final key (that
version only), so that what was checked is what is kept; ``open_upload`` (phase 1: the pending item and its ticket)
and ``check_pending`` (phase 3's check with its answers)."""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from parley.dal import uploads as objects
from parley.errors import Conflict, Unprocessable

SNIFF_BYTES = 8 * 1024  # what is read of an image or a PDF to check its type

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MSWORD = "application/msword"

# The types an attachment may have, each checked by its bytes (``sniff``).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File (legacy .doc): messaging-attachments only
ZIPPED = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}  # Office Open XML: a zip holding this part
TEXT = ("text/plain", "text/csv")  # UTF-8 text (ASCII included), no NUL byte
ALLOWED = (*MAGIC, *ZIPPED, *TEXT)
IMAGES = ("image/png", "image/jpeg", "image/gif")


def media_type(declared: str, *, allowed: Sequence[str] = ALLOWED, pointer: str = "/data/attributes/content-type") -> str:
    """The declared Content-Type as an allowed media type (lower-cased; a ``charset`` parameter is allowed on text
    types, utf-8 or us-ascii only); ``Unprocessable`` naming the attribute otherwise."""
    kind, _, params = declared.strip().partition(";")
    kind = kind.strip().lower()
    if kind not in allowed:
        listed = ", ".join(allowed)
        raise Unprocessable(f"content-type {kind!r} is not allowed (allowed: {listed})", pointer=pointer, code="type-not-allowed")
    for param in filter(None, (p.strip() for p in params.split(";"))):
        name, _, value = param.partition("=")
        if kind not in TEXT or name.strip().lower() != "charset" or value.strip().strip('"').lower() not in ("utf-8", "us-ascii"):
            raise Unprocessable(f"content-type parameter {param!r} is not allowed", pointer=pointer, code="type-not-allowed")
    return kind


def sniff(kind: str, head: bytes, whole: bytes | None = None) -> bool:
    """Whether the bytes are a file of ``kind``: the magic number of a PDF, an image or a legacy .doc (``head``: its
    first bytes), a zip holding the part of a docx or xlsx (``whole``: the whole file), UTF-8 text without NUL bytes
    (``whole``) that does not start like one of the binary types."""
    if kind in MAGIC:
        return head.startswith(MAGIC[kind])
    if kind == MSWORD:
        return head.startswith(OLE)
    data = head if whole is None else whole
    if kind in ZIPPED:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, EOFError):
            return False
        return "[Content_Types].xml" in names and ZIPPED[kind] in names
    if kind in TEXT:
        if b"\x00" in data or any(data.startswith(m) for ms in MAGIC.values() for m in ms) or data.startswith((b"PK\x03\x04", OLE)):
            return False
        try:
            codecs.getincrementaldecoder("utf-8")().decode(data, final=whole is not None)
        except UnicodeDecodeError:
            return False
        return True
    return False


class Missing(Exception):
    """Nothing was uploaded at the upload key."""


class Refused(Exception):
    """The uploaded file is refused (too large, empty, not of its declared type); it has been deleted."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Checked:
    size: int
    etag: str  # the final copy's


def check_upload(source: str, target: str, kind: str, *, max_bytes: int) -> Checked:
    """Check the object uploaded at ``source`` — its real size (1..``max_bytes``) and its real type (``sniff``) — and
    copy that version to ``target``. ``Missing`` when nothing is there; ``Refused`` (the upload deleted) when it
    fails a check; ``objects.ObjectChanged`` when it was replaced or deleted in between. The upload is left in place
    (the caller deletes it once its item says ready)."""
    found = objects.head(source)
    if found is None:
        raise Missing(source)
    size, etag = found["size"], found["etag"]
    refusal = None
    if size > max_bytes:
        refusal = Refused(f"the file is {size} bytes; the limit is {max_bytes}", "attachment-too-large")
    elif size == 0:
        refusal = Refused("the file is empty", "attachment-empty")
    else:
        whole = kind in ZIPPED or kind in TEXT
        data = objects.read(source, etag=etag, first=None if whole else min(size, SNIFF_BYTES))
        if not sniff(kind, data, data if whole else None):
            refusal = Refused(f"the file's content is not {kind}", "attachment-type-mismatch")
    if refusal is not None:
        objects.delete(source)
        raise refusal
    return Checked(size=size, etag=objects.copy(source, target, etag=etag, content_type=kind))


# ── the two phases, as the three attachment routes use them ──
UPLOAD_SECONDS = 15 * 60  # how long the pre-signed POST accepts the upload
PENDING_DAYS = 1  # a pending attachment's item expires (table TTL) this long after its ticket; so does its upload


def open_upload(
    store: Any, tenant_id: str, fields: dict[str, Any], *, kind: str, filename: str, max_bytes: int, user_id: str | None = None
) -> tuple[str, dict[str, Any], int]:
    """Phase 1: a new pending attachment (``fields`` plus the common ones: id, filename, content type, creation time,
    ``ready`` false, the pending expiry, ``created_by``) stored by ``store`` (an ``AttachmentStore``'s module), and a
    pre-signed POST for its upload key only. ``(id, the POST's {"url", "fields"}, its expiry in epoch seconds)``."""
    from datetime import timedelta

    from parley import clock
    from parley.domain.ids import new_id

    now = clock.now()
    attachment_id = new_id()
    expires = int((now + timedelta(seconds=UPLOAD_SECONDS)).timestamp())
    store.create(
        {
            "tenant_id": tenant_id,
            "id": attachment_id,
            **fields,
            "filename": filename,
            "content_type": kind,
            "created_at": clock.iso(now),
            "ready": False,
            "ttl": expires + PENDING_DAYS * 86400,
            **({"created_by": user_id} if user_id else {}),
        }
    )
    post = objects.presigned_post(
        store.upload_key(tenant_id, attachment_id), content_type=kind, max_bytes=max_bytes, expires_in=UPLOAD_SECONDS
    )
    return attachment_id, post, expires


def check_pending(
    store: Any, tenant_id: str, attachment_id: str, kind: str, *, max_bytes: int, gone: Callable[[str], Exception] | None = None
) -> Checked | dict[str, Any]:
    """Phase 3's check of a pending attachment's upload (``check_upload`` to ``store.object_key``), its failures
    answered: nothing uploaded → 409 ``upload-missing``; refused → the refusal noted on the item, 422 with its code;
    the upload changed meanwhile → the item when a concurrent process-upload made it ready, else 409
    ``upload-changed`` (``gone``: the error for an item that is gone by then)."""
    source, key = store.upload_key(tenant_id, attachment_id), store.object_key(tenant_id, attachment_id)
    try:
        return check_upload(source, key, kind, max_bytes=max_bytes)
    except Missing:
        raise Conflict("nothing was uploaded for this attachment: POST the file to its upload-url first", code="upload-missing") from None
    except Refused as refused:
        store.note_refusal(tenant_id, attachment_id, refused.message)
        raise Unprocessable(refused.message, code=refused.code) from None
    except objects.ObjectChanged:
        again = store.get(tenant_id, attachment_id, consistent=True)
        if again is None and gone is not None:
            raise gone(attachment_id) from None
        if again and again.get("ready"):
            return again
        raise Conflict("the upload changed while it was checked: process it again", code="upload-changed") from None
