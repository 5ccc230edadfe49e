"""The attachments of channel messages (messaging-attachments, seed 003; docs/courier.md "Attachments and bookmarks").

The upload is user-email-attachments' two phases (``parley.domain.uploads``, shared): ``create`` answers a pre-signed
S3 POST for a message the caller can read (a member of its channel: ``channel_messages.require_message``);
``process_upload`` checks the stored bytes, copies them to ``messaging-attachments/<t>/<id>`` and marks the
attachment ready. An image's thumbnail is made asynchronously: the copy's ObjectCreated notification goes to
ThumbnailsQueue and ThumbnailsFunction (functions/core/thumbnails, the only code that imports Pillow) writes it and
marks the item (``thumbnail``: pending → ready | failed). ``thumbnail`` is answered as a pre-signed GET (5 minutes).

Everything in a channel is read by its members only: a non-member, and another tenant, gets 404 as for an unknown id.

For messaging-messages (helper B): ``for_message`` (a message's ready, not removed attachments) and ``attach``
(on post: ready attachments of the same channel, by id, move to the new message).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley import clock
from parley.dal import channel_attachments as store
from parley.dal import uploads as objects
from parley.domain.uploads import ALLOWED, IMAGES, MSWORD, check_pending, media_type, open_upload
from parley.errors import Forbidden, NotFound, Unprocessable
from parley.models.channel_attachments import AttachmentAttributes, AttachmentCreateAttributes, UploadTicket

MAX_BYTES = 25 * 1024 * 1024  # per attachment (no email size limit applies to a chat file)
LINK_SECONDS = 5 * 60  # how long a thumbnail link works
TYPES = (MSWORD, *ALLOWED)  # the seed's enum starts with application/msword


# ── access ──
def _require_message(tenant_id: str, message_id: str, individual_id: str, **where: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from parley.domain import channel_messages  # helper B's interface

    return channel_messages.require_message(tenant_id, message_id, individual_id, **where)


def _require_member(tenant_id: str, channel_id: str, individual_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from parley.domain import channels  # helper A's interface

    return channels.require_member(tenant_id, channel_id, individual_id)


def _not_found(attachment_id: str) -> NotFound:
    return NotFound(f"no messaging-attachment {attachment_id}", code="not-found")


def _item(tenant_id: str, attachment_id: str, individual_id: str, *, consistent: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attachment and the caller's member item in its channel; 404 for an unknown id and for a non-member alike."""
    item = store.get(tenant_id, attachment_id, consistent=consistent)
    if item is None:
        raise _not_found(attachment_id)
    try:
        _, member = _require_member(tenant_id, item["channel_id"], individual_id)
    except NotFound:
        raise _not_found(attachment_id) from None
    return item, member


def _channel_id(message: dict[str, Any], channel: dict[str, Any]) -> str:
    return str(message.get("channel_id") or channel["id"])


# ── answers ──
def _attributes(item: dict[str, Any]) -> AttachmentAttributes:
    ready, removed = bool(item.get("ready")), bool(item.get("removed"))
    thumbnail = None
    if ready and not removed and item.get("thumbnail") == "ready" and item.get("thumbnail_key"):
        thumbnail = objects.presigned_get(
            item["thumbnail_key"], filename=f"{item['filename']}.jpg", content_type="image/jpeg", expires_in=LINK_SECONDS, inline=True
        )
    return AttachmentAttributes(
        content_size=int(item["size"]) if ready and item.get("size") is not None else None,
        content_type=item["content_type"],
        created_at=item["created_at"],
        filename=item["filename"],
        message_id=item["message_id"],
        ready_to_use=ready,
        removed=removed,
        thumbnail=thumbnail,
        thumbnail_status=item.get("thumbnail") or "none",
    )


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """An attachment as a message lists it (no link: the client GETs the attachment for its thumbnail)."""
    return {
        "id": item["id"],
        "filename": item["filename"],
        "content-type": item["content_type"],
        "content-size": int(item["size"]) if item.get("size") is not None else None,
    }


# ── the routes ──
def create(tenant_id: str, individual_id: str, attrs: AttachmentCreateAttributes, *, user_id: str | None = None) -> UploadTicket:
    kind = media_type(attrs.content_type, allowed=TYPES)
    message, channel = _require_message(tenant_id, attrs.message_id, individual_id, pointer="/data/attributes/message-id")
    fields = {
        "message_id": attrs.message_id,
        "channel_id": _channel_id(message, channel),
        "created_by_individual": individual_id,
        "removed": False,
        "thumbnail": "none",
    }
    attachment_id, post, expires = open_upload(
        store, tenant_id, fields, kind=kind, filename=attrs.filename, max_bytes=MAX_BYTES, user_id=user_id
    )
    return UploadTicket(id=attachment_id, upload_url=post["url"], upload_data=post["fields"], expiration_time=expires)


def get(tenant_id: str, individual_id: str, attachment_id: str) -> tuple[str, AttachmentAttributes]:
    item, _ = _item(tenant_id, attachment_id, individual_id)
    return attachment_id, _attributes(item)


def page(
    tenant_id: str, individual_id: str, message_id: str, *, include_pending: bool, offset: int, limit: int
) -> tuple[list[tuple[str, AttachmentAttributes]], int]:
    """The message's attachments in creation order: ready ones (removed ones too, ``removed`` true), pending uploads
    only with ``include_pending``."""
    _require_message(tenant_id, message_id, individual_id, parameter="message-id")
    items, total = store.page_of_message(tenant_id, message_id, include_pending=include_pending, offset=offset, limit=limit)
    return [(i["id"], _attributes(i)) for i in items], total


def remove(tenant_id: str, individual_id: str, attachment_id: str, removed: bool) -> tuple[str, AttachmentAttributes]:
    """PATCH ``removed``: true soft-deletes (idempotent); the uploader or a channel admin only (403). ``false`` on a
    removed attachment is refused (422: a removal is final); ``false`` on a live one changes nothing."""
    item, member = _item(tenant_id, attachment_id, individual_id)
    if not removed:
        if item.get("removed"):
            raise Unprocessable("a removed attachment cannot be restored", pointer="/data/attributes/removed", code="removal-final")
        return attachment_id, _attributes(item)
    if item.get("created_by_individual") != individual_id and not member.get("admin"):
        raise Forbidden("only the individual who uploaded the attachment, or a channel admin, may remove it", code="not-owner")
    store.mark_removed(tenant_id, attachment_id, at=clock.iso(clock.now()))
    return attachment_id, _attributes(_item(tenant_id, attachment_id, individual_id, consistent=True)[0])


def process_upload(tenant_id: str, individual_id: str, attachment_id: str) -> tuple[str, AttachmentAttributes]:
    """Check the uploaded file (``parley.domain.uploads.check_upload``) and mark the attachment ready; an image's
    ``thumbnail`` becomes "pending" (its job is the copy's S3 notification). Idempotent."""
    item, _ = _item(tenant_id, attachment_id, individual_id, consistent=True)
    if item.get("ready"):
        return attachment_id, _attributes(item)
    checked = check_pending(store, tenant_id, attachment_id, item["content_type"], max_bytes=MAX_BYTES)
    if isinstance(checked, dict):  # a concurrent process-upload finished it
        return attachment_id, _attributes(checked)
    thumbnail = "pending" if item["content_type"] in IMAGES else "none"
    key = store.object_key(tenant_id, attachment_id)
    if store.mark_ready(tenant_id, attachment_id, size=checked.size, key=key, etag=checked.etag, thumbnail=thumbnail):
        objects.delete(store.upload_key(tenant_id, attachment_id))
    return attachment_id, _attributes(store.get(tenant_id, attachment_id, consistent=True) or item)


# ── for messaging-messages (helper B) ──
def for_message(tenant_id: str, message_id: str) -> list[dict[str, Any]]:
    """The message's ready, not removed attachments (``summary`` each), in creation order: its ``attachments``."""
    return [summary(i) for i in store.all_of_message(tenant_id, message_id) if i.get("ready") and not i.get("removed")]


def check(tenant_id: str, channel_id: str, attachment_ids: Sequence[str], *, pointer: str = "/data/attributes/attachments") -> None:
    """Before a post: each id is a ready, not removed attachment of this channel (404 / 422 naming its index)."""
    for n, attachment_id in enumerate(attachment_ids):
        item = store.get(tenant_id, attachment_id, consistent=True)
        if item is None or item.get("channel_id") != channel_id:
            raise NotFound(f"no messaging-attachment {attachment_id} in this channel", pointer=f"{pointer}/{n}", code="not-found")
        if not item.get("ready") or item.get("removed"):
            state = "removed" if item.get("removed") else "not ready (process-upload first)"
            raise Unprocessable(f"messaging-attachment {attachment_id} is {state}", pointer=f"{pointer}/{n}", code="attachment-not-ready")


def attach(tenant_id: str, message_id: str, attachment_ids: Sequence[str], *, channel_id: str | None = None) -> list[dict[str, Any]]:
    """Move the ready attachments ``attachment_ids`` (of the message's channel: ``channel_id``, else read from the
    message) to ``message_id``: B calls it when a message is posted with ``attachments`` (call ``check`` first to
    refuse a bad id before anything is written; another channel's attachment is a 404 here too).
    Idempotent; the message's attachments (``for_message``) are answered."""
    if channel_id is None:
        from parley.dal import channel_messages

        message = channel_messages.get_message(tenant_id, message_id, consistent=True)
        if message is None:
            raise NotFound(f"no message {message_id}", code="not-found")
        channel_id = message["channel_id"]
    for attachment_id in dict.fromkeys(attachment_ids):
        item = store.get(tenant_id, attachment_id, consistent=True)
        if item is None or item.get("channel_id") != channel_id:
            raise NotFound(f"no messaging-attachment {attachment_id} in this channel", code="not-found")
        moved = item.get("message_id") == message_id or store.move_to_message(
            tenant_id, attachment_id, message_id, channel_id=item["channel_id"]
        )
        if not moved:
            raise Unprocessable(f"messaging-attachment {attachment_id} is not ready or removed", code="attachment-not-ready")
    return for_message(tenant_id, message_id)


# ── ThumbnailsFunction ──
def thumbnail_job(key: str) -> tuple[str, str] | None:
    """The attachment whose thumbnail an ObjectCreated of ``key`` asks for: ``(tenant, id)`` of a ready image whose
    thumbnail is pending; None when there is nothing to do (not an attachment, not an image, done before, removed, gone).
    ``NotReadyYet`` when process-upload has copied the file but not yet marked the item (the job is retried)."""
    parsed = store.parse_object_key(key)
    if parsed is None:
        return None
    item = store.get(*parsed, consistent=True)
    if item is None or item.get("content_type") not in IMAGES or item.get("removed"):
        return None
    if not item.get("ready"):
        raise NotReadyYet(key)
    return parsed if item.get("thumbnail") == "pending" else None


class NotReadyYet(Exception):
    """The copy exists but its item is still pending (process-upload marks it right after the copy)."""


def thumbnail_keys(body: str) -> list[str]:
    """The object keys an S3 event notification (ThumbnailsQueue's message body) names; none for S3's
    ``s3:TestEvent`` (sent when the notification is set up)."""
    import json
    from urllib.parse import unquote_plus

    data = json.loads(body)
    if data.get("Event") == "s3:TestEvent":
        return []
    return [unquote_plus(((r.get("s3") or {}).get("object") or {}).get("key") or "") for r in data.get("Records") or []]


def read_original(tenant_id: str, attachment_id: str) -> tuple[dict[str, Any], bytes]:
    """The ready attachment's item and its checked bytes (that version: ``ObjectChanged`` otherwise)."""
    item = store.get(tenant_id, attachment_id, consistent=True)
    if item is None:
        raise objects.ObjectChanged(attachment_id)
    return item, objects.read(item["object_key"], etag=item["etag"])


def save_thumbnail(tenant_id: str, attachment_id: str, jpeg: bytes | None) -> str:
    """Store the thumbnail (``None``: the image could not be read: ``failed``); the state written."""
    if jpeg is None:
        store.set_thumbnail(tenant_id, attachment_id, state="failed")
        return "failed"
    key = store.thumbnail_key(tenant_id, attachment_id)
    objects.put(key, jpeg, content_type="image/jpeg")
    store.set_thumbnail(tenant_id, attachment_id, state="ready", key=key)
    return "ready"
