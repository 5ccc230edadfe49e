"""The courier messaging API (seed 003): messaging-bulk-attachments, the files of a draft bulk message, uploaded in two
phases as messaging-attachments are and copied to every message the bulk posts (docs/courier.md "Messaging automation
and scale (issue 19)" → "Bulk attachments").

- GET /v1/messaging-bulk-attachments/ — a bulk message's attachments (``bulk-message-id`` required; ``filter[include-pending]``)
- POST /v1/messaging-bulk-attachments/ — start an upload: a pre-signed S3 POST (``{"data": {id, upload-url, …}}``)
- GET /v1/messaging-bulk-attachments/{id}/ — one
- POST /v1/messaging-bulk-attachments/{id}/process-upload/ — check the stored file, mark it ready

A bulk message is the tenant's: another tenant's id is a 404. Its attachments change only while it is a draft (409).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import bulk_attachments
from parley.models.bulk_attachments import TYPE, BulkAttachmentAttributes, BulkAttachmentCreateAttributes, ProcessBulkUploadBody
from parley.models.channel_attachments import UploadTicketDocument
from parley.models.jsonapi import RequestDocument

api = Api("courier_messaging", tags=["Messaging bulk attachments"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
BulkMessageId = Annotated[
    str,
    Query(
        alias="bulk-message-id",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The bulk message whose attachments to list.",
    ),
]
IncludePending = Annotated[
    bool, Query(alias="filter[include-pending]", description="Also list uploads not processed yet (`ready-to-use` false).")
]
SAMPLE_BULK = "55555555-5555-5555-5555-555555555555"


@api.get(
    "/v1/messaging-bulk-attachments",
    responses={200: jsonapi.list_doc(BulkAttachmentAttributes, "A page of the bulk message's attachments, in creation order.")},
    errors=(404, 422),
    example=Example(query={"bulk-message-id": SAMPLE_BULK}),
)
def list_messaging_bulk_attachments(
    bulk_message_id: BulkMessageId,
    include_pending: IncludePending = False,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List the attachments of a bulk message

    Ready attachments in creation order; pending uploads only with `filter[include-pending]=true`. `meta` carries
    `page[total]`, `page[limit]` and `page[offset]`. 404 for an unknown bulk message (another tenant's included).
    """
    who = courier_caller(api)
    items, total = bulk_attachments.page(who.tenant_id, bulk_message_id, include_pending=include_pending, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, BulkAttachmentAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-bulk-attachments",
    access=("table:write", "bodies:crud"),
    responses={
        201: {
            "description": "Upload the file: a multipart POST to `upload-url` with every `upload-data` field, then `file`.",
            "content": {"application/json": {"model": UploadTicketDocument}},
        }
    },
    errors=(404, 409, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {"bulk-message-id": SAMPLE_BULK, "content-type": "application/pdf", "filename": "flyer.pdf"},
            }
        }
    ),
)
def create_messaging_bulk_attachment(body: RequestDocument[BulkAttachmentCreateAttributes]) -> Response[str]:
    """Start an attachment upload for a bulk message

    Answers `{"data": {id, upload-url, upload-data, expiration-time}}` (plain JSON, as the seed shows it): a
    pre-signed S3 POST for one file, good for 15 minutes (`expiration-time`, Unix epoch seconds). Allowed types are
    messaging-attachments': Word (.doc, .docx), PDF, PNG, JPEG, GIF, xlsx, plain text and CSV (UTF-8), up to 25 MiB
    (422 otherwise). The bulk message must be a draft (409 once posted; 404 when unknown). Then POST
    `{id}/process-upload/`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    ticket = bulk_attachments.create(who.tenant_id, attrs, user_id=who.user_id)
    doc = UploadTicketDocument(data=ticket)
    return Response(status_code=201, content_type="application/json", body=doc.model_dump_json(by_alias=True))


@api.get(
    "/v1/messaging-bulk-attachments/<id>",
    responses={200: jsonapi.single_doc(BulkAttachmentAttributes, "The bulk attachment.")},
    errors=(404,),
)
def get_messaging_bulk_attachment(id: ResourceId) -> Response[str]:
    """Get a bulk attachment

    Its bulk message, content-type, `content-size` (once processed), filename and `ready-to-use`; `thumbnail` is
    null (each posted message's copy gets its own thumbnail). 404 for an unknown id (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *bulk_attachments.get(who.tenant_id, id))


@api.post(
    "/v1/messaging-bulk-attachments/<id>/process-upload",
    responses={201: jsonapi.single_doc(BulkAttachmentAttributes, "The bulk attachment, ready to use.")},
    access=("table:write", "bodies:crud"),
    errors=(404, 409, 422),
    example=Example(body={}),
)
def process_messaging_bulk_attachment_upload(id: ResourceId, body: ProcessBulkUploadBody) -> Response[str]:
    """Finalize a bulk-attachment upload

    Checks the uploaded file: its real size (1 byte to 25 MiB) and its real type, by its bytes, against the declared
    `content-type`. A refused file is deleted (422; the attachment stays pending and may be uploaded again while its
    upload-url lasts); nothing uploaded yet is a 409, and so is a bulk message posted meanwhile. An accepted one gets
    its `content-size` and `ready-to-use`: every message the bulk posts will carry a copy of it. Idempotent.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *bulk_attachments.process_upload(who.tenant_id, id), status=201)
