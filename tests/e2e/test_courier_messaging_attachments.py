"""messaging-attachments and messaging-bookmarks (seed 003, issue 18 area C) over HTTP on the local stack: every route
in the seed's shapes — an attachment's create (`{"data": {id, upload-url, upload-data, expiration-time}}`), a real
multipart/form-data upload to the pre-signed `upload-url` (the emulator's S3), process-upload, the image's thumbnail
appearing (the bucket's S3 notification → ThumbnailsQueue → ThumbnailsFunction, polled by the local stack), GET, list
with `filter[include-pending]`, PATCH `removed`; bookmarks create/list/get with the channel's `bookmark` — the
stored state, and a non-member's and another tenant's ids as 404s on every id route."""

from __future__ import annotations

import io
import time
import uuid

import requests

from helpers import import_directory

MEDIA = "application/vnd.api+json"
T1 = "2026-11-01T09:00:00Z"
ATTACHMENT_ATTRS = {
    "content-size", "content-type", "created-at", "filename", "message-id", "removed", "thumbnail", "ready-to-use", "thumbnail-status",
}  # fmt: skip
BOOKMARK_ATTRS = {"channel", "created-at", "created-by", "message", "organization-id"}


def _png(width=800, height=400) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 220)).save(out, format="PNG")
    return out.getvalue()


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "uc", "ia", "ib", "ic")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i in (("ua", "ia"), ("ub", "ib"), ("uc", "ic")):
        lines.append({"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": u, "primary-individual-id": ids[i]}})
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"owner-id": ids[u]}})
    return ids, lines


def test_attachments_and_bookmarks_over_http(local, emulator_env, tmp_path):
    from PIL import Image

    from parley.dal import channel_attachments as store
    from parley.dal import channels as cstore
    from parley.dal import uploads

    tenant, stranger = local.new_tenant("courier-attachments"), local.new_tenant("courier-attachments-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0  # the same ids in another tenant
    api = local.api

    def h(user, credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": MEDIA, "X-User-ID": ids[user]}

    # a channel of a and b (c is in the organization, not in the channel) and a message, over HTTP
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["ib"]]}}}
    chan = requests.post(f"{api}/v1/messaging-channels/", json=doc, headers=h("ua"), timeout=30)
    assert chan.status_code == 201, chan.text
    cid = chan.json()["data"]["id"]

    def post(user, text):
        doc = {"data": {"type": "messaging-messages", "attributes": {"channel-id": cid, "message": text}}}
        got = requests.post(f"{api}/v1/messaging-messages/", json=doc, headers=h(user), timeout=30)
        assert got.status_code == 201, got.text
        return got.json()["data"]["id"]

    mid = post("ua", "the photo of the wound")

    # ── attachments ──
    def create(user, content_type, filename, credential=key, message_id=mid):
        doc = {"data": {"type": "messaging-attachments", "attributes": {"content-type": content_type, "filename": filename,
                                                                       "message-id": message_id}}, "meta": {}}  # fmt: skip
        return requests.post(f"{api}/v1/messaging-attachments/", json=doc, headers=h(user, credential), timeout=30)

    created = create("ua", "image/png", "wound.png")
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert set(ticket) == {"data"} and set(ticket["data"]) == {"id", "upload-url", "upload-data", "expiration-time"}
    att = ticket["data"]["id"]
    assert ticket["data"]["upload-data"]["key"] == store.upload_key(tid, att)
    assert isinstance(ticket["data"]["expiration-time"], int) and ticket["data"]["expiration-time"] > time.time()

    def get(user, att_id=att, credential=key):
        return requests.get(f"{api}/v1/messaging-attachments/{att_id}/", headers=h(user, credential), timeout=30)

    pending = get("ub")
    assert pending.status_code == 200 and pending.headers["Content-Type"] == MEDIA
    assert set(pending.json()["data"]["attributes"]) == ATTACHMENT_ATTRS
    assert pending.json()["data"]["attributes"]["ready-to-use"] is False and pending.json()["data"]["attributes"]["content-size"] is None

    def process(user, att_id=att, credential=key, payload=None):
        return requests.post(f"{api}/v1/messaging-attachments/{att_id}/process-upload/", json=payload or {}, headers=h(user, credential),
                             timeout=30)  # fmt: skip

    early = process("ua")
    assert early.status_code == 409 and early.json()["errors"][0]["code"] == "upload-missing"

    image = _png()
    fields = ticket["data"]["upload-data"]
    uploaded = requests.post(ticket["data"]["upload-url"], data=fields, files={"file": ("wound.png", image)}, timeout=30)
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    done = process("ua", payload={"individual-id": ids["ia"]})
    assert done.status_code == 201, done.text
    attrs = done.json()["data"]["attributes"]
    assert done.json()["data"]["type"] == "messaging-attachments" and done.json()["meta"] == {}
    assert attrs["content-size"] == len(image) and attrs["content-type"] == "image/png" and attrs["message-id"] == mid
    assert attrs["ready-to-use"] is True and attrs["removed"] is False and attrs["filename"] == "wound.png"
    stored = store.get(tid, att, consistent=True)
    assert stored["ready"] is True and stored["object_key"] == store.object_key(tid, att) and stored["channel_id"] == cid
    assert uploads.head(store.upload_key(tid, att)) is None and uploads.head(store.object_key(tid, att))["size"] == len(image)

    # the thumbnail appears: the copy's S3 notification, ThumbnailsQueue, ThumbnailsFunction
    deadline, thumb = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        thumb = get("ub").json()["data"]["attributes"]
        if thumb["thumbnail-status"] != "pending":
            break
        time.sleep(0.5)
    assert thumb["thumbnail-status"] == "ready" and thumb["thumbnail"], thumb
    fetched = requests.get(thumb["thumbnail"], timeout=30)  # the pre-signed GET
    assert fetched.status_code == 200
    small = Image.open(io.BytesIO(fetched.content))
    assert small.format == "JPEG" and small.size == (320, 160)

    # a PDF: no thumbnail; a pending upload is listed only with filter[include-pending]
    pdf = create("ub", "application/pdf", "care-plan.pdf").json()["data"]
    data = b"%PDF-1.7\n" + b"x" * 5000 + b"\n%%EOF\n"
    assert requests.post(pdf["upload-url"], data=pdf["upload-data"], files={"file": ("care-plan.pdf", data)}, timeout=30).ok
    assert process("ub", pdf["id"]).json()["data"]["attributes"]["thumbnail-status"] == "none"
    waiting = create("ua", "text/plain", "notes.txt").json()["data"]["id"]
    refused = create("ua", "application/x-msdownload", "x.exe")
    assert refused.status_code == 422 and refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/content-type"

    def listing(user, credential=key, **params):
        return requests.get(f"{api}/v1/messaging-attachments/", params={"message-id": mid, **params}, headers=h(user, credential),
                            timeout=30)  # fmt: skip

    page = listing("ub")
    assert page.status_code == 200 and page.headers["Content-Type"] == MEDIA
    assert [d["id"] for d in page.json()["data"]] == [att, pdf["id"]]
    assert page.json()["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    every = listing("ua", **{"filter[include-pending]": "true", "page[limit]": "2", "page[offset]": "1"}).json()
    assert [d["id"] for d in every["data"]] == [pdf["id"], waiting] and every["meta"]["page[total]"] == 3

    # PATCH removed: not the other member's (b neither uploaded it nor administers the channel), then the uploader's
    def patch(user, att_id, removed, credential=key):
        doc = {"data": {"type": "messaging-attachments", "id": att_id, "attributes": {"removed": removed}}}
        return requests.patch(f"{api}/v1/messaging-attachments/{att_id}/", json=doc, headers=h(user, credential), timeout=30)

    assert patch("ub", att, True).status_code == 403
    removed = patch("ua", att, True)
    assert removed.status_code == 200 and removed.json()["data"]["attributes"]["removed"] is True
    assert removed.json()["data"]["attributes"]["thumbnail"] is None
    assert store.get(tid, att, consistent=True)["removed"] is True
    assert patch("ua", att, False).status_code == 422
    message = requests.get(f"{api}/v1/messaging-messages/{mid}/", headers=h("ub"), timeout=30).json()["data"]["attributes"]
    assert [a["id"] for a in message["attachments"]] == [pdf["id"]]

    # ── bookmarks ──
    def bookmark(user, message_id, credential=key, **extra):
        doc = {"data": {"type": "messaging-bookmarks", "attributes": {"channel-id": cid, "message-id": message_id, **extra}}}
        return requests.post(f"{api}/v1/messaging-bookmarks/", json=doc, headers=h(user, credential), timeout=30)

    pinned = bookmark("ub", mid, **{"allow-multi-message": False})
    assert pinned.status_code == 201, pinned.text
    bm = pinned.json()["data"]
    assert bm["type"] == "messaging-bookmarks" and set(bm["attributes"]) == BOOKMARK_ATTRS
    assert bm["attributes"]["channel"] == {"id": cid} and bm["attributes"]["message"] == {"id": mid}
    assert bm["attributes"]["created-by"] == {"id": ids["ib"]} and bm["attributes"]["organization-id"] == ids["org"]
    assert cstore.get_channel(tid, cid, consistent=True)["bookmark"]["id"] == bm["id"]
    second_mid = post("ub", "the plan for tomorrow")
    second = bookmark("ua", second_mid).json()["data"]  # allow-multi-message false by default: replaces the first
    assert cstore.get_channel(tid, cid, consistent=True)["bookmark"] == {
        "id": second["id"], "message_id": second_mid, "created_at": second["attributes"]["created-at"]}  # fmt: skip
    got = requests.get(f"{api}/v1/messaging-bookmarks/{second['id']}/", headers=h("ub"), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["message"] == {"id": second_mid}
    assert requests.get(f"{api}/v1/messaging-bookmarks/{bm['id']}/", headers=h("ub"), timeout=30).status_code == 404
    third = bookmark("ua", mid, **{"allow-multi-message": True}).json()["data"]
    listed = requests.get(f"{api}/v1/messaging-bookmarks/", params={"organization-id": ids["org"], "filter[channel-id]": cid},
                          headers=h("ua"), timeout=30)  # fmt: skip
    assert listed.status_code == 200 and [d["id"] for d in listed.json()["data"]] == [second["id"], third["id"]]
    assert listed.json()["meta"]["page[total]"] == 2
    channel = requests.get(f"{api}/v1/messaging-channels/{cid}/", headers=h("ua"), timeout=30).json()["data"]["attributes"]
    assert channel["bookmark"]["id"] == third["id"]

    # ── isolation: a non-member of the channel and another tenant get 404 on every id route ──
    other_key = stranger["apiKey"]
    for user, credential in (("uc", key), ("ua", other_key)):
        assert get(user, att, credential).status_code == 404
        assert process(user, pdf["id"], credential).status_code == 404
        assert patch(user, pdf["id"], True, credential).status_code == 404
        assert listing(user, credential).status_code == 404
        assert create(user, "image/png", "x.png", credential).status_code == 404
        assert requests.get(f"{api}/v1/messaging-bookmarks/{third['id']}/", headers=h(user, credential), timeout=30).status_code == 404
        assert bookmark(user, mid, credential).status_code == 404
    outsider = requests.get(f"{api}/v1/messaging-bookmarks/", params={"organization-id": ids["org"]}, headers=h("uc"), timeout=30)
    assert outsider.status_code == 200 and outsider.json()["data"] == []
    assert store.get(tid, pdf["id"], consistent=True)["removed"] is False
