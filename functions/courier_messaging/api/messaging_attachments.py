"""The courier messaging API (seed 003): messaging-attachments, the files of a channel message, uploaded in two phases
as user-email-attachments are (docs/courier.md "Attachments and bookmarks").

- GET /v1/messaging-attachments/ — a message's attachments (``message-id`` required; ``filter[include-pending]``)
- POST /v1/messaging-attachments/ — start an upload: a pre-signed S3 POST (``{"data": {id, upload-url, …}}``)
- GET /v1/messaging-attachments/{id}/ — one (``thumbnail``: a pre-signed GET of an image's thumbnail)
- PATCH /v1/messaging-attachments/{id}/ — ``removed: true`` (soft delete)
- POST /v1/messaging-attachments/{id}/process-upload/ — check the stored file, mark it ready (an image's thumbnail is
  made asynchronously by ThumbnailsFunction)

Only the members of the message's channel see its attachments: anyone else gets 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import channel_attachments
from parley.models.channel_attachments import (
    TYPE,
    AttachmentAttributes,
    AttachmentCreateAttributes,
    AttachmentPatchAttributes,
    ProcessUploadBody,
    UploadTicketDocument,
)
from parley.models.jsonapi import RequestDocument

api = Api("courier_messaging", tags=["Messaging attachments"], example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
MessageId = Annotated[
    str, Query(alias="message-id", min_length=1, max_length=128, pattern=IdPattern, description="The message whose attachments to list.")
]
IndividualId = Annotated[
    str | None,
    Query(
        alias="individual-id",
        min_length=1,
        max_length=128,
        pattern=IdPattern,
        description="The acting individual (one of the user's; default: the user's primary individual).",
    ),
]
IncludePending = Annotated[
    bool, Query(alias="filter[include-pending]", description="Also list uploads not processed yet (`ready-to-use` false).")
]
SAMPLE_MESSAGE = "22222222-2222-2222-2222-222222222222"


@api.get(
    "/v1/messaging-attachments",
    responses={200: jsonapi.list_doc(AttachmentAttributes, "A page of the message's attachments, in creation order.")},
    access=("table:read", "bodies:read"),
    errors=(403, 404, 422),
    example=Example(query={"message-id": SAMPLE_MESSAGE}),
)
def list_messaging_attachments(
    message_id: MessageId,
    include_pending: IncludePending = False,
    individual_id: IndividualId = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List the attachments of a message

    Ready attachments in creation order (removed ones too, `removed` true); pending uploads only with
    `filter[include-pending]=true`. `meta` carries `page[total]`, `page[limit]` and `page[offset]`. 404 unless the
    acting individual is a member of the message's channel (an unknown message, another tenant's, a non-member's).
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    items, total = channel_attachments.page(
        who.tenant_id, individual, message_id, include_pending=include_pending, offset=offset, limit=limit
    )
    return jsonapi.listing(TYPE, items, AttachmentAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-attachments",
    access=("table:write", "bodies:crud"),
    responses={
        201: {
            "description": "Upload the file: a multipart POST to `upload-url` with every `upload-data` field, then `file`.",
            "content": {"application/json": {"model": UploadTicketDocument}},
        }
    },
    errors=(403, 404, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {"content-type": "image/png", "filename": "wound-photo.png", "message-id": SAMPLE_MESSAGE},
            }
        }
    ),
)
def create_messaging_attachment(body: RequestDocument[AttachmentCreateAttributes], individual_id: IndividualId = None) -> Response[str]:
    """Start an attachment upload for a message

    Answers `{"data": {id, upload-url, upload-data, expiration-time}}` (plain JSON, no type or attributes, as the seed
    shows it): a pre-signed S3 POST for one file, good for 15 minutes (`expiration-time`, Unix epoch seconds). Allowed
    types: Word (.doc, .docx), PDF, PNG, JPEG, GIF, xlsx, plain text and CSV (UTF-8), up to 25 MiB (422 otherwise).
    The message must be one the acting individual can read (404). Then POST `{id}/process-upload/`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    individual = who.individual(individual_id, parameter="individual-id")
    ticket = channel_attachments.create(who.tenant_id, individual, attrs, user_id=who.user_id)
    doc = UploadTicketDocument(data=ticket)
    return Response(status_code=201, content_type="application/json", body=doc.model_dump_json(by_alias=True))


@api.get(
    "/v1/messaging-attachments/<id>",
    responses={200: jsonapi.single_doc(AttachmentAttributes, "The attachment.")},
    access=("table:read", "bodies:read"),
    errors=(403, 404, 422),
)
def get_messaging_attachment(id: ResourceId, individual_id: IndividualId = None) -> Response[str]:
    """Get an attachment

    Its content-type, `content-size` (once processed), filename, message, `removed`, and `thumbnail`: for an image
    whose thumbnail is made (`thumbnail-status` ready), a pre-signed URL of a JPEG of at most 320 by 320 pixels valid 5 minutes;
    else null. 404 unless the acting individual is a member of its channel.
    """
    who = courier_caller(api)
    individual = who.individual(individual_id, parameter="individual-id")
    return jsonapi.single(TYPE, *channel_attachments.get(who.tenant_id, individual, id))


@api.route(
    "PATCH",
    "/v1/messaging-attachments/<id>",
    responses={200: jsonapi.single_doc(AttachmentAttributes, "The attachment as changed.")},
    access=("table:write", "bodies:read"),
    errors=(403, 404, 422),
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={"data": {"type": TYPE, "id": SAMPLE.path["id"], "attributes": {"removed": True}}},
    ),
)
def update_messaging_attachment(
    id: ResourceId, body: RequestDocument[AttachmentPatchAttributes], individual_id: IndividualId = None
) -> Response[str]:
    """Remove an attachment

    Only `removed` is writable: `true` soft-deletes it (it stays listed with `removed` true, without a thumbnail, and
    is no longer one of its message's attachments); again is a no-op. Only the individual who uploaded it or a channel
    admin may remove it (403). `false` on a removed attachment is a 422 (a removal is final). 404 unless the acting
    individual is a member of its channel; `data.id` must be the path's id (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    individual = who.individual(individual_id, parameter="individual-id")
    return jsonapi.single(TYPE, *channel_attachments.remove(who.tenant_id, individual, id, attrs.removed))


@api.post(
    "/v1/messaging-attachments/<id>/process-upload",
    responses={201: jsonapi.single_doc(AttachmentAttributes, "The attachment, ready to use.")},
    access=("table:write", "bodies:crud"),
    errors=(403, 404, 409, 422),
    example=Example(body={}),
)
def process_messaging_attachment_upload(id: ResourceId, body: ProcessUploadBody) -> Response[str]:
    """Finalize an attachment upload

    Checks the uploaded file: its real size (1 byte to 25 MiB) and its real type, by its bytes, against the declared
    `content-type`. A refused file is deleted (422; the attachment stays pending and may be uploaded again while its
    upload-url lasts); nothing uploaded yet is a 409. An accepted one gets its `content-size` and `ready-to-use`; an
    image's `thumbnail-status` becomes `pending` and its thumbnail is made within seconds by a worker of its own.
    The body may name the acting `individual-id`. Idempotent: a ready attachment is answered as it is.
    """
    who = courier_caller(api)
    individual = who.individual(body.individual_id, pointer="/individual-id")
    return jsonapi.single(TYPE, *channel_attachments.process_upload(who.tenant_id, individual, id), status=201)
