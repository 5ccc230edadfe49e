"""messaging-bulk-attachments on moto (issue 19, area 2): the two-phase upload of a draft bulk message's files (the
pre-signed POST, process-upload's checks of the stored bytes, shared with messaging-attachments), include-pending, a
posted bulk refusing changes (409), tenant isolation (404), and the interface the bulk posting job uses:
``copy_to_message`` making each ready file a messaging-attachment of one posted message (its own S3 copy, listed by
``GET /v1/messaging-attachments/?message-id=…``, idempotent, an image's thumbnail made by ThumbnailsFunction).
The bulk message itself is area 1's: its stored item is written here with area 1's keys (``parley.dal.bulk_messages``)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from helpers import api_event, body

BATT, ATT = "messaging-bulk-attachments", "messaging-attachments"
ORG = "org-bulk"
USERS = {"user-a": "ind-a", "user-b": "ind-b"}
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 200), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def fn_name(fn: str) -> str:
    return f"CourierMessagingApi.{''.join(p.capitalize() for p in fn.split('_'))}Function"


def call(handler, fn, tenant_id, *, user="user-a", path, path_params=None, query=None, payload=...):
    ev = api_event(f"courier_messaging/{fn}", tenant_id=tenant_id, query=query, body=payload, headers={"X-User-ID": user})
    ev["path"] = path
    ev["pathParameters"] = path_params
    return handler(fn_name(fn))(ev)


def create(handler, tenant_id, bulk_id, *, content_type="application/pdf", filename="flyer.pdf"):
    doc = {"data": {"type": BATT, "attributes": {"bulk-message-id": bulk_id, "content-type": content_type, "filename": filename}}}
    return call(handler, "create_messaging_bulk_attachment", tenant_id, path="/v1/messaging-bulk-attachments/", payload=doc)


def process(handler, tenant_id, att_id, payload=None):
    path = f"/v1/messaging-bulk-attachments/{att_id}/process-upload/"
    data = {} if payload is None else payload
    return call(handler, "process_messaging_bulk_attachment_upload", tenant_id, path=path, path_params={"id": att_id}, payload=data)


def get(handler, tenant_id, att_id):
    return call(
        handler, "get_messaging_bulk_attachment", tenant_id, path=f"/v1/messaging-bulk-attachments/{att_id}/", path_params={"id": att_id}
    )


def listing(handler, tenant_id, query):
    return call(handler, "list_messaging_bulk_attachments", tenant_id, path="/v1/messaging-bulk-attachments/", query=query)


def put_bulk(tenant_id, *, draft=True) -> str:
    """A stored bulk message (area 1's item and keys: ``parley.dal.bulk_messages``)."""
    from parley.dal import bulk_messages, table

    bulk_id = str(uuid.uuid4())
    key = {"PK": bulk_messages.pk(tenant_id, bulk_id), "SK": bulk_messages.SK, "type": bulk_messages.ITEM_TYPE}
    table.put_item({**key, "tenant_id": tenant_id, "id": bulk_id, "draft": draft, "organization_id": ORG, "created_by": "user-a"})
    return bulk_id


def set_draft(tenant_id, bulk_id, draft):
    from parley.dal import bulk_messages, table

    assert table.try_update(bulk_messages.pk(tenant_id, bulk_id), bulk_messages.SK, "SET draft = :d", condition="attribute_exists(PK)",
                            values=table.values(d=draft))  # fmt: skip


def upload(key, data, content_type):
    from parley.dal.aws import client
    from parley.settings import get_settings

    client("s3").put_object(Bucket=get_settings().body_bucket, Key=key, Body=data, ContentType=content_type)


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
def world(tenant):
    from parley.domain import directory

    t, _ = tenant
    lines = [{"type": "organizations", "id": ORG, "attributes": {"name": "northside"}}]
    for user, ind in USERS.items():
        lines.append({"type": "users", "id": user, "attributes": {"username": user, "primary-individual-id": ind}})
        lines.append({"type": "individuals", "id": ind, "attributes": {"owner-id": user}})
    stamped = [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]
    assert directory.import_lines(t.id, stamped).invalid == []
    return t.id


def ready_attachment(handler, tenant_id, bulk_id, data=PDF, content_type="application/pdf", filename="flyer.pdf") -> str:
    from parley.dal import bulk_attachments as store

    att = body(create(handler, tenant_id, bulk_id, content_type=content_type, filename=filename))["data"]["id"]
    upload(store.upload_key(tenant_id, att), data, content_type)
    out = process(handler, tenant_id, att)
    assert out["statusCode"] == 201, out
    return att


def test_create_answers_a_presigned_post_and_stores_a_pending_bulk_attachment(handler, world, table_items):
    from parley.dal import bulk_attachments as store
    from parley.domain import bulk_attachments as domain

    bulk_id = put_bulk(world)
    out = create(handler, world, bulk_id)
    assert out["statusCode"] == 201, out
    ticket = body(out)
    assert set(ticket) == {"data"} and set(ticket["data"]) == {"id", "upload-url", "upload-data", "expiration-time"}
    att = ticket["data"]["id"]
    fields = ticket["data"]["upload-data"]
    assert fields["key"] == store.upload_key(world, att) == f"uploads/tenants/{world}/messaging-bulk-attachments/{att}"
    assert fields["Content-Type"] == "application/pdf"
    assert ["content-length-range", 1, domain.MAX_BYTES] in json.loads(base64.b64decode(fields["policy"]))["conditions"]
    [item] = [i for i in table_items() if i.get("type") == "bulk_attachment"]
    assert item["PK"] == f"TENANT#{world}#BULKATT#{att}" and item["SK"] == "BULKATT"
    assert item["GSI3PK"] == f"TENANT#{world}#BULK#{bulk_id}#ATT" and item["GSI3SK"].endswith(f"#{att}")
    assert item["bulk_id"] == bulk_id and item["ready"] is False and item["created_by"] == "user-a"
    assert item["ttl"] > ticket["data"]["expiration-time"]

    # not a pending one's size; thumbnail null; the seed's attributes and ours
    got = body(get(handler, world, att))["data"]
    assert got["type"] == BATT and got["attributes"] == {
        "bulk-message-id": bulk_id, "content-size": None, "content-type": "application/pdf", "created-at": item["created_at"],
        "filename": "flyer.pdf", "ready-to-use": False, "thumbnail": None, "thumbnail-status": "none",
    }  # fmt: skip

    bad = create(handler, world, bulk_id, content_type="application/x-msdownload", filename="run.exe")
    assert bad["statusCode"] == 422 and body(bad)["errors"][0]["source"]["pointer"] == "/data/attributes/content-type"
    assert create(handler, world, bulk_id, content_type="application/msword", filename="notes.doc")["statusCode"] == 201
    unknown = create(handler, world, str(uuid.uuid4()))
    assert unknown["statusCode"] == 404 and body(unknown)["errors"][0]["source"]["pointer"] == "/data/attributes/bulk-message-id"
    missing = call(handler, "create_messaging_bulk_attachment", world, path="/v1/messaging-bulk-attachments/",
                   payload={"data": {"type": BATT, "attributes": {"content-type": "application/pdf", "filename": "x.pdf"}}})  # fmt: skip
    assert missing["statusCode"] == 400 and body(missing)["errors"][0]["source"]["pointer"] == "/data/attributes/bulk-message-id"


def test_process_upload_checks_the_bytes_and_lists_ready_ones_unless_include_pending(handler, world):
    from parley.dal import bulk_attachments as store

    bulk_id = put_bulk(world)
    att = body(create(handler, world, bulk_id))["data"]["id"]
    early = process(handler, world, att)
    assert early["statusCode"] == 409 and body(early)["errors"][0]["code"] == "upload-missing"

    upload(store.upload_key(world, att), b"MZ\x90\x00 not a pdf", "application/pdf")  # not the declared type: refused, deleted
    refused = process(handler, world, att)
    assert refused["statusCode"] == 422 and body(refused)["errors"][0]["code"] == "attachment-type-mismatch"
    assert objects("uploads/") == [] and store.get(world, att)["refused"] and store.get(world, att)["ready"] is False

    upload(store.upload_key(world, att), PDF, "application/pdf")
    done = process(handler, world, att)
    assert done["statusCode"] == 201, done
    attrs = body(done)["data"]["attributes"]
    assert attrs["content-size"] == len(PDF) and attrs["ready-to-use"] is True and attrs["bulk-message-id"] == bulk_id
    item = store.get(world, att, consistent=True)
    assert item["object_key"] == f"bulk-attachments/{world}/{att}" and "ttl" not in item and "refused" not in item
    assert objects("uploads/") == [] and read_object(item["object_key"]) == PDF
    assert objects("messaging-attachments/") == []  # no thumbnail job for the bulk's own file
    assert body(process(handler, world, att))["data"]["attributes"]["content-size"] == len(PDF)  # idempotent
    assert process(handler, world, att, payload={"individual-id": "ind-a"})["statusCode"] == 400  # the seed's body is {}

    pending = body(create(handler, world, bulk_id, content_type="text/plain", filename="notes.txt"))["data"]["id"]
    shown = body(listing(handler, world, {"bulk-message-id": bulk_id}))
    assert [d["id"] for d in shown["data"]] == [att] and shown["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    every = body(
        listing(handler, world, {"bulk-message-id": bulk_id, "filter[include-pending]": "true", "page[limit]": "1", "page[offset]": "1"})
    )
    assert [d["id"] for d in every["data"]] == [pending] and every["meta"]["page[total]"] == 2
    unknown = listing(handler, world, {"bulk-message-id": str(uuid.uuid4())})
    assert unknown["statusCode"] == 404 and body(unknown)["errors"][0]["source"]["parameter"] == "bulk-message-id"
    assert listing(handler, world, {})["statusCode"] == 400  # bulk-message-id is required


def test_a_posted_bulk_takes_no_new_attachment_but_still_lists_its_own(handler, world):
    from parley.dal import bulk_attachments as store

    bulk_id = put_bulk(world)
    att = ready_attachment(handler, world, bulk_id)
    late = body(create(handler, world, bulk_id))["data"]["id"]
    upload(store.upload_key(world, late), PDF, "application/pdf")
    set_draft(world, bulk_id, False)
    refused = create(handler, world, bulk_id)
    assert refused["statusCode"] == 409 and body(refused)["errors"][0]["code"] == "bulk-posted"
    too_late = process(handler, world, late)
    assert too_late["statusCode"] == 409 and body(too_late)["errors"][0]["code"] == "bulk-posted"
    assert store.get(world, late, consistent=True)["ready"] is False
    assert [d["id"] for d in body(listing(handler, world, {"bulk-message-id": bulk_id}))["data"]] == [att]
    assert body(get(handler, world, att))["data"]["attributes"]["ready-to-use"] is True


def test_another_tenants_bulk_and_attachments_are_404(handler, world, other_tenant):
    bulk_id = put_bulk(world)
    att = ready_attachment(handler, world, bulk_id)
    stranger = other_tenant[0].id
    put_bulk(stranger)
    assert get(handler, stranger, att)["statusCode"] == 404
    assert process(handler, stranger, att)["statusCode"] == 404
    assert listing(handler, stranger, {"bulk-message-id": bulk_id})["statusCode"] == 404
    assert create(handler, stranger, bulk_id)["statusCode"] == 404
    assert get(handler, world, str(uuid.uuid4()))["statusCode"] == 404


def test_copy_to_message_makes_each_ready_file_an_attachment_of_the_message_once(handler, world, events_queue, drain, aws):
    from parley.dal import channel_attachments as message_store
    from parley.domain import bulk_attachments, channel_attachments, channel_messages, channels

    bulk_id = put_bulk(world)
    pdf = ready_attachment(handler, world, bulk_id)
    image = png()
    img = ready_attachment(handler, world, bulk_id, data=image, content_type="image/png", filename="map.png")
    body(create(handler, world, bulk_id, content_type="text/plain", filename="pending.txt"))  # never uploaded: not copied
    assert [i["id"] for i in bulk_attachments.ready(world, bulk_id)] == [pdf, img]

    chan, _ = channels.create_channel(world, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-b"])
    message = channel_messages.post(world, chan["id"], "ind-a", "Flu shots on Friday")
    ids = bulk_attachments.copy_to_message(world, bulk_id, message["id"], chan["id"])
    assert ids == [bulk_attachments.copy_id(pdf, message["id"]), bulk_attachments.copy_id(img, message["id"])]
    for copy_id, source_id, data in ((ids[0], pdf, PDF), (ids[1], img, image)):
        item = message_store.get(world, copy_id, consistent=True)
        assert item["message_id"] == message["id"] and item["channel_id"] == chan["id"] and item["ready"] is True
        assert item["bulk_id"] == bulk_id and item["bulk_attachment_id"] == source_id and item["created_by_individual"] == "ind-a"
        assert item["object_key"] == message_store.object_key(world, copy_id) and read_object(item["object_key"]) == data
        assert item["size"] == len(data) and "ttl" not in item
    assert message_store.get(world, ids[1])["thumbnail"] == "pending" and message_store.get(world, ids[0])["thumbnail"] == "none"
    # the message lists them (messaging-attachments), for a member of its channel
    assert [a["id"] for a in channel_attachments.for_message(world, message["id"])] == ids
    listed = call(handler, "list_messaging_attachments", world, user="user-b", path="/v1/messaging-attachments/",
                  query={"message-id": message["id"]})  # fmt: skip
    assert [d["id"] for d in body(listed)["data"]] == ids
    assert body(listed)["data"][0]["attributes"]["filename"] == "flyer.pdf"

    # again (a redelivered job): the same ids, nothing new
    before = objects("messaging-attachments/")
    assert bulk_attachments.copy_to_message(world, bulk_id, message["id"], chan["id"]) == ids
    assert objects("messaging-attachments/") == before == sorted(message_store.object_key(world, i) for i in ids)
    assert len(message_store.all_of_message(world, message["id"])) == 2

    # an interrupted copy (the pending item written, the object not yet) is finished
    second = channel_messages.post(world, chan["id"], "ind-a", "Reminder")
    half = bulk_attachments.copy_id(pdf, second["id"])
    from parley.dal import bulk_attachments as store

    where = {"tenant_id": world, "id": half, "message_id": second["id"], "channel_id": chan["id"]}
    what = {"filename": "flyer.pdf", "content_type": "application/pdf", "created_at": "2026-12-01T00:00:00Z"}
    assert store.create_message_copy({**where, **what, "ready": False, "removed": False, "thumbnail": "none"})
    assert bulk_attachments.copy_to_message(world, bulk_id, second["id"], chan["id"])[0] == half
    assert message_store.get(world, half, consistent=True)["ready"] is True and read_object(message_store.object_key(world, half)) == PDF

    # a bulk without attachments copies nothing
    assert bulk_attachments.copy_to_message(world, put_bulk(world), message["id"], chan["id"]) == []


def test_the_copys_thumbnail_is_made_by_the_thumbnails_worker(handler, world, events_queue, drain, aws):
    from parley.dal import channel_attachments as message_store
    from parley.domain import bulk_attachments, channel_messages, channels

    thumbnails = aws.queues[next(a for a in aws.queues if a.endswith("-ThumbnailsQueue"))]
    bulk_id = put_bulk(world)
    img = ready_attachment(handler, world, bulk_id, data=png(), content_type="image/png", filename="map.png")
    drain(thumbnails)  # nothing of the bulk's own file is a thumbnail job
    chan, _ = channels.create_channel(world, organization_id=ORG, creator_individual_id="ind-a", individual_ids=["ind-b"])
    message = channel_messages.post(world, chan["id"], "ind-a", "The map")
    [copy_id] = bulk_attachments.copy_to_message(world, bulk_id, message["id"], chan["id"])
    assert copy_id == bulk_attachments.copy_id(img, message["id"])
    msgs = drain(thumbnails)
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": m.get("Attributes", {}),
                "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:parley-ThumbnailsQueue", "awsRegion": "us-east-1"}
               for m in msgs]  # fmt: skip
    assert records and handler("ThumbnailsFunction")({"Records": records}) == {"batchItemFailures": []}
    item = message_store.get(world, copy_id, consistent=True)
    assert item["thumbnail"] == "ready" and item["thumbnail_key"] == message_store.thumbnail_key(world, copy_id)


def test_a_file_checked_while_posting_starts_is_refused_and_its_copy_deleted(handler, world, monkeypatch):
    """The draft is read before the check, and checked again in the transaction that marks the file ready."""
    from parley.dal import bulk_attachments as store
    from parley.domain import bulk_attachments as domain
    from parley.domain import uploads

    bulk_id = put_bulk(world)
    att = body(create(handler, world, bulk_id))["data"]["id"]
    upload(store.upload_key(world, att), PDF, "application/pdf")
    real = uploads.check_upload

    def posting_starts_meanwhile(*args, **kwargs):
        checked = real(*args, **kwargs)
        set_draft(world, bulk_id, False)  # area 1's PATCH draft: false lands here
        return checked

    monkeypatch.setattr(uploads, "check_upload", posting_starts_meanwhile)
    from parley.errors import Conflict

    with pytest.raises(Conflict) as refused:
        domain.process_upload(world, att)
    assert refused.value.code == "bulk-posted"
    assert store.get(world, att, consistent=True)["ready"] is False
    assert objects("bulk-attachments/") == []  # the checked copy is not kept
    assert domain.ready(world, bulk_id) == []
