"""purge-data (issue 15): a person written into every store through the APIs, purged, and then found nowhere — no
item of the table, no object of any bucket holds their address, phone or ids — while everyone else's data stays."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import _deliver, api_event, body, deliver_inbound, load_event, through_queue
from parley_local.workers import _sqs_record

ADA, ADA_PHONE, BOB, OUR_NUMBER = "ada.purge@example.com", "+15555550177", "bob.stays@example.com", "+15555550199"
TWILIO_HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
PURGE = "CourierAdminApi.CreatePurgeFunction"
GET_PURGE = "CourierAdminApi.GetPurgeFunction"


def _ok(handler, tenant_id, key, sample, **kw) -> Any:
    kw.setdefault("headers", {"Idempotency-Key": None})
    out = handler(key)(api_event(sample, tenant_id=tenant_id, **kw))
    assert out["statusCode"] in (200, 201), out
    return body(out)


def _dispatch(handler, send_queue, drain) -> None:
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    assert handler("root.DispatcherFunction")({"Records": records}) == {"batchItemFailures": []}


def _twilio_inbound(handler, tenant_id: str, params: dict[str, str]) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    put_tenant_secret(f"parley/{tenant_id}", {"twilio_account_sid": "AC0123", "twilio_auth_token": "tok"})
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")
    event = json.loads(json.dumps(load_event("candidate/twilio_inbound")))
    event["rawQueryString"] = f"tenant={tenant_id}"
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-twilio-signature"] = RequestValidator("tok").compute_signature(f"https://{TWILIO_HOST}/?tenant={tenant_id}", params)
    assert through_queue(handler, "CandidateApi.TwilioInboundFunction")(event)["statusCode"] == 200


def _ses_bounce(handler, tenant_id: str, message_id: str) -> None:
    import copy

    from parley.dal import messages

    msg = messages.get(tenant_id, message_id)
    ses = {
        "eventType": "Bounce",
        "mail": {"timestamp": "2026-12-01T09:44:03.000Z", "source": "no-reply@parley.example", "messageId": msg.provider_message_id,
                 "destination": [ADA], "tags": {"parley_tenant_id": [tenant_id], "parley_message_id": [message_id]}},
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-12-01T09:45:00.000Z",
                   "feedbackId": "fb-1", "bouncedRecipients": [{"emailAddress": ADA, "diagnosticCode": "550 no such user"}]},
    }  # fmt: skip
    record = copy.deepcopy(load_event("core/ses_events")["Records"][0])
    envelope = json.loads(record["body"])
    envelope.update(MessageId="sns-purge-1", Message=json.dumps(ses))
    record["body"] = json.dumps(envelope)
    assert handler("root.SesEventsFunction")({"Records": [record]}) == {"batchItemFailures": []}


def _inbound_reply(handler, tenant, conversation_id: str) -> None:
    """Ada answers by email (SendGrid Inbound Parse, raw mode): the post is kept in the inbound bucket."""
    import copy
    from email.message import EmailMessage

    from parley.domain.auth import configure_tenant

    t, key = tenant
    configure_tenant(t.id, reply_domain="reply.parley.example")
    auth = copy.deepcopy(load_event("core/authorizer"))
    auth["headers"], auth["multiValueHeaders"] = {"Authorization": f"Bearer {key}"}, {"Authorization": [f"Bearer {key}"]}
    out = handler("root.AuthorizerFunction")(auth)
    mail = EmailMessage()
    to = f"reply+{conversation_id}@reply.parley.example"
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = f"Ada Purgeable <{ADA}>", to, "Re: Interview", "<ada-1@mail.example>"
    mail.set_content("Works for me. Ada Purgeable, " + ADA_PHONE)
    boundary = "----purgeBoundary"
    fields = {"email": mail.as_string(), "to": to, "from": f"Ada Purgeable <{ADA}>", "subject": "Re: Interview",
              "envelope": json.dumps({"to": [to], "from": ADA}), "dkim": "{@example.com : pass}", "SPF": "pass",
              "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"})}  # fmt: skip
    raw = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    event = api_event("candidate/email_reply", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    event["requestContext"]["authorizer"] = {**out["context"], "principalId": out["principalId"]}
    event["body"], event["isBase64Encoded"] = raw + f"--{boundary}--\r\n", False
    reply = handler("CandidateApi.EmailReplyFunction")(event)
    assert reply["statusCode"] == 200, reply
    deliver_inbound(handler)


@pytest.fixture
def person(handler, tenant, send_queue, drain) -> dict[str, Any]:
    """Ada, written into every store through the APIs (and Bob, who must stay)."""
    from parley.dal import candidates, messages
    from parley.domain import candidates as candidate_directory

    t = tenant[0]
    # Ada is in the candidate directory with both her addresses (`parley.admin upsert-candidate`), as an ATS imports her
    cid = candidate_directory.upsert(t.id, email=ADA, phone=ADA_PHONE, firstname="Ada", lastname="Purgeable").id
    big = "<p>Dear Ada Purgeable,</p>" + "x" * 40_000  # kept in S3 (over 32 KiB)
    email_id = _ok(handler, t.id, "CandidateApi.SendEmailFunction", "candidate/send_email",
                   body={"subject": "Interview, Ada", "emailContent": big, "toEmail": ADA})["data"]["emailActivityId"]  # fmt: skip
    _ok(handler, t.id, "CandidateApi.SmsOptinPutFunction", "candidate/sms_optin_put",
        body={"phoneNumber": ADA_PHONE, "email": ADA, "optIn": True})  # fmt: skip
    sms_id = _ok(handler, t.id, "CandidateApi.SendSmsFunction", "candidate/send_sms",
                 body={"message": "Hi Ada", "phoneNumber": ADA_PHONE})["data"]["messageSID"]  # fmt: skip
    _ok(handler, t.id, "CandidateApi.ForwardProfileFunction", "candidate/forward_profile",
        body={"subject": "Ada's profile", "toEmail": "hiring.manager@acme.example", "candidateEmail": ADA})  # fmt: skip
    record_id = _ok(handler, t.id, "CrmApi.SendFunction", "crm/send", body={
        "subject": "Your quote", "body": '<p>Hello, see <a href="https://example.com/q/42">it</a>.</p>', "recipients": [ADA],
        "trackingEnabled": True, "linkTrackingEnabled": True})["id"]  # fmt: skip
    bob_id = _ok(handler, t.id, "CrmApi.SendFunction", "crm/send", body={
        "subject": "Team note", "body": "<p>Hi Bob</p>", "recipients": [BOB], "cc": [ADA]})["id"]  # fmt: skip
    _dispatch(handler, send_queue, drain)
    _ses_bounce(handler, t.id, email_id)
    _inbound_reply(handler, tenant, messages.get(t.id, email_id).conversation_id)
    _twilio_inbound(handler, t.id, {"MessageSid": "SM" + "7" * 32, "From": ADA_PHONE, "To": OUR_NUMBER, "Body": "STOP",
                                    "AccountSid": "AC0123"})  # fmt: skip
    email = messages.get(t.id, email_id)
    assert email.body_ref and email.candidate_id == cid and messages.get(t.id, sms_id).candidate_id == cid
    assert messages.get(t.id, record_id).track_token and candidates.get(t.id, cid).phone == ADA_PHONE
    return {"tenant": t, "candidate_id": cid, "email_id": email_id, "sms_id": sms_id, "record_id": record_id, "bob_id": bob_id}


def _traces(aws, table_items, needles: list[str]) -> list[str]:
    """Every item and object that holds one of ``needles``, anywhere in the account's table and buckets."""
    from parley.dal.aws import client

    found = [f"item {i['PK']} / {i['SK']}" for i in table_items() if any(n.lower() in json.dumps(i, default=str).lower() for n in needles)]
    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            data = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read().decode("utf-8", "replace").lower()
            if any(n.lower() in data or n.lower() in obj["Key"].lower() for n in needles):
                found.append(f"object s3://{bucket['Name']}/{obj['Key']}")
    return found


def _purge(handler, tenant_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    out = handler(PURGE)(api_event("courier_admin/create_purge", tenant_id=tenant_id,
                                   body={"data": {"type": "system-purges", "attributes": attributes}}))  # fmt: skip
    assert out["statusCode"] == 201, out
    assert out["body"] == "null"
    return out


def _run_purges(handler, aws) -> None:
    url = aws.queues[next(a for a in aws.queues if a.endswith("-PurgeQueue"))]
    for _ in range(4):  # the data step, then the tallies step it queues
        delivered, failures = _deliver(handler, "root.PurgeFunction", url)
        assert failures == []
        if not delivered:
            return


def _job(handler, tenant_id: str, request_id: str) -> tuple[int, dict[str, Any]]:
    event = api_event("courier_admin/get_purge", tenant_id=tenant_id)
    event["path"], event["pathParameters"] = f"/v1/purge-data/{request_id}", {"request_id": request_id}
    out = handler(GET_PURGE)(event)
    return out["statusCode"], body(out)


@pytest.fixture
def no_delay(monkeypatch):
    from parley.domain import purge

    monkeypatch.setattr(purge, "DELAY_SECONDS", 0)
    monkeypatch.setattr(purge, "FIRST_CHECK_SECONDS", 0)


def test_a_purged_candidate_is_found_nowhere_and_everyone_else_stays(handler, aws, person, table_items, no_delay):
    from parley.dal import messages

    t, cid = person["tenant"], person["candidate_id"]
    needles = [ADA, ADA_PHONE, cid, "Purgeable"]
    before = _traces(aws, table_items, needles)
    kinds = {line.split(" ")[1].split("#")[2] if line.startswith("item TENANT#") else line for line in before}
    assert len(before) > 15 and {"MSG", "OPTIN", "FWD", "CANDIDATE", "CANDADDR", "SUPPRESSION"} <= kinds, before
    assert sum(line.startswith("object ") for line in before) == 2, before  # the long body; the reply as posted
    assert any("TALLY#" in line for line in before), before

    _purge(handler, t.id, {"entity-type": "candidate", "entity-id": cid, "request-id": "erase-ada", "reference-id": "ticket-7"})
    status, doc = _job(handler, t.id, "erase-ada")
    assert status == 200 and doc["data"]["attributes"]["status"] == "queued"
    _run_purges(handler, aws)

    assert _traces(aws, table_items, needles) == []
    status, doc = _job(handler, t.id, "erase-ada")
    attrs = doc["data"]["attributes"]
    assert (status, doc["data"]["type"], doc["data"]["id"]) == (200, "system-purges", "erase-ada")
    assert attrs["status"] == "done" and attrs["finished-time"] and attrs["reference-id"] == "ticket-7"
    assert attrs["entity-id"].startswith("sha256:")  # the job records the erasure, not the person
    assert attrs["counts"]["messages"] >= 5 and attrs["counts"]["mentions"] == 1 and attrs["counts"]["tallies"] >= 3
    # Ada's messages are gone; Bob's stays, with Ada's address replaced
    assert messages.get(t.id, person["email_id"]) is None and messages.get(t.id, person["record_id"]) is None
    bob = messages.get(t.id, person["bob_id"])
    assert bob.recipient == BOB and bob.cc and bob.cc[0].startswith("purged-") and bob.cc[0].endswith("@purged.invalid")


def test_archive_keeps_the_messages_anonymised(handler, aws, person, table_items, no_delay):
    from parley.dal import messages

    t, cid = person["tenant"], person["candidate_id"]
    _purge(handler, t.id, {"entity-type": "candidate", "entity-id": cid, "archive": True})
    _run_purges(handler, aws)
    assert _traces(aws, table_items, [ADA, ADA_PHONE, cid]) == []
    kept = messages.get(t.id, person["email_id"])
    assert kept is not None and kept.status.value == "SENT" and kept.body == "[purged]" and kept.subject == "[purged]"
    assert kept.recipient.startswith("purged-") and kept.body_ref is None and kept.candidate_id != cid
    record = messages.get(t.id, person["record_id"])
    assert record.track_token is None and record.links == [] and record.recipient.startswith("purged-")


def test_the_same_request_is_one_job_and_another_under_its_id_is_a_conflict(handler, aws, person, no_delay):
    t, cid = person["tenant"], person["candidate_id"]
    request = {"entity-type": "candidate", "entity-id": cid, "request-id": "erase-once"}
    _purge(handler, t.id, request)
    _purge(handler, t.id, request)  # a client's retry
    url = aws.queues[next(a for a in aws.queues if a.endswith("-PurgeQueue"))]
    delivered, _ = _deliver(handler, "root.PurgeFunction", url)
    data_steps = [m for m in delivered if json.loads(m["Body"])["phase"] == "data"]
    assert len(data_steps) == 2  # queued again while it had not started (the first queueing may have been lost); harmless
    _run_purges(handler, aws)
    assert _job(handler, t.id, "erase-once")[1]["data"]["attributes"]["status"] == "done"
    _purge(handler, t.id, request)  # after it finished: the same job, nothing queued
    assert _deliver(handler, "root.PurgeFunction", url)[0] == []
    clash = handler(PURGE)(api_event("courier_admin/create_purge", tenant_id=t.id, body={
        "data": {"type": "system-purges", "attributes": {**request, "archive": True}}}))  # fmt: skip
    assert clash["statusCode"] == 409 and body(clash)["errors"][0]["source"]["pointer"] == "/data/attributes/request-id"


def test_another_tenants_purge_is_a_404_and_bad_requests_are_400s(handler, aws, person, other_tenant, no_delay):
    t = person["tenant"]
    _purge(handler, t.id, {"entity-type": "candidate", "entity-id": person["candidate_id"], "request-id": "mine"})
    assert _job(handler, other_tenant[0].id, "mine")[0] == 404
    for attributes, pointer in (
        ({"entity-type": "planet", "entity-id": "x"}, "/data/attributes/entity-type"),
        ({"entity-type": "candidate"}, "/data/attributes/entity-id"),
        ({"entity-type": "candidate", "entity-id": "x", "colour": "red"}, "/data/attributes/colour"),
    ):
        out = handler(PURGE)(api_event("courier_admin/create_purge", tenant_id=t.id,
                                       body={"data": {"type": "system-purges", "attributes": attributes}}))  # fmt: skip
        assert out["statusCode"] == 400, out
        assert pointer in [e.get("source", {}).get("pointer") for e in body(out)["errors"]]
    wrong = {"data": {"type": "purges", "attributes": {"entity-type": "user", "entity-id": "u"}}}
    wrong_type = handler(PURGE)(api_event("courier_admin/create_purge", tenant_id=t.id, body=wrong))
    assert wrong_type["statusCode"] == 409


USER, USER_EMAIL, INDIVIDUAL, GROUP, OTHER_USER = "u-purge", "nurse.purge@example.com", "ind-purge", "grp-1", "u-stays"


def _courier_world(handler, tenant_id: str) -> dict[str, str]:
    """A courier user with an individual they own (a member and leader of a care team), a sent user-email about it with
    an attachment, a sniffer that recorded one of the user's requests — and another user who stays."""
    from parley import clock
    from parley.dal import email_attachments
    from parley.dal.aws import client
    from parley.domain import directory, sniffers
    from parley.models.sniffers import NewSnifferAttributes
    from parley.settings import get_settings

    lines = [
        {"type": "organizations", "id": "org-1", "attributes": {"name": "northside"}},
        {"type": "users", "id": USER, "attributes": {"username": "nurse", "email": USER_EMAIL, "primary-individual-id": INDIVIDUAL}},
        {"type": "users", "id": OTHER_USER, "attributes": {"username": "stays", "email": BOB}},
        {"type": "individuals", "id": INDIVIDUAL, "attributes": {"owner-id": USER, "first-name": "Purgeable"}},
        {"type": "individual-groups", "id": GROUP, "attributes": {"name": "team", "individuals": [{"id": INDIVIDUAL}, {"id": "ind-x"}],
                                                                   "leaders": [{"id": INDIVIDUAL}]}},
    ]  # fmt: skip
    assert (
        directory.import_lines(tenant_id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines]).invalid == []
    )
    attributes = {"to": "family.purge@example.com", "subject": "Care plan", "message": "Dear Purgeable family",
                  "sender-organization-id": "org-1", "individual-id": INDIVIDUAL}  # fmt: skip
    out = handler("CourierEmailApi.CreateUserEmailFunction")(api_event(
        "courier_email/create_user_email", tenant_id=tenant_id, body={"data": {"type": "user-emails", "attributes": attributes}},
        headers={"X-User-ID": USER, "Idempotency-Key": None}))  # fmt: skip
    assert out["statusCode"] == 201, out
    email_id = body(out)["data"]["id"]
    doc = {
        "data": {
            "type": "user-email-attachments",
            "attributes": {"content-type": "text/plain", "email-id": email_id, "filename": "plan.txt"},
        }
    }
    ticket = body(handler("CourierEmailApi.CreateUserEmailAttachmentFunction")(
        api_event("courier_email/create_user_email_attachment", tenant_id=tenant_id, body=doc)))  # fmt: skip
    client("s3").put_object(
        Bucket=get_settings().body_bucket, Key=email_attachments.upload_key(tenant_id, ticket["id"]), Body=b"Purgeable's plan"
    )
    ev = api_event("courier_email/process_user_email_attachment_upload", tenant_id=tenant_id, body={})
    ev["pathParameters"], ev["path"] = {"id": ticket["id"]}, f"/v1/user-email-attachments/{ticket['id']}/process-upload/"
    assert handler("CourierEmailApi.ProcessUserEmailAttachmentUploadFunction")(ev)["statusCode"] == 201
    send = api_event("courier_email/send_user_email", tenant_id=tenant_id, body={}, headers={"X-User-ID": USER})
    send["pathParameters"], send["path"] = {"id": email_id}, f"/v1/user-emails/{email_id}/send/"
    assert handler("CourierEmailApi.SendUserEmailFunction")(send)["statusCode"] == 201
    sniffers.create(tenant_id, NewSnifferAttributes(user_id=USER, valid_until=clock.iso(clock.now() + timedelta(hours=1))))
    from parley.dal import tenants
    from parley.domain.context import Caller

    context = Caller.of(tenants.get(tenant_id)).authorizer_context()
    request = {"requestContext": {"authorizer": context}, "headers": {"X-User-ID": USER}, "path": f"/v1/users/{USER}", "httpMethod": "GET"}
    sniffers.record(request, sniffers.before(request), {"statusCode": 200, "body": json.dumps({"email": USER_EMAIL})})
    # a notification to the user about the individual (its day counted), one to the user who stays, a badge counter
    from parley.domain import badges, notifications
    from parley.models.notifications import NotificationData
    from parley.models.user_notifications import BadgeCountInput

    for nid, user in (("n-purged", USER), ("n-stays", OTHER_USER)):
        notifications.notify(tenant_id, notification_id=nid, user_id=user, individual_id=INDIVIDUAL if user == USER else None,
                             organization_id="org-1", category=None, data=NotificationData.model_validate({"sms": {"bodies": ["Hi"]}}),
                             email=None, source={})  # fmt: skip
    badges.set_count(tenant_id, BadgeCountInput(individual_id=INDIVIDUAL, type="appointment", count=1))
    return {"email_id": email_id, "attachment_id": ticket["id"]}


def test_a_purged_courier_user_takes_their_individuals_emails_files_and_sniffers(handler, aws, tenant, send_queue, drain, table_items,
                                                                                 no_delay, monkeypatch):  # fmt: skip
    from parley.dal import directory as store
    from parley.dal import messages

    t = tenant[0]
    world = _courier_world(handler, t.id)
    _dispatch(handler, send_queue, drain)
    from parley.domain import live  # the individual's live-update connection (messaging)

    live.open_connection(live.Listener(tenant_id=t.id, individual_id=INDIVIDUAL, user_id=USER), "purge-conn=")
    # messaging: a chat with ind-x — the individual's posted message (the channel's last), a draft, a reaction to
    # ind-x's message, a bookmark of it
    from parley.dal import aws as aws_clients
    from parley.domain import channel_bookmarks, channel_messages, channels
    from parley.models.channel_bookmarks import BookmarkCreateAttributes
    from parley.settings import get_settings

    monkeypatch.setenv("CHANNEL_EVENTS_QUEUE_URL", aws.queues[next(a for a in aws.queues if a.endswith("-ChannelEventsQueue"))])
    get_settings.cache_clear()
    aws_clients.reset()

    chat, _ = channels.create_channel(t.id, organization_id="org-1", creator_individual_id="ind-x", individual_ids=[INDIVIDUAL],
                                     publish=False)  # fmt: skip
    theirs = channel_messages.post(t.id, chat["id"], "ind-x", "shift swap?", publish=False)
    channel_messages.react(t.id, theirs["id"], INDIVIDUAL, "like", add=True)
    channel_bookmarks.create(
        t.id, INDIVIDUAL, BookmarkCreateAttributes.model_validate({"channel-id": chat["id"], "message-id": theirs["id"]})
    )
    channel_messages.post(t.id, chat["id"], INDIVIDUAL, "Purgeable-draft", draft=True)
    channel_messages.post(t.id, chat["id"], INDIVIDUAL, "Purgeable-said yes", user_id=USER, publish=False)
    needles = [USER, USER_EMAIL, INDIVIDUAL, "Purgeable"]
    before = _traces(aws, table_items, needles)
    assert any("#CHMSG#" in line for line in before) and any("#CHBM#" in line for line in before), before
    assert any("#UEMAIL#" in line for line in before) and any("SNIFF" in line for line in before), before
    assert any("#WS#IND#" in line for line in before) and any("WSCONN#purge-conn=" in line for line in before), before
    assert any("#NOTIF#" in line for line in before) and any("#NOTIFDAY#" in line for line in before), before
    assert any("#BADGE#" in line for line in before), before
    assert any(line.startswith("object ") for line in before), before

    _purge(handler, t.id, {"entity-type": "user", "entity-id": USER, "request-id": "erase-nurse"})
    _run_purges(handler, aws)
    assert _traces(aws, table_items, needles) == []
    attrs = _job(handler, t.id, "erase-nurse")[1]["data"]["attributes"]
    assert attrs["status"] == "done", attrs
    counts = attrs["counts"]
    assert counts["user_emails"] == 1 and counts["attachments"] == 1 and counts["sniffers"] == 1 and counts["sniffer_logs"] == 1
    assert counts["directory"] == 2 and counts["mentions_in_directory"] == 1 and counts["messages"] == 1
    assert counts["notifications"] == 2 and counts["badge_counts"] == 1  # the notification and its day; the counter
    assert counts["live_connections"] == 1
    from parley.dal import notifications as notification_store

    assert notification_store.get(t.id, "n-stays") is not None  # the other user's notification stays
    # the care team stays, without the purged individual; the other user stays
    group = store.attributes(store.get(t.id, "individual-groups", GROUP))
    assert group["individuals"] == [{"id": "ind-x"}] and group["leaders"] == [] and group["name"] == "team"
    assert store.get(t.id, "users", OTHER_USER) is not None
    assert messages.get(t.id, world["email_id"]) is None
    assert [m["message"] for m in channel_messages.page(t.id, chat["id"], "ind-x", offset=0, limit=5)[0]] == ["", "shift swap?"]
    assert counts["channel_messages"] == 1 and counts["channel_drafts"] == 1 and counts["channel_reactions"] == 1


def test_a_purged_individual_leaves_its_user(handler, aws, tenant, send_queue, drain, table_items, no_delay):
    from parley.dal import directory as store

    t = tenant[0]
    _courier_world(handler, t.id)
    _dispatch(handler, send_queue, drain)
    _purge(handler, t.id, {"entity-type": "individual", "entity-id": INDIVIDUAL})
    _run_purges(handler, aws)
    assert _traces(aws, table_items, [INDIVIDUAL, "Purgeable", "family.purge@example.com"]) == []
    from parley.dal import notifications as notification_store

    assert notification_store.get(t.id, "n-purged") is None and notification_store.get(t.id, "n-stays") is not None
    user = store.attributes(store.get(t.id, "users", USER))  # the user stays, without their purged individual
    assert user["email"] == USER_EMAIL and user["primary-individual-id"] is None


def test_a_purged_user_takes_their_push_devices_endpoints_and_logs(handler, aws, tenant, send_queue, drain, table_items, no_delay):
    """A purged user's devices go (docs/courier.md "Push credentials and devices"): the SNS platform endpoint, the
    device with its token, its logs and claims; another user's device stays."""
    from moto.sns.models import sns_backends

    from parley.dal import push as push_store
    from parley.domain import push
    from parley.models.notifications import NotificationData
    from parley.models.push import AppCredentialCreate, UserDeviceCreate

    t = tenant[0]
    _courier_world(handler, t.id)
    _dispatch(handler, send_queue, drain)
    data = {"signing-key": "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----", "signing-key-id": "K", "team-id": "T"}
    push.create_credential(t.id, AppCredentialCreate(app_name="clinic", type="apn", store_id="com.example", data=data))
    token, kept_token = "c" * 64, "d" * 64
    mine, _ = push.register_device(t.id, USER, INDIVIDUAL, UserDeviceCreate(type="apn", token=token, app_name="clinic"))
    kept, _ = push.register_device(t.id, OTHER_USER, None, UserDeviceCreate(type="apn", token=kept_token, app_name="clinic"))
    note = NotificationData.model_validate({"apn": {"title": "Purgeable", "body": "b"}})
    assert [a.outcome for a in push.deliver(t.id, USER, "n-1", note, badge=1, collapse_id="n-1")] == ["sent"]
    endpoints = sns_backends["123456789012"]["us-east-1"].platform_endpoints
    arn = push_store.get_device(t.id, mine)["endpoint_arn"]
    assert arn in endpoints and len(push_store.device_partition(t.id, mine)) == 3  # device, log, claim

    _purge(handler, t.id, {"entity-type": "user", "entity-id": USER, "request-id": "erase-devices"})
    _run_purges(handler, aws)
    attrs = _job(handler, t.id, "erase-devices")[1]["data"]["attributes"]
    assert attrs["status"] == "done" and attrs["counts"]["devices"] == 1 and attrs["counts"]["device_logs"] == 1, attrs
    assert push_store.device_partition(t.id, mine) == [] and arn not in endpoints
    assert _traces(aws, table_items, [token, mine]) == []
    assert push_store.get_device(t.id, kept) is not None and push_store.get_device(t.id, kept)["endpoint_arn"] in endpoints


def test_a_purged_courier_user_leaves_no_multicast_recipient_records(handler, aws, tenant, send_queue, drain, table_items, no_delay,
                                                                       monkeypatch):  # fmt: skip
    """Multicasts to the user's individual (with the other user's), to the user alone, and one the user made: after the
    purge no recipient record or multicast names them; the other user's record and the multicasts stay. (The
    notifications themselves are the notifications step's; the stand-in notify's items are left out of the search.)"""
    import multicast_fake

    from parley.dal import multicasts as mc_store
    from parley.domain import multicasts, templates
    from parley.models.crm import TemplateRequest

    t = tenant[0]
    _courier_world(handler, t.id)
    _dispatch(handler, send_queue, drain)
    from parley.domain import directory

    line = {"type": "individuals", "id": "ind-bob", "last-sync-time": "2026-11-01T09:00:00Z", "attributes": {"owner-id": OTHER_USER}}
    assert directory.import_lines(t.id, [json.dumps(line)]).invalid == []
    multicast_fake.install(monkeypatch)
    for name, value in aws.function("root.MulticastFunction").env.items():  # the queue the routes put the fan-out on
        monkeypatch.setenv(name, value)
    from parley.settings import get_settings

    get_settings.cache_clear()
    tpl = templates.create(t.id, TemplateRequest(name="N", subject="Hi {{recipient.name}}", bodyText="News"), user_id=None).id
    both, _ = multicasts.accept(t.id, multicasts.Request(kind="user-multicasts", template_id=tpl, data={}, created_by=USER,
                                                         individual_ids=[INDIVIDUAL, "ind-bob"]))  # fmt: skip
    alone, _ = multicasts.accept(t.id, multicasts.Request(kind="user", template_id=tpl, data={}, created_by=None, user_id=USER))
    url = aws.queues[next(a for a in aws.queues if a.endswith("-MulticastQueue"))]
    assert _deliver(handler, "root.MulticastFunction", url)[1] == []
    assert len(mc_store.all_recipient_keys(t.id, both["id"])) == 2 and len(mc_store.all_recipient_keys(t.id, alone["id"])) == 1

    _purge(handler, t.id, {"entity-type": "user", "entity-id": USER, "request-id": "erase-multicast"})
    _run_purges(handler, aws)
    everything = [i for i in table_items() if not str(i["PK"]).startswith(multicast_fake.PREFIX)]
    assert [i for i in everything if USER in json.dumps(i) or INDIVIDUAL in json.dumps(i)] == []
    counts = _job(handler, t.id, "erase-multicast")[1]["data"]["attributes"]["counts"]
    assert counts["multicast_recipients"] == 2 and counts["multicasts_rewritten"] == 2
    assert [r["individual_id"] for r in mc_store.all_recipient_keys(t.id, both["id"])] == ["ind-bob"]
    kept = mc_store.get(t.id, both["id"])
    assert kept["individual_ids"] == ["ind-bob"] and "created_by" not in kept and kept["notified"] == 2
    assert mc_store.get(t.id, alone["id"]) is not None and "user_id" not in mc_store.get(t.id, alone["id"])
