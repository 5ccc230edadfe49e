"""user-email-attachments on moto (seed 003, issue 15): the pre-signed POST's conditions, process-upload's checks of
the stored bytes (size and type refused, the object deleted), idempotent process-upload, the stored state, the list
by email (paging meta), with-link, tenant isolation, and what the send path reads (ready files, byte-identical)."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest

from helpers import api_event, body

TYPE = "user-email-attachments"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def call(handler, fn, tenant_id, *, path, path_params=None, query=None, payload=..., headers=None):
    ev = api_event(f"courier_email/{fn}", tenant_id=tenant_id, query=query, body=payload, headers=headers)
    ev["path"] = path
    ev["pathParameters"] = path_params
    return handler(f"CourierEmailApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)


def create(handler, tenant_id, email_id, *, content_type="application/pdf", filename="care-plan.pdf"):
    doc = {"data": {"type": TYPE, "attributes": {"content-type": content_type, "email-id": email_id, "filename": filename}}}
    return call(handler, "create_user_email_attachment", tenant_id, path="/v1/user-email-attachments/", payload=doc)


def process(handler, tenant_id, attachment_id):
    path = f"/v1/user-email-attachments/{attachment_id}/process-upload/"
    return call(handler, "process_user_email_attachment_upload", tenant_id, path=path, path_params={"id": attachment_id}, payload={})


def get(handler, tenant_id, attachment_id, query=None):
    path = f"/v1/user-email-attachments/{attachment_id}/"
    return call(handler, "get_user_email_attachment", tenant_id, path=path, path_params={"id": attachment_id}, query=query)


def listing(handler, tenant_id, query):
    return call(handler, "list_user_email_attachments", tenant_id, path="/v1/user-email-attachments/", query=query)


def upload(tenant_id, attachment_id, data, content_type="application/pdf"):
    """What the client's POST to the pre-signed URL stores (the e2e test makes the real multipart POST)."""
    from parley.dal import email_attachments as store
    from parley.dal.aws import client
    from parley.settings import get_settings

    client("s3").put_object(
        Bucket=get_settings().body_bucket, Key=store.upload_key(tenant_id, attachment_id), Body=data, ContentType=content_type
    )


def objects(prefix=""):
    from parley.dal.aws import client
    from parley.settings import get_settings

    out = client("s3").list_objects_v2(Bucket=get_settings().body_bucket, Prefix=prefix)
    return sorted(o["Key"] for o in out.get("Contents", []))


ORG, USER, INDIVIDUAL = "org-att", "user-att", "ind-att"


@pytest.fixture
def email(handler, tenant):
    """A draft user-email of the tenant (`POST /v1/user-emails/`), whose attachments these tests upload."""
    from parley.domain import directory

    t, _ = tenant
    lines = [
        {"type": "organizations", "id": ORG, "attributes": {"name": "northside"}},
        {"type": "users", "id": USER, "attributes": {"username": "pat", "primary-individual-id": INDIVIDUAL}},
        {"type": "individuals", "id": INDIVIDUAL, "attributes": {"owner-id": USER}},
    ]
    assert directory.import_lines(t.id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]).invalid == []
    attributes = {"to": "pat@example.com", "subject": "Your care plan", "message": "See attached.", "sender-organization-id": ORG,
                  "individual-id": INDIVIDUAL}  # fmt: skip
    draft = {"data": {"type": "user-emails", "attributes": attributes}}
    ev = api_event("courier_email/create_user_email", tenant_id=t.id, body=draft, headers={"X-User-ID": USER, "Idempotency-Key": None})
    out = handler("CourierEmailApi.CreateUserEmailFunction")(ev)
    assert out["statusCode"] == 201, out
    return t.id, body(out)["data"]["id"]


def send_draft(handler, tenant_id, email_id):
    """`POST /v1/user-emails/{id}/send/`: its send pipeline message has the email's id."""
    ev = api_event("courier_email/send_user_email", tenant_id=tenant_id, body={}, headers={"X-User-ID": USER})
    ev["pathParameters"], ev["path"] = {"id": email_id}, f"/v1/user-emails/{email_id}/send/"
    out = handler("CourierEmailApi.SendUserEmailFunction")(ev)
    assert out["statusCode"] == 201, out


def test_create_answers_a_presigned_post_for_one_key_type_and_size(handler, email, table_items):
    from parley.dal import email_attachments as store
    from parley.domain import email_attachments as domain

    tenant_id, email_id = email
    out = create(handler, tenant_id, email_id)
    assert out["statusCode"] == 201, out
    assert out["multiValueHeaders"]["Content-Type"] == ["application/json"]
    ticket = body(out)
    assert set(ticket) == {"id", "upload-url", "upload-data", "expiration-time"}  # plain, not wrapped in data
    assert isinstance(ticket["expiration-time"], int)
    fields = ticket["upload-data"]
    assert fields["key"] == store.upload_key(tenant_id, ticket["id"]) and fields["Content-Type"] == "application/pdf"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, domain.MAX_BYTES] in policy["conditions"]
    assert {"Content-Type": "application/pdf"} in policy["conditions"] and {"key": fields["key"]} in policy["conditions"]
    from datetime import datetime

    assert abs(datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp() - ticket["expiration-time"]) <= 1

    (item,) = [i for i in table_items() if i.get("type") == "user_email_attachment"]
    assert item["PK"] == f"TENANT#{tenant_id}#UEATT#{ticket['id']}" and item["SK"] == "UEATT"
    assert item["GSI3PK"] == f"TENANT#{tenant_id}#UEMAIL#{email_id}#ATT"
    assert item["ready"] is False and item["ttl"] == ticket["expiration-time"] + 86400
    assert (item["email_id"], item["filename"], item["content_type"]) == (email_id, "care-plan.pdf", "application/pdf")


@pytest.mark.parametrize(
    ("attributes", "status", "pointer"),
    [
        ({"content-type": "application/x-msdownload"}, 422, "/data/attributes/content-type"),
        ({"content-type": "text/html"}, 422, "/data/attributes/content-type"),
        ({"content-type": "application/pdf; charset=utf-8"}, 422, "/data/attributes/content-type"),
        ({"filename": "../etc/passwd"}, 400, "/data/attributes/filename"),
        ({"filename": "a\r\nBcc: x@example.com"}, 400, "/data/attributes/filename"),
        ({"email-id": "00000000-0000-0000-0000-000000000000"}, 404, "/data/attributes/email-id"),
        ({"size": 3}, 400, "/data/attributes/size"),
    ],
)
def test_create_refuses_bad_attributes_and_stores_nothing(handler, email, table_items, attributes, status, pointer):
    tenant_id, email_id = email
    attrs = {"content-type": "application/pdf", "email-id": email_id, "filename": "x.pdf", **attributes}
    doc = {"data": {"type": TYPE, "attributes": attrs}}
    out = call(handler, "create_user_email_attachment", tenant_id, path="/v1/user-email-attachments/", payload=doc)
    assert out["statusCode"] == status, out
    (error, *_) = body(out)["errors"]
    assert error["status"] == status and error["source"] == {"pointer": pointer}
    assert not [i for i in table_items() if i.get("type") == "user_email_attachment"]


def test_missing_attribute_and_wrong_type_are_refused(handler, email):
    tenant_id, email_id = email
    doc = {"data": {"type": TYPE, "attributes": {"email-id": email_id, "filename": "x.pdf"}}}
    out = call(handler, "create_user_email_attachment", tenant_id, path="/v1/user-email-attachments/", payload=doc)
    assert out["statusCode"] == 400 and body(out)["errors"][0]["source"] == {"pointer": "/data/attributes/content-type"}
    doc = {"data": {"type": "user-emails", "attributes": {"content-type": "image/png", "email-id": email_id, "filename": "x.png"}}}
    out = call(handler, "create_user_email_attachment", tenant_id, path="/v1/user-email-attachments/", payload=doc)
    assert out["statusCode"] == 409 and body(out)["errors"][0]["source"] == {"pointer": "/data/type"}


def test_process_upload_marks_ready_once_and_moves_the_checked_file(handler, email, table_items):
    tenant_id, email_id = email
    att = body(create(handler, tenant_id, email_id))["id"]
    before = process(handler, tenant_id, att)
    assert before["statusCode"] == 409 and body(before)["errors"][0]["code"] == "upload-missing"

    upload(tenant_id, att, PDF)
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 201, out
    doc = body(out)
    assert doc["data"]["id"] == att and doc["data"]["type"] == TYPE and doc["meta"] == {}
    attrs = doc["data"]["attributes"]
    assert attrs["ready-to-use"] is True and attrs["size"] == len(PDF) and attrs["download-link"] is None
    assert attrs["content-type"] == "application/pdf" and attrs["filename"] == "care-plan.pdf" and attrs["created-at"].endswith("Z")
    assert objects() == [f"tenants/{tenant_id}/email-attachments/{att}"]  # the upload moved; nothing left under uploads/
    (item,) = [i for i in table_items() if i.get("type") == "user_email_attachment"]
    assert item["ready"] is True and item["size"] == len(PDF) and "ttl" not in item

    # again: the same answer, nothing read or written (a new upload to the still-valid ticket is not taken)
    upload(tenant_id, att, b"%PDF-another file")
    again = process(handler, tenant_id, att)
    assert again["statusCode"] == 201 and body(again) == doc
    (after,) = [i for i in table_items() if i.get("type") == "user_email_attachment"]
    assert after == item


@pytest.mark.parametrize(
    ("content_type", "data", "code"),
    [
        ("application/pdf", PNG, "attachment-type-mismatch"),
        ("image/png", PDF, "attachment-type-mismatch"),
        ("image/jpeg", b"\xff\xd8", "attachment-type-mismatch"),
        ("text/plain", PDF, "attachment-type-mismatch"),  # ASCII, but a PDF
        ("text/csv", b"a,b\n\xff\xfe,1\n", "attachment-type-mismatch"),  # not UTF-8
        ("text/plain", b"nul\x00byte", "attachment-type-mismatch"),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            docx(),
            "attachment-type-mismatch",
        ),  # a docx is not an xlsx
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04broken", "attachment-type-mismatch"),
    ],
)
def test_process_upload_refuses_a_type_mismatch_and_deletes_the_file(handler, email, table_items, content_type, data, code):
    tenant_id, email_id = email
    att = body(create(handler, tenant_id, email_id, content_type=content_type, filename="f"))["id"]
    upload(tenant_id, att, data, content_type)
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 422, out
    assert body(out)["errors"][0]["code"] == code and body(out)["errors"][0]["status"] == 422
    assert objects() == []
    (item,) = [i for i in table_items() if i.get("type") == "user_email_attachment"]
    assert item["ready"] is False and item["refused"] and "ttl" in item
    assert body(get(handler, tenant_id, att))["data"]["attributes"]["ready-to-use"] is False


def test_process_upload_refuses_a_file_over_the_limit(handler, email, monkeypatch):
    from parley.domain import email_attachments as domain

    tenant_id, email_id = email
    monkeypatch.setattr(domain, "MAX_BYTES", 1000)
    att = body(create(handler, tenant_id, email_id))["id"]
    upload(tenant_id, att, PDF)  # 2,000+ bytes: S3 would refuse it by the policy; moto does not check it
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "attachment-too-large"
    assert objects() == []
    upload(tenant_id, att, PDF[:900])  # the ticket still holds: a smaller file is taken
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 201 and body(out)["data"]["attributes"]["size"] == 900


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", PNG),
        ("image/gif", b"GIF89a" + bytes(50)),
        ("image/jpeg", b"\xff\xd8\xff\xe0" + bytes(50)),
        ("text/csv; charset=UTF-8", "name,city\nJosé,Zürich\n".encode()),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx()),
    ],
)
def test_allowed_types_are_taken(handler, email, content_type, data):
    tenant_id, email_id = email
    att = body(create(handler, tenant_id, email_id, content_type=content_type, filename="f"))["id"]
    upload(tenant_id, att, data, content_type)
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 201, out
    assert body(out)["data"]["attributes"]["content-type"] == content_type.split(";")[0].lower()


def test_get_with_link_and_the_list_by_email(handler, email):
    tenant_id, email_id = email
    ids = [body(create(handler, tenant_id, email_id, filename=f"f{n}.pdf"))["id"] for n in range(3)]
    upload(tenant_id, ids[0], PDF)
    assert process(handler, tenant_id, ids[0])["statusCode"] == 201

    out = get(handler, tenant_id, ids[0], query={"with-link": "true"})
    assert out["statusCode"] == 200 and out["multiValueHeaders"]["Content-Type"] == ["application/vnd.api+json"]
    link = body(out)["data"]["attributes"]["download-link"]
    assert f"/tenants/{tenant_id}/email-attachments/{ids[0]}?" in link and "X-Amz-Expires=300" in link, link
    assert "response-content-disposition=attachment" in link, link
    assert body(get(handler, tenant_id, ids[0]))["data"]["attributes"]["download-link"] is None
    assert body(get(handler, tenant_id, ids[1], query={"with-link": "true"}))["data"]["attributes"]["download-link"] is None

    page = listing(handler, tenant_id, {"email-id": email_id, "page[limit]": "2", "page[offset]": "1"})
    assert page["statusCode"] == 200, page
    doc = body(page)
    assert doc["meta"] == {"page[total]": 3, "page[limit]": 2, "page[offset]": 1}
    assert [r["id"] for r in doc["data"]] == ids[1:] and all(r["type"] == TYPE for r in doc["data"])
    first = body(listing(handler, tenant_id, {"email-id": email_id}))
    assert first["data"][0]["attributes"]["ready-to-use"] is True and first["data"][0]["attributes"]["size"] == len(PDF)

    missing = listing(handler, tenant_id, {"email-id": "no-such-email"})
    assert missing["statusCode"] == 404 and body(missing)["errors"][0]["source"] == {"parameter": "email-id"}
    no_param = listing(handler, tenant_id, {})
    assert no_param["statusCode"] == 400


def test_another_tenant_sees_nothing(handler, email, other_tenant, table_items):
    tenant_id, email_id = email
    b = other_tenant[0].id
    att = body(create(handler, tenant_id, email_id))["id"]
    upload(tenant_id, att, PDF)
    before = sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())

    assert create(handler, b, email_id)["statusCode"] == 404  # A's email, named by B
    assert process(handler, b, att)["statusCode"] == 404
    assert get(handler, b, att, query={"with-link": "true"})["statusCode"] == 404
    assert listing(handler, b, {"email-id": email_id})["statusCode"] == 404
    assert sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items()) == before
    assert objects() == [f"uploads/tenants/{tenant_id}/email-attachments/{att}"]  # A's upload untouched
    assert process(handler, tenant_id, att)["statusCode"] == 201  # the id was live


def test_the_send_path_reads_the_ready_files_byte_identical(handler, email):
    from email import message_from_bytes
    from email.policy import default

    from parley.domain import email_attachments as domain

    tenant_id, email_id = email
    files = [("care-plan.pdf", "application/pdf", PDF), ("scan.png", "image/png", PNG), ("notes.txt", "text/plain", "Zoë\r\n".encode())]
    for name, kind, data in files:
        att = body(create(handler, tenant_id, email_id, content_type=kind, filename=name))["id"]
        upload(tenant_id, att, data, kind)
        assert process(handler, tenant_id, att)["statusCode"] == 201
    body(create(handler, tenant_id, email_id, filename="pending.pdf"))  # never uploaded: not sent

    ready = domain.ready_attachments(tenant_id, email_id)
    assert [(a.filename, a.content_type, a.data) for a in ready] == files
    raw = domain.build_mime(sender="no-reply@parley.example", to=["pat@example.com"], subject="Your care plan", text="See attached.",
                            attachments=ready)  # fmt: skip
    parsed = message_from_bytes(raw, policy=default)
    got = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parsed.iter_attachments()]
    assert got == files


def test_the_dispatcher_sends_a_courier_email_with_its_ready_attachments_as_raw_mime(handler, email, app_env):
    """The send pipeline: a courier email (source_api courier) with ready attachments goes to SES as a Raw
    multipart/mixed message whose parts parse back byte-identical; other families' emails stay Simple."""
    from email import message_from_bytes
    from email.policy import default

    from moto.ses.models import ses_backends

    from parley.dal import messages
    from parley.domain import dispatch
    from parley.models.domain import SendJob

    tenant_id, email_id = email
    files = [("care-plan.pdf", "application/pdf", PDF), ("vitals.csv", "text/csv", "name,bpm\nZoë,62\n".encode())]
    for name, kind, data in files:
        att = body(create(handler, tenant_id, email_id, content_type=kind, filename=name))["id"]
        upload(tenant_id, att, data, kind)
        assert process(handler, tenant_id, att)["statusCode"] == 201
    body(create(handler, tenant_id, email_id, content_type="image/png", filename="pending.png"))  # pending: not sent

    send_draft(handler, tenant_id, email_id)
    out = dispatch.dispatch(SendJob(tenant_id=tenant_id, message_id=email_id), receive_count=1)
    assert out.result == "sent", out
    assert messages.get(tenant_id, email_id).status.value == "SENT"
    (sent,) = [m for m in ses_backends["123456789012"]["us-east-1"].sent_messages if getattr(m, "raw_data", None)]
    parsed = message_from_bytes(sent.raw_data.encode(), policy=default)
    assert parsed.get_content_type() == "multipart/mixed" and parsed["Subject"] == "Your care plan"
    assert parsed.get_body(preferencelist=("plain",)).get_content().strip() == "See attached."
    got = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parsed.iter_attachments()]
    assert got == files
    assert "pat@example.com" in sent.destinations


def test_a_courier_email_without_attachments_is_sent_simple(handler, email, app_env):
    from moto.ses.models import ses_backends

    from parley.domain import dispatch
    from parley.models.domain import SendJob

    tenant_id, email_id = email
    send_draft(handler, tenant_id, email_id)
    assert dispatch.dispatch(SendJob(tenant_id=tenant_id, message_id=email_id), receive_count=1).result == "sent"
    (sent,) = ses_backends["123456789012"]["us-east-1"].sent_messages
    assert getattr(sent, "raw_data", None) is None and sent.subject == "Your care plan"
