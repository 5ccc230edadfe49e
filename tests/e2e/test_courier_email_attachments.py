"""user-email-attachments over HTTP on the local stack (seed 003, issue 15): the two-phase upload end to end — the
create answers a pre-signed POST, the file is uploaded with a real multipart/form-data POST to `upload-url` with
`upload-data` (the emulator's S3), process-upload checks it, GET with-link downloads the same bytes — with the seed's
shapes (plain ticket, JSON:API single and list with page meta), the stored state, a refused upload, and another
tenant's ids as 404s."""

from __future__ import annotations

import os
import uuid

import requests

TYPE = "user-email-attachments"
MEDIA = "application/vnd.api+json"
ATTRIBUTES = {"content-type", "created-at", "download-link", "filename", "ready-to-use", "size"}


def _headers(key):
    return {"Authorization": f"Bearer {key}", "X-User-ID": "u-nurse", "Content-Type": MEDIA}


def _email(local, key, tenant_id, to=None):
    """A draft user-email of the tenant (`POST /v1/user-emails/`), by the user u-nurse about their own individual
    (the tenant's directory replicated in first, as `import-directory` does). Returns its id."""
    import json

    from parley.domain import directory

    lines = [
        {"type": "organizations", "id": "org-1", "attributes": {"name": "northside"}},
        {"type": "users", "id": "u-nurse", "attributes": {"username": "nurse", "primary-individual-id": "ind-1"}},
        {"type": "individuals", "id": "ind-1", "attributes": {"owner-id": "u-nurse"}},
    ]
    directory.import_lines(tenant_id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines])
    to = to or f"att-{uuid.uuid4().hex[:8]}@example.com"
    attributes = {"to": to, "subject": "Your care plan", "message": "See attached.", "sender-organization-id": "org-1"}
    draft = requests.post(local.api + "/v1/user-emails/", json={"data": {"type": "user-emails", "attributes": attributes}},
                          headers=_headers(key), timeout=30)  # fmt: skip
    assert draft.status_code == 201, draft.text
    return draft.json()["data"]["id"]


def _create(local, key, email_id, content_type, filename):
    doc = {"data": {"type": TYPE, "attributes": {"content-type": content_type, "email-id": email_id, "filename": filename}}, "meta": {}}
    return requests.post(local.api + "/v1/user-email-attachments/", json=doc, headers=_headers(key), timeout=30)


def _upload(ticket, data, filename):
    """The browser's (or app's) upload: multipart/form-data, every upload-data field, the file last."""
    return requests.post(ticket["upload-url"], data=ticket["upload-data"], files={"file": (filename, data)}, timeout=30)


def _process(local, key, attachment_id):
    return requests.post(
        f"{local.api}/v1/user-email-attachments/{attachment_id}/process-upload/", json={}, headers=_headers(key), timeout=30
    )


def test_upload_through_the_presigned_post_then_process_then_download(local, emulator_env):
    from parley.dal import email_attachments as store

    tenant = local.new_tenant("courier-email")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    email_id = _email(local, key, tid)
    data = b"%PDF-1.7\n" + os.urandom(20_000) + b"\n%%EOF\n"

    created = _create(local, key, email_id, "application/pdf", "care-plan.pdf")
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"].startswith("application/json")
    ticket = created.json()
    assert set(ticket) == {"id", "upload-url", "upload-data", "expiration-time"}  # plain JSON, as the seed shows it
    assert isinstance(ticket["expiration-time"], int) and isinstance(ticket["upload-data"], dict)
    att = ticket["id"]
    assert ticket["upload-data"]["key"] == f"uploads/tenants/{tid}/email-attachments/{att}"

    # pending: listed, not ready, no size; nothing to process yet
    got = requests.get(f"{local.api}/v1/user-email-attachments/{att}", headers=_headers(key), timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"] == MEDIA
    assert got.json()["data"]["attributes"]["ready-to-use"] is False and got.json()["data"]["attributes"]["size"] is None
    early = _process(local, key, att)
    assert early.status_code == 409 and early.json()["errors"][0]["code"] == "upload-missing"

    uploaded = _upload(ticket, data, "care-plan.pdf")
    assert uploaded.status_code in (200, 201, 204), uploaded.text

    done = _process(local, key, att)
    assert done.status_code == 201, done.text
    doc = done.json()
    assert doc["data"]["id"] == att and doc["data"]["type"] == TYPE and doc["meta"] == {}
    attrs = doc["data"]["attributes"]
    assert set(attrs) == ATTRIBUTES
    assert attrs["ready-to-use"] is True and attrs["size"] == len(data) and attrs["filename"] == "care-plan.pdf"
    assert attrs["content-type"] == "application/pdf" and attrs["download-link"] is None
    again = _process(local, key, att)  # idempotent
    assert again.status_code == 201 and again.json() == doc

    # with-link (and the path without its trailing slash): the link downloads the same bytes
    linked = requests.get(f"{local.api}/v1/user-email-attachments/{att}/", params={"with-link": "true"}, headers=_headers(key), timeout=30)
    assert linked.status_code == 200, linked.text
    link = linked.json()["data"]["attributes"]["download-link"]
    downloaded = requests.get(link, timeout=30)
    assert downloaded.status_code == 200 and downloaded.content == data
    assert "care-plan.pdf" in downloaded.headers.get("Content-Disposition", "")

    # the list of the email: page meta, creation order
    second = _create(local, key, email_id, "text/csv", "vitals.csv").json()["id"]
    listed = requests.get(
        f"{local.api}/v1/user-email-attachments/", params={"email-id": email_id, "page[limit]": "1"}, headers=_headers(key), timeout=30
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 0}
    assert [r["id"] for r in listed.json()["data"]] == [att]
    rest = requests.get(
        f"{local.api}/v1/user-email-attachments", params={"email-id": email_id, "page[offset]": "1"}, headers=_headers(key), timeout=30
    ).json()
    assert [r["id"] for r in rest["data"]] == [second] and rest["data"][0]["attributes"]["ready-to-use"] is False

    # stored state: the item, the checked file under its final key, the upload gone
    item = store.get(tid, att, consistent=True)
    assert item["ready"] is True and item["size"] == len(data) and item["email_id"] == email_id and item["created_by"] == "u-nurse"
    assert item["object_key"] == f"tenants/{tid}/email-attachments/{att}"
    from parley.domain import email_attachments

    (ready,) = email_attachments.ready_attachments(tid, email_id)
    assert (ready.filename, ready.content_type, ready.data) == ("care-plan.pdf", "application/pdf", data)
    assert store.head(store.upload_key(tid, att)) is None

    # another tenant: every id is a 404
    other = local.new_tenant("courier-email-other")["apiKey"]
    assert requests.get(f"{local.api}/v1/user-email-attachments/{att}/", headers=_headers(other), timeout=30).status_code == 404
    assert _process(local, other, att).status_code == 404
    listed = requests.get(f"{local.api}/v1/user-email-attachments/", params={"email-id": email_id}, headers=_headers(other), timeout=30)
    assert listed.status_code == 404 and listed.json()["errors"][0]["source"] == {"parameter": "email-id"}
    assert _create(local, other, email_id, "application/pdf", "x.pdf").status_code == 404


def test_a_file_that_is_not_its_declared_type_is_refused_and_deleted(local, emulator_env):
    from parley.dal import email_attachments as store

    tenant = local.new_tenant("courier-email-refusal")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    email_id = _email(local, key, tid)
    ticket = _create(local, key, email_id, "image/png", "photo.png").json()
    assert _upload(ticket, b"MZ\x90\x00 an executable", "photo.png").status_code in (200, 201, 204)
    refused = _process(local, key, ticket["id"])
    assert refused.status_code == 422 and refused.headers["Content-Type"] == MEDIA
    (error,) = refused.json()["errors"]
    assert error["status"] == 422 and error["code"] == "attachment-type-mismatch"
    assert store.head(store.upload_key(tid, ticket["id"])) is None  # the object was deleted
    assert store.get(tid, ticket["id"], consistent=True)["ready"] is False

    # a disallowed declared type never gets a ticket
    bad = _create(local, key, email_id, "application/x-msdownload", "setup.exe")
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"] == {"pointer": "/data/attributes/content-type"}


def test_an_uploaded_attachment_arrives_in_the_outbox_as_a_mime_part_byte_identical(local, emulator_env):
    """The acceptance path of issue 15: a draft user-email, its attachment uploaded through the pre-signed POST and
    processed, then `POST /v1/user-emails/{id}/send/`: the send pipeline (the send queue → the dispatcher → SES) puts a
    raw message in the local outbox whose part is the same bytes."""
    from email import message_from_bytes
    from email.policy import default

    from parley.dal import messages

    tenant = local.new_tenant("courier-email-send")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    to = f"pat-{uuid.uuid4().hex[:8]}@example.com"
    email_id = _email(local, key, tid, to)
    data = b"%PDF-1.7\n" + os.urandom(30_000) + b"\n%%EOF\n"
    ticket = _create(local, key, email_id, "application/pdf", "care-plan.pdf").json()
    assert _upload(ticket, data, "care-plan.pdf").status_code in (200, 201, 204)
    assert _process(local, key, ticket["id"]).status_code == 201

    send = requests.post(f"{local.api}/v1/user-emails/{email_id}/send/", json={}, headers=_headers(key), timeout=30)
    assert send.status_code == 201 and send.json()["data"]["attributes"]["task-id"] == email_id, send.text

    def sent():
        return [m for m in local.outbox()["email"] if m["raw"] and to in (m["destinations"] or {}).get("ToAddresses", [])]

    (mail,) = local.wait_for(sent, timeout=20)
    parsed = message_from_bytes(mail["raw"].encode(), policy=default)
    assert parsed.get_content_type() == "multipart/mixed" and parsed["Subject"] == "Your care plan"
    (part,) = parsed.iter_attachments()
    assert (part.get_filename(), part.get_content_type(), part.get_payload(decode=True)) == ("care-plan.pdf", "application/pdf", data)
    assert local.wait_for(lambda: messages.get(tid, email_id).status.value == "SENT", timeout=10)
