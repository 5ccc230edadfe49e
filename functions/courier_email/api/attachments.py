"""The courier email API (seed 003): user-email-attachments, a two-phase upload straight to storage
(docs/courier.md "Email attachments").

- POST /v1/user-email-attachments/ — start an upload: a pre-signed S3 POST (plain JSON, as the seed shows it)
- POST /v1/user-email-attachments/{id}/process-upload/ — check the stored file, mark it ready-to-use
- GET /v1/user-email-attachments/{id}/ — one (``with-link=true``: a short-lived download-link)
- GET /v1/user-email-attachments/ — the attachments of an email (``email-id`` required)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import email_attachments
from parley.models.courier_email_attachments import (
    TYPE,
    AttachmentAttributes,
    AttachmentCreateAttributes,
    ProcessUploadBody,
    UploadTicket,
)
from parley.models.jsonapi import RequestDocument

api = Api("courier_email", tags=["User email attachments"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
EmailId = Annotated[str, Query(alias="email-id", min_length=1, max_length=128, description="The user-email whose attachments to list.")]
WithLink = Annotated[bool, Query(alias="with-link", description="Add a `download-link`: a pre-signed URL valid for 5 minutes.")]
SAMPLE_EMAIL = "22222222-2222-2222-2222-222222222222"


@api.post(
    "/v1/user-email-attachments",
    access=("table:write", "bodies:crud"),
    responses={
        201: {
            "description": "Upload the file: a multipart POST to `upload-url` with every `upload-data` field, then `file`.",
            "content": {"application/json": {"model": UploadTicket}},
        }
    },
    errors=(404, 409, 422),
    example=Example(
        body={
            "data": {"type": TYPE, "attributes": {"content-type": "application/pdf", "email-id": SAMPLE_EMAIL, "filename": "care-plan.pdf"}}
        }
    ),
)
def create_user_email_attachment(body: RequestDocument[AttachmentCreateAttributes]) -> Response[str]:
    """Start an email-attachment upload

    Answers a pre-signed S3 POST for one file (plain JSON, not wrapped in `data`, as the seed shows it): `upload-url`,
    the form fields `upload-data`, and `expiration-time` (Unix epoch seconds; 15 minutes). Allowed types: PDF, PNG,
    JPEG, GIF, docx, xlsx, plain text and CSV (UTF-8), up to 10 MiB (422 otherwise). The email must be the tenant's
    (404). Then POST `{id}/process-upload/`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    ticket = email_attachments.create(who.tenant_id, attrs, user_id=who.user_id)
    return Response(status_code=201, content_type="application/json", body=ticket.model_dump_json(by_alias=True))


@api.post(
    "/v1/user-email-attachments/<id>/process-upload",
    access=("table:write", "bodies:crud"),
    responses={201: jsonapi.single_doc(AttachmentAttributes, "The attachment, ready to use.")},
    errors=(404, 409, 422),
    example=Example(body={}),
)
def process_user_email_attachment_upload(id: ResourceId, body: ProcessUploadBody) -> Response[str]:
    """Finalize an email-attachment upload

    Checks the uploaded file: its real size (at most 10 MiB) and its real type, by its bytes, against the declared
    `content-type`. A refused file is deleted (422; the attachment stays pending, and may be uploaded again while its
    upload-url lasts); nothing uploaded yet is a 409. An accepted one is marked `ready-to-use` with its `size`.
    Idempotent: a ready attachment is answered as it is.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *email_attachments.process_upload(who.tenant_id, id), status=201)


@api.get(
    "/v1/user-email-attachments/<id>",
    access=("table:read", "bodies:read"),
    responses={200: jsonapi.single_doc(AttachmentAttributes, "The attachment.")},
    example=Example(query={"with-link": "true"}),
)
def get_user_email_attachment(id: ResourceId, with_link: WithLink = False) -> Response[str]:
    """Get an email attachment

    Its metadata; with `with-link=true`, a ready attachment also gets a `download-link` (a pre-signed URL valid for
    5 minutes; null while the attachment is pending). 404 when the tenant has no attachment with this id.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *email_attachments.get(who.tenant_id, id, with_link=with_link))


@api.get(
    "/v1/user-email-attachments",
    responses={200: jsonapi.list_doc(AttachmentAttributes, "A page of the email's attachments, in creation order.")},
    errors=(404,),
    example=Example(query={"email-id": SAMPLE_EMAIL}),
)
def list_user_email_attachments(email_id: EmailId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List the attachments of an email

    Pending uploads included (`ready-to-use` false), in creation order. `meta` carries `page[total]`, `page[limit]`
    and `page[offset]`. 404 when the tenant has no email with this `email-id`.
    """
    who = courier_caller(api)
    items, total = email_attachments.page(who.tenant_id, email_id, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, AttachmentAttributes, total=total, limit=limit, offset=offset)
