"""Issue 19, areas 1 and 2 together: a draft bulk message's files (messaging-bulk-attachments) reach every message its
posting job (area 1's ``bulk-post``, run through AutomationFunction's handler) posts, once each under redelivery, as
messaging-attachments the recipient lists. Needs area 1's routes and job (merged on main): skipped only on a branch
without them."""

from __future__ import annotations

import json

import pytest

from helpers import api_event, body

try:
    from parley.domain import bulk_messages as _area1
except ImportError:  # pragma: no cover
    _area1 = None
pytestmark = pytest.mark.skipif(_area1 is None or not hasattr(_area1, "run"), reason="area 1's bulk-post job is not on this branch")

T1 = "2026-11-01T09:00:00Z"
ORG = "org-bulk-att"
PEOPLE = {"u-pat": "i-pat", "u-sam": "i-sam", "u-lee": "i-lee"}
PDF = b"%PDF-1.7\n" + b"z" * 3000 + b"\n%%EOF\n"


@pytest.fixture
def queues(aws, monkeypatch):
    from parley.dal import aws as aws_clients
    from parley.settings import get_settings

    automation = aws.queues[next(a for a in aws.queues if a.endswith("-AutomationQueue"))]
    events = aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))]
    monkeypatch.setenv("AUTOMATION_QUEUE_URL", automation)
    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", events)
    get_settings.cache_clear()
    aws_clients.reset()
    return automation


def messaging(handler, fn, tenant_id, path, *, id_=None, payload=..., query=None, user="u-pat"):
    ev = api_event(f"courier_messaging/{fn}", tenant_id=tenant_id, body=payload, query=query,
                   headers={"X-User-ID": user, "Content-Type": "application/vnd.api+json"})  # fmt: skip
    ev["path"] = path
    ev["pathParameters"] = {"id": id_} if id_ else None
    return handler(f"CourierMessagingApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)


def test_bulk_files_reach_each_posted_message_once(handler, tenant, queues, drain):
    from parley.dal import bulk_attachments as bstore
    from parley.dal import channel_attachments as astore
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.dal import uploads
    from parley.domain import bulk_attachments, directory
    from parley_local.workers import _sqs_record

    t = tenant[0].id
    lines = [{"type": "organizations", "id": ORG, "attributes": {"name": "north"}}]
    for user, ind in PEOPLE.items():
        lines.append({"type": "users", "id": user, "attributes": {"username": user, "primary-individual-id": ind}})
        lines.append({"type": "individuals", "id": ind, "attributes": {"owner-id": user, "first-name": user[2:]}})
    assert directory.import_lines(t, [json.dumps({**x, "last-sync-time": T1}) for x in lines]).invalid == []

    attrs = {"individual-ids": ["i-sam", "i-lee"], "message": "Flyer attached", "organization-id": ORG, "auto-create-channel": True}
    doc = {"data": {"type": "messaging-bulk-messages", "attributes": attrs}}
    made = messaging(handler, "create_messaging_bulk_message", t, "/v1/messaging-bulk-messages/", payload=doc)
    assert made["statusCode"] == 201, made
    bulk_id = body(made)["data"]["id"]
    att_doc = {"data": {"type": "messaging-bulk-attachments", "attributes": {"bulk-message-id": bulk_id, "content-type": "application/pdf",
                                                                            "filename": "flyer.pdf"}}}  # fmt: skip
    att = body(messaging(handler, "create_messaging_bulk_attachment", t, "/v1/messaging-bulk-attachments/", payload=att_doc))["data"]["id"]
    uploads.put(bstore.upload_key(t, att), PDF, content_type="application/pdf")
    done = messaging(handler, "process_messaging_bulk_attachment_upload", t, f"/v1/messaging-bulk-attachments/{att}/process-upload/",
                     id_=att, payload={})  # fmt: skip
    assert done["statusCode"] == 201, done

    post = {"data": {"type": "messaging-bulk-messages", "id": bulk_id, "attributes": {"draft": False}}}
    assert messaging(handler, "update_messaging_bulk_message", t, f"/v1/messaging-bulk-messages/{bulk_id}/", id_=bulk_id,
                     payload=post)["statusCode"] == 200  # fmt: skip
    late = messaging(handler, "create_messaging_bulk_attachment", t, "/v1/messaging-bulk-attachments/", payload=att_doc)
    assert late["statusCode"] == 409  # posted: no new file

    fn = handler("root.AutomationFunction")
    while got := drain(queues):
        for m in got:
            for _ in range(2):  # every job delivered twice
                out = fn({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:AutomationQueue")]})
                assert out["batchItemFailures"] == [], out

    for recipient, user in (("i-sam", "u-sam"), ("i-lee", "u-lee")):
        pointer = cstore.get_direct(t, ORG, ["i-pat", recipient])
        [message], _ = mstore.message_page(t, pointer["channel_id"], offset=0, limit=10)
        [copy] = astore.all_of_message(t, message["id"])
        assert copy["id"] == bulk_attachments.copy_id(att, message["id"]) and copy["ready"] is True and copy["bulk_id"] == bulk_id
        assert uploads.head(copy["object_key"])["size"] == len(PDF)
        listed = messaging(handler, "list_messaging_attachments", t, "/v1/messaging-attachments/", query={"message-id": message["id"]},
                           user=user)  # fmt: skip
        assert [d["id"] for d in body(listed)["data"]] == [copy["id"]]
        got = messaging(handler, "get_messaging_message", t, f"/v1/messaging-messages/{message['id']}/", id_=message["id"], user=user)
        assert [a["id"] for a in body(got)["data"]["attributes"]["attachments"]] == [copy["id"]]
