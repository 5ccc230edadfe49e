"""The attachments of a draft bulk message (messaging-bulk-attachments, seed 003; docs/courier.md "Messaging automation
and scale (issue 19)" → "Bulk attachments").

The upload is messaging-attachments' two phases (``parley.domain.uploads``, shared): ``create`` answers a pre-signed
S3 POST for a draft bulk message the caller may see (``parley.domain.bulk_messages.require_bulk``); ``process_upload``
checks the stored bytes, copies them to ``bulk-attachments/<t>/<id>`` and marks the bulk attachment ready.

For the bulk posting job (area 1): ``ready`` (the bulk's ready attachments) and ``copy_to_message`` (each of them made
a messaging-attachment of one posted message, idempotently).
"""

from __future__ import annotations

import uuid
from typing import Any

NAMESPACE = uuid.UUID("5b0f3c2e-9a51-4c8e-8f43-7d1e2b6a9c10")  # the ids of the messaging-attachments copied from a bulk


def copy_id(bulk_attachment_id: str, message_id: str) -> str:
    """The id of the messaging-attachment made of ``bulk_attachment_id`` for ``message_id``: deterministic, so a
    redelivered or re-run post finds it there."""
    return str(uuid.uuid5(NAMESPACE, f"{bulk_attachment_id}:{message_id}"))


def ready(tenant_id: str, bulk_id: str) -> list[dict[str, Any]]:
    """The bulk message's ready attachments (stored items: ``id``, ``filename``, ``content_type``, ``size``,
    ``object_key``, ``etag``, …), in creation order. Pending uploads are not included. A Query on the bulk's index."""
    from parley.dal import bulk_attachments as store

    return [i for i in store.all_of_bulk(tenant_id, bulk_id) if i.get("ready")]


def copy_to_message(tenant_id: str, bulk_id: str, message_id: str, channel_id: str) -> list[str]:
    """Make each ready attachment of the bulk a messaging-attachment of ``message_id`` (in ``channel_id``): the item of
    ``parley.dal.channel_attachments`` (so ``GET /v1/messaging-attachments/?message-id=…`` lists it) with the id
    ``copy_id(bulk attachment, message)`` and its own server-side copy of the checked object (an image's thumbnail is
    then made by ThumbnailsFunction as for any messaging-attachment). Idempotent: what exists already is kept, an
    interrupted copy is finished. The messaging-attachment ids, in the bulk's order. Raises only on a transient error
    (the caller's batch is retried)."""
    from parley import clock
    from parley.dal import bulk_attachments as store
    from parley.dal import channel_attachments as message_store
    from parley.dal import uploads as objects
    from parley.domain.uploads import IMAGES

    ids = []
    for source in ready(tenant_id, bulk_id):
        attachment_id = copy_id(source["id"], message_id)
        ids.append(attachment_id)
        item = message_store.get(tenant_id, attachment_id, consistent=True)
        if item is not None and item.get("ready"):
            continue
        if item is None:  # pending first: ThumbnailsFunction retries a copy whose item is not ready yet
            store.create_message_copy(
                {
                    "tenant_id": tenant_id,
                    "id": attachment_id,
                    "message_id": message_id,
                    "channel_id": channel_id,
                    "filename": source["filename"],
                    "content_type": source["content_type"],
                    "created_at": clock.iso(clock.now()),
                    "created_by_individual": source.get("created_by_individual"),
                    "bulk_id": bulk_id,
                    "bulk_attachment_id": source["id"],
                    "ready": False,
                    "removed": False,
                    "thumbnail": "none",
                }
            )
        key = message_store.object_key(tenant_id, attachment_id)
        etag = objects.copy(source["object_key"], key, etag=source["etag"], content_type=source["content_type"])
        thumbnail = "pending" if source["content_type"] in IMAGES else "none"
        message_store.mark_ready(tenant_id, attachment_id, size=int(source["size"]), key=key, etag=etag, thumbnail=thumbnail)
    return ids
