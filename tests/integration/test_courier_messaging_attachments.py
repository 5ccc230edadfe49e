"""messaging-attachments and messaging-bookmarks on moto (issue 18, area C): the two-phase upload (the pre-signed POST's
conditions, process-upload's checks of the stored bytes), the thumbnail made by ThumbnailsFunction from the bucket's
S3 notification on ThumbnailsQueue, include-pending, PATCH removed, the interface messaging-messages uses
(for_message, attach), bookmarks (one per channel unless allow-multi-message, the channel's newest), membership and
tenant isolation (404); stored state asserted."""

from __future__ import annotations

import base64
import io
import json

import pytest

from helpers import api_event, body

ATT, BM = "messaging-attachments", "messaging-bookmarks"
ORG = "org-msg"
USERS = {"user-a": "ind-a", "user-b": "ind-b", "user-c": "ind-c"}  # c is in the organization, not in the channel


def png(width=640, height=480, color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def fn_name(fn: str) -> str:
    return f"CourierMessagingApi.{''.join(p.capitalize() for p in fn.split('_'))}Function"


def call(handler, fn, tenant_id, *, user="user-a", path, path_params=None, query=None, payload=...):
    ev = api_event(f"courier_messaging/{fn}", tenant_id=tenant_id, query=query, body=payload, headers={"X-User-ID": user})
    ev["path"] = path
    ev["pathParameters"] = path_params
    return handler(fn_name(fn))(ev)


def create(handler, tenant_id, message_id, *, user="user-a", content_type="image/png", filename="wound.png"):
    doc = {"data": {"type": ATT, "attributes": {"content-type": content_type, "message-id": message_id, "filename": filename}}}
    return call(handler, "create_messaging_attachment", tenant_id, user=user, path="/v1/messaging-attachments/", payload=doc)


def process(handler, tenant_id, attachment_id, *, user="user-a"):
    path = f"/v1/messaging-attachments/{attachment_id}/process-upload/"
    return call(handler, "process_messaging_attachment_upload", tenant_id, user=user, path=path, path_params={"id": attachment_id},
                payload={})  # fmt: skip


def get(handler, tenant_id, attachment_id, *, user="user-a"):
    path = f"/v1/messaging-attachments/{attachment_id}/"
    return call(handler, "get_messaging_attachment", tenant_id, user=user, path=path, path_params={"id": attachment_id}, query=None)


def patch(handler, tenant_id, attachment_id, removed, *, user="user-a"):
    doc = {"data": {"type": ATT, "id": attachment_id, "attributes": {"removed": removed}}}
    path = f"/v1/messaging-attachments/{attachment_id}/"
    return call(handler, "update_messaging_attachment", tenant_id, user=user, path=path, path_params={"id": attachment_id}, payload=doc)


def listing(handler, tenant_id, query, *, user="user-a"):
    return call(handler, "list_messaging_attachments", tenant_id, user=user, path="/v1/messaging-attachments/", query=query)


def upload(tenant_id, attachment_id, data, content_type="image/png"):
    """What the client's POST to the pre-signed URL stores (the e2e test makes the real multipart POST)."""
    from parley.dal import channel_attachments as store
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


def read_object(key):
    from parley.dal.aws import client
    from parley.settings import get_settings

    return client("s3").get_object(Bucket=get_settings().body_bucket, Key=key)["Body"].read()


@pytest.fixture
def events_queue(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    url = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", url)
    get_settings.cache_clear()
    aws_clients.reset()
    return url


@pytest.fixture
def thumbnails_queue(aws):
    return aws.queues[next(a for a in aws.queues if a.endswith("-ThumbnailsQueue"))]


def directory_lines(tenant_id):
    from parley.domain import directory

    lines = [{"type": "organizations", "id": ORG, "attributes": {"name": "northside"}}]
    for user, ind in USERS.items():
        lines.append({"type": "users", "id": user, "attributes": {"username": user, "primary-individual-id": ind}})
        lines.append({"type": "individuals", "id": ind, "attributes": {"owner-id": user}})
    assert (
        directory.import_lines(tenant_id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]).invalid == []
    )


@pytest.fixture
def chat(tenant, events_queue):
    """A direct channel of ind-a and ind-b with one message by ind-a: (tenant id, channel id, message id)."""
    from parley.domain import channel_messages, channels

    t, _ = tenant
    directory_lines(t.id)
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-b"])
    message = channel_messages.post(t.id, chan["id"], "ind-a", "the photo of the wound")
    return t.id, chan["id"], message["id"]


def run_thumbnails(handler, drain, url):
    """ThumbnailsFunction over what ThumbnailsQueue holds (the bucket's notifications): its batch answer."""
    msgs = drain(url)
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": m.get("Attributes", {}),
                "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:parley-ThumbnailsQueue", "awsRegion": "us-east-1"}
               for m in msgs]  # fmt: skip
    return len(records), handler("ThumbnailsFunction")({"Records": records})


def test_create_answers_a_presigned_post_in_data_and_stores_a_pending_attachment(handler, chat, table_items):
    from parley.dal import channel_attachments as store
    from parley.domain import channel_attachments as domain

    tenant_id, channel_id, message_id = chat
    out = create(handler, tenant_id, message_id)
    assert out["statusCode"] == 201, out
    ticket = body(out)
    assert set(ticket) == {"data"} and set(ticket["data"]) == {"id", "upload-url", "upload-data", "expiration-time"}
    fields = ticket["data"]["upload-data"]
    assert fields["key"] == store.upload_key(tenant_id, ticket["data"]["id"]) and fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, domain.MAX_BYTES] in policy["conditions"]
    [item] = [i for i in table_items() if i.get("type") == "channel_attachment"]
    assert item["PK"] == f"TENANT#{tenant_id}#CHATT#{ticket['data']['id']}" and item["SK"] == "CHATT"
    assert item["GSI3PK"] == f"TENANT#{tenant_id}#CHMSG#{message_id}#ATT"
    assert item["channel_id"] == channel_id and item["ready"] is False and item["removed"] is False
    assert item["created_by_individual"] == "ind-a" and item["thumbnail"] == "none" and item["ttl"] > ticket["data"]["expiration-time"]

    bad = create(handler, tenant_id, message_id, content_type="application/x-msdownload", filename="run.exe")
    assert bad["statusCode"] == 422 and body(bad)["errors"][0]["source"]["pointer"] == "/data/attributes/content-type"
    doc_ok = create(handler, tenant_id, message_id, content_type="application/msword", filename="notes.doc")
    assert doc_ok["statusCode"] == 201  # the seed's first enum value


def test_a_png_is_checked_made_ready_and_its_thumbnail_made_by_the_worker(handler, chat, thumbnails_queue, drain, table_items):
    from PIL import Image

    from parley.dal import channel_attachments as store

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    assert process(handler, tenant_id, att_id)["statusCode"] == 409  # nothing uploaded yet
    original = png()
    upload(tenant_id, att_id, original)
    out = process(handler, tenant_id, att_id)
    assert out["statusCode"] == 201, out
    attrs = body(out)["data"]["attributes"]
    assert attrs["content-size"] == len(original) and attrs["ready-to-use"] is True and attrs["message-id"] == message_id
    assert attrs["thumbnail"] is None and attrs["thumbnail-status"] == "pending" and attrs["removed"] is False
    assert objects("uploads/") == [] and objects("messaging-attachments/") == [store.object_key(tenant_id, att_id)]
    assert read_object(store.object_key(tenant_id, att_id)) == original
    assert body(process(handler, tenant_id, att_id))["data"]["attributes"]["content-size"] == len(original)  # idempotent

    received, answer = run_thumbnails(handler, drain, thumbnails_queue)  # the copy's ObjectCreated, from moto's S3
    assert received >= 1 and answer == {"batchItemFailures": []}
    item = store.get(tenant_id, att_id)
    assert item["thumbnail"] == "ready" and item["thumbnail_key"] == store.thumbnail_key(tenant_id, att_id)
    thumb = Image.open(io.BytesIO(read_object(item["thumbnail_key"])))
    assert thumb.format == "JPEG" and thumb.size == (320, 240)  # aspect kept, fits 320 by 320
    got = body(get(handler, tenant_id, att_id))["data"]["attributes"]
    assert got["thumbnail-status"] == "ready" and item["thumbnail_key"] in got["thumbnail"] and "X-Amz-Expires=300" in got["thumbnail"]
    # a second delivery of the same notification changes nothing (the job is done)
    from parley.domain import channel_attachments

    assert channel_attachments.thumbnail_job(store.object_key(tenant_id, att_id)) is None


def test_a_refused_file_is_deleted_and_a_pdf_gets_no_thumbnail(handler, chat, thumbnails_queue, drain):
    from parley.dal import channel_attachments as store

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    upload(tenant_id, att_id, PDF)  # declared image/png
    out = process(handler, tenant_id, att_id)
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "attachment-type-mismatch"
    assert objects("uploads/") == [] and store.get(tenant_id, att_id)["ready"] is False
    assert "not image/png" in store.get(tenant_id, att_id)["refused"]

    pdf_id = body(create(handler, tenant_id, message_id, content_type="application/pdf", filename="plan.pdf"))["data"]["id"]
    upload(tenant_id, pdf_id, PDF, "application/pdf")
    attrs = body(process(handler, tenant_id, pdf_id))["data"]["attributes"]
    assert attrs["thumbnail-status"] == "none" and attrs["content-size"] == len(PDF)
    run_thumbnails(handler, drain, thumbnails_queue)
    assert store.get(tenant_id, pdf_id)["thumbnail"] == "none" and objects("messaging-thumbnails/") == []


def test_an_image_pillow_cannot_read_is_marked_failed(handler, chat, thumbnails_queue, drain):
    from parley.dal import channel_attachments as store

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    upload(tenant_id, att_id, b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)  # the magic number only
    assert process(handler, tenant_id, att_id)["statusCode"] == 201
    _, answer = run_thumbnails(handler, drain, thumbnails_queue)
    assert answer == {"batchItemFailures": []}
    assert store.get(tenant_id, att_id)["thumbnail"] == "failed"
    assert body(get(handler, tenant_id, att_id))["data"]["attributes"]["thumbnail"] is None


def _thumbnails_module(handler) -> dict:
    """ThumbnailsFunction's handler module (loaded with its declared environment), for patching its waits."""
    from helpers import ROOT, import_handler

    handler("ThumbnailsFunction")
    return vars(import_handler(ROOT / "functions" / "core" / "thumbnails"))


def test_a_job_before_the_item_is_marked_is_retried(handler, chat, monkeypatch):
    """process-upload copies first and marks the item next: a notification in between waits a few seconds for the mark
    (here: none comes), then is a batch item failure."""
    from parley.dal import channel_attachments as store
    from parley.dal import uploads

    waits: list[float] = []
    module = _thumbnails_module(handler)
    monkeypatch.setitem(module, "NOT_READY_WAIT_SECONDS", (0.01, 0.02))
    monkeypatch.setattr(module["time"], "sleep", waits.append)

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    uploads.put(store.object_key(tenant_id, att_id), png(), content_type="image/png")
    event = {"Records": [{"s3": {"object": {"key": store.object_key(tenant_id, att_id)}}}]}

    def record(message_id, payload):
        sqs = {"messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn", "awsRegion": "us-east-1"}
        return {
            "messageId": message_id,
            "receiptHandle": "r",
            "body": json.dumps(payload),
            "attributes": {"ApproximateReceiveCount": "1"},
            **sqs,
        }

    test_event = {"Event": "s3:TestEvent", "Bucket": "b"}  # S3's, when the notification is set: nothing to do
    answer = handler("ThumbnailsFunction")({"Records": [record("m1", event), record("m2", test_event)]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert store.get(tenant_id, att_id)["thumbnail"] == "none" and objects("messaging-thumbnails/") == []
    assert waits == [0.01, 0.02]  # it waited for the mark before giving the job back to the queue


def test_a_job_that_beats_the_mark_by_a_moment_waits_for_it_and_makes_the_thumbnail(handler, chat, monkeypatch):
    """The common race (the copy's notification before process-upload's mark, a moment later) costs a moment, not the
    queue's visibility timeout: the worker waits, finds the item ready, and makes the thumbnail in the same receive."""
    from parley.dal import channel_attachments as store
    from parley.dal import uploads

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    image = png()
    key = store.object_key(tenant_id, att_id)
    etag = uploads.put(key, image, content_type="image/png")
    module = _thumbnails_module(handler)

    def mark_during_the_wait(_seconds):  # process-upload's mark lands while the worker waits
        store.mark_ready(tenant_id, att_id, size=len(image), key=key, etag=etag, thumbnail="pending")

    monkeypatch.setattr(module["time"], "sleep", mark_during_the_wait)
    payload = {"Records": [{"s3": {"object": {"key": key}}}]}
    record = {"messageId": "m1", "receiptHandle": "r", "body": json.dumps(payload), "attributes": {"ApproximateReceiveCount": "1"},
              "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn",
              "awsRegion": "us-east-1"}  # fmt: skip
    assert handler("ThumbnailsFunction")({"Records": [record]}) == {"batchItemFailures": []}
    stored = store.get(tenant_id, att_id)
    assert stored["thumbnail"] == "ready" and objects("messaging-thumbnails/") == [stored["thumbnail_key"]]


def test_list_shows_pending_only_when_asked_and_pages(handler, chat):
    tenant_id, _, message_id = chat
    ready = []
    for n in range(3):
        att_id = body(create(handler, tenant_id, message_id, filename=f"p{n}.png"))["data"]["id"]
        upload(tenant_id, att_id, png(40, 40))
        assert process(handler, tenant_id, att_id)["statusCode"] == 201
        ready.append(att_id)
    pending = body(create(handler, tenant_id, message_id, filename="later.png"))["data"]["id"]
    out = body(listing(handler, tenant_id, {"message-id": message_id}))
    assert [d["id"] for d in out["data"]] == ready and out["meta"]["page[total]"] == 3
    out = body(listing(handler, tenant_id, {"message-id": message_id, "filter[include-pending]": "true"}, user="user-b"))
    assert [d["id"] for d in out["data"]] == [*ready, pending] and out["data"][-1]["attributes"]["content-size"] is None
    out = body(listing(handler, tenant_id, {"message-id": message_id, "page[limit]": "2", "page[offset]": "1"}))
    assert [d["id"] for d in out["data"]] == ready[1:] and out["meta"]["page[total]"] == 3


def test_patch_removed_is_the_uploaders_or_an_admins_and_final(handler, chat):
    from parley.dal import channel_attachments as store
    from parley.domain import channel_attachments

    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id, user="user-b"))["data"]["id"]
    upload(tenant_id, att_id, png(20, 20))
    assert process(handler, tenant_id, att_id, user="user-b")["statusCode"] == 201
    assert [a["id"] for a in channel_attachments.for_message(tenant_id, message_id)] == [att_id]
    out = patch(handler, tenant_id, att_id, True, user="user-a")  # ind-a created the channel: its admin
    assert out["statusCode"] == 200 and body(out)["data"]["attributes"]["removed"] is True
    assert store.get(tenant_id, att_id)["removed"] is True and store.get(tenant_id, att_id)["removed_at"]
    assert channel_attachments.for_message(tenant_id, message_id) == []
    assert patch(handler, tenant_id, att_id, True, user="user-b")["statusCode"] == 200  # again: a no-op
    out = patch(handler, tenant_id, att_id, False, user="user-b")
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "removal-final"
    # a member who neither uploaded it nor administers the channel may not
    other = body(create(handler, tenant_id, message_id, user="user-a"))["data"]["id"]
    out = patch(handler, tenant_id, other, True, user="user-b")
    assert out["statusCode"] == 403 and store.get(tenant_id, other)["removed"] is False
    # the path's id and data.id must agree
    doc = {"data": {"type": ATT, "id": "another", "attributes": {"removed": True}}}
    out = call(handler, "update_messaging_attachment", tenant_id, path=f"/v1/messaging-attachments/{other}/", path_params={"id": other},
               payload=doc)  # fmt: skip
    assert out["statusCode"] == 409


def test_a_post_takes_ready_attachments_of_its_channel(handler, chat):
    from parley.dal import channel_attachments as store
    from parley.domain import channel_attachments, channel_messages, channels
    from parley.errors import NotFound, Unprocessable

    tenant_id, channel_id, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    upload(tenant_id, att_id, png(20, 20))
    process(handler, tenant_id, att_id)
    pending = body(create(handler, tenant_id, message_id, filename="p.png"))["data"]["id"]
    with pytest.raises(Unprocessable):
        channel_attachments.check(tenant_id, channel_id, [att_id, pending])
    posted = channel_messages.post(tenant_id, channel_id, "ind-a", "and again", attachment_ids=[att_id])
    assert [a["id"] for a in channel_attachments.for_message(tenant_id, posted["id"])] == [att_id]
    assert store.get(tenant_id, att_id)["GSI3PK"] == f"TENANT#{tenant_id}#CHMSG#{posted['id']}#ATT"
    assert channel_attachments.for_message(tenant_id, message_id) == []
    # another channel's attachment cannot be taken
    other, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-c"])
    elsewhere = channel_messages.post(tenant_id, other["id"], "ind-a", "hi c")
    with pytest.raises(NotFound):
        channel_attachments.attach(tenant_id, elsewhere["id"], [att_id])
    with pytest.raises(NotFound):
        channel_attachments.check(tenant_id, other["id"], [att_id])


def test_non_members_and_other_tenants_get_404_on_every_attachment_route(handler, chat, other_tenant):
    tenant_id, _, message_id = chat
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    out = create(handler, tenant_id, message_id, user="user-c")
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"]["pointer"] == "/data/attributes/message-id"
    assert get(handler, tenant_id, att_id, user="user-c")["statusCode"] == 404
    assert process(handler, tenant_id, att_id, user="user-c")["statusCode"] == 404
    assert patch(handler, tenant_id, att_id, True, user="user-c")["statusCode"] == 404
    out = listing(handler, tenant_id, {"message-id": message_id}, user="user-c")
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"]["parameter"] == "message-id"
    ot, _ = other_tenant
    directory_lines(ot.id)  # the same user and individual ids in another tenant
    assert get(handler, ot.id, att_id)["statusCode"] == 404
    assert create(handler, ot.id, message_id)["statusCode"] == 404
    assert listing(handler, ot.id, {"message-id": message_id})["statusCode"] == 404
    assert process(handler, ot.id, att_id)["statusCode"] == 404
    assert patch(handler, ot.id, att_id, True)["statusCode"] == 404


# ───────────── bookmarks ─────────────
def bookmark(handler, tenant_id, channel_id, message_id, *, multi=None, user="user-a"):
    attrs = {"channel-id": channel_id, "message-id": message_id, **({"allow-multi-message": multi} if multi is not None else {})}
    doc = {"data": {"type": BM, "attributes": attrs}}
    return call(handler, "create_messaging_bookmark", tenant_id, user=user, path="/v1/messaging-bookmarks/", payload=doc)


def bookmarks(handler, tenant_id, query, *, user="user-a"):
    return call(handler, "list_messaging_bookmarks", tenant_id, user=user, path="/v1/messaging-bookmarks/", query=query)


def get_bookmark(handler, tenant_id, bookmark_id, *, user="user-a"):
    path = f"/v1/messaging-bookmarks/{bookmark_id}/"
    return call(handler, "get_messaging_bookmark", tenant_id, user=user, path=path, path_params={"id": bookmark_id}, query=None)


def test_bookmarks_keep_one_per_channel_unless_multi_and_the_channel_holds_the_newest(handler, chat, table_items):
    from parley.domain import channel_messages, channels

    tenant_id, channel_id, message_id = chat
    out = bookmark(handler, tenant_id, channel_id, message_id)
    assert out["statusCode"] == 201, out
    first = body(out)["data"]
    assert first["attributes"] == {"channel": {"id": channel_id}, "created-at": first["attributes"]["created-at"],
                                   "created-by": {"id": "ind-a"}, "message": {"id": message_id}, "organization-id": ORG}  # fmt: skip
    assert channels.get_channel_item(tenant_id, channel_id)["bookmark"]["id"] == first["id"]
    again = bookmark(handler, tenant_id, channel_id, message_id, user="user-b")
    assert again["statusCode"] == 200 and body(again)["data"]["id"] == first["id"]

    second_msg = channel_messages.post(tenant_id, channel_id, "ind-b", "second")
    second = body(bookmark(handler, tenant_id, channel_id, second_msg["id"], multi=True, user="user-b"))["data"]
    stored = [i for i in table_items() if i.get("type") == "channel_bookmark"]
    assert sorted(i["id"] for i in stored) == sorted([first["id"], second["id"]])
    item = next(i for i in stored if i["id"] == second["id"])
    assert item["GSI3PK"] == f"TENANT#{tenant_id}#CHBMS#ORG#{ORG}" and item["GSI6PK"] == f"TENANT#{tenant_id}#CHAN#{channel_id}#BM"
    assert channels.get_channel_item(tenant_id, channel_id)["bookmark"] == {
        "id": second["id"], "message_id": second_msg["id"], "created_at": item["created_at"]}  # fmt: skip

    third_msg = channel_messages.post(tenant_id, channel_id, "ind-a", "third")
    third = body(bookmark(handler, tenant_id, channel_id, third_msg["id"], multi=False))["data"]
    assert [i["id"] for i in table_items() if i.get("type") == "channel_bookmark"] == [third["id"]]
    assert channels.get_channel_item(tenant_id, channel_id)["bookmark"]["id"] == third["id"]
    assert get_bookmark(handler, tenant_id, first["id"])["statusCode"] == 404  # deleted
    # pinning an existing one with allow-multi-message false keeps it alone and makes it the channel's
    assert body(bookmark(handler, tenant_id, channel_id, third_msg["id"]))["data"]["id"] == third["id"]


def test_bookmark_list_by_organization_and_channel_members_only(handler, chat):
    from parley.domain import channel_messages, channels

    tenant_id, channel_id, message_id = chat
    mine = body(bookmark(handler, tenant_id, channel_id, message_id))["data"]["id"]
    other, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id="ind-b", individual_ids=["ind-c"])
    msg = channel_messages.post(tenant_id, other["id"], "ind-c", "b and c only")
    theirs = body(bookmark(handler, tenant_id, other["id"], msg["id"], user="user-c"))["data"]["id"]
    out = body(bookmarks(handler, tenant_id, {"organization-id": ORG}))
    assert [d["id"] for d in out["data"]] == [mine] and out["meta"]["page[total]"] == 1
    out = body(bookmarks(handler, tenant_id, {"organization-id": ORG}, user="user-b"))
    assert [d["id"] for d in out["data"]] == [mine, theirs]
    out = body(bookmarks(handler, tenant_id, {"organization-id": ORG, "filter[channel-id]": other["id"]}, user="user-b"))
    assert [d["id"] for d in out["data"]] == [theirs]
    out = bookmarks(handler, tenant_id, {"organization-id": ORG, "filter[channel-id]": other["id"]})  # a is not a member
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"]["parameter"] == "filter[channel-id]"
    out = bookmarks(handler, tenant_id, {"organization-id": "no-such-org"})
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"]["parameter"] == "organization-id"
    out = bookmarks(handler, tenant_id, {})  # organization-id is required
    assert out["statusCode"] == 400 and body(out)["errors"][0]["source"]["parameter"] == "organization-id"
    assert get_bookmark(handler, tenant_id, theirs)["statusCode"] == 404
    assert body(get_bookmark(handler, tenant_id, theirs, user="user-c"))["data"]["id"] == theirs


def test_bookmark_refusals_and_isolation(handler, chat, other_tenant):
    from parley.domain import channel_messages, channels

    tenant_id, channel_id, message_id = chat
    other, _ = channels.create_channel(tenant_id, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-c"])
    elsewhere = channel_messages.post(tenant_id, other["id"], "ind-a", "elsewhere")
    out = bookmark(handler, tenant_id, channel_id, elsewhere["id"])
    assert out["statusCode"] == 422 and body(out)["errors"][0]["code"] == "message-not-in-channel"
    out = bookmark(handler, tenant_id, channel_id, message_id, user="user-c")  # not a member
    assert out["statusCode"] == 404 and body(out)["errors"][0]["source"]["pointer"] == "/data/attributes/channel-id"
    mine = body(bookmark(handler, tenant_id, channel_id, message_id))["data"]["id"]
    ot, _ = other_tenant
    directory_lines(ot.id)
    assert get_bookmark(handler, ot.id, mine)["statusCode"] == 404
    assert bookmark(handler, ot.id, channel_id, message_id)["statusCode"] == 404
    assert body(bookmarks(handler, ot.id, {"organization-id": ORG}))["data"] == []


def test_the_purge_of_a_person_erases_their_messages_attachments_reactions_and_bookmarks(handler, chat):
    """The data-subject purge (``purge_courier``) in the channels' messages: A's posted messages become anonymous
    tombstones (the seq stays: B's unread count numbers them), A's draft and attachments (items and objects) go, A's
    reaction leaves B's message, A's bookmark stays without A, and the channel's last message no longer shows A's text."""
    from parley.dal import channel_bookmarks as bookmark_store
    from parley.dal import channel_messages as store
    from parley.dal import channels as channel_store
    from parley.domain import channel_bookmarks, channel_messages, purge
    from parley.models.channel_bookmarks import BookmarkCreateAttributes

    tenant_id, channel_id, first = chat
    att_id = body(create(handler, tenant_id, first))["data"]["id"]
    upload(tenant_id, att_id, png(20, 20))
    process(handler, tenant_id, att_id)
    assert objects(f"messaging-attachments/{tenant_id}/") == [f"messaging-attachments/{tenant_id}/{att_id}"]
    b_says = channel_messages.post(tenant_id, channel_id, "ind-b", "how is it today?")
    channel_messages.react(tenant_id, b_says["id"], "ind-a", "like", add=True)
    channel_messages.react(tenant_id, b_says["id"], "ind-b", "love", add=True)
    bookmark_attrs = BookmarkCreateAttributes.model_validate({"channel-id": channel_id, "message-id": b_says["id"]})
    (bookmark_id, _), _ = channel_bookmarks.create(tenant_id, "ind-a", bookmark_attrs)
    draft = channel_messages.post(tenant_id, channel_id, "ind-a", "unsent thoughts", draft=True)
    last = channel_messages.post(tenant_id, channel_id, "ind-a", "better, thanks")
    assert store.get_message(tenant_id, last["id"])["GSI6PK"] == f"TENANT#{tenant_id}#CHMSGBY#ind-a"
    assert [m["id"] for m in store.of_author(tenant_id, "ind-a")] == [first, draft["id"], last["id"]]
    b_before = channel_store.get_member(tenant_id, channel_id, "ind-b", consistent=True)

    who = purge.Subject(tenant_id=tenant_id, individual_ids={"ind-a"})
    counts = purge.purge_courier(who)
    kinds = ("channel_messages", "channel_drafts", "channel_attachments", "channel_reactions", "channel_bookmarks")
    assert [counts[k] for k in kinds] == [2, 1, 1, 1, 1]

    for message_id in (first, last["id"]):
        tomb = store.get_message(tenant_id, message_id, consistent=True)
        assert tomb["removed"] is True and tomb["message"] == "" and tomb["message_lc"] == "" and tomb["reactions"] == {}
        assert not {"individual_id", "user_id", "GSI6PK", "GSI6SK"} & set(tomb) and tomb["seq"] in (1, 3) and tomb["purged_at"]
    assert store.get_message(tenant_id, draft["id"], consistent=True) is None
    assert store.of_author(tenant_id, "ind-a") == []
    assert store.get_message(tenant_id, b_says["id"], consistent=True)["reactions"].keys() == {"love#ind-b"}
    stored_bookmark = bookmark_store.get(tenant_id, bookmark_id, consistent=True)
    assert stored_bookmark["message_id"] == b_says["id"] and "created_by" not in stored_bookmark and "GSI9PK" not in stored_bookmark
    assert bookmark_store.of_creator(tenant_id, "ind-a") == []
    from parley.dal import channel_attachments as attachment_store

    assert attachment_store.get(tenant_id, att_id, consistent=True) is None and objects(f"messaging-attachments/{tenant_id}/") == []
    assert objects(f"messaging-thumbnails/{tenant_id}/") == [] and objects(f"uploads/tenants/{tenant_id}/") == []
    channel = channel_store.get_channel(tenant_id, channel_id, consistent=True)
    assert channel["last_message"] == {"id": last["id"], "message": "", "posted_time": last["posted_time"], "removed": True,
                                       "individual_id": None}  # fmt: skip
    b_after = channel_store.get_member(tenant_id, channel_id, "ind-b", consistent=True)
    assert b_after["unread"] == b_before["unread"] == 1 and b_after["ch"]["last_message"]["message"] == ""  # B's copy followed
    # B still reads the conversation: A's messages answered as removed, by nobody
    items, total, member = channel_messages.page(tenant_id, channel_id, "ind-b", offset=0, limit=10)
    answered = {mid: a for mid, a in channel_messages.attributes(tenant_id, items, member)}
    assert total == 3 and answered[last["id"]].individual_id is None and answered[last["id"]].removed and answered[last["id"]].message == ""
    assert answered[b_says["id"]].message == "how is it today?"
    # the purge runs again (a redelivered job) and finds nothing
    again = purge.purge_courier(who)
    assert again["channel_messages"] == again["channel_drafts"] == again["channel_reactions"] == again["channel_bookmarks"] == 0


def test_only_a_message_with_attachments_reads_them_when_answered(handler, chat, monkeypatch):
    """``has_attachments`` is set on the message before its first attachment item is written; answering a page of
    messages reads the attachments of the marked ones only (no Query per message)."""
    from parley.dal import channel_messages as store
    from parley.domain import channel_attachments, channel_messages

    tenant_id, channel_id, message_id = chat
    plain = [channel_messages.post(tenant_id, channel_id, "ind-b", f"note {n}") for n in range(3)]
    assert "has_attachments" not in store.get_message(tenant_id, message_id, consistent=True)
    att_id = body(create(handler, tenant_id, message_id))["data"]["id"]
    assert store.get_message(tenant_id, message_id, consistent=True)["has_attachments"] is True
    upload(tenant_id, att_id, png(20, 20))
    process(handler, tenant_id, att_id)
    asked = []
    real = channel_attachments.for_message
    monkeypatch.setattr(channel_attachments, "for_message", lambda t, m: asked.append(m) or real(t, m))
    items, total, member = channel_messages.page(tenant_id, channel_id, "ind-a", offset=0, limit=10)
    answered = dict(channel_messages.attributes(tenant_id, items, member))
    assert total == 4 and asked == [message_id]
    assert [a.id for a in answered[message_id].attachments] == [att_id] and all(answered[p["id"]].attachments == [] for p in plain)
