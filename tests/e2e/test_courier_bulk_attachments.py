"""messaging-bulk-attachments (seed 003, issue 19 area 2) over HTTP on the local stack: every route in the seed's
shapes — create (`{"data": {id, upload-url, upload-data, expiration-time}}`), a real multipart/form-data upload to
the pre-signed `upload-url` (the emulator's S3), process-upload, GET, list with `filter[include-pending]` — the stored
state, another tenant's ids as 404s, ``copy_to_message`` (the bulk posting job's interface) making the file a
messaging-attachment that `GET /v1/messaging-attachments/?message-id=…` lists, and end to end with area 1: a bulk
message made, given a file and posted over HTTP, run by the stack's AutomationFunction — the posted message carries
the file, and the posted bulk refuses a new one (409). The first bulk is written with area 1's keys."""

from __future__ import annotations

import time
import uuid

import requests

from helpers import import_directory

MEDIA = "application/vnd.api+json"
T1 = "2026-11-01T09:00:00Z"
ATTRS = {"bulk-message-id", "content-size", "content-type", "created-at", "filename", "thumbnail", "ready-to-use", "thumbnail-status"}
PDF = b"%PDF-1.7\n" + b"y" * 4000 + b"\n%%EOF\n"


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "ia", "ib")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i in (("ua", "ia"), ("ub", "ib")):
        lines.append({"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": u, "primary-individual-id": ids[i]}})
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"owner-id": ids[u]}})
    return ids, lines


def _bulk(tenant_id, org, *, draft=True):
    from parley.dal import bulk_messages, table

    bulk_id = str(uuid.uuid4())
    key = {"PK": bulk_messages.pk(tenant_id, bulk_id), "SK": bulk_messages.SK, "type": bulk_messages.ITEM_TYPE}
    table.put_item({**key, "tenant_id": tenant_id, "id": bulk_id, "draft": draft, "organization_id": org})
    return bulk_id


def test_bulk_attachments_over_http(local, emulator_env, tmp_path):
    from parley.dal import bulk_attachments as store
    from parley.dal import channel_attachments as message_store
    from parley.dal import channels as cstore
    from parley.dal import uploads
    from parley.domain import bulk_attachments

    tenant, stranger = local.new_tenant("courier-bulk-attachments"), local.new_tenant("courier-bulk-attachments-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0
    api = local.api
    bulk_id = _bulk(tid, ids["org"])

    def h(credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": MEDIA, "X-User-ID": ids["ua"]}

    def create(content_type, filename, credential=key, bulk=bulk_id):
        doc = {"data": {"type": "messaging-bulk-attachments", "attributes": {"bulk-message-id": bulk, "content-type": content_type,
                                                                            "filename": filename}}, "meta": {}}  # fmt: skip
        return requests.post(f"{api}/v1/messaging-bulk-attachments/", json=doc, headers=h(credential), timeout=30)

    def get(att_id, credential=key):
        return requests.get(f"{api}/v1/messaging-bulk-attachments/{att_id}/", headers=h(credential), timeout=30)

    def process(att_id, credential=key):
        return requests.post(f"{api}/v1/messaging-bulk-attachments/{att_id}/process-upload/", json={}, headers=h(credential), timeout=30)

    def listing(credential=key, bulk=bulk_id, **params):
        return requests.get(f"{api}/v1/messaging-bulk-attachments/", params={"bulk-message-id": bulk, **params}, headers=h(credential),
                            timeout=30)  # fmt: skip

    created = create("application/pdf", "flyer.pdf")
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert set(ticket) == {"data"} and set(ticket["data"]) == {"id", "upload-url", "upload-data", "expiration-time"}
    att = ticket["data"]["id"]
    assert ticket["data"]["upload-data"]["key"] == store.upload_key(tid, att)
    assert isinstance(ticket["data"]["expiration-time"], int) and ticket["data"]["expiration-time"] > time.time()

    pending = get(att)
    assert pending.status_code == 200 and pending.headers["Content-Type"] == MEDIA
    assert pending.json()["data"]["type"] == "messaging-bulk-attachments" and set(pending.json()["data"]["attributes"]) == ATTRS
    assert pending.json()["data"]["attributes"]["ready-to-use"] is False and pending.json()["data"]["attributes"]["content-size"] is None
    early = process(att)
    assert early.status_code == 409 and early.json()["errors"][0]["code"] == "upload-missing"

    uploaded = requests.post(
        ticket["data"]["upload-url"], data=ticket["data"]["upload-data"], files={"file": ("flyer.pdf", PDF)}, timeout=30
    )
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    done = process(att)
    assert done.status_code == 201, done.text
    attrs = done.json()["data"]["attributes"]
    assert attrs["content-size"] == len(PDF) and attrs["ready-to-use"] is True and attrs["bulk-message-id"] == bulk_id
    assert attrs["filename"] == "flyer.pdf" and attrs["content-type"] == "application/pdf" and attrs["thumbnail"] is None
    stored = store.get(tid, att, consistent=True)
    assert stored["ready"] is True and stored["object_key"] == store.object_key(tid, att) and stored["bulk_id"] == bulk_id
    assert uploads.head(store.upload_key(tid, att)) is None and uploads.head(store.object_key(tid, att))["size"] == len(PDF)

    waiting = create("text/plain", "notes.txt").json()["data"]["id"]
    refused = create("application/x-msdownload", "x.exe")
    assert refused.status_code == 422 and refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/content-type"
    page = listing()
    assert page.status_code == 200 and page.headers["Content-Type"] == MEDIA
    assert [d["id"] for d in page.json()["data"]] == [att]
    assert page.json()["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    every = listing(**{"filter[include-pending]": "true"}).json()
    assert [d["id"] for d in every["data"]] == [att, waiting] and every["meta"]["page[total]"] == 2

    # the bulk posting job's interface: the file becomes a messaging-attachment of a posted message
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["ib"]]}}}
    cid = requests.post(f"{api}/v1/messaging-channels/", json=doc, headers=h(), timeout=30).json()["data"]["id"]
    doc = {"data": {"type": "messaging-messages", "attributes": {"channel-id": cid, "message": "Flu shots on Friday"}}}
    mid = requests.post(f"{api}/v1/messaging-messages/", json=doc, headers=h(), timeout=30).json()["data"]["id"]
    [copy_id] = bulk_attachments.copy_to_message(tid, bulk_id, mid, cid)
    assert bulk_attachments.copy_to_message(tid, bulk_id, mid, cid) == [copy_id]  # idempotent
    as_b = {**h(), "X-User-ID": ids["ub"]}
    listed = requests.get(f"{api}/v1/messaging-attachments/", params={"message-id": mid}, headers=as_b, timeout=30)
    assert listed.status_code == 200 and [d["id"] for d in listed.json()["data"]] == [copy_id]
    assert listed.json()["data"][0]["attributes"]["content-size"] == len(PDF)
    assert uploads.head(message_store.object_key(tid, copy_id))["size"] == len(PDF)

    # end to end with area 1: a bulk message made and posted over HTTP, run by the stack's AutomationFunction
    doc = {"data": {"type": "messaging-bulk-messages", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["ib"]],
                                                                     "message": "The flyer", "auto-create-channel": True}}}  # fmt: skip
    made = requests.post(f"{api}/v1/messaging-bulk-messages/", json=doc, headers=h(), timeout=30)
    assert made.status_code == 201, made.text
    real = made.json()["data"]["id"]
    ticket = create("application/pdf", "flyer.pdf", bulk=real).json()["data"]
    files = {"file": ("flyer.pdf", PDF)}
    assert requests.post(ticket["upload-url"], data=ticket["upload-data"], files=files, timeout=30).status_code in (200, 201, 204)
    assert process(ticket["id"]).status_code == 201
    post = {"data": {"type": "messaging-bulk-messages", "id": real, "attributes": {"draft": False}}}
    assert requests.patch(f"{api}/v1/messaging-bulk-messages/{real}/", json=post, headers=h(), timeout=30).status_code == 200
    deadline, state = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        state = requests.get(f"{api}/v1/messaging-bulk-messages/{real}/", headers=h(), timeout=30).json()["data"]["attributes"]["status"]
        if state in ("posted", "partially-failed"):
            break
        time.sleep(0.5)
    assert state == "posted", state
    assert create("application/pdf", "late.pdf", bulk=real).status_code == 409  # posted: no new file
    direct = cstore.get_direct(tid, ids["org"], [ids["ia"], ids["ib"]])["channel_id"]  # where the bulk posted to b
    pages = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": direct}, headers=as_b, timeout=30).json()["data"]
    bulk_posts = [m for m in pages if m["attributes"].get("message") == "The flyer"]
    assert len(bulk_posts) == 1, pages  # the direct channel of a and b got the bulk's one message
    got = requests.get(f"{api}/v1/messaging-attachments/", params={"message-id": bulk_posts[0]["id"]}, headers=as_b, timeout=30)
    assert [d["id"] for d in got.json()["data"]] == [bulk_attachments.copy_id(ticket["id"], bulk_posts[0]["id"])]
    assert got.json()["data"][0]["attributes"]["filename"] == "flyer.pdf"

    # isolation: another tenant gets 404 on every route
    other_key = stranger["apiKey"]
    _bulk(stranger["tenantId"], ids["org"])
    assert get(att, other_key).status_code == 404
    assert process(waiting, other_key).status_code == 404
    assert listing(other_key).status_code == 404
    assert create("application/pdf", "x.pdf", other_key).status_code == 404
    assert get(str(uuid.uuid4())).status_code == 404
