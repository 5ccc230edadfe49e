"""GET /api/v1/communications/{id}/thread and GET /by-entity on moto: records sent through the domain code and
the dispatcher, replies posted to the candidate reply webhook (by token and by In-Reply-To) joining them."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from crm_shapes import ENTITY_KEYS, INBOUND_KEYS, RECORD_KEYS

from helpers import api_event, body, deliver_inbound
from parley_local.workers import _sqs_record

THREAD = "CrmApi.ThreadFunction"
BY_ENTITY = "CrmApi.ByEntityFunction"
REPLY = "CandidateApi.EmailReplyFunction"
DISPATCHER = "root.DispatcherFunction"
REPLY_DOMAIN = "reply.parley.example"
BOUNDARY = "----crmThreadBoundary"


# ── helpers ──


@pytest.fixture
def crm(app_env, tenant):
    """The tenant (with a reply domain) and its Caller, for creating records with the domain code."""
    from parley.domain.auth import configure_tenant
    from parley.domain.context import Caller

    t, _ = tenant
    t = configure_tenant(t.id, reply_domain=REPLY_DOMAIN)
    return t, Caller.of(t)


def make_record(caller, *, entity=("contact", "c-1"), to="ada@example.com", subject="Your offer", text="<p>Hello Ada</p>", user="u-1"):
    from parley.domain import emails

    msg = emails.new_outbound_email(caller, source_api="crm", recipient=to, subject=subject, body=text)
    msg = msg.model_copy(
        update={
            "recipients": [to],
            "related_entity_type": entity[0] if entity else None,
            "related_entity_id": entity[1] if entity else None,
            "created_by": user,
            "category": "OFFERTE",
        }
    )
    return emails.submit(msg)


def dispatch_all(handler, send_queue, drain):
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    assert records
    assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}


def mime(*, frm, to, subject, text, message_id, in_reply_to=None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = frm, to, subject, message_id
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(text)
    return msg.as_bytes()


def post_reply(handler, tenant_id, *, to, text, message_id, in_reply_to=None, frm="Ada Lovelace <ada@example.com>", cc=None):
    fields = {
        "email": mime(frm=frm, to=to, subject="Re: Your offer", text=text, message_id=message_id, in_reply_to=in_reply_to),
        "to": to,
        "from": frm,
        "envelope": json.dumps({"to": [to.split("<")[-1].rstrip(">")], "from": "ada@example.com"}),
        "subject": "Re: Your offer",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        **({"cc": cc} if cc else {}),
    }
    raw = b""
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else value.encode()
        raw += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
    raw += f"--{BOUNDARY}--\r\n".encode()
    event = api_event("candidate/email_reply", tenant_id=tenant_id, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    event["body"], event["isBase64Encoded"] = raw.decode(), False
    out = handler(REPLY)(event)
    assert out["statusCode"] == 200, out
    deliver_inbound(handler)  # InboundMailFunction stores what the webhook queued
    return body(out)["data"]["MessageSid"]


def get_thread(handler, tenant_id, message_id, headers=None):
    event = api_event("crm/thread", tenant_id=tenant_id, headers=headers)
    event["pathParameters"] = {"id": message_id}
    event["path"] = f"/api/v1/communications/{message_id}/thread"
    return handler(THREAD)(event)


def get_by_entity(handler, tenant_id, query):
    return handler(BY_ENTITY)(api_event("crm/by_entity", tenant_id=tenant_id, query=query))


# ── thread ──


def test_thread_lists_the_record_and_the_reply_that_came_by_token(handler, crm, send_queue, drain, table_items):
    from parley.dal import keys, messages

    t, caller = crm
    rec = make_record(caller)
    dispatch_all(handler, send_queue, drain)
    sent = messages.get(t.id, rec.id)
    assert sent.reply_to == f"reply+{rec.conversation_id}@{REPLY_DOMAIN}"

    reply_id = post_reply(
        handler, t.id, to=f"Acme <{sent.reply_to}>", cc="Bob <bob@example.com>", text="Sounds good.", message_id="<r1@mail.example.com>"
    )

    # Stored: the reply names its parent, carries the record's entity (so it is in GSI6), and its To/Cc.
    item = next(i for i in table_items() if i["PK"] == keys.message_pk(t.id, reply_id) and i["SK"] == keys.MESSAGE_SK)
    assert item["parent_id"] == rec.id
    assert (item["related_entity_type"], item["related_entity_id"]) == ("contact", "c-1")
    assert item["GSI6PK"] == keys.entity_pk(t.id, "contact", "c-1")
    assert item["recipients"] == [sent.reply_to] and item["cc"] == ["bob@example.com"]
    assert item["GSI3PK"] == keys.conversation_pk(t.id, rec.conversation_id)

    out = get_thread(handler, t.id, rec.id)
    assert out["statusCode"] == 200, out
    thread = body(out)
    assert set(thread) == {"inbound", "outbound"}
    (outbound,) = thread["outbound"]
    (inbound,) = thread["inbound"]
    assert set(outbound) == RECORD_KEYS and set(inbound) == INBOUND_KEYS
    assert outbound["id"] == rec.id and outbound["status"] == "SENT" and outbound["relatedEntityId"] == "c-1"
    assert outbound["createdBy"] == "u-1" and outbound["type"] == "OFFERTE" and outbound["recipients"] == ["ada@example.com"]
    assert inbound["id"] == reply_id
    assert inbound["parentCommunicationId"] == rec.id
    assert inbound["conversationId"] == rec.conversation_id == outbound["conversationId"]
    assert (inbound["relatedEntityType"], inbound["relatedEntityId"]) == ("contact", "c-1")
    assert inbound["fromEmail"] == "ada@example.com" and inbound["fromName"] == "Ada Lovelace"
    assert inbound["recipients"] == [sent.reply_to] and inbound["cc"] == ["bob@example.com"]
    assert inbound["bodyText"].strip() == "Sounds good." and inbound["bodyHtml"] is None
    assert inbound["internetMessageId"] == "<r1@mail.example.com>" and inbound["status"] == "NEW"
    assert inbound["receivedAt"].endswith("Z") and inbound["graphMessageId"] is None

    # The same thread read from the reply's id.
    again = get_thread(handler, t.id, reply_id)
    assert body(again) == thread


def test_thread_by_in_reply_to_orders_each_side_chronologically_and_leaves_other_conversations_out(handler, crm, send_queue, drain):
    from parley.dal import messages
    from parley.domain import emails

    t, caller = crm
    first = make_record(caller, subject="First")
    other = make_record(caller, subject="Another conversation")
    dispatch_all(handler, send_queue, drain)
    # A follow-up in the same conversation (as a resend or a second email would be).
    follow = emails.new_outbound_email(caller, source_api="crm", recipient="ada@example.com", subject="Follow-up", body="Any news?",
                                       conversation_id=first.conversation_id)  # fmt: skip
    emails.submit(follow)
    dispatch_all(handler, send_queue, drain)
    first_sent = messages.get(t.id, first.id)
    follow_sent = messages.get(t.id, follow.id)

    r1 = post_reply(handler, t.id, to="jobs@acme.example", text="One", message_id="<a1@mail.example.com>",
                    in_reply_to=first_sent.internet_message_id)  # fmt: skip
    r2 = post_reply(handler, t.id, to="jobs@acme.example", text="Two", message_id="<a2@mail.example.com>",
                    in_reply_to=follow_sent.internet_message_id)  # fmt: skip

    thread = body(get_thread(handler, t.id, follow.id))
    assert [o["id"] for o in thread["outbound"]] == [first.id, follow.id]
    assert [i["id"] for i in thread["inbound"]] == [r1, r2]
    assert [i["parentCommunicationId"] for i in thread["inbound"]] == [first.id, follow.id]
    assert [i["inReplyTo"] for i in thread["inbound"]] == [first_sent.internet_message_id, follow_sent.internet_message_id]
    assert other.id not in {o["id"] for o in thread["outbound"]}
    # the other conversation's thread holds only its own record
    lone = body(get_thread(handler, t.id, other.id))
    assert [o["id"] for o in lone["outbound"]] == [other.id] and lone["inbound"] == []


def test_thread_of_an_unknown_or_another_tenants_id_is_404(handler, crm, other_tenant):
    t, caller = crm
    rec = make_record(caller)
    o, _ = other_tenant
    for tenant_id, message_id in ((t.id, "00000000-0000-4000-8000-000000000000"), (o.id, rec.id)):
        out = get_thread(handler, tenant_id, message_id)
        assert out["statusCode"] == 404, out
        assert set(body(out)) == {"title", "detail", "time"} and body(out)["title"] == "Not Found"


def test_thread_refuses_an_x_tenant_id_naming_another_tenant(handler, crm, other_tenant):
    t, caller = crm
    rec = make_record(caller)
    o, _ = other_tenant
    out = get_thread(handler, t.id, rec.id, headers={"X-Tenant-ID": o.id})
    assert out["statusCode"] == 403, out
    assert get_thread(handler, t.id, rec.id, headers={"X-Tenant-ID": t.id})["statusCode"] == 200


def test_thread_of_an_sms_is_404(handler, crm):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import Message, MessageStatus

    t, _ = crm
    sms = Message(tenant_id=t.id, id="sms-1", channel="sms", direction="outbound", status=MessageStatus.SENT, source_api="candidate",
                  sender="+15550000000", recipient="+15551111111", body="hi", conversation_id="sms-1", provider="sns",
                  created_at=clock.now())  # fmt: skip
    messages.create(sms)
    assert get_thread(handler, t.id, "sms-1")["statusCode"] == 404


# ── by-entity ──


def test_by_entity_lists_both_directions_newest_first(handler, crm, other_tenant, send_queue, drain):
    from parley.dal import messages

    t, caller = crm
    rec = make_record(caller, entity=("deal", "D-9"), text="<p>Our <b>offer</b></p>")
    make_record(caller, entity=("deal", "D-10"))  # another entity
    make_record(caller, entity=None)  # no entity
    dispatch_all(handler, send_queue, drain)
    sent = messages.get(t.id, rec.id)
    reply_id = post_reply(handler, t.id, to=f"<{sent.reply_to}>", text="Thanks!", message_id="<e1@mail.example.com>")

    out = get_by_entity(handler, t.id, {"entityType": "deal", "entityId": "D-9"})
    assert out["statusCode"] == 200, out
    rows = body(out)
    assert [r["id"] for r in rows] == [reply_id, rec.id]
    assert all(set(r) == ENTITY_KEYS for r in rows)
    inbound, outbound = rows
    assert inbound["direction"] == "INBOUND" and outbound["direction"] == "OUTBOUND"
    assert inbound["fromEmail"] == "ada@example.com" and inbound["status"] == "NEW" and inbound["opened"] is False
    assert inbound["recipients"] == [sent.reply_to] and inbound["conversationId"] == rec.conversation_id
    assert outbound["status"] == "SENT" and outbound["fromEmail"] == "no-reply@parley.example"
    assert outbound["bodyHtml"] == "<p>Our <b>offer</b></p>" and "offer" in outbound["bodyText"]
    assert outbound["date"] == sent.sent_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{sent.sent_at.microsecond // 1000:03d}Z"
    assert outbound["recipients"] == ["ada@example.com"] and outbound["subject"] == "Your offer"
    assert inbound["date"] >= outbound["date"]

    # The entity key is exact (type and id), and tenant-scoped.
    assert body(get_by_entity(handler, t.id, {"entityType": "deal", "entityId": "D-1"})) == []
    assert body(get_by_entity(handler, t.id, {"entityType": "contact", "entityId": "D-9"})) == []
    o, _ = other_tenant
    assert body(get_by_entity(handler, o.id, {"entityType": "deal", "entityId": "D-9"})) == []


def test_a_reply_to_a_record_without_an_entity_stays_out_of_every_entity(handler, crm, send_queue, drain, table_items):
    from parley.dal import keys, messages

    t, caller = crm
    rec = make_record(caller, entity=None)
    dispatch_all(handler, send_queue, drain)
    sent = messages.get(t.id, rec.id)
    reply_id = post_reply(handler, t.id, to=f"<{sent.reply_to}>", text="Hi", message_id="<n1@mail.example.com>")
    item = next(i for i in table_items() if i["PK"] == keys.message_pk(t.id, reply_id) and i["SK"] == keys.MESSAGE_SK)
    assert item["parent_id"] == rec.id
    assert "GSI6PK" not in item and "related_entity_type" not in item


@pytest.mark.parametrize(
    "query",
    [
        None,
        {"entityType": "deal"},
        {"entityId": "D-9"},
        {"entityType": "", "entityId": "D-9"},
        {"entityType": "deal", "entityId": ""},
        {"entityType": "   ", "entityId": "D-9"},
        {"entityType": "deal", "entityId": "x" * 129},
    ],
)
def test_by_entity_needs_both_parameters(handler, crm, query):
    t, _ = crm
    out = get_by_entity(handler, t.id, query)
    assert out["statusCode"] == 400, out
    assert set(body(out)) == {"title", "detail", "time"} and body(out)["title"] == "Bad Request"
