"""Battery (issue 5): tenant isolation on every route that takes an id.

The routes come from the SAM templates (every API route of every family, every Function URL); the id
parameters of each are its path parameters, its query parameters named like an id (from the family's
OpenAPI document, generated from the handlers) and the id fields of its JSON body. Each (route, id)
pair must have a case in ``CASES``: a route added later without one fails ``test_every_id_route_has_a_case``.

A case calls the route as tenant B with tenant A's real id and checks what B gets (404, or for
list-by-ids and filters: A's item left out) and that nothing was stored, changed or deleted (the whole
table compared). It then makes the same call as A, to show the id was live and the 404 was isolation.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import ROOT, api_event, body, load_event, through_queue
from parley_local import families

ID_NAME = re.compile(r"(?i)(^id|id|ids)$")
A_PHONE, A_STOP_PHONE, OUR_NUMBER = "+15555550100", "+15555550123", "+15555550199"
TWILIO_HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"


# ───────────── the routes that take an id, from the templates ─────────────
def _openapi(family: str) -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "openapi" / f"{family}.json").read_text())


def _body_id_fields(doc: dict[str, Any], op: dict[str, Any]) -> set[str]:
    out = set()
    for media in ((op.get("requestBody") or {}).get("content") or {}).values():
        ref = (media.get("schema") or {}).get("$ref", "")
        schema = doc.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
        out |= {f"body.{name}" for name in schema.get("properties", {}) if ID_NAME.search(name)}
    return out


def id_routes(stack: Any) -> dict[tuple[str, str], set[str]]:
    """(method, path) → the names of its id parameters, for every declared route that has one."""
    found: dict[tuple[str, str], set[str]] = {}
    docs = {family: _openapi(family) for family in families.names()}
    for api in stack.apis:
        for route in api.routes:
            family = families.applications()[route.function.key.split(".")[0]]
            doc = docs[family]
            op = doc["paths"].get(route.path, {}).get(route.method.lower())
            assert op is not None, f"{route.method} {route.path} is missing from docs/openapi/{family}.json (run make openapi)"
            names = {f"path.{p}" for p in re.findall(r"{(\w+)}", route.path)}
            names |= {f"query.{p['name']}" for p in op.get("parameters", []) if p["in"] == "query" and ID_NAME.search(p["name"])}
            names |= _body_id_fields(doc, op)
            if names:
                found[(route.method, route.path)] = names
    for fn in stack.functions.values():
        if fn.url_auth is not None:  # a Function URL: addressed by ?tenant=<id>, naming messages by provider id
            found[("URL", fn.key)] = {"query.tenant", "form.MessageSid"}
    return found


# ───────────── tenant A's world ─────────────
@dataclass
class World:
    a: Any
    b: Any
    email_id: str
    candidate_id: str
    sms_id: str
    sms_candidate_id: str
    forward_id: str
    stop_id: str  # the inbound STOP SMS, the communication of an opt-in history entry
    record_id: str  # a SENT CRM record with open and link tracking, related to deal 42
    token: str
    scheduled_id: str
    template_id: str
    sms_sid: str
    directory: dict[str, str]  # the courier directory of A: its type (organizations, …) → the id of one entity
    user_email_id: str  # a courier user-email (a draft) of A's user about A's individual
    sniffer_id: str  # a courier sniffer of A's user
    replicator_id: str  # a courier replicator of A
    attachment_id: str  # a ready user-email-attachment of A's user-email (user_email_id)
    push_credential_id: str = ""  # a courier app-credential (APNs) of A
    device_id: str = ""  # a courier user-device of A's user, with one push logged
    channel_id: str = ""  # a courier messaging channel of A (A's individual a member)
    channel_message_id: str = ""  # a message A's individual posted in it
    notification_id: str = ""  # a courier user-notification of A's user about A's individual (notify)
    badge_id: str = ""  # a badge counter of A's individual
    multicast_id: str = ""  # a queued multicast of A (A's CRM template, A's individual-group)
    b_template_id: str = ""  # a CRM template of B's (so B's multicast calls reach the id under test)
    texting: dict[str, str] = field(default_factory=dict)  # A's text account, number, lookup, map (_texting_of_a)
    attachments: dict[str, str] = field(default_factory=dict)  # A's channel, message, attachment, bookmark (_attachments_of_a)
    messaging: dict[str, str] = field(default_factory=dict)  # A's and B's messaging channels (_messaging_of)
    sms_channel_id: str = ""  # a courier messaging channel of A's individual, in A's organization (the SMS bridge's cases)
    bulk_plugins: dict[str, str] = field(default_factory=dict)  # A's bulk attachment and plugin, B's plugin (_bulk_plugins_of)
    responder_id: str = ""  # a messaging-responder of A's organization and individual-group (issue 19)
    announcer_ops: dict[str, str] = field(default_factory=dict)  # A's announcer and messaging-operation (_announcer_ops_of)
    voice_media: dict[str, str] = field(default_factory=dict)  # A's voice recording and survey (_voice_media_of_a, issue 20)
    voice: dict[str, str] = field(default_factory=dict)  # A's voice conference, dial log, queue agent, setting (_voice_calls_of_a)
    ask: dict[str, str] = field(default_factory=dict)  # A's Alexa subscription and reminder (_ask_of_a, issue 20)
    video_id: str = ""  # a courier video visit of A's individual (issue 20, area D: _visit_of_a)
    video: dict[str, str] = field(default_factory=dict)  # A's video channel, participant, composition (_video_of_a; issue 20 area E)


def _ask_of_a(tenant_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """Issue 20 (Alexa): A's skill, an Alexa user's subscription to it (registered for one event, linked to no user, so
    the owner's reminder PATCH makes no call to Amazon) and a reminder of A's individual by A's user, stored as the
    routes store them."""
    from parley.dal import ask as store

    now = "2026-11-01T09:00:00.000Z"
    org = dir_ids["organizations"]
    store.put_skill({"id": "7f000000-0000-4000-8000-0000000000a1", "tenant_id": tenant_id, "organization_id": org,
                     "alexa_app_id": "amzn1.ask.skill.of-a", "secret_name": "parley/alexa/none", "development": False,
                     "created_at": now})  # fmt: skip
    store.put_subscription({"id": "ask-subscription-of-a", "tenant_id": tenant_id, "organization_id": org,
                            "skill_id": "7f000000-0000-4000-8000-0000000000a1", "alexa_app_id": "amzn1.ask.skill.of-a",
                            "alexa_user_id": "amzn1.ask.account.OFA", "registered_events": ["AMAZON.MessageAlert.Activated"],
                            "created_at": now, "last_modified_at": now})  # fmt: skip
    store.put_reminder({"id": "ask-reminder-of-a", "tenant_id": tenant_id, "individual_id": dir_ids["individuals"], "name": "A's",
                        "reminder_content": "A's reminder", "reminder_time_local": "2026-12-08T09:00:00", "tz_info": "UTC",
                        "synced_to_alexa": False, "created_at": now, "created_by": dir_ids["users"], "last_modified_at": now})  # fmt: skip
    return {"subscription": "ask-subscription-of-a", "reminder": "ask-reminder-of-a"}


def _texting_of_a(tenant_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """A's texting account, number (with a log line), lookup and user number map, stored as the routes store them
    (no Twilio here: TWILIO_API_URL refuses connections, so the owner's claim-number gets past its account to a 502)."""
    from parley.dal import text_numbers as store
    from parley.domain import text_numbers

    now = "2026-11-01T09:00:00.000Z"
    ids = {"account": "text-account-of-a", "number": "text-number-of-a", "info": "number-info-of-a", "map": "number-map-of-a"}
    org = dir_ids["organizations"]
    account = {
        "organization_id": org,
        "allow_custom_number": False,
        "twilio_id": "AC" + "a" * 32,
        "created_at": now,
        "last_modified_at": now,
    }
    store.put_account(store.account_item(tenant_id, ids["account"], account))
    store.create_number(store.number_item(tenant_id, ids["number"], {
        "account_id": ids["account"], "organization_id": org, "phone_number": "+15555550142", "twilio_id": "PN" + "a" * 32,
        "logging": True, "alert": False, "events": {}, "created_at": now, "last_modified_at": now}))  # fmt: skip
    text_numbers.record_number_log(tenant_id, ids["number"], {"from": A_PHONE, "body": "hello"})
    store.create_info({"tenant_id": tenant_id, "id": ids["info"], "number": A_PHONE, "status": "resolved", "line_type": "mobile",
                       "created_at": now, "last_modified_at": now, "expires_at": "2099-01-01T00:00:00.000Z"})  # fmt: skip
    store.create_map({"tenant_id": tenant_id, "id": ids["map"], "number_id": ids["number"], "organization_id": org,
                      "user_id": dir_ids["users"], "created_at": now})  # fmt: skip
    return ids | _texts_of_a(tenant_id, ids, org)


def _voice_media_of_a(tenant_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """A's voice recording (completed, of A's individual) and survey, stored as apply_recording and create store them."""
    from parley.dal import voice_media

    now, org, ind = "2026-11-01T09:00:00.000Z", dir_ids["organizations"], dir_ids["individuals"]
    rec = "RE" + "a" * 32
    created = {"type": "voice_recording", "tenant_id": tenant_id, "id": rec, "created_at": now, "organization_id": org,
               "GSI3PK": voice_media.recording_org_pk(tenant_id, org), "GSI3SK": f"{now}#{rec}", "download_count": 0}  # fmt: skip
    voice_media.upsert_recording(tenant_id, rec, created=created, fields={"individual_id": ind, "state": "completed", "duration": 3,
                                 "s3_key": voice_media.recording_key(tenant_id, rec), "last_modified_at": now})  # fmt: skip
    voice_media.put_survey(tenant_id, "voice-survey-of-a", {"organization_id": org, "individual_id": ind, "created_at": now,
                           "last_modified_at": now, "state": "running", "spec": {"questions": [{"prompt": "Q?"}]}})  # fmt: skip
    return {"recording": rec, "survey": "voice-survey-of-a", "organization": org, "individual": ind}


def _voice_call(path, key=None, org=False, individual=False):
    """A voice-recordings / voice-surveys call naming A's resource (``key``), organization or individual."""

    def run(w, call, who):
        params = {"id": w.voice_media[key]} if key else {}
        query = {"organization-id": w.voice_media["organization"]} if org else {}
        if individual:
            query["individual-id"] = w.voice_media["individual"]
        return call("GET", path, who.id, params=params, query=query, headers={"X-User-ID": w.directory["users"]})

    return run


def _voice_calls_of_a(a_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """Issue 20 area B: A's voice conference (with a call leg's dial log), a queue agent of A's voice line (stored by
    ``_voice_of_a``, which runs first: the ``texting`` argument of ``World``), and the API key of the conference's
    account in its secret (so A's get-credentials is answered without Twilio)."""
    from parley.dal import voice_calls as store
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import text_numbers, voice_calls

    now = "2026-11-01T09:00:00.000Z"
    ids = {"conference": "voice-conference-of-a", "setting": "voice-setting-of-a", "account": "voice-account-of-a"}
    org, ind = dir_ids["organizations"], dir_ids["individuals"]
    put_tenant_secret(text_numbers.secret_name(a_id, ids["account"]), {"account_sid": "AC" + "b" * 32, "auth_token": "t" * 32})
    put_tenant_secret(text_numbers.api_key_secret_name(a_id, ids["account"]), {"key_sid": "SK" + "b" * 32, "key_secret": "s" * 32})
    store.put_conference(a_id, {"id": ids["conference"], "organization_id": org, "individual_id": ind, "account_id": ids["account"],
                                "name": "parley-x", "state": "created", "created_at": now, "last_modified_at": now})  # fmt: skip
    voice_calls.apply_status(a_id, ids["conference"], {"CallSid": "CA" + "b" * 32, "CallStatus": "ringing", "To": f"client:{ind}"})
    ids["dial"] = voice_calls.dial_id(a_id, "CA" + "b" * 32)
    ids["agent"] = "voice-agent-of-a"
    agent = {"id": ids["agent"], "setting_id": ids["setting"], "organization_id": org, "account_id": ids["account"], "individual_id": ind,
             "user_id": dir_ids["users"], "use_pstn": False, "created_at": now, "last_modified_at": now}  # fmt: skip
    store.put_agent(a_id, agent)
    return ids


def _with_voice(tenant_id: str, texting: dict[str, str], dir_ids: dict[str, str]) -> dict[str, str]:
    return texting | _voice_of_a(tenant_id, texting, dir_ids)


def _voice_of_a(tenant_id: str, texting: dict[str, str], dir_ids: dict[str, str]) -> dict[str, str]:
    """A's voice line on A's text number, with a queue entry and a task (issue 20 area A), stored as the routes and
    callbacks store them."""
    from parley.dal import voice_lines as store

    now, org = "2026-11-01T09:00:00.000Z", dir_ids["organizations"]
    ids = {"voice_setting": "voice-setting-of-a", "voice_task": "voice-task-of-a", "voice_entry": "voice-entry-of-a"}
    store.put_setting(store.setting_item(tenant_id, ids["voice_setting"], {
        "account_id": texting["account"], "organization_id": org, "phone_number": "+15555550142", "number_id": texting["number"],
        "recording_enabled": False, "queue_sid": "QU" + "a" * 32, "queue_name": "parley-voice-of-a",
        "voice_url": f"https://api.example/v1/voice-ivrs/{ids['voice_setting']}/twiml/?tenant={tenant_id}",
        "status_url": "https://voice.example/status", "created_at": now, "last_modified_at": now}))  # fmt: skip
    store.put_task(tenant_id, ids["voice_task"], {"setting_id": ids["voice_setting"], "method": "refresh_queue_entries", "kwargs": {},
                                                  "state": "completed", "result": {"members": 0}, "created_at": now})  # fmt: skip
    store.put_entry_if_absent(store.entry_item(tenant_id, ids["voice_entry"], {
        "setting_id": ids["voice_setting"], "call_sid": "CA" + "a" * 32, "state": "waiting", "rank": 0, "position": 1, "queue_time": 3,
        "phone_number": A_PHONE, "created_at": now, "last_modified_at": now}))  # fmt: skip
    return ids


B_ATT_USER, B_ATT_INDIVIDUAL = "user-of-b-att", "individual-of-b-att"  # B's own user, probing A's ids


def _attachments_of_a(a_id: str, b_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """A channel of A's individual with a message, a ready attachment (a PNG) and a bookmark of it; and a user of
    B's own (B's directory), whose calls name A's ids (docs/courier.md "Attachments and bookmarks")."""
    import io

    from PIL import Image

    from parley.dal import channel_attachments as att_store
    from parley.dal import uploads
    from parley.domain import channel_attachments, channel_bookmarks, channel_messages, channels
    from parley.domain import directory as courier_directory
    from parley.models.channel_attachments import AttachmentCreateAttributes
    from parley.models.channel_bookmarks import BookmarkCreateAttributes

    me = dir_ids["individuals"]
    chan, _ = channels.create_channel(a_id, organization_id=dir_ids["organizations"], creator_individual_id=me, floating=True,
                                      publish=False)  # fmt: skip
    message = channel_messages.post(a_id, chan["id"], me, "for A only", publish=False)
    ticket = channel_attachments.create(
        a_id, me, AttachmentCreateAttributes(content_type="image/png", filename="a.png", message_id=message["id"])
    )
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    uploads.put(att_store.upload_key(a_id, ticket.id), png.getvalue(), content_type="image/png")
    channel_attachments.process_upload(a_id, me, ticket.id)
    (bookmark_id, _), _ = channel_bookmarks.create(a_id, me, BookmarkCreateAttributes(channel_id=chan["id"], message_id=message["id"]))
    lines = [
        {"type": "organizations", "id": "organization-of-b-att", "attributes": {}},
        {"type": "users", "id": B_ATT_USER, "attributes": {"primary-individual-id": B_ATT_INDIVIDUAL}},
        {"type": "individuals", "id": B_ATT_INDIVIDUAL, "attributes": {"owner-id": B_ATT_USER}},
    ]
    assert courier_directory.import_lines(b_id, [json.dumps({**x, "last-sync-time": "2026-11-01T09:00:00Z"}) for x in lines]).written == 3
    return {"channel": chan["id"], "message": message["id"], "attachment": ticket.id, "bookmark": bookmark_id}


TEXT_TOKEN = "auth-token-of-a-text-account"


def _announcer_ops_of(a_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """An announcer of A and a (completed) move-group operation of A, in A's organization (issue 19, area 4)."""
    from parley.dal import messaging_operations as ops
    from parley.domain import announcers
    from parley.models.announcers import AnnouncerCreateAttributes

    org = dir_ids["organizations"]
    args = {"message": "Welcome", "sender-individual-id": dir_ids["individuals"]}
    attrs = AnnouncerCreateAttributes(event="individual-shared", name="A's", organization_id=org, type="message", args=args)
    announcer_id, _ = announcers.create(a_id, attrs, user_id=None)
    at = "2026-11-01T09:00:00.000Z"
    move = {"from-individual-group-id": "g-from", "to-individual-group-id": "g-to"}
    ops.create({"tenant_id": a_id, "id": "op-of-a", "organization_id": org, "kind": "move-group", "status": "completed", "logs": {},
                "args": move, "created_at": at, "last_modified_at": at})  # fmt: skip
    return {"announcer": announcer_id, "operation": "op-of-a", "organization": org}


def _messaging_of(a_id: str, b_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """A's channel (A's individual, an admin, and a second individual of A's user) and B's own floating channel (B's
    user and individual, in B's directory), stored as the create route stores them (docs/courier.md "Channels")."""
    from parley.domain import channels
    from parley.domain import directory as courier_directory

    at = "2026-11-01T09:00:00Z"

    def line(type_: str, id_: str, attributes: dict[str, str]) -> str:
        return json.dumps({"type": type_, "id": id_, "last-sync-time": at, "attributes": attributes})

    second = "individuals-2-of-a"
    assert courier_directory.import_lines(a_id, [line("individuals", second, {"owner-id": dir_ids["users"]})]).written == 1
    b_lines = [line("organizations", "organizations-of-b", {}), line("users", "users-of-b", {"primary-individual-id": "individuals-of-b"}),
               line("individuals", "individuals-of-b", {"owner-id": "users-of-b"})]  # fmt: skip
    assert courier_directory.import_lines(b_id, b_lines).written == 3
    a_channel, _ = channels.create_channel(a_id, organization_id=dir_ids["organizations"], creator_individual_id=dir_ids["individuals"],
                                           individual_ids=[second], publish=False)  # fmt: skip
    b_channel, _ = channels.create_channel(b_id, organization_id="organizations-of-b", creator_individual_id="individuals-of-b",
                                           floating=True, publish=False)  # fmt: skip
    return {"a_channel": a_channel["id"], "b_channel": b_channel["id"], "a_second": second, "b_org": "organizations-of-b"}


def _bulk_plugins_of(a_id: str, b_id: str, dir_ids: dict[str, str], a_channel: str) -> dict[str, str]:
    """Issue 19 area 2: A's draft bulk message (area 1's item, written with its keys) with a ready bulk attachment, A's
    template plugin in A's organization; B's own template plugin in B's organization (after ``_messaging_of``)."""
    from parley.dal import bulk_attachments as bulk_store
    from parley.dal import bulk_messages, table, uploads
    from parley.domain import bulk_attachments, plugins, templates
    from parley.models.bulk_attachments import BulkAttachmentCreateAttributes
    from parley.models.crm import TemplateRequest
    from parley.models.messaging_plugins import PluginCreateAttributes

    bulk_id = "bulk-of-a"
    table.put_item({"PK": bulk_messages.pk(a_id, bulk_id), "SK": bulk_messages.SK, "type": bulk_messages.ITEM_TYPE, "tenant_id": a_id,
                    "id": bulk_id, "draft": True, "organization_id": dir_ids["organizations"]})  # fmt: skip
    ticket = bulk_attachments.create(
        a_id, BulkAttachmentCreateAttributes(bulk_message_id=bulk_id, content_type="text/plain", filename="a.txt")
    )
    uploads.put(bulk_store.upload_key(a_id, ticket.id), b"for A only", content_type="text/plain")
    bulk_attachments.process_upload(a_id, ticket.id)
    out = {"bulk": bulk_id, "bulk_attachment": ticket.id, "a_channel": a_channel}
    for tenant_id, org, key in ((a_id, dir_ids["organizations"], "a_plugin"), (b_id, "organizations-of-b", "b_plugin")):
        template_id = templates.create(
            tenant_id, TemplateRequest(name="plugin", subject="x", bodyText="In {{channel.id}}"), user_id=None
        ).id
        attrs = PluginCreateAttributes(name="greeting", type="template", args={"template-id": template_id}, organization_id=org)
        out[key] = plugins.create(tenant_id, attrs, user_id=None)[0]
    return out


def _responder_of(a_id: str, dir_ids: dict[str, str]) -> str:
    """A messaging-responder of A's organization for A's individual-group, stored as the create route stores it."""
    from parley.domain import responders
    from parley.models.messaging_responders import ResponderCreate

    attrs = ResponderCreate.model_validate(
        {"organization-id": dir_ids["organizations"], "individual-group-id": dir_ids["individual-groups"], "args": {"message": "A is away"}}
    )
    return responders.create(a_id, dir_ids["users"], attrs)["id"]


def _bulk_of_a(a_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """A draft bulk message of A's user, to A's second individual (issue 19, area 1: docs/courier.md "Bulk messages")."""
    from parley.domain import bulk_messages
    from parley.models.bulk_messages import BulkMessageCreate

    attrs = BulkMessageCreate.model_validate(
        {"individual-ids": ["individuals-2-of-a"], "message": "A's", "organization-id": dir_ids["organizations"]}
    )
    return {"a_bulk": bulk_messages.create(a_id, dir_ids["individuals"], dir_ids["users"], attrs)["id"]}


def _visit_of_a(a_id: str, dir_ids: dict[str, str], account_id: str) -> str:
    """A's video visit (A's individual its host), stored as the create route stores it, with an appointment a day
    ahead (so the owner's get-credentials is a 409 before the join window: no Twilio here)."""
    from parley.dal import video_channels as store

    now = "2026-11-01T09:00:00.000Z"
    fields = {"organization_id": dir_ids["organizations"], "created_by": dir_ids["individuals"], "created_at": now,
              "last_modified_at": now, "type": "direct", "appless": False, "recorded": False, "with_email": False,
              "participants": [{"individual_id": dir_ids["individuals"], "account_type": "provider"}],
              "appointment": {"id": "appointment-of-a", "start": "2099-01-01T10:00:00.000Z", "duration": 30,
                              "join_start": "2099-01-01T09:50:00.000Z"},
              "channel_state": "scheduled", "room_name": "video-of-a", "account_id": account_id, "max_participants": 50}  # fmt: skip
    store.create(store.item(a_id, "video-of-a", fields))
    return "video-of-a"


def _video_of_a(a_id: str, dir_ids: dict[str, str]) -> dict[str, str]:
    """Issue 20 area E: A's video channel (area D's item and room route, with D's data-access functions), a participant
    of A's individual in it and the composition of its room, as the room callbacks store them."""
    from parley.dal import video as store
    from parley.dal import video_channels
    from parley.domain import video_compositions, video_participants

    now, room = "2026-11-01T09:00:00.000Z", "RM" + "a" * 32
    individual = dir_ids["individuals"]
    channel = video_channels.item(a_id, "video-channel-of-a", {"organization_id": dir_ids["organizations"], "created_at": now,
                                                              "last_modified_at": now, "channel_state": "open", "room_sid": room,
                                                              "recorded": True, "account_id": "text-account-of-a",
                                                              "participants": [{"individual_id": individual}]})  # fmt: skip
    video_channels.create(channel)
    video_channels.put_room(a_id, channel["id"], room)
    participant = video_participants.ensure(a_id, channel, individual, now=now)
    cid = video_compositions.composition_id(channel["id"], room)
    store.put_composition_if_absent({"tenant_id": a_id, "id": cid, "channel_id": channel["id"], "room_sid": room, "status": "enqueued",
                                     "processing_status": "enqueued", "processing_pct": 0, "last_seq": 0, "created_at": now,
                                     "last_modified_at": now})  # fmt: skip
    return {"channel": channel["id"], "participant": participant["id"], "composition": cid, "individual": individual}


def _texts_of_a(tenant_id: str, ids: dict[str, str], org: str) -> dict[str, str]:
    """A's text, consent and receive log (helper E's), stored as the routes store them; the account's token, so that
    A's own status callback is signed and applied."""
    from parley.dal import texts
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import text_numbers

    now = "2026-11-01T09:00:00.000Z"
    put_tenant_secret(text_numbers.secret_name(tenant_id, ids["account"]), {"account_sid": "AC" + "a" * 32, "auth_token": TEXT_TOKEN})
    text_id, consent_id, sid = "text-of-a", "consent-of-a", "SM" + "a" * 32
    url = f"https://api.parley.example/v1/texts/{text_id}/callback/?tenant={tenant_id}"
    text = texts.text_item(tenant_id, text_id, {"account_id": ids["account"], "number_id": ids["number"], "organization_id": org,
                                                "from": "+15555550142", "target": A_PHONE, "message": "hi", "status_callback_url": url,
                                                "created_at": now, "last_modified_at": now})  # fmt: skip
    for op in texts.text_create_ops(text):
        from parley.dal import table

        table.transact([op])
    consent = texts.consent_item(tenant_id, consent_id, {"consent_type": "sms", "user_id": "user-of-a", "organization_id": org,
                                                         "target_id": A_PHONE, "args": "{}", "state": "pending", "from": "+15555550142",
                                                         "created_at": now, "last_modified_at": now})  # fmt: skip
    from parley.dal import table

    table.transact(texts.consent_create_ops(consent))
    texts.put_log(texts.log_item(tenant_id, sid, {"sender": A_PHONE, "to": "+15555550142", "message": "hi", "created_at": now}))
    return {"text": text_id, "consent": consent_id, "receive_log": sid, "text_callback_url": url}


def _configure_twilio(tenant_id: str, token: str) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    put_tenant_secret(f"parley/{tenant_id}", {"twilio_account_sid": "AC0123", "twilio_auth_token": token})
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")


def twilio_event(name: str, tenant_id: str, params: dict[str, str], token: str) -> dict[str, Any]:
    event = json.loads(json.dumps(load_event(f"candidate/{name}")))
    event["rawQueryString"] = f"tenant={tenant_id}"
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-twilio-signature"] = RequestValidator(token).compute_signature(f"https://{TWILIO_HOST}/?tenant={tenant_id}", params)
    return event


@pytest.fixture
def world(handler, tenant, other_tenant, send_queue, drain, monkeypatch) -> World:
    from parley.dal import keys, messages, table
    from parley_local.workers import _sqs_record

    a, b = tenant[0], other_tenant[0]
    # Twilio is nowhere here: a call to it is refused at once (the discard port), never sent to the internet
    monkeypatch.setenv("TWILIO_API_URL", "http://127.0.0.1:9")

    def ok(key: str, sample: str, **kw: Any) -> Any:
        kw.setdefault("headers", {"Idempotency-Key": None})
        out = handler(key)(api_event(sample, tenant_id=a.id, **kw))
        assert out["statusCode"] in (200, 201), out
        return body(out)

    email_id = ok("CandidateApi.SendEmailFunction", "candidate/send_email")["data"]["emailActivityId"]
    ok("CandidateApi.SmsOptinPutFunction", "candidate/sms_optin_put")
    sms_id = ok("CandidateApi.SendSmsFunction", "candidate/send_sms")["data"]["messageSID"]
    forward_id = ok("CandidateApi.ForwardProfileFunction", "candidate/forward_profile")["data"]["emailActivityId"]
    template_id = ok("CrmApi.CreateTemplateFunction", "crm/create_template")["id"]
    record_id = ok("CrmApi.SendFunction", "crm/send")["id"]
    scheduled_id = ok("CrmApi.ScheduleFunction", "crm/schedule")["id"]
    arn, url = send_queue
    out = handler("root.DispatcherFunction")({"Records": [_sqs_record(m, arn) for m in drain(url)]})
    assert out == {"batchItemFailures": []}

    _configure_twilio(a.id, "token-of-a")
    _configure_twilio(b.id, "token-of-b")
    stop = {"MessageSid": "SM" + "1" * 32, "From": A_STOP_PHONE, "To": OUR_NUMBER, "Body": "STOP", "AccountSid": "AC0123"}
    assert (
        through_queue(handler, "CandidateApi.TwilioInboundFunction")(twilio_event("twilio_inbound", a.id, stop, "token-of-a"))["statusCode"]
        == 200
    )
    stop_id = messages.find_by_provider_id(a.id, "twilio", stop["MessageSid"])

    # the SMS went out through SNS; give it the Twilio SID lookup a Twilio tenant's SMS would have
    sms = messages.get(a.id, sms_id)
    assert sms.status.value == "SENT"
    sms_sid = "SM" + "2" * 32
    table.put_item({"PK": keys.provider_message_pk(a.id, "twilio", sms_sid), "SK": keys.PROVIDER_MESSAGE_SK, "type": "provider_ref",
                    "message_id": sms_id})  # fmt: skip

    # the courier directory of A (replicated in, as `import-directory` does)
    from parley.domain import directory as courier_directory

    dir_ids = {t: f"{t}-of-a" for t in ("organizations", "users", "individuals", "individual-groups")}
    owned = {"individuals": {"owner-id": dir_ids["users"]}}  # A's user owns A's individual (the individual-id rule)
    lines = [json.dumps({"type": t, "id": i, "last-sync-time": "2026-11-01T09:00:00Z", "attributes": owned.get(t, {})})
             for t, i in dir_ids.items()]  # fmt: skip
    assert courier_directory.import_lines(a.id, lines).written == 4
    draft = {"data": {"type": "user-emails", "attributes": {
        "to": "pat@example.com", "subject": "Hi", "message": "Hello", "sender-organization-id": dir_ids["organizations"],
        "individual-id": dir_ids["individuals"]}}}  # fmt: skip
    user_email_id = ok("CourierEmailApi.CreateUserEmailFunction", "courier_email/create_user_email", body=draft,
                       headers={"Idempotency-Key": None, "X-User-ID": dir_ids["users"]})["data"]["id"]  # fmt: skip
    from parley import clock
    from parley.domain import sniffers
    from parley.models.sniffers import NewSnifferAttributes

    until = clock.iso(clock.now() + timedelta(hours=1))
    sniffer_id, _ = sniffers.create(a.id, NewSnifferAttributes(user_id=dir_ids["users"], valid_until=until))
    # a purge job of A (queued; nobody runs it here)
    erase = {"entity-type": "candidate", "entity-id": "nobody", "request-id": "purge-of-a"}
    purge = {"data": {"type": "system-purges", "attributes": erase}}
    ok("CourierAdminApi.CreatePurgeFunction", "courier_admin/create_purge", body=purge)
    # a courier replicator of A (as `replicator create` stores it; its schedule plays no part here)
    from parley.dal import replicators as courier_replicators
    from parley.models.courier_replicators import Replicator

    replicator_id = "replicator-of-a"
    rep = Replicator(tenant_id=a.id, replicator_id=replicator_id, entity_type="users", url="https://platform.example/u",
                     every_minutes=5, created_time="2026-11-01T09:00:00.000Z", schedule_name="replicator-x")  # fmt: skip
    courier_replicators.create(rep)

    # a user-email-attachment of A's email, uploaded and processed
    attachment_id = ok(
        "CourierEmailApi.CreateUserEmailAttachmentFunction",
        "courier_email/create_user_email_attachment",
        body={
            "data": {
                "type": "user-email-attachments",
                "attributes": {"content-type": "text/plain", "email-id": user_email_id, "filename": "a.txt"},
            }
        },
    )["id"]
    from parley.dal import email_attachments
    from parley.dal.aws import client
    from parley.settings import get_settings

    client("s3").put_object(Bucket=get_settings().body_bucket, Key=email_attachments.upload_key(a.id, attachment_id), Body=b"notes of A")
    processed = api_event("courier_email/process_user_email_attachment_upload", tenant_id=a.id, body={})
    processed["pathParameters"], processed["path"] = {"id": attachment_id}, f"/v1/user-email-attachments/{attachment_id}/process-upload"
    assert handler("CourierEmailApi.ProcessUserEmailAttachmentUploadFunction")(processed)["statusCode"] == 201

    # a push credential of A, a device of A's user and one push to it (docs/courier.md "Push credentials and devices")
    from parley.domain import push
    from parley.models.notifications import NotificationData
    from parley.models.push import AppCredentialCreate, UserDeviceCreate

    secret = {"signing-key": "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----", "signing-key-id": "K", "team-id": "T"}
    push_credential_id, _ = push.create_credential(a.id, AppCredentialCreate(app_name="clinic", type="apn", store_id="com.a", data=secret))
    device_id, _ = push.register_device(a.id, dir_ids["users"], None, UserDeviceCreate(type="apn", token="e" * 64, app_name="clinic"))
    note = NotificationData.model_validate({"apn": {"title": "For A", "body": "only"}})
    assert [x.outcome for x in push.deliver(a.id, dir_ids["users"], "n-a", note, badge=1, collapse_id="n-a")] == ["sent"]
    # a user-notification of A's user (as a multicast makes it) and a badge counter of A's individual
    from parley.domain import badges, notifications
    from parley.models.user_notifications import BadgeCountInput

    notifications.notify(a.id, notification_id="notification-of-a", user_id=dir_ids["users"], individual_id=dir_ids["individuals"],
                         organization_id=dir_ids["organizations"], category="appointment",
                         data=NotificationData.model_validate({"sms": {"bodies": ["Hi"]}}), email=None, source={})  # fmt: skip
    badge_id, _ = badges.set_count(a.id, BadgeCountInput(individual_id=dir_ids["individuals"], type="appointment", count=2))

    # a multicast of A to A's care team, with A's CRM template (queued; nobody runs its fan-out here), and B's own template
    multicast_id = ok("CourierNotificationsApi.CreateUserMulticastFunction", "courier_notifications/create_user_multicast",
                      body={"template-id": template_id, "template-data": MC_DATA, "individual-group-ids": [dir_ids["individual-groups"]]},
                      headers={"Idempotency-Key": None, "Content-Type": "application/json"})["task-id"]  # fmt: skip
    from parley.domain import templates
    from parley.models.crm import TemplateRequest

    b_template_id = templates.create(b.id, TemplateRequest(name="B's", subject="Hi", bodyText="Hello"), user_id=None).id

    record = messages.get(a.id, record_id)
    assert record.status.value == "SENT" and record.track_token and record.links
    email = messages.get(a.id, email_id)
    assert email.candidate_id and sms.candidate_id
    # a messaging channel of A with a message of A's individual (issue 18, area B)
    from parley.domain import channel_messages, channels

    chan, _ = channels.create_channel(
        a.id,
        organization_id=dir_ids["organizations"],
        creator_individual_id=dir_ids["individuals"],
        name="A's",
        floating=True,
        publish=False,
    )  # floating: no direct-channel dedupe pointer that A's own channel could meet when its members change
    chan_msg = channel_messages.post(a.id, chan["id"], dir_ids["individuals"], "A's message", publish=False)

    return World(a=a, b=b, email_id=email_id, candidate_id=email.candidate_id, sms_id=sms_id, sms_candidate_id=sms.candidate_id,
                 forward_id=forward_id, stop_id=stop_id, record_id=record_id, token=record.track_token,
                 scheduled_id=scheduled_id, template_id=template_id, sms_sid=sms_sid, directory=dir_ids,
                 user_email_id=user_email_id, sniffer_id=sniffer_id,
                 replicator_id=replicator_id, attachment_id=attachment_id, notification_id="notification-of-a",
                 badge_id=badge_id, push_credential_id=push_credential_id, device_id=device_id,
                 texting=_with_voice(a.id, _texting_of_a(a.id, dir_ids), dir_ids), multicast_id=multicast_id, b_template_id=b_template_id,
                 sms_channel_id=_channel_of(a.id, dir_ids), channel_id=chan["id"], channel_message_id=chan_msg["id"],
                 attachments=_attachments_of_a(a.id, b.id, dir_ids),
                 messaging={**_messaging_of(a.id, b.id, dir_ids), **_bulk_of_a(a.id, dir_ids)},
                 responder_id=_responder_of(a.id, dir_ids), announcer_ops=_announcer_ops_of(a.id, dir_ids),
                 voice_media=_voice_media_of_a(a.id, dir_ids),
                 bulk_plugins=_bulk_plugins_of(a.id, b.id, dir_ids, chan["id"]),
                 voice=_voice_calls_of_a(a.id, dir_ids), ask=_ask_of_a(a.id, dir_ids), video=_video_of_a(a.id, dir_ids),
                 video_id=_visit_of_a(a.id, dir_ids, "text-account-of-a"))  # fmt: skip


def _window() -> dict[str, str]:
    from parley import clock

    now = clock.now()
    return {"fromTime": clock.iso(now - timedelta(hours=1)), "toTime": clock.iso(now + timedelta(hours=1)), "limit": "20", "offset": "0"}


# ───────────── the cases ─────────────
# Each case: (w, call, who) → Call, where ``who`` is the calling tenant; and the check of B's answer.
def _not_found(c: Any) -> None:
    assert c.status == 404, (c.status, c.body)


def _empty_list(c: Any) -> None:
    assert c.status == 200 and c.body == [], (c.status, c.body)


def _candidate_empty(c: Any) -> None:
    assert c.status == 200 and c.body["data"] == [], (c.status, c.body)


def _optin_empty(c: Any) -> None:
    assert c.status == 200 and c.body["details"]["content"] == [], (c.status, c.body)


def _deleted_nothing(c: Any) -> None:
    assert c.status == 200, (c.status, c.body)


CRM = "/api/v1/communications"
SEND_BODY = {"subject": "Hi", "body": "<p>Hello</p>", "recipients": ["jan@example.com"]}


@dataclass(frozen=True)
class Case:
    run: Callable[[World, Callable[..., Any], Any], Any]  # → the call's answer (conftest ``Call``)
    intruder: Callable[[Any], None]
    owner_status: tuple[int, ...] = (200,)
    mutates: bool = False  # B's call may store B's own data (then A's items are compared, not the whole table)


def _activity(w, call, who):
    return call("GET", "/communications/email/v1/activity", who.id, query={"emailActivityId": w.email_id})


def _forward_activity(w, call, who):
    q = {"email": "ada@example.com", "offset": "0", "limit": "10", "communicationId": w.forward_id}
    return call("GET", "/communications/email/v1/forward-profile/activity", who.id, query=q)


def _history(channel):
    def run(w, call, who):
        candidate = w.candidate_id if channel == "email" else w.sms_candidate_id
        return call("GET", f"/communications/{channel}/v1/history", who.id, query={**_window(), "candidateId": candidate})

    return run


def _sms_activity(w, call, who):
    return call("GET", "/communications/sms/v1/activity", who.id, query={"activityId": w.sms_id, "phoneNumber": A_PHONE})


def _optin_history(w, call, who):
    q = {"phoneNumber": A_STOP_PHONE, "offset": "0", "size": "20", "communicationId": w.stop_id}
    return call("GET", "/communications/sms/v1/optIn/history", who.id, query=q)


def _ids(path, method="GET"):
    def run(w, call, who):
        return call(method, f"{CRM}/{path}", who.id, query={"ids": f"{w.record_id},{w.scheduled_id}"})

    return run


def _by_id(method, suffix, record="record_id", payload=...):
    def run(w, call, who):
        rid = getattr(w, record)
        return call(method, f"{CRM}/{{id}}{suffix}", who.id, params={"id": rid}, payload=payload)

    return run


def _find_by_id(w, call, who):
    return call("GET", f"{CRM}/find/{{id}}", who.id, params={"id": w.record_id})


def _template(method, payload=...):
    def run(w, call, who):
        return call(method, f"{CRM}/templates/{{templateId}}", who.id, params={"templateId": w.template_id}, payload=payload)

    return run


def _send_template(w, call, who):
    payload = {"recipients": ["jan@example.com"], "variables": {"firstName": "Jan", "amount": "1", "quoteNumber": "Q1"}}
    return call("POST", f"{CRM}/send-template/{{templateId}}", who.id, params={"templateId": w.template_id}, payload=payload)


def _send_with_template_id(path):
    def run(w, call, who):
        payload = {**SEND_BODY, "templateId": w.template_id}
        if path == "schedule":
            payload["scheduledAt"] = "2031-01-01T09:00:00Z"
        return call("POST", f"{CRM}/{path}", who.id, payload=payload)

    return run


def _by_entity(w, call, who):
    return call("GET", f"{CRM}/by-entity", who.id, query={"entityType": "deal", "entityId": "42"})


def _labelled_send(path):
    """relatedEntityId / recipientListId are the caller's own labels, not ids of stored Parley items:
    B may use A's values, and what B sends never shows up under A's entity."""

    def run(w, call, who):
        payload = {**SEND_BODY, "relatedEntityType": "deal", "relatedEntityId": "42", "recipientListId": "list-1"}
        if path == "schedule":
            payload["scheduledAt"] = "2031-01-01T09:00:00Z"
        if path.startswith("send-template"):
            template = w.template_id if who is w.a else _b_template(call, who)
            payload = {k: v for k, v in payload.items() if k not in ("subject", "body")}
            payload["variables"] = {"firstName": "Jan", "amount": "1", "quoteNumber": "Q1"}
            return call("POST", f"{CRM}/send-template/{{templateId}}", who.id, params={"templateId": template}, payload=payload)
        return call("POST", f"{CRM}/{path}", who.id, payload=payload)

    return run


def _b_template(call, who) -> str:
    payload = {"name": "B's", "subject": "Hi {{firstName}}", "bodyHtml": "<p>{{amount}} {{quoteNumber}}</p>", "type": "OTHER"}
    made = call("POST", f"{CRM}/templates", who.id, payload=payload)
    assert made.status == 201, made.body
    return made.body["id"]


def _labelled_ok(c: Any) -> None:
    assert c.status == 200, (c.status, c.body)


def _track(w, call, who):
    # Public: the token is the credential and names no tenant. A record id is not a token.
    return call("GET", f"{CRM}/track/{{id}}", None, params={"id": w.token if who is w.a else w.record_id})


def _link(w, call, who):
    return call("GET", f"{CRM}/link/{{id}}/{{linkIndex}}", None, params={"id": w.token if who is w.a else w.record_id, "linkIndex": "0"})


def _ats(company: bool):
    def run(w, call, who):
        # B names A's company (A's tenant id) with A's applicant, or its own company with A's applicant
        cid = w.a.id if (company or who is w.a) else who.id
        return call("GET", "/company/{companyID}/applicant/{applicantID}/messages", who.id,
                    params={"companyID": cid, "applicantID": w.candidate_id}, query={})  # fmt: skip

    return run


def _courier(entity_type):
    def run(w, call, who):
        return call("GET", f"/v1/{entity_type}/{{id}}", who.id, params={"id": w.directory[entity_type]}, query={})

    return run


def _courier_patch_user(w, call, who):
    doc = {"data": {"type": "users", "id": w.directory["users"], "attributes": {"notifications": ["sms"]}}}
    return call("PATCH", "/v1/users/{id}", who.id, params={"id": w.directory["users"]}, query={}, payload=doc)


def _org_preferences(w, call, who):
    return call("GET", "/v1/org-preferences", who.id, query={"organization-id": w.directory["organizations"]})


def _user_email(suffix):
    """B names A's user-email, acting as A's user id (a user id is no credential across tenants)."""

    def run(w, call, who):
        payload = "{}" if suffix else ...
        return call("POST" if suffix else "GET", f"/v1/user-emails/{{id}}{suffix}", who.id, params={"id": w.user_email_id}, query={},
                    payload=payload, headers={"X-User-ID": w.directory["users"]})  # fmt: skip

    return run


def _attachment(method, suffix=""):
    def run(w, call, who):
        path = f"/v1/user-email-attachments/{{id}}{suffix}"
        return call(method, path, who.id, params={"id": w.attachment_id}, query={}, payload={} if method == "POST" else ...)

    return run


def _announcer_call(method, path, key=None, query=None):
    """An announcers / messaging-operations call naming A's id (``key`` in ``w.announcer_ops``: the path's id) or A's
    organization (``query``: its parameter)."""

    def run(w, call, who):
        params = {"id": w.announcer_ops[key]} if key else {}
        q = {query: w.announcer_ops["organization"]} if query else {}
        payload = (
            {"data": {"type": "announcers", "id": w.announcer_ops["announcer"], "attributes": {"name": "Taken"}}}
            if method == "PATCH"
            else ...
        )
        return call(method, path, who.id, params=params, query=q, payload=payload, headers={"X-User-ID": w.directory["users"]})

    return run


def _sniffer(suffix):
    def run(w, call, who):
        return call("GET", f"/v1/sniffers/{{id}}{suffix}", who.id, params={"id": w.sniffer_id}, query={})

    return run


def _user_emails_of(w, call, who):
    return call("GET", "/v1/user-emails", who.id, query={"individual-id": w.directory["individuals"]},
                headers={"X-User-ID": w.directory["users"]})  # fmt: skip


def _not_theirs(c: Any) -> None:
    """An individual the calling tenant's directory does not have is not the acting user's: 403 (docs/courier.md)."""
    assert c.status == 403 and c.body["errors"][0]["code"] == "not-owner", (c.status, c.body)


def _attachments_of_email(w, call, who):
    return call("GET", "/v1/user-email-attachments", who.id, params={}, query={"email-id": w.user_email_id})


def _att_call(method, path, *, ids=None, query=None, payload=..., foreign_individual=False):
    """A messaging-attachments / -bookmarks call by the calling tenant's own user (B's: ``B_ATT_USER``) naming A's ids
    (``ids``: path parameter → the key of ``w.attachments``); ``foreign_individual``: with ``individual-id`` = A's
    individual, which B's user does not own (403)."""

    def run(w, call, who):
        owner = who.id == w.a.id
        user = w.directory["users"] if owner else B_ATT_USER
        q = dict(query(w) if callable(query) else query or {})
        body_ = payload(w) if callable(payload) else payload
        if foreign_individual or owner:  # A's user has no primary individual here: it names its own
            if path.endswith("/process-upload"):
                body_ = {**body_, "individual-id": w.directory["individuals"]}
            else:
                q["individual-id"] = w.directory["individuals"]
        params = {name: w.attachments[key] for name, key in (ids or {}).items()}
        return call(method, path, who.id, params=params or {}, query=q, payload=body_, headers={"X-User-ID": user})

    return run


def _att_patch(w):
    return {"data": {"type": "messaging-attachments", "id": w.attachments["attachment"], "attributes": {"removed": True}}}


def _att_create(w):
    attrs = {"content-type": "image/png", "filename": "b.png", "message-id": w.attachments["message"]}
    return {"data": {"type": "messaging-attachments", "attributes": attrs}}


def _bm_create(w):
    attrs = {"channel-id": w.attachments["channel"], "message-id": w.attachments["message"]}
    return {"data": {"type": "messaging-bookmarks", "attributes": attrs}}


def _attachment_cases() -> dict[tuple[str, str, str], Case]:
    one, process, listing = "/v1/messaging-attachments/{id}", "/v1/messaging-attachments/{id}/process-upload", "/v1/messaging-attachments"
    bm_one, bm_list = "/v1/messaging-bookmarks/{id}", "/v1/messaging-bookmarks"
    att, bm = {"id": "attachment"}, {"id": "bookmark"}

    def by_message(w):
        return {"message-id": w.attachments["message"]}

    def by_org(w):
        return {"organization-id": w.directory["organizations"]}

    return {
        ("GET", one, "path.id"): Case(_att_call("GET", one, ids=att), _not_found),
        ("GET", one, "query.individual-id"): Case(_att_call("GET", one, ids=att, foreign_individual=True), _not_theirs),
        ("PATCH", one, "path.id"): Case(_att_call("PATCH", one, ids=att, payload=_att_patch), _not_found),
        ("PATCH", one, "query.individual-id"): Case(
            _att_call("PATCH", one, ids=att, payload=_att_patch, foreign_individual=True), _not_theirs
        ),
        ("POST", process, "path.id"): Case(_att_call("POST", process, ids=att, payload={}), _not_found, owner_status=(201,)),
        ("POST", process, "body.individual-id"): Case(
            _att_call("POST", process, ids=att, payload=lambda w: {"individual-id": w.directory["individuals"]}),
            _not_theirs,
            owner_status=(201,),
        ),
        ("GET", listing, "query.message-id"): Case(_att_call("GET", listing, query=by_message), _not_found),
        ("GET", listing, "query.individual-id"): Case(_att_call("GET", listing, query=by_message, foreign_individual=True), _not_theirs),
        ("POST", listing, "query.individual-id"): Case(
            _att_call("POST", listing, payload=_att_create, foreign_individual=True), _not_theirs, owner_status=(201,)
        ),
        ("GET", bm_one, "path.id"): Case(_att_call("GET", bm_one, ids=bm), _not_found),
        ("GET", bm_one, "query.individual-id"): Case(_att_call("GET", bm_one, ids=bm, foreign_individual=True), _not_theirs),
        ("GET", bm_list, "query.organization-id"): Case(_att_call("GET", bm_list, query=by_org), _not_found),
        ("GET", bm_list, "query.individual-id"): Case(_att_call("GET", bm_list, query=by_org, foreign_individual=True), _not_theirs),
        ("POST", bm_list, "query.individual-id"): Case(
            _att_call("POST", bm_list, payload=_bm_create, foreign_individual=True), _not_theirs, owner_status=(200, 201)
        ),
    }


def _bp_call(method, path, *, plugin=True, query=None, payload=..., theirs=None):
    """Issue 19 area 2: B names A's bulk attachment / bulk / plugin (``path``'s ``{id}``); the owner A names its own.
    ``theirs``: the case is B's own plugin naming A's ``channel-id`` or A's ``individual-id`` in the expand body."""

    def run(w, call, who):
        d, owner = w.bulk_plugins, who.id == w.a.id
        user = w.directory["users"] if owner else B_ATT_USER
        ident = d["a_plugin"] if plugin else d["bulk_attachment"]
        if theirs and not owner:
            ident = d["b_plugin"]
        body_ = payload(w, owner) if callable(payload) else payload
        q = query(w) if callable(query) else query
        params = {"id": ident} if "{id}" in path else None
        return call(method, path, who.id, params=params, query=q, payload=body_, headers={"X-User-ID": user})

    return run


def _expand_body(field_):
    def body_(w, owner):
        d = w.bulk_plugins
        me = {"channel-id": d["a_channel"], "individual-id": w.directory["individuals"]}  # A's own: A's channel, A's individual
        if owner:
            return me
        theirs = {"channel-id": w.messaging["b_channel"], "individual-id": B_ATT_INDIVIDUAL}  # B's own, but for one of A's ids
        return {**theirs, field_: me[field_]} if field_ else me

    return body_


def _voice_cases() -> dict[tuple[str, str, str], Case]:
    """Issue 20 area B: B names A's voice conference, dial log, queue agent, setting, organization or individual."""
    conf, conf_one, logs, agents = "/v1/voice-conferences", "/v1/voice-conferences/{id}", "/v1/voice-dial-logs", "/v1/voice-queue-agents"

    def get(path, key, query=None):
        def run(w, call, who):
            q = query(w) if query else {}
            return call("GET", path, who.id, params={"id": w.voice[key]} if "{id}" in path else None, query=q)

        return run

    def org(w):
        return {"organization-id": w.directory["organizations"]}

    def ind(w):
        return {"individual-id": w.directory["individuals"]}

    return {
        ("GET", conf, "query.organization-id"): Case(get(conf, "conference", org), _jsonapi_empty),
        ("GET", conf_one, "path.id"): Case(get(conf_one, "conference"), _not_found),
        ("GET", conf_one, "query.individual-id"): Case(get(conf_one, "conference", ind), _not_found),
        ("GET", f"{conf_one}/get-credentials", "path.id"): Case(get(f"{conf_one}/get-credentials", "conference", ind), _not_found),
        ("GET", f"{conf_one}/get-credentials", "query.individual-id"): Case(
            get(f"{conf_one}/get-credentials", "conference", ind), _not_found
        ),
        ("GET", logs, "query.organization-id"): Case(get(logs, "dial", org), _jsonapi_empty),
        ("GET", f"{logs}/{{id}}", "path.id"): Case(get(f"{logs}/{{id}}", "dial"), _not_found),
        ("GET", f"{logs}/{{id}}", "query.individual-id"): Case(get(f"{logs}/{{id}}", "dial", ind), _not_found),
        ("GET", agents, "query.setting-id"): Case(get(agents, "agent", lambda w: {"setting-id": w.voice["setting"]}), _not_found),
        ("GET", f"{agents}/{{id}}", "path.id"): Case(get(f"{agents}/{{id}}", "agent"), _not_found),
    }


def _bulk_plugin_cases() -> dict[tuple[str, str, str], Case]:
    batt, batt_one = "/v1/messaging-bulk-attachments", "/v1/messaging-bulk-attachments/{id}"
    plug, plug_one = "/v1/messaging-plugins", "/v1/messaging-plugins/{id}"

    def by_bulk(w):
        return {"bulk-message-id": w.bulk_plugins["bulk"]}

    def by_org(w):
        return {"organization-id": w.directory["organizations"]}

    def rename(w, owner):
        return {"data": {"type": "messaging-plugins", "id": w.bulk_plugins["a_plugin"], "attributes": {"name": "renamed"}}}

    return {
        ("GET", batt_one, "path.id"): Case(_bp_call("GET", batt_one, plugin=False), _not_found),
        ("POST", f"{batt_one}/process-upload", "path.id"): Case(
            _bp_call("POST", f"{batt_one}/process-upload", plugin=False, payload={}), _not_found, owner_status=(201,)
        ),
        ("GET", batt, "query.bulk-message-id"): Case(_bp_call("GET", batt, plugin=False, query=by_bulk), _not_found),
        ("GET", plug_one, "path.id"): Case(_bp_call("GET", plug_one), _not_found),
        ("PATCH", plug_one, "path.id"): Case(_bp_call("PATCH", plug_one, payload=rename), _not_found),
        ("POST", f"{plug_one}/enable", "path.id"): Case(
            _bp_call("POST", f"{plug_one}/enable", payload={}), _not_found, owner_status=(201,)
        ),
        ("POST", f"{plug_one}/disable", "path.id"): Case(
            _bp_call("POST", f"{plug_one}/disable", payload={}), _not_found, owner_status=(201,)
        ),
        ("POST", f"{plug_one}/expand", "path.id"): Case(
            _bp_call("POST", f"{plug_one}/expand", payload=_expand_body(None)), _not_found, owner_status=(201,)
        ),
        ("POST", f"{plug_one}/expand", "body.channel-id"): Case(
            _bp_call("POST", f"{plug_one}/expand", payload=_expand_body("channel-id"), theirs=True), _not_found, owner_status=(201,)
        ),
        ("POST", f"{plug_one}/expand", "body.individual-id"): Case(
            _bp_call("POST", f"{plug_one}/expand", payload=_expand_body("individual-id"), theirs=True), _not_theirs, owner_status=(201,)
        ),
        ("GET", plug, "query.organization-id"): Case(_bp_call("GET", plug, query=by_org), _not_found),
    }


def _ask_cases() -> dict[tuple[str, str, str], Case]:
    """Issue 20 (Alexa): B (its own user) names A's subscription, reminder, organization or individual."""
    subs, rems = "/v1/ask-subscriptions", "/v1/ask-reminders"

    def by_id(method, path, kind, payload=...):
        def run(w, call, who):
            user = w.directory["users"] if who.id == w.a.id else B_ATT_USER
            body_ = payload(w) if callable(payload) else payload
            return call(method, path, who.id, params={"id": w.ask[kind]}, query={}, payload=body_, headers={"X-User-ID": user})

        return run

    def listing(path, name, key):
        def run(w, call, who):
            user = w.directory["users"] if who.id == w.a.id else B_ATT_USER
            return call("GET", path, who.id, query={name: w.directory[key]}, headers={"X-User-ID": user})

        return run

    def rename(w):
        return {"data": {"type": "ask-reminders", "id": w.ask["reminder"], "attributes": {"name": "renamed"}}}

    unregistered = {"event": {"name": "AMAZON.Occasion.Updated", "payload": {}}}  # the owner's answer: 409, no call to Amazon
    return {
        ("GET", subs, "query.organization-id"): Case(listing(subs, "organization-id", "organizations"), _not_found),
        ("GET", subs + "/{id}", "path.id"): Case(by_id("GET", subs + "/{id}", "subscription"), _not_found),
        ("POST", subs + "/{id}/send", "path.id"): Case(
            by_id("POST", subs + "/{id}/send", "subscription", unregistered), _not_found, owner_status=(409,)
        ),
        ("GET", rems, "query.individual-id"): Case(listing(rems, "individual-id", "individuals"), _not_theirs),
        ("GET", rems + "/{id}", "path.id"): Case(by_id("GET", rems + "/{id}", "reminder"), _not_found),
        ("PATCH", rems + "/{id}", "path.id"): Case(by_id("PATCH", rems + "/{id}", "reminder", rename), _not_found),
    }


def _video_cases() -> dict[tuple[str, str, str], Case]:
    """Issue 20 area E: B names A's video channel, participant or composition (any caller of a tenant reads them)."""
    parts, part_one = "/v1/video-participants", "/v1/video-participants/{id}"
    comps, comp_one = "/v1/video-compositions", "/v1/video-compositions/{id}"

    def by_id(method, path, key, payload=...):
        def run(w, call, who):
            body_ = payload(w) if callable(payload) else payload
            return call(method, path, who.id, params={"id": w.video[key]}, query={}, payload=body_)

        return run

    def listing(path, *names):
        def run(w, call, who):
            query = {
                "video-channel-id": w.video["channel"],
                **({"individual-id": w.video["individual"]} if "individual-id" in names else {}),
            }
            return call("GET", path, who.id, query=query)

        return run

    def note(w):
        return {"data": {"type": "video-participants", "id": w.video["participant"], "attributes": {"note": "B was here"}}}

    return {
        ("GET", parts, "query.video-channel-id"): Case(listing(parts), _not_found),
        ("GET", parts, "query.individual-id"): Case(listing(parts, "individual-id"), _not_found),
        ("GET", part_one, "path.id"): Case(by_id("GET", part_one, "participant"), _not_found),
        ("PATCH", part_one, "path.id"): Case(by_id("PATCH", part_one, "participant", note), _not_found),
        ("GET", comps, "query.video-channel-id"): Case(listing(comps), _not_found),
        ("GET", comp_one, "path.id"): Case(by_id("GET", comp_one, "composition"), _not_found),
    }


def _responder_cases() -> dict[tuple[str, str, str], Case]:
    one = "/v1/messaging-responders/{id}"

    def by_id(method, suffix="", payload=...):
        def run(w, call, who):
            body_ = payload(w) if callable(payload) else payload
            return call(method, one + suffix, who.id, params={"id": w.responder_id}, query={}, payload=body_)

        return run

    def rename(w):
        return {"data": {"type": "messaging-responders", "id": w.responder_id, "attributes": {"name": "taken"}}}

    def by_org(w, call, who):
        return call("GET", "/v1/messaging-responders", who.id, query={"organization-id": w.directory["organizations"]})

    return {
        ("GET", one, "path.id"): Case(by_id("GET"), _not_found),
        ("PATCH", one, "path.id"): Case(by_id("PATCH", payload=rename), _not_found),
        ("POST", one + "/enable", "path.id"): Case(by_id("POST", "/enable", {}), _not_found, owner_status=(201,)),
        ("POST", one + "/disable", "path.id"): Case(by_id("POST", "/disable", {}), _not_found, owner_status=(201,)),
        ("GET", "/v1/messaging-responders", "query.organization-id"): Case(by_org, _not_found),
    }


def _push_credential(method):
    def run(w, call, who):
        doc = {"data": {"type": "app-credentials", "id": w.push_credential_id, "attributes": {"archived": True, "display-name": "Taken"}}}
        return call(method, "/v1/app-credentials/{id}", who.id, params={"id": w.push_credential_id}, query={},
                    payload=doc if method == "PATCH" else ..., headers={"X-User-ID": None})  # fmt: skip

    return run


def _text(method, resource, suffix="", key="", payload=...):
    """B names A's texting resource by id (path ``/v1/<resource>/{id}<suffix>``)."""

    def run(w, call, who):
        id_ = w.texting[key]
        body = payload(id_) if callable(payload) else payload
        return call(method, f"/v1/{resource}/{{id}}{suffix}", who.id, params={"id": id_}, query={}, payload=body)

    return run


def _as_user(w):
    return {"X-User-ID": w.directory["users"], "Content-Type": "application/json"}


def _channel_of(tenant_id: str, dir_ids: dict[str, str]) -> str:
    """A floating messaging channel of the tenant's individual in its organization (area A's create)."""
    from parley.domain import channels

    chan, _ = channels.create_channel(tenant_id, organization_id=dir_ids["organizations"], creator_individual_id=dir_ids["individuals"],
                                      floating=True, publish=False)  # fmt: skip
    return chan["id"]


def _b_people_and_channel(w) -> tuple[dict[str, str], str]:
    """B's own directory (the same shape as A's, B's ids) and a channel of B's individual: what B acts through."""
    from parley.dal import channels as store
    from parley.domain import directory as courier_directory

    ids = {t: f"{t}-of-b" for t in ("organizations", "users", "individuals")}
    owned = {"individuals": {"owner-id": ids["users"]}, "users": {"primary-individual-id": ids["individuals"]}}
    courier_directory.import_lines(w.b.id, [json.dumps({"type": t, "id": i, "last-sync-time": "2026-11-01T09:00:00Z",
                                                        "attributes": owned.get(t, {})}) for t, i in ids.items()])  # fmt: skip
    mine = store.memberships(w.b.id, ids["individuals"])
    return ids, mine[0]["channel_id"] if mine else _channel_of(w.b.id, ids)


def _sms_switch(id_name: str):
    """``POST /v1/messaging-channels/{id}/sms/`` (the SMS bridge). ``path.id``: B, acting as its own individual, names
    A's channel → 404. ``body.text-number-id``: B switches its own channel on with A's number → 422 (not a number of
    B's). ``body.individual-id``: B acts as A's individual → 403 (not B's user's). The owner: A's channel, number and
    individual → 201."""

    def run(w, call, who):
        if who is w.a:
            ids, channel = w.directory, w.sms_channel_id
        else:
            ids, channel = _b_people_and_channel(w)
            if id_name == "path.id":
                channel = w.sms_channel_id
            if id_name == "body.individual-id":
                ids = {**ids, "individuals": w.directory["individuals"]}
        doc = {"active": True, "initial-message": "hi", "individual-id": ids["individuals"]}
        if id_name == "body.text-number-id":
            doc["text-number-id"] = w.texting["number"]
        return call("POST", "/v1/messaging-channels/{id}/sms", who.id, params={"id": channel}, query={}, payload=doc,
                    headers={"X-User-ID": ids["users"], "Content-Type": "application/json"})  # fmt: skip

    return run


def _unknown_number(c: Any) -> None:
    assert c.status == 422 and c.body["errors"][0]["code"] == "unknown-number", (c.status, c.body)


def _notification(suffix):
    """B names A's user-notification, acting as A's user id."""

    def run(w, call, who):
        return call("POST" if suffix else "GET", f"/v1/user-notifications/{{id}}{suffix}", who.id, params={"id": w.notification_id},
                    query={}, payload={"ack-previous": True} if suffix else ..., headers=_as_user(w))  # fmt: skip

    return run


def _device(method, suffix=""):
    """B names A's device, acting as A's user id (a user id is no credential across tenants)."""

    def run(w, call, who):
        return call(method, f"/v1/user-devices/{{id}}{suffix}", who.id, params={"id": w.device_id}, query={},
                    headers={"X-User-ID": w.directory["users"]})  # fmt: skip

    return run


def _text_list(path, name, value):
    def run(w, call, who):
        return call("GET", path, who.id, query={name: value(w)})

    return run


def _text_status(w, call, who):
    """Twilio's status callback of A's text, signed with A's account token over the text's URL; B names its own tenant
    (it cannot sign for A's)."""
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(TEXT_TOKEN).compute_signature(w.texting["text_callback_url"], params)
    from urllib.parse import urlencode

    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return call("POST", "/v1/texts/{id}/callback", who.id, params={"id": w.texting["text"]}, query={"tenant": who.id},
                payload=urlencode(params), headers=headers)  # fmt: skip


def _forbidden(c: Any) -> None:
    assert c.status == 403, (c.status, c.body)


def _notifications_by(param):
    def run(w, call, who):
        value = w.directory["individuals" if param == "individual-id" else "organizations"]
        return call("GET", "/v1/user-notifications", who.id, query={param: value}, headers=_as_user(w))

    return run


def _jsonapi_empty(c: Any) -> None:
    assert c.status == 200 and c.body["data"] == [] and c.body["meta"]["page[total]"] == 0, (c.status, c.body)


def _text_account_patch(id_: str) -> dict[str, Any]:
    return {"data": {"type": "text-accounts", "id": id_, "attributes": {"allow-custom-number": True}}}


def _text_number_patch(id_: str) -> dict[str, Any]:
    return {"data": {"type": "text-account-numbers", "id": id_, "attributes": {"logging": False}}}


def _courier_empty(c: Any) -> None:
    assert c.status == 200 and c.body["data"] == [], (c.status, c.body)


def _badges_by(param):
    def run(w, call, who):
        query = {"individual-id": w.directory["individuals"]}
        if param == "organization-id":
            query[param] = w.directory["organizations"]
        return call("GET", "/v1/badge-counts", who.id, query=query, headers=_as_user(w))

    return run


def _badge(w, call, who):
    return call("GET", "/v1/badge-counts/{id}", who.id, params={"id": w.badge_id}, query={}, headers=_as_user(w))


MC_DATA = {"firstName": "Jan", "amount": "1", "quoteNumber": "Q1"}  # A's CRM template's variables


def _multicasts_by(param: str):
    def run(w, call, who):
        value = w.template_id if param == "template-id" else w.directory["individual-groups"]
        return call("GET", "/v1/multicasts", who.id, query={param: value})

    return run


def _channel_message(method, suffix="", payload=...):
    """B names A's channel message, acting as A's user and individual (ids are no credential across tenants)."""

    def run(w, call, who):
        d = w.directory
        ind = {"individual-id": d["individuals"]}
        body = payload(w) if callable(payload) else payload
        if isinstance(body, dict) and "data" not in body:
            body = {**body, **ind}
        return call(method, f"/v1/messaging-messages/{{id}}{suffix}", who.id, params={"id": w.channel_message_id},
                    query=ind if method == "GET" else {}, payload=body,
                    headers={"X-User-ID": d["users"], "Content-Type": "application/json"})  # fmt: skip

    return run


def _channel_messages_of(w, call, who):
    d = w.directory
    return call("GET", "/v1/messaging-messages", who.id, query={"channel-id": w.channel_id, "individual-id": d["individuals"],
                "user-id": d["users"]}, headers={"X-User-ID": d["users"]})  # fmt: skip


def _inbox_by(param):
    def run(w, call, who):
        d = w.directory
        query = {"individual-id": d["individuals"]}
        if param != "individual-id":
            query[param] = d["organizations"] if param == "organization-id" else d["individual-groups"]
        return call("GET", "/v1/communication-messages", who.id, query=query, headers={"X-User-ID": d["users"]})

    return run


def _message_patch(w):
    return {
        "data": {
            "type": "messaging-messages",
            "id": w.channel_message_id,
            "attributes": {"message": "edited", "individual-id": w.directory["individuals"]},
        }
    }


def _multicast_send(path: str, field: str):
    """B sends with A's id in ``field`` (and its own template unless the field is the template): 404, nothing stored."""

    def run(w, call, who):
        d = w.directory
        template = w.template_id if (who is w.a or field == "template-id") else w.b_template_id
        if path == "/v1/user-multicasts":
            payload = {"template-id": template, "template-data": MC_DATA}
            if field == "individual-group-ids":
                payload["individual-group-ids"] = [d["individual-groups"]]
            else:
                payload["individual-ids"] = [d["individuals"]]
            if field == "organization-id":
                payload["organization-id"] = d["organizations"]
            return call("POST", path, who.id, payload=payload, headers={"Content-Type": "application/json"})
        target = d["individuals"] if path.startswith("/v1/individuals") else d["users"]
        payload = {"template-id": template, ("template-data" if path.startswith("/v1/individuals") else "data"): MC_DATA}
        if field == "organization-id" or path.endswith("validate-multicast-params"):
            payload["organization-id"] = d["organizations"]
        if field == "individual-id" or path.endswith("validate-multicast-params"):
            payload["individual-id"] = d["individuals"]
        return call("POST", path, who.id, params={"id": target}, query={}, payload=payload, headers={"Content-Type": "application/json"})

    return run


def _multicast_sends() -> dict[tuple[str, str, str], Case]:
    out = {}
    fields = {
        "/v1/user-multicasts": ("template-id", "individual-ids", "individual-group-ids", "organization-id"),
        "/v1/users/{id}/multicast": ("path", "template-id", "individual-id", "organization-id"),
        "/v1/individuals/{id}/multicast": ("path", "template-id", "organization-id"),
        "/v1/users/{id}/validate-multicast-params": ("path", "template-id", "individual-id", "organization-id"),
    }
    for path, names in fields.items():
        for name in names:
            key = ("POST", path, "path.id" if name == "path" else f"body.{name}")
            out[key] = Case(_multicast_send(path, name), _not_found, owner_status=(201,))
    return out


# ───────────── courier messaging channels (docs/courier.md "Channels") ─────────────
CHAN = "/v1/messaging-channels"


def _chan_user(w: World, who: Any) -> dict[str, str]:
    """Each tenant acts as its own user (B's user owns B's individual only)."""
    return {"X-User-ID": w.directory["users"] if who.id == w.a.id else "users-of-b"}


def _me(w: World, who: Any) -> str:
    """The acting individual of each tenant (A's user has no primary individual: it is named)."""
    return w.directory["individuals"] if who.id == w.a.id else "individuals-of-b"


def _own_channel(w: World, who: Any) -> str:
    return w.messaging["a_channel"] if who.id == w.a.id else w.messaging["b_channel"]


def _chan_body(suffix: str, w: World, channel_id: str, extra: dict[str, Any]) -> Any:
    if suffix == "":
        return {"data": {"type": "messaging-channels", "id": channel_id, "attributes": {"label": "Taken"}}}
    if suffix in ("/subscribe", "/unsubscribe"):
        return {"individual-ids": [w.messaging["a_second"]], **extra}
    if suffix == "/preferences":
        return {"values": [{"name": "notify", "value": "false"}], **extra}
    return dict(extra)


def _chan_by_id(method: str, suffix: str = ""):
    """B names A's channel (as B's own user and individual): 404."""

    def run(w, call, who):
        channel = w.messaging["a_channel"]
        me = {"individual-id": _me(w, who)}
        payload = _chan_body(suffix, w, channel, me if method == "POST" else {}) if method in ("POST", "PATCH") else ...
        query = dict(me) if method != "POST" else {}
        if suffix == "/get-profile":
            query["profile-individual-id"] = w.directory["individuals"]
        return call(method, f"{CHAN}/{{id}}{suffix}", who.id, params={"id": channel}, query=query, payload=payload,
                    headers=_chan_user(w, who))  # fmt: skip

    return run


def _chan_as_a(method: str, suffix: str = "", where: str = "query"):
    """B acts as A's individual (``individual-id`` in the query or the body) on B's own channel: 403 not-owner."""

    def run(w, call, who):
        channel = _own_channel(w, who)
        named = {"individual-id": w.directory["individuals"]}
        query = dict(named) if where == "query" else {}
        if suffix == "/get-profile":
            query["profile-individual-id"] = w.directory["individuals"] if who.id == w.a.id else "individuals-of-b"
        payload = _chan_body(suffix, w, channel, named if where == "body" else {}) if method in ("POST", "PATCH") else ...
        return call(method, f"{CHAN}/{{id}}{suffix}", who.id, params={"id": channel}, query=query, payload=payload,
                    headers=_chan_user(w, who))  # fmt: skip

    return run


def _chan_list(param: str, value: Callable[[World], str]):
    def run(w, call, who):
        query = {"individual-id": _me(w, who), param: value(w)}
        return call("GET", CHAN, who.id, query=query, headers=_chan_user(w, who))

    return run


def _chan_create(w, call, who):
    org = w.directory["organizations"] if who.id == w.a.id else w.messaging["b_org"]
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": org, "floating": True}}}
    return call("POST", CHAN, who.id, query={"individual-id": w.directory["individuals"]}, payload=doc, headers=_chan_user(w, who))


def _chan_members(suffix: str):
    """B names A's individual as a member of B's own channel: subscribe 404 (not B's individual); unsubscribe is
    answered (not a member: nothing to remove) and changes nothing."""

    def run(w, call, who):
        payload = {"individual-ids": [w.messaging["a_second"]], "individual-id": _me(w, who)}
        params = {"id": _own_channel(w, who)}
        return call("POST", f"{CHAN}/{{id}}{suffix}", who.id, params=params, query={}, payload=payload, headers=_chan_user(w, who))

    return run


def _chan_profile_of_a(w, call, who):
    query = {"profile-individual-id": w.messaging["a_second"], "individual-id": _me(w, who)}
    return call("GET", f"{CHAN}/{{id}}/get-profile", who.id, params={"id": _own_channel(w, who)}, query=query, headers=_chan_user(w, who))


def _unsubscribed_nothing(c: Any) -> None:
    assert c.status == 201 and "individuals-2-of-a" not in {s["id"] for s in c.body["data"]["attributes"]["subscribers"]}, c.body


def _messaging_cases() -> dict[tuple[str, str, str], Case]:
    cases: dict[tuple[str, str, str], Case] = {
        ("GET", CHAN, "query.individual-id"): Case(_chan_list("individual-id", lambda w: w.directory["individuals"]), _not_theirs),
        ("GET", CHAN, "query.organization-id"): Case(_chan_list("organization-id", lambda w: w.directory["organizations"]), _not_found),
        ("GET", CHAN, "query.participant-id"): Case(_chan_list("participant-id", lambda w: w.messaging["a_second"]), _jsonapi_empty),
        ("POST", CHAN, "query.individual-id"): Case(_chan_create, _not_theirs, owner_status=(201,)),
        ("POST", f"{CHAN}/{{id}}/subscribe", "body.individual-ids"): Case(_chan_members("/subscribe"), _not_found, owner_status=(201,)),
        ("POST", f"{CHAN}/{{id}}/unsubscribe", "body.individual-ids"): Case(
            _chan_members("/unsubscribe"), _unsubscribed_nothing, owner_status=(201,)
        ),
        ("GET", f"{CHAN}/{{id}}/get-profile", "query.profile-individual-id"): Case(_chan_profile_of_a, _not_found),
    }
    routes = [("GET", ""), ("PATCH", ""), ("POST", "/archive"), ("POST", "/unarchive"), ("POST", "/subscribe"), ("POST", "/unsubscribe"),
              ("POST", "/preferences"), ("GET", "/get-profile")]  # fmt: skip
    for method, suffix in routes:
        ok = (201,) if method == "POST" else (200,)
        cases[(method, f"{CHAN}/{{id}}{suffix}", "path.id")] = Case(_chan_by_id(method, suffix), _not_found, owner_status=ok)
        if suffix in ("/archive", "/unarchive"):  # an optional body ({}): its schema names no member (individual-id: as below)
            continue
        if method in ("GET", "PATCH"):
            cases[(method, f"{CHAN}/{{id}}{suffix}", "query.individual-id")] = Case(
                _chan_as_a(method, suffix), _not_theirs, owner_status=ok
            )
        else:
            cases[(method, f"{CHAN}/{{id}}{suffix}", "body.individual-id")] = Case(_chan_as_a(method, suffix, "body"), _not_theirs,
                                                                                    owner_status=ok)  # fmt: skip
    return cases


# ───────────── courier bulk messages (docs/courier.md "Bulk messages") ─────────────
BULK = "/v1/messaging-bulk-messages"


def _bulk_by_id(method: str):
    """B names A's bulk message (as B's own user): 404."""

    def run(w, call, who):
        payload = {"data": {"type": "messaging-bulk-messages", "attributes": {"message": "Taken"}}} if method == "PATCH" else ...
        return call(method, f"{BULK}/{{id}}", who.id, params={"id": w.messaging["a_bulk"]}, query={}, payload=payload,
                    headers=_chan_user(w, who))  # fmt: skip

    return run


def _bulk_create(name: str, where: str = "body"):
    """B names one of A's ids in a new bulk message (``name``; everything else its own): 404, or 403 for an individual
    B's user would act as; A naming its own is answered."""

    def run(w, call, who):
        mine = who.id == w.a.id
        d = w.directory
        attrs: dict[str, Any] = {"message": "hi", "organization-id": d["organizations"] if mine else w.messaging["b_org"],
                                 "individual-ids": [w.messaging["a_second"] if mine else "individuals-of-b"]}  # fmt: skip
        query = {"individual-id": _me(w, who)}
        a_ids = {"individual-ids": [w.messaging["a_second"]], "individual-group-ids": [d["individual-groups"]],
                 "organization-id": d["organizations"], "sender-individual-id": d["individuals"],
                 "sender-individual-group-id": d["individual-groups"]}  # fmt: skip
        if where == "query":
            query["individual-id"] = d["individuals"]
        else:
            attrs[name] = a_ids[name]
        doc = {"data": {"type": "messaging-bulk-messages", "attributes": attrs}}
        return call("POST", BULK, who.id, query=query, payload=doc, headers=_chan_user(w, who))

    return run


def _bulk_cases() -> dict[tuple[str, str, str], Case]:
    return {
        ("GET", f"{BULK}/{{id}}", "path.id"): Case(_bulk_by_id("GET"), _not_found),
        ("PATCH", f"{BULK}/{{id}}", "path.id"): Case(_bulk_by_id("PATCH"), _not_found),
        ("POST", BULK, "query.individual-id"): Case(_bulk_create("individual-id", "query"), _not_theirs, owner_status=(201,)),
    }


# The ids inside a JSON:API document's attributes (id_routes sees only the document's data/meta): checked the same way.
BODY_CASES: dict[tuple[str, str, str], Case] = {
    ("POST", BULK, "body.individual-ids"): Case(_bulk_create("individual-ids"), _not_found, owner_status=(201,)),
    ("POST", BULK, "body.individual-group-ids"): Case(_bulk_create("individual-group-ids"), _not_found, owner_status=(201,)),
    ("POST", BULK, "body.organization-id"): Case(_bulk_create("organization-id"), _not_found, owner_status=(201,)),
    ("POST", BULK, "body.sender-individual-id"): Case(_bulk_create("sender-individual-id"), _not_theirs, owner_status=(201,)),
    # A's group has no members: A's own call is refused for not being in it (403), a live id, not a 404
    ("POST", BULK, "body.sender-individual-group-id"): Case(_bulk_create("sender-individual-group-id"), _not_found, owner_status=(403,)),
}


CASES: dict[tuple[str, str, str], Case] = {
    # candidate
    ("GET", "/communications/email/v1/activity", "query.emailActivityId"): Case(_activity, _not_found),
    ("GET", "/communications/email/v1/forward-profile/activity", "query.communicationId"): Case(_forward_activity, _candidate_empty),
    ("GET", "/communications/email/v1/history", "query.candidateId"): Case(_history("email"), _candidate_empty),
    ("GET", "/communications/sms/v1/history", "query.candidateId"): Case(_history("sms"), _candidate_empty),
    ("GET", "/communications/sms/v1/activity", "query.activityId"): Case(_sms_activity, _not_found),
    ("GET", "/communications/sms/v1/optIn/history", "query.communicationId"): Case(_optin_history, _optin_empty),
    # CRM, ids in the path
    ("GET", f"{CRM}/find/{{id}}", "path.id"): Case(_find_by_id, _not_found),
    ("DELETE", f"{CRM}/{{id}}", "path.id"): Case(_by_id("DELETE", ""), _not_found, owner_status=(200, 204)),
    ("POST", f"{CRM}/{{id}}/cancel", "path.id"): Case(_by_id("POST", "/cancel", "scheduled_id"), _not_found),
    ("POST", f"{CRM}/{{id}}/comment", "path.id"): Case(_by_id("POST", "/comment", payload="Called them."), _not_found),
    ("POST", f"{CRM}/{{id}}/resend", "path.id"): Case(_by_id("POST", "/resend"), _not_found),
    ("GET", f"{CRM}/{{id}}/thread", "path.id"): Case(_by_id("GET", "/thread"), _not_found),
    ("GET", f"{CRM}/templates/{{templateId}}", "path.templateId"): Case(_template("GET"), _not_found),
    ("PUT", f"{CRM}/templates/{{templateId}}", "path.templateId"): Case(
        _template("PUT", {"name": "Taken over", "subject": "x", "bodyHtml": "<p>x</p>", "type": "OTHER"}), _not_found
    ),
    ("DELETE", f"{CRM}/templates/{{templateId}}", "path.templateId"): Case(_template("DELETE"), _not_found, owner_status=(200, 204)),
    ("POST", f"{CRM}/send-template/{{templateId}}", "path.templateId"): Case(_send_template, _not_found),
    ("GET", f"{CRM}/track/{{id}}", "path.id"): Case(_track, _not_found),
    ("GET", f"{CRM}/link/{{id}}/{{linkIndex}}", "path.id"): Case(_link, _not_found, owner_status=(302,)),
    ("GET", f"{CRM}/link/{{id}}/{{linkIndex}}", "path.linkIndex"): Case(_link, _not_found, owner_status=(302,)),
    # CRM, ids in the query
    ("GET", f"{CRM}/find", "query.ids"): Case(_ids("find"), _empty_list),
    ("GET", f"{CRM}/find-list", "query.ids"): Case(_ids("find-list"), _empty_list),
    ("DELETE", f"{CRM}/delete-list", "query.ids"): Case(_ids("delete-list", "DELETE"), _deleted_nothing),
    ("GET", f"{CRM}/by-entity", "query.entityId"): Case(_by_entity, _empty_list),
    # CRM, ids in the body
    ("POST", f"{CRM}/send", "body.templateId"): Case(_send_with_template_id("send"), _not_found),
    ("POST", f"{CRM}/schedule", "body.templateId"): Case(_send_with_template_id("schedule"), _not_found),
    ("POST", f"{CRM}/send", "body.relatedEntityId"): Case(_labelled_send("send"), _labelled_ok, mutates=True),
    ("POST", f"{CRM}/send", "body.recipientListId"): Case(_labelled_send("send"), _labelled_ok, mutates=True),
    ("POST", f"{CRM}/schedule", "body.relatedEntityId"): Case(_labelled_send("schedule"), _labelled_ok, mutates=True),
    ("POST", f"{CRM}/schedule", "body.recipientListId"): Case(_labelled_send("schedule"), _labelled_ok, mutates=True),
    ("POST", f"{CRM}/send-template/{{templateId}}", "body.relatedEntityId"): Case(
        _labelled_send("send-template"), _labelled_ok, mutates=True
    ),
    ("POST", f"{CRM}/send-template/{{templateId}}", "body.recipientListId"): Case(
        _labelled_send("send-template"), _labelled_ok, mutates=True
    ),
    # ATS
    ("GET", "/company/{companyID}/applicant/{applicantID}/messages", "path.companyID"): Case(_ats(True), _not_found),
    ("GET", "/company/{companyID}/applicant/{applicantID}/messages", "path.applicantID"): Case(_ats(False), _not_found),
    # courier admin: the directory
    **{
        ("GET", f"/v1/{t}/{{id}}", "path.id"): Case(_courier(t), _not_found)
        for t in ("organizations", "users", "individuals", "individual-groups")
    },
    ("PATCH", "/v1/users/{id}", "path.id"): Case(_courier_patch_user, _not_found),
    # courier admin: communication summaries (A's individual)
    ("GET", "/v1/communication-summaries", "query.individual-id"): Case(
        lambda w, call, who: call("GET", "/v1/communication-summaries", who.id, query={"individual-id": w.directory["individuals"]}),
        _not_found,
    ),
    ("POST", "/v1/individuals/{id}/recalculate-communication-summary", "path.id"): Case(
        lambda w, call, who: call(
            "POST",
            "/v1/individuals/{id}/recalculate-communication-summary",
            who.id,
            params={"id": w.directory["individuals"]},
            query={},
            payload={},
        ),
        _not_found,
        owner_status=(201,),
    ),
    ("GET", "/v1/org-preferences", "query.organization-id"): Case(_org_preferences, _not_found),
    # courier email: user-emails
    ("GET", "/v1/user-emails/{id}", "path.id"): Case(_user_email(""), _not_found),
    ("POST", "/v1/user-emails/{id}/send", "path.id"): Case(_user_email("/send"), _not_found, owner_status=(201,)),
    ("GET", "/v1/user-emails", "query.individual-id"): Case(_user_emails_of, _not_theirs),
    # courier messaging: messages and the inbox (A's channel and message)
    ("GET", "/v1/messaging-messages/{id}", "path.id"): Case(_channel_message("GET"), _not_found),
    ("GET", "/v1/messaging-messages/{id}", "query.individual-id"): Case(_channel_message("GET"), _not_found),
    ("PATCH", "/v1/messaging-messages/{id}", "path.id"): Case(_channel_message("PATCH", payload=_message_patch), _not_found),
    ("POST", "/v1/messaging-messages/{id}/ack", "path.id"): Case(_channel_message("POST", "/ack", {}), _not_found, owner_status=(201,)),
    ("POST", "/v1/messaging-messages/{id}/add-reaction", "path.id"): Case(
        _channel_message("POST", "/add-reaction", {"reaction-type": "like"}), _not_found, owner_status=(201,)
    ),
    ("POST", "/v1/messaging-messages/{id}/add-reaction", "body.individual-id"): Case(
        _channel_message("POST", "/add-reaction", {"reaction-type": "like"}), _not_found, owner_status=(201,)
    ),
    ("POST", "/v1/messaging-messages/{id}/delete-reaction", "path.id"): Case(
        _channel_message("POST", "/delete-reaction", {"reaction-type": "like"}), _not_found, owner_status=(201,)
    ),
    ("POST", "/v1/messaging-messages/{id}/delete-reaction", "body.individual-id"): Case(
        _channel_message("POST", "/delete-reaction", {"reaction-type": "like"}), _not_found, owner_status=(201,)
    ),
    ("GET", "/v1/messaging-messages/{id}/get-receipts", "path.id"): Case(_channel_message("GET", "/get-receipts"), _not_found),
    ("GET", "/v1/messaging-messages/{id}/get-receipts", "query.individual-id"): Case(_channel_message("GET", "/get-receipts"), _not_found),
    ("GET", "/v1/messaging-messages", "query.channel-id"): Case(_channel_messages_of, _not_found),
    ("GET", "/v1/messaging-messages", "query.individual-id"): Case(_channel_messages_of, _not_found),
    ("GET", "/v1/messaging-messages", "query.user-id"): Case(_channel_messages_of, _not_found),
    ("GET", "/v1/communication-messages", "query.individual-id"): Case(_inbox_by("individual-id"), _not_theirs),
    ("GET", "/v1/communication-messages", "query.organization-id"): Case(_inbox_by("organization-id"), _not_theirs),
    # courier automation: announcers and messaging-operations (issue 19, area 4)
    ("GET", "/v1/announcers", "query.organization-id"): Case(_announcer_call("GET", "/v1/announcers", query="organization-id"), _not_found),
    ("GET", "/v1/announcers/{id}", "path.id"): Case(_announcer_call("GET", "/v1/announcers/{id}", "announcer"), _not_found),
    ("PATCH", "/v1/announcers/{id}", "path.id"): Case(_announcer_call("PATCH", "/v1/announcers/{id}", "announcer"), _not_found),
    ("GET", "/v1/messaging-operations", "query.organization-id"): Case(
        _announcer_call("GET", "/v1/messaging-operations", query="organization-id"), _not_found
    ),
    ("GET", "/v1/messaging-operations/{id}", "path.id"): Case(
        _announcer_call("GET", "/v1/messaging-operations/{id}", "operation"), _not_found
    ),
    # courier admin: sniffers
    ("GET", "/v1/sniffers/{id}", "path.id"): Case(_sniffer(""), _not_found),
    ("GET", "/v1/sniffers/{id}/get-logs", "path.id"): Case(_sniffer("/get-logs"), _not_found),
    ("GET", "/v1/purge-data/{request_id}", "path.request_id"): Case(
        lambda w, call, who: call("GET", "/v1/purge-data/{request_id}", who.id, params={"request_id": "purge-of-a"}, query={}), _not_found
    ),
    ("GET", "/v1/replicators/{id}", "path.id"): Case(
        lambda w, call, who: call("GET", "/v1/replicators/{id}", who.id, params={"id": w.replicator_id}, query={}), _not_found
    ),
    # courier email: user-email-attachments (of A's user-email)
    ("GET", "/v1/user-email-attachments/{id}", "path.id"): Case(_attachment("GET"), _not_found),
    ("POST", "/v1/user-email-attachments/{id}/process-upload", "path.id"): Case(
        _attachment("POST", "/process-upload"), _not_found, owner_status=(201,)
    ),
    ("GET", "/v1/user-email-attachments", "query.email-id"): Case(_attachments_of_email, _not_found),
    # courier notifications: app-credentials and user-devices (of A's user)
    ("GET", "/v1/app-credentials/{id}", "path.id"): Case(_push_credential("GET"), _not_found),
    ("PATCH", "/v1/app-credentials/{id}", "path.id"): Case(_push_credential("PATCH"), _not_found),
    ("GET", "/v1/user-devices/{id}/get-logs", "path.id"): Case(_device("GET", "/get-logs"), _not_found),
    ("DELETE", "/v1/user-devices/{id}", "path.id"): Case(_device("DELETE"), _not_found, owner_status=(204,)),
    # courier texting: accounts, numbers, lookups, maps, logs (A's, stored by _texting_of_a)
    ("GET", "/v1/text-accounts/{id}", "path.id"): Case(_text("GET", "text-accounts", key="account"), _not_found),
    ("PATCH", "/v1/text-accounts/{id}", "path.id"): Case(
        _text("PATCH", "text-accounts", key="account", payload=_text_account_patch), _not_found
    ),
    # the owner's claim gets past its account and fails at Twilio, which refuses connections here (502)
    ("POST", "/v1/text-accounts/{id}/claim-number", "path.id"): Case(
        _text("POST", "text-accounts", "/claim-number", key="account", payload={"notes": "mine"}), _not_found, owner_status=(502,)
    ),
    ("GET", "/v1/text-accounts", "query.organization-id"): Case(
        _text_list("/v1/text-accounts", "organization-id", lambda w: w.directory["organizations"]), _jsonapi_empty
    ),
    ("GET", "/v1/text-account-numbers/{id}", "path.id"): Case(_text("GET", "text-account-numbers", key="number"), _not_found),
    # courier voice lines (issue 20 area A; A's, stored by _voice_of_a): B names A's line, task, entry, organization
    ("GET", "/v1/voice-settings/{id}", "path.id"): Case(_text("GET", "voice-settings", key="voice_setting"), _not_found),
    ("PATCH", "/v1/voice-settings/{id}", "path.id"): Case(
        _text(
            "PATCH",
            "voice-settings",
            key="voice_setting",
            payload=lambda i: {"data": {"type": "voice-settings", "id": i, "attributes": {"wait-message": "mine"}}},
        ),
        _not_found,
    ),
    # the owner's task runs and is recorded failed (no Twilio credentials here): 201
    ("POST", "/v1/voice-settings/{id}/run-task", "path.id"): Case(
        _text("POST", "voice-settings", "/run-task", key="voice_setting", payload={"method": "refresh_queue_entries"}),
        _not_found,
        owner_status=(201,),
    ),
    ("GET", "/v1/voice-settings", "query.organization-id"): Case(
        _text_list("/v1/voice-settings", "organization-id", lambda w: w.directory["organizations"]), _not_found
    ),
    ("GET", "/v1/voice-tasks/{id}", "path.id"): Case(_text("GET", "voice-tasks", key="voice_task"), _not_found),
    ("GET", "/v1/voice-queue-entries/{id}", "path.id"): Case(_text("GET", "voice-queue-entries", key="voice_entry"), _not_found),
    ("GET", "/v1/voice-queue-entries", "query.setting-id"): Case(
        _text_list("/v1/voice-queue-entries", "setting-id", lambda w: w.texting["voice_setting"]), _not_found
    ),
    ("PATCH", "/v1/text-account-numbers/{id}", "path.id"): Case(
        _text("PATCH", "text-account-numbers", key="number", payload=_text_number_patch), _not_found
    ),
    ("POST", "/v1/text-account-numbers/{id}/reset-logs", "path.id"): Case(
        _text("POST", "text-account-numbers", "/reset-logs", key="number", payload={}), _not_found, owner_status=(201,)
    ),
    ("GET", "/v1/text-account-numbers", "query.account-id"): Case(
        _text_list("/v1/text-account-numbers", "account-id", lambda w: w.texting["account"]), _jsonapi_empty
    ),
    ("GET", "/v1/text-number-info/{id}", "path.id"): Case(_text("GET", "text-number-info", key="info"), _not_found),
    ("GET", "/v1/text-user-number-maps/{id}", "path.id"): Case(_text("GET", "text-user-number-maps", key="map"), _not_found),
    ("GET", "/v1/text-number-logs", "query.number-id"): Case(
        _text_list("/v1/text-number-logs", "number-id", lambda w: w.texting["number"]), _not_found
    ),
    # courier texting: texts, consents, receive logs (A's, stored by _texts_of_a)
    ("GET", "/v1/texts/{id}", "path.id"): Case(_text("GET", "texts", key="text"), _not_found),
    ("GET", "/v1/texts", "query.account-id"): Case(_text_list("/v1/texts", "account-id", lambda w: w.texting["account"]), _jsonapi_empty),
    # Twilio's callback needs no key: the tenant is the URL's, the signature the account's; another tenant's is a 403
    ("POST", "/v1/texts/{id}/callback", "path.id"): Case(_text_status, _forbidden, owner_status=(204,)),
    ("GET", "/v1/user-consents/{id}", "path.id"): Case(_text("GET", "user-consents", key="consent"), _not_found),
    ("GET", "/v1/text-receive-logs/{id}", "path.id"): Case(_text("GET", "text-receive-logs", key="receive_log"), _not_found),
    # courier voice media (issue 20, area C): A's recording and survey, A's organization
    ("GET", "/v1/voice-recordings", "query.organization-id"): Case(_voice_call("/v1/voice-recordings", org=True), _not_found),
    ("GET", "/v1/voice-recordings/{id}", "path.id"): Case(_voice_call("/v1/voice-recordings/{id}", "recording"), _not_found),
    ("GET", "/v1/voice-recordings/{id}", "query.individual-id"): Case(
        _voice_call("/v1/voice-recordings/{id}", "recording", individual=True), _not_found
    ),
    ("GET", "/v1/voice-surveys", "query.organization-id"): Case(_voice_call("/v1/voice-surveys", org=True), _not_found),
    ("GET", "/v1/voice-surveys/{id}", "path.id"): Case(_voice_call("/v1/voice-surveys/{id}", "survey"), _not_found),
    ("GET", "/v1/voice-surveys/{id}", "query.individual-id"): Case(
        _voice_call("/v1/voice-surveys/{id}", "survey", individual=True), _not_found
    ),
    # courier messaging: the SMS bridge (B acts through its own directory and channel: mutates B's items only)
    ("POST", "/v1/messaging-channels/{id}/sms", "path.id"): Case(_sms_switch("path.id"), _not_found, owner_status=(201,), mutates=True),
    ("POST", "/v1/messaging-channels/{id}/sms", "body.text-number-id"): Case(
        _sms_switch("body.text-number-id"), _unknown_number, owner_status=(201,), mutates=True
    ),
    ("POST", "/v1/messaging-channels/{id}/sms", "body.individual-id"): Case(
        _sms_switch("body.individual-id"), _not_theirs, owner_status=(201,), mutates=True
    ),
    # courier notifications: user-notifications and badge counters
    ("GET", "/v1/user-notifications/{id}", "path.id"): Case(_notification(""), _not_found),
    ("POST", "/v1/user-notifications/{id}/ack", "path.id"): Case(_notification("/ack"), _not_found, owner_status=(201,)),
    ("GET", "/v1/user-notifications", "query.individual-id"): Case(_notifications_by("individual-id"), _courier_empty),
    ("GET", "/v1/user-notifications", "query.organization-id"): Case(_notifications_by("organization-id"), _courier_empty),
    ("GET", "/v1/badge-counts/{id}", "path.id"): Case(_badge, _not_found),
    ("GET", "/v1/badge-counts", "query.individual-id"): Case(_badges_by("individual-id"), _not_theirs),
    ("GET", "/v1/badge-counts", "query.organization-id"): Case(_badges_by("organization-id"), _not_theirs),
    # courier notifications: multicasts (A's: its template, its care team, its directory)
    ("GET", "/v1/multicasts/{id}", "path.id"): Case(
        lambda w, call, who: call("GET", "/v1/multicasts/{id}", who.id, params={"id": w.multicast_id}, query={}), _not_found
    ),
    ("GET", "/v1/multicasts/{id}", "query.include-individual-ids"): Case(  # a flag, not an id: A's multicast with it
        lambda w, call, who: call(
            "GET", "/v1/multicasts/{id}", who.id, params={"id": w.multicast_id}, query={"include-individual-ids": "true"}
        ),
        _not_found,
    ),
    ("GET", "/v1/multicasts", "query.include-individual-ids"): Case(
        lambda w, call, who: call("GET", "/v1/multicasts", who.id, query={"include-individual-ids": "true"}), _candidate_empty
    ),
    ("GET", "/v1/multicasts", "query.template-id"): Case(_multicasts_by("template-id"), _candidate_empty),
    ("GET", "/v1/multicasts", "query.individual-group-id"): Case(_multicasts_by("individual-group-id"), _candidate_empty),
    ("GET", "/v1/user-multicasts", "query.individual-id"): Case(
        lambda w, call, who: call(
            "GET",
            "/v1/user-multicasts",
            who.id,
            query={"individual-id": w.directory["individuals"]},
            headers={"X-User-ID": w.directory["users"]},
        ),
        _not_theirs,
    ),
    **_multicast_sends(),
    # courier messaging: attachments and bookmarks (A's channel; B's own user names A's ids)
    **_attachment_cases(),
    **_messaging_cases(),
    **_bulk_plugin_cases(),  # issue 19 area 2
    # courier messaging automation: responders (A's; any caller of the tenant manages them, so B's call names A's id)
    **_responder_cases(),
    **_bulk_cases(),
    **_video_cases(),  # issue 20 area E
    **_voice_cases(),  # issue 20 area B
    **_ask_cases(),  # issue 20: Alexa
}

# ───────────── courier video visits (issue 20, area D; docs/courier.md "Video visits") ─────────────
VIDEO = "/v1/video-channels"


def _video_by_id(method: str, suffix: str = "", *, prefix: str = "/v1"):
    """B, as its own user and individual, names A's visit: 404 (the same as an unknown id)."""

    def run(w, call, who):
        me = _me(w, who)
        query = {"individual-id": me} if method in ("GET", "PATCH") or suffix == "/finalize-encounter" else {}
        if method == "PATCH":
            payload: Any = {"data": {"type": "video-channels", "id": w.video_id, "attributes": {"note": "taken"}}}
        elif suffix == "/participant-audio-states":
            payload = {"individual-id": me, "participants": [{"id": w.directory["individuals"], "audio-state": "muted"}]}
        elif suffix == "/finalize-encounter":
            payload = {}
        elif method == "POST":
            payload = {"individual-id": me}
        else:
            payload = ...
        path = f"{prefix}/video-channels/{{id}}{suffix}"
        return call(method, path, who.id, params={"id": w.video_id}, query=query, payload=payload, headers=_chan_user(w, who))

    return run


def _video_as_a(method: str, suffix: str = "", where: str = "query"):
    """B acts as A's individual (``individual-id``) on A's visit: 403 not-owner, before the visit is looked at."""

    def run(w, call, who):
        named = {"individual-id": w.directory["individuals"]}
        query = dict(named) if where == "query" else {}
        if method == "PATCH":
            payload: Any = {"data": {"type": "video-channels", "id": w.video_id, "attributes": {"note": "taken"}}}
        elif method == "POST":
            payload = {**named, "participants": [{"id": w.directory["individuals"], "audio-state": "muted"}]}
        else:
            payload = ...
        return call(method, f"{VIDEO}/{{id}}{suffix}", who.id, params={"id": w.video_id}, query=query, payload=payload,
                    headers=_chan_user(w, who))  # fmt: skip

    return run


def _finalize_as_a(prefix: str):
    """B finalizes A's visit acting as A's individual (``individual-id`` in the query): 403 not-owner."""

    def run(w, call, who):
        return call("POST", f"{prefix}/video-channels/{{id}}/finalize-encounter", who.id, params={"id": w.video_id},
                    query={"individual-id": w.directory["individuals"]}, payload={}, headers=_chan_user(w, who))  # fmt: skip

    return run


def _video_list(param: str):
    def run(w, call, who):
        query = {"individual-id": w.directory["individuals"] if param == "individual-id" else _me(w, who)}
        if param == "organization-id":
            query["organization-id"] = w.directory["organizations"]
        return call("GET", VIDEO, who.id, query=query, headers=_chan_user(w, who))

    return run


def _video_create(w, call, who):
    org = w.directory["organizations"] if who.id == w.a.id else w.messaging["b_org"]
    doc = {"data": {"type": "video-channels", "attributes": {"organization-id": org}}}
    return call("POST", VIDEO, who.id, query={"individual-id": w.directory["individuals"]}, payload=doc, headers=_chan_user(w, who))


def _visit_cases() -> dict[tuple[str, str, str], Case]:
    by_id, as_a = _video_by_id, _video_as_a
    return {
        ("GET", VIDEO, "query.individual-id"): Case(_video_list("individual-id"), _not_theirs),
        ("GET", VIDEO, "query.organization-id"): Case(_video_list("organization-id"), _not_found),
        ("POST", VIDEO, "query.individual-id"): Case(_video_create, _not_theirs, owner_status=(201,)),
        ("GET", f"{VIDEO}/{{id}}", "path.id"): Case(by_id("GET"), _not_found),
        ("GET", f"{VIDEO}/{{id}}", "query.individual-id"): Case(as_a("GET"), _not_theirs),
        ("PATCH", f"{VIDEO}/{{id}}", "path.id"): Case(by_id("PATCH"), _not_found),
        ("PATCH", f"{VIDEO}/{{id}}", "query.individual-id"): Case(as_a("PATCH"), _not_theirs),
        ("GET", f"{VIDEO}/{{id}}/get-credentials", "path.id"): Case(by_id("GET", "/get-credentials"), _not_found, owner_status=(409,)),
        ("GET", f"{VIDEO}/{{id}}/get-credentials", "query.individual-id"): Case(as_a("GET", "/get-credentials"), _not_theirs,
                                                                                owner_status=(409,)),
        ("POST", f"{VIDEO}/{{id}}/participant-audio-states", "path.id"): Case(by_id("POST", "/participant-audio-states"), _not_found,
                                                                              owner_status=(201,)),
        ("POST", f"{VIDEO}/{{id}}/participant-audio-states", "body.individual-id"): Case(
            as_a("POST", "/participant-audio-states", "body"), _not_theirs, owner_status=(201,)),
        ("POST", f"{VIDEO}/{{id}}/reminder-timer", "path.id"): Case(by_id("POST", "/reminder-timer"), _not_found, owner_status=(201,)),
        ("POST", f"{VIDEO}/{{id}}/terminate", "path.id"): Case(by_id("POST", "/terminate"), _not_found, owner_status=(201,)),
        ("POST", f"{VIDEO}/{{id}}/finalize-encounter", "path.id"): Case(by_id("POST", "/finalize-encounter"), _not_found,
                                                                        owner_status=(409,)),
        ("POST", f"{VIDEO}/{{id}}/finalize-encounter", "query.individual-id"): Case(_finalize_as_a("/v1"), _not_theirs,
                                                                                    owner_status=(409,)),
        ("POST", "/v2/video-channels/{id}/finalize-encounter", "query.individual-id"): Case(_finalize_as_a("/v2"), _not_theirs,
                                                                                           owner_status=(409,)),
        ("POST", "/v2/video-channels/{id}/finalize-encounter", "path.id"): Case(
            by_id("POST", "/finalize-encounter", prefix="/v2"), _not_found, owner_status=(409,)),
    }  # fmt: skip


CASES.update(_visit_cases())

# Function URLs (Twilio): not API routes; their cases call the function directly.
URL_CASES = {
    ("URL", "CandidateApi.TwilioInboundFunction", "query.tenant"),
    ("URL", "CandidateApi.TwilioInboundFunction", "form.MessageSid"),
    ("URL", "CandidateApi.TwilioStatusFunction", "query.tenant"),
    ("URL", "CandidateApi.TwilioStatusFunction", "form.MessageSid"),
    # routed by the receiving number (no ?tenant), signed with its account's token: test_battery_texting.py
    ("URL", "CourierTextingApi.TextInboundFunction", "query.tenant"),
    ("URL", "CourierTextingApi.TextInboundFunction", "form.MessageSid"),
    # Twilio's voice callbacks and voice webhook (issue 20 area A): no API key, addressed by ?tenant=&account= (or the
    # line's stored URL) and signed with that text-account's token; a foreign tenant, account or line is a 403 and
    # writes nothing: tests/integration/test_courier_voice_lines.py (test_forged_or_foreign_callbacks_change_nothing,
    # test_twiml_with_a_bad_signature_is_403_and_writes_nothing) and test_battery_webhooks.py
    ("URL", "CourierVoiceVideoApi.VoiceCallbackFunction", "query.tenant"),
    ("URL", "CourierVoiceVideoApi.VoiceCallbackFunction", "form.MessageSid"),
    ("POST", "/v1/voice-ivrs/{id}/twiml", "path.id"),
    ("GET", "/v1/voice-ivrs/{id}/twiml", "path.id"),
    # routed by the room (RoomSid's global route, no ?tenant), signed with its channel's account token: the Twilio Video
    # cases of test_battery_webhooks.py (another tenant's token, an unknown room → 403, nothing changed)
    ("URL", "CourierVoiceVideoApi.VideoCallbackFunction", "query.tenant"),
    ("URL", "CourierVoiceVideoApi.VideoCallbackFunction", "form.MessageSid"),
}


def test_every_id_route_has_a_case(aws):
    declared = {(m, p, name) for (m, p), names in id_routes(aws).items() for name in names}
    mapped = set(CASES) | URL_CASES
    assert declared - mapped == set(), "routes that take an id without an isolation case"
    assert mapped - declared == set(), "cases for routes or ids that no template declares any more"


def _a_items(table_items, a_id: str) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items() if a_id in json.dumps(i, default=str))


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
def test_another_tenants_id_is_404_and_changes_nothing(route, world, call, snapshot, table_items):
    case = CASES[route]
    before, a_before = snapshot(), _a_items(table_items, world.a.id)
    got = case.run(world, call, world.b)
    case.intruder(got)
    if case.mutates:
        assert _a_items(table_items, world.a.id) == a_before
        assert _by_entity(world, call, world.a).body and all(
            r["id"] in (world.record_id,) for r in _by_entity(world, call, world.a).body
        ), "B's send showed up under A's entity"
    else:
        assert snapshot() == before, "the intruder's call stored, changed or deleted something"
    if got.status == 404:
        assert "detail" in got.body or "message" in got.body or got.body["errors"][0]["detail"]
    mine = case.run(world, call, world.a)  # the same id, by its owner: live
    assert mine.status in case.owner_status, (mine.status, mine.body)
    if case.intruder in (_empty_list, _candidate_empty, _optin_empty, _courier_empty):  # the owner's answer lists what B's left out
        listed = mine.body if isinstance(mine.body, list) else mine.body.get("data") or mine.body.get("details", {}).get("content")
        assert listed, mine.body


@pytest.mark.parametrize("route", sorted(BODY_CASES), ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
def test_another_tenants_id_in_a_document_is_refused_and_changes_nothing(route, world, call, snapshot, table_items):
    case = BODY_CASES[route]
    before = snapshot()
    got = case.run(world, call, world.b)
    case.intruder(got)
    assert snapshot() == before, "the intruder's call stored, changed or deleted something"
    mine = case.run(world, call, world.a)  # the same id, by its owner: live
    assert mine.status in case.owner_status, (mine.status, mine.body)


def test_twilio_function_urls_keep_tenants_apart(handler, world, snapshot):
    """?tenant=<A> with a request signed by B's token → 403; B's status callback naming A's message SID
    (signed by B for B) → acknowledged, nothing changed; B's inbound SMS with A's MessageSid → stored
    under B only, A's message untouched."""
    from parley.dal import messages

    w = world
    inbound, status = "CandidateApi.TwilioInboundFunction", "CandidateApi.TwilioStatusFunction"
    stop = {"MessageSid": "SM" + "1" * 32, "From": A_STOP_PHONE, "To": OUR_NUMBER, "Body": "START", "AccountSid": "AC0123"}
    delivered = {"MessageSid": w.sms_sid, "MessageStatus": "delivered", "To": A_PHONE, "From": OUR_NUMBER, "AccountSid": "AC0123"}

    before = snapshot()
    for fn, name, params in ((inbound, "twilio_inbound", stop), (status, "twilio_status", delivered)):
        forged = twilio_event(name, w.b.id, params, "token-of-b")
        forged["rawQueryString"], forged["queryStringParameters"] = f"tenant={w.a.id}", {"tenant": w.a.id}
        assert through_queue(handler, fn)(forged)["statusCode"] == 403
    assert through_queue(handler, status)(twilio_event("twilio_status", w.b.id, delivered, "token-of-b"))["statusCode"] == 204
    assert snapshot() == before
    assert messages.get(w.a.id, w.sms_id).delivery_status is None

    assert through_queue(handler, inbound)(twilio_event("twilio_inbound", w.b.id, stop, "token-of-b"))["statusCode"] == 200
    assert messages.find_by_provider_id(w.a.id, "twilio", stop["MessageSid"]) == w.stop_id
    theirs = messages.find_by_provider_id(w.b.id, "twilio", stop["MessageSid"])
    assert theirs and theirs != w.stop_id
    assert messages.get(w.a.id, theirs) is None
    assert messages.get(w.a.id, w.stop_id).body == "STOP"

    # the owner's own signed callback does apply (the SID was live)
    assert through_queue(handler, status)(twilio_event("twilio_status", w.a.id, delivered, "token-of-a"))["statusCode"] == 204
    assert messages.get(w.a.id, w.sms_id).delivery_status == "DELIVERED"
