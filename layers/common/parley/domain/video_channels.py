"""The courier's video channels (seed 003 §6, docs/courier.md "## Video (issue 20)" → "### Video visits"): a
telehealth visit in a Twilio Video room, with an optional appointment and its join window.

Interface for the room callbacks (area E, VideoCallbackFunction) and the participants' routes:

- ``require_channel(tenant_id, channel_id, *, parameter=None, pointer=None)``: the stored channel or 404;
- ``by_room(tenant_id, room_sid)``: the channel a Twilio room belongs to, or ``None``.

The stored channel is a dict with the keys of ``parley/dal/video_channels.py`` (``id``, ``tenant_id``,
``organization_id``, ``channel_state`` scheduled|open|terminated, ``room_sid``, ``room_name``, ``account_id``,
``recorded``, ``participants`` [{``individual_id``, ``account_type``, ``audio_state``, ``disconnected``, ``note``}],
``appointment`` {``id``, ``start``, ``duration``, ``join_start``}, ``created_at``, ``last_modified_at`` …).
"""

from __future__ import annotations

import http.client
import json
import os
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from parley import clock
from parley.dal import directory as people
from parley.dal import table
from parley.dal import video_channels as store
from parley.domain.context import Caller
from parley.domain.ids import new_id
from parley.domain.text_numbers import BadGateway
from parley.errors import Conflict, Forbidden, NotFound, Unprocessable
from parley.models.courier_video import (
    MAX_PARTICIPANTS,
    Appointment,
    Composition,
    Participant,
    ParticipantUser,
    VideoChannelAttributes,
    VideoChannelCreate,
    VideoChannelUpdate,
)
from parley.models.domain import Message


def require_channel(tenant_id: str, channel_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """The tenant's stored channel ``channel_id`` (the dal's keys). Another tenant's id, or an unknown one → 404
    ``not-found`` naming ``parameter`` (a query parameter) or ``pointer`` (a body member) as its source when given."""
    found = store.get(tenant_id, channel_id, consistent=True) if channel_id else None
    if found is None:
        raise NotFound(f"no video-channel {channel_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    return found


def by_room(tenant_id: str | None, room_sid: str) -> dict[str, Any] | None:
    """The stored channel whose Twilio Video room is ``room_sid`` (``RoomSid`` of a room callback), or ``None``
    (unknown room). ``tenant_id`` ``None``: the tenant is learnt from the room's global route (a callback URL carries
    no tenant); given, a room of another tenant's answers ``None``."""
    route = store.room(room_sid) if room_sid else None
    if route is None or (tenant_id is not None and route["tenant_id"] != tenant_id):
        return None
    return store.get(route["tenant_id"], route["channel_id"], consistent=True)


# ── the visit's rules ──
JOIN_EARLY = timedelta(minutes=10)  # join-start: the appointment's start less this; no token before it
REMINDER_LEAD = timedelta(minutes=15)  # the "visit starting" reminder goes out this long before the start
TOKEN_TTL_SECONDS = 4 * 3600
ACCOUNT_TYPES = ("provider", "patient", "guest")  # the creator is the provider; subject-id the patient; others guests
ENCOUNTER_KIND = "video-visit.encounter-finalized"


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def _iso(dt: datetime) -> str:
    return clock.iso(dt)


def appointment_of(start: datetime, duration: int, appointment_id: str | None) -> dict[str, Any]:
    if start.tzinfo is None:
        raise Unprocessable("appointment start must carry a time zone or offset", pointer=pointer("appointment/start"), code="invalid-time")
    start = start.astimezone(clock.UTC)
    return {"id": appointment_id or new_id(), "start": _iso(start), "duration": int(duration), "join_start": _iso(start - JOIN_EARLY)}


def state_of(stored: dict[str, Any], now: datetime | None = None) -> str:
    """``terminated`` once ended (terminate, or the room's end); ``scheduled`` before the appointment's join-start;
    ``open`` from then (or at once without an appointment)."""
    if stored.get("channel_state") == "terminated":
        return "terminated"
    appointment = stored.get("appointment")
    if appointment and clock.parse_iso(appointment["join_start"]) > (now or clock.now()):
        return "scheduled"
    return "open"


def join_url(channel_id: str) -> str | None:
    """The appless browser link (``VIDEO_JOIN_URL`` + ``/<channel id>``; ``None`` where the deployment has no web
    client configured): the page asks get-credentials for the token inside the join window."""
    base = os.environ.get("VIDEO_JOIN_URL", "").strip().rstrip("/")
    return f"{base}/{channel_id}" if base else None


def require_participant(tenant_id: str, channel_id: str, individual_id: str, *, parameter: str | None = "id") -> dict[str, Any]:
    """The channel when ``individual_id`` is one of its participants; 404 otherwise (an unknown id, another tenant's and
    a visit the individual is not in answer alike)."""
    stored = require_channel(tenant_id, channel_id, parameter=parameter)
    if individual_id not in {p["individual_id"] for p in stored.get("participants", [])}:
        raise NotFound(f"no video-channel {channel_id!r}", parameter=parameter, code="not-found")
    return stored


def _people(tenant_id: str, individual_ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The individuals' directory attributes and their owners' (users') attributes, by id (two BatchGetItems)."""
    ind_pk, user_pk = people.pk(tenant_id, "individuals"), people.pk(tenant_id, "users")
    found = table.batch_get([(ind_pk, people.sk(i)) for i in individual_ids]) if individual_ids else {}
    persons = {sk[len("DIR#") :]: people.attributes(v) for (_, sk), v in found.items() if not v.get("deleted")}
    owners = sorted({a["owner-id"] for a in persons.values() if a.get("owner-id")})
    found_users = table.batch_get([(user_pk, people.sk(u)) for u in owners]) if owners else {}
    users = {sk[len("DIR#") :]: people.attributes(v) for (_, sk), v in found_users.items() if not v.get("deleted")}
    return persons, users


def _records(tenant_id: str, channel_id: str) -> dict[str, dict[str, Any]]:
    """The visit's video-participants (area E: fed by the room's callbacks, PATCHed), by individual."""
    from parley.domain import video_participants

    return {r["individual_id"]: r for r in video_participants.of_channel(tenant_id, channel_id)}


def _compositions(tenant_id: str, channel_id: str) -> list[Composition]:
    from parley.dal import video as video_store

    items, _ = video_store.compositions_of(tenant_id, channel_id, offset=0, limit=100)
    return [
        Composition(
            id=i["id"],
            created_at=i.get("created_at"),
            last_modified_at=i.get("last_modified_at"),
            duration=i.get("duration"),
            size=i.get("size"),
            processing_pct=int(i.get("processing_pct") or 0),
            processing_status=i.get("processing_status") or "enqueued",
            status=i.get("status") or "enqueued",
        )
        for i in items
    ]


def view(stored: dict[str, Any], *, now: datetime | None = None) -> VideoChannelAttributes:
    """The visit as answered: its invited participants, each with its video-participant's state (``id`` the
    video-participant's id; ``status`` invited until the room's callbacks say connected/disconnected), and its
    compositions."""
    from parley.domain import video_participants

    tenant_id = stored["tenant_id"]
    parts = stored.get("participants", [])
    persons, users = _people(tenant_id, [p["individual_id"] for p in parts])
    records = _records(tenant_id, stored["id"])
    org = people.get(tenant_id, "organizations", stored["organization_id"])
    org_attrs = people.attributes(org) if org else {}
    rendered = []
    for p in parts:
        ind = p["individual_id"]
        record = records.get(ind, {})
        person = persons.get(ind, {})
        owner = person.get("owner-id")
        user = users.get(owner or "")
        rendered.append(
            Participant(
                id=video_participants.participant_id(stored["id"], ind),
                individual_id=ind,
                account_type=p.get("account_type", "guest"),
                audio_state=record.get("audio_state") or "unmuted",
                disconnected=bool(record.get("disconnected")),
                encounter_id=stored.get("encounter_id"),
                first_name=person.get("first-name"),
                last_name=person.get("last-name"),
                note=record.get("note"),
                photo=person.get("photo"),
                status=record.get("status") or "invited",
                user=ParticipantUser(
                    id=owner,
                    email_verified=user.get("email-verified"),
                    phone_verified=user.get("phone-verified"),
                    state=user.get("state"),
                    registration_invite=user.get("registration-invite"),
                    communication_preferences=user.get("communication-preferences"),
                )
                if owner and user is not None
                else None,
            )
        )
    appointment = stored.get("appointment")
    return VideoChannelAttributes(
        appless=bool(stored.get("appless")),
        appointment=Appointment(**appointment) if appointment else None,
        channel_state=state_of(stored, now),  # type: ignore[arg-type]
        compositions=_compositions(tenant_id, stored["id"]),
        created_at=stored["created_at"],
        created_by=stored.get("created_by"),
        duration=stored.get("duration"),
        encounter_id=stored.get("encounter_id"),
        max_participants=int(stored.get("max_participants") or MAX_PARTICIPANTS),
        note=stored.get("note"),
        observation_id=stored.get("observation_id"),
        organization_display_name=org_attrs.get("display-name") or org_attrs.get("name"),
        organization_id=stored["organization_id"],
        participants=rendered,
        recorded=bool(stored.get("recorded")),
        scheduler_id=stored.get("scheduler_id"),
        subject_id=stored.get("subject_id"),
        type=stored.get("type", "direct"),
        messaging_channel_id=stored.get("messaging_channel_id"),
        with_email=bool(stored.get("with_email")),
        join_url=join_url(stored["id"]) if stored.get("appless") else None,
        room_name=stored.get("room_name") or stored["id"],
        encounter_delivery=stored.get("encounter_delivery"),
        last_modified_at=stored.get("last_modified_at") or stored["created_at"],
    )


def answer(stored: dict[str, Any]) -> tuple[str, VideoChannelAttributes]:
    return stored["id"], view(stored)


# ── the Twilio account of a visit ──
def account_of(tenant_id: str, organization_id: str) -> str:
    """The texting account whose Twilio project hosts the organization's rooms: its oldest text-account (422
    ``no-text-account`` when it has none)."""
    from parley.dal import text_numbers as text_store

    items, _ = text_store.accounts(tenant_id, organization_id, offset=0, limit=100)
    if not items:
        raise Unprocessable(
            f"organization {organization_id!r} has no text-account: its Twilio project hosts the video rooms",
            pointer=pointer("organization-id"),
            code="no-text-account",
        )
    return min(items, key=lambda a: (a["created_at"], a["id"]))["id"]


def video_token(account_sid: str, key_sid: str, key_secret: str, identity: str, room: str, *, ttl: int = TOKEN_TTL_SECONDS) -> str:
    """A Twilio access token (JWT, HS256, signed with the API key's secret) with a VideoGrant for ``room``."""
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VideoGrant

    token = AccessToken(account_sid, key_sid, key_secret, identity=identity, ttl=ttl)
    token.add_grant(VideoGrant(room=room))
    out = token.to_jwt()
    return out.decode() if isinstance(out, bytes) else out


# ── create ──
def create(caller: Caller, individual_id: str, attrs: VideoChannelCreate) -> tuple[str, VideoChannelAttributes]:
    """A new visit of the acting individual (its provider) with ``participants``; with ``with-email`` each other
    participant whose user has an email address is invited through the send pipeline."""
    from parley.domain import channels

    t = caller.tenant_id
    if not attrs.organization_id:
        raise Unprocessable("organization-id is required", pointer=pointer("organization-id"), code="missing-member")
    channels.require_organization(t, attrs.organization_id, pointer=pointer("organization-id"))
    others = [p for p in dict.fromkeys(attrs.participants) if p != individual_id]
    if others:
        channels.require_individuals(t, others, pointer=pointer("participants"))
    if attrs.subject_id and attrs.subject_id != individual_id and attrs.subject_id not in others:
        raise Unprocessable("subject-id must be one of the participants", pointer=pointer("subject-id"), code="subject-not-participant")
    if attrs.messaging_channel_id:
        linked, _ = channels.require_member(t, attrs.messaging_channel_id, individual_id, pointer=pointer("messaging-channel-id"))
        if linked["organization_id"] != attrs.organization_id:
            raise Unprocessable("messaging-channel-id is another organization's channel", pointer=pointer("messaging-channel-id"),
                                code="organization-mismatch")  # fmt: skip
    account_id = account_of(t, attrs.organization_id)
    channel_id, now = new_id(), clock.now()
    appointment = appointment_of(attrs.appointment.start, attrs.appointment.duration, attrs.appointment.id) if attrs.appointment else None

    def participant(ind: str) -> dict[str, Any]:
        kind = "provider" if ind == individual_id else "patient" if ind == attrs.subject_id else "guest"
        return {"individual_id": ind, "account_type": kind}

    fields = {
        "organization_id": attrs.organization_id,
        "created_by": individual_id,
        "created_at": _iso(now),
        "last_modified_at": _iso(now),
        "type": attrs.type,
        "appless": attrs.appless,
        "recorded": attrs.recorded,
        "with_email": attrs.with_email,
        "subject_id": attrs.subject_id,
        "messaging_channel_id": attrs.messaging_channel_id,
        "participants": [participant(i) for i in [individual_id, *others]],
        "appointment": appointment,
        "channel_state": "scheduled" if appointment else "open",
        "room_name": channel_id,
        "account_id": account_id,
        "max_participants": MAX_PARTICIPANTS,
    }
    stored = store.item(t, channel_id, fields)
    store.create(stored)
    if attrs.with_email:
        invite(caller, stored)
    return answer(require_channel(t, channel_id))


def _addresses(tenant_id: str, individual_ids: list[str]) -> dict[str, str]:
    persons, users = _people(tenant_id, individual_ids)
    out = {}
    for ind in individual_ids:
        user = users.get(persons.get(ind, {}).get("owner-id") or "")
        if user and user.get("email"):
            out[ind] = str(user["email"])
    return out


def _visit_email(caller: Caller, stored: dict[str, Any], to: str, subject: str, intro: str) -> Message:
    from parley.domain import emails

    appointment = stored.get("appointment")
    when = f" It starts at {appointment['start']} (UTC); you can join from {appointment['join_start']}." if appointment else ""
    link = join_url(stored["id"]) if stored.get("appless") else None
    join = f" Join in your browser: {link}" if link else " Join from the app."
    return emails.new_outbound(caller, "email", source_api="courier", recipient=to, subject=subject, body=f"{intro}{when}{join}",
                               created_by=stored.get("created_by"))  # fmt: skip


def invite(caller: Caller, stored: dict[str, Any]) -> list[str]:
    """One invitation email per participant other than the creator with an address (the send pipeline, rate-limited
    as every send; a suppressed address is skipped); their message ids are kept on the visit
    (``invitation_message_ids``)."""
    from parley.domain import emails, limits
    from parley.errors import Suppressed

    others = [p["individual_id"] for p in stored["participants"] if p["individual_id"] != stored.get("created_by")]
    ids = []
    with limits.sending(caller):
        for address in _addresses(caller.tenant_id, others).values():
            try:
                ids.append(emails.submit(_visit_email(caller, stored, address, "Your video visit", "You are invited to a video visit.")).id)
            except Suppressed:
                continue
    if ids:
        store.update(caller.tenant_id, stored["id"], {"invitation_message_ids": ids})
    return ids


# ── PATCH ──
def update(
    tenant_id: str, channel_id: str, individual_id: str, attrs: VideoChannelUpdate, present: set[str]
) -> tuple[str, VideoChannelAttributes]:
    """Change the appointment's start and/or duration (creating the appointment when the visit had none needs a
    start), the note and ``recorded``; a terminated visit is not changed (409)."""
    stored = require_participant(tenant_id, channel_id, individual_id)
    if state_of(stored) == "terminated":
        raise Conflict("the visit has ended", code="visit-terminated")
    changes: dict[str, Any] = {}
    if "appointment_start" in present or "appointment_duration" in present:
        current = stored.get("appointment")
        if attrs.appointment_start is None and current is None:
            raise Unprocessable("appointment-start is required: the visit has no appointment", pointer=pointer("appointment-start"),
                                code="missing-member")  # fmt: skip
        start = attrs.appointment_start or clock.parse_iso(current["start"])
        duration = attrs.appointment_duration or (current or {}).get("duration") or 30
        changes["appointment"] = appointment_of(start, int(duration), (current or {}).get("id"))
        if stored.get("room_sid") is None:
            changes["channel_state"] = "scheduled"
    if "note" in present:
        changes["note"] = attrs.note
    if "recorded" in present and attrs.recorded is not None:
        if stored.get("room_sid") and bool(attrs.recorded) != bool(stored.get("recorded")):
            raise Conflict("recorded cannot change once the room exists", pointer=pointer("recorded"), code="room-exists")
        changes["recorded"] = attrs.recorded
    changes["last_modified_at"] = _iso(clock.now())
    if not store.update(tenant_id, channel_id, changes, condition="#state <> :ended", values={":ended": "terminated"}):
        raise Conflict("the visit has ended", code="visit-terminated")
    return answer(require_channel(tenant_id, channel_id))


# ── get-credentials ──
def credentials(tenant_id: str, channel_id: str, individual_id: str) -> dict[str, str]:
    """A Video access token for the participant ``individual_id`` (identity: the individual) and the room's name.
    Refused (409 ``before-join-window``) before the appointment's join-start, and once the visit ended (409
    ``visit-terminated``). The first token of a visit creates its room at Twilio (``UniqueName`` the channel id,
    recorded if ``recorded``, its events to ``VIDEO_CALLBACK_URL``)."""
    stored = require_participant(tenant_id, channel_id, individual_id, parameter="id")
    state = state_of(stored)
    if state == "terminated":
        raise Conflict("the visit has ended", code="visit-terminated")
    if state == "scheduled":
        raise Conflict(f"the visit opens at {stored['appointment']['join_start']} (join-start)", code="before-join-window")
    if not stored.get("room_sid"):
        stored = _open_room(stored)
    from parley.domain import text_numbers

    account_sid, key_sid, key_secret = text_numbers.api_key(tenant_id, stored["account_id"])
    return {"access-token": video_token(account_sid, key_sid, key_secret, individual_id, stored["room_name"]), "name": stored["room_name"]}


def _open_room(stored: dict[str, Any]) -> dict[str, Any]:
    from parley.domain import text_numbers, video_callbacks
    from parley.providers import twilio_rest, twilio_video

    t, channel_id = stored["tenant_id"], stored["id"]
    sid, token = text_numbers.account_auth(t, stored["account_id"])
    callback = video_callbacks.room_callback_url()
    try:
        room = twilio_video.create_room(sid, token, stored["room_name"], recorded=bool(stored.get("recorded")), status_callback=callback,
                                        max_participants=int(stored.get("max_participants") or MAX_PARTICIPANTS))  # fmt: skip
    except twilio_rest.TwilioError as err:
        again = require_channel(t, channel_id)
        if again.get("room_sid"):  # a racing request made it (Twilio refuses a second room of one unique name)
            return again
        raise text_numbers.twilio_failure(err, "create the video room") from None
    store.put_room(t, channel_id, room["sid"])
    now = _iso(clock.now())
    if not store.update(t, channel_id, {"room_sid": room["sid"], "channel_state": "open", "opened_at": now, "last_modified_at": now},
                        condition="attribute_not_exists(room_sid) AND #state <> :ended", values={":ended": "terminated"}):  # fmt: skip
        again = require_channel(t, channel_id)
        if again.get("room_sid"):
            return again
        raise Conflict("the visit has ended", code="visit-terminated")
    return require_channel(t, channel_id)


# ── participant-audio-states ──
def set_audio_states(
    tenant_id: str, channel_id: str, individual_id: str, changes: list[tuple[str, str]]
) -> tuple[str, VideoChannelAttributes]:
    """The host (the visit's provider: its creator) mutes or unmutes participants (anyone else → 403): each
    ``id`` a participant of the visit (its video-participant id or its individual id; 422 naming it otherwise), its
    video-participant's ``audio-state`` set (``video_participants.update``, as its PATCH)."""
    from parley.domain import video_participants
    from parley.models.video import ParticipantPatchAttributes

    stored = require_participant(tenant_id, channel_id, individual_id)
    if stored.get("created_by") != individual_id:
        raise Forbidden("only the visit's host may change other participants' audio", code="not-host")
    by_id = {}
    for p in stored["participants"]:
        by_id[p["individual_id"]] = by_id[video_participants.participant_id(channel_id, p["individual_id"])] = p["individual_id"]
    targets = []
    for n, (pid, audio) in enumerate(changes):
        if pid not in by_id:
            raise Unprocessable(f"{pid!r} is not a participant of the visit", pointer=f"/participants/{n}/id", code="not-participant")
        targets.append((by_id[pid], audio))
    for ind, audio in targets:
        record = video_participants.ensure(tenant_id, stored, ind)
        video_participants.update(tenant_id, record["id"], ParticipantPatchAttributes(audio_state=audio), by=individual_id)
    store.update(tenant_id, channel_id, {"last_modified_at": _iso(clock.now())})
    return answer(require_channel(tenant_id, channel_id))


# ── reminder-timer ──
def rearm_reminder(caller: Caller, channel_id: str, individual_id: str) -> tuple[str, VideoChannelAttributes]:
    """(Re)arm the "visit starting" reminder: the previous reminder's scheduled emails are cancelled (their one-time
    schedules deleted) and one email per participant with an address is scheduled through the send pipeline
    (``emails.schedule``: an EventBridge Scheduler one-time schedule onto the send queue) ``REMINDER_LEAD`` before the
    appointment, or as soon as may be when that has passed. ``scheduler-id`` names the armed reminder. A visit without
    an appointment, or ended, or whose start has passed → 409."""
    from parley.domain import emails, limits

    t = caller.tenant_id
    stored = require_participant(t, channel_id, individual_id)
    if state_of(stored) == "terminated":
        raise Conflict("the visit has ended", code="visit-terminated")
    appointment = stored.get("appointment")
    if not appointment:
        raise Conflict("the visit has no appointment to remind of", code="no-appointment")
    now, start = clock.now(), clock.parse_iso(appointment["start"])
    if start <= now:
        raise Conflict("the appointment has started already", code="appointment-started")
    at = max(start - REMINDER_LEAD, now + timedelta(seconds=30))
    for message_id in stored.get("reminder_message_ids") or []:
        emails.cancel(t, message_id)
    ids = []
    addresses = _addresses(t, [p["individual_id"] for p in stored["participants"]])
    with limits.sending(caller):
        for address in addresses.values():
            msg = _visit_email(caller, stored, address, "Your video visit starts soon", "Your video visit starts soon.")
            ids.append(emails.schedule(msg, at).id)
    scheduler_id = new_id()
    store.update(t, channel_id, {"scheduler_id": scheduler_id, "reminder_message_ids": ids, "reminder_at": _iso(at),
                                 "last_modified_at": _iso(clock.now())})  # fmt: skip
    return answer(require_channel(t, channel_id))


# ── terminate ──
def terminate(tenant_id: str, channel_id: str, individual_id: str) -> tuple[str, VideoChannelAttributes]:
    """End the visit: its room completed at Twilio (every participant disconnected), ``channel-state: terminated``,
    ``duration`` the seconds since the room opened. Idempotent: an ended visit is answered as it is."""
    from parley.domain import text_numbers
    from parley.providers import twilio_rest, twilio_video

    stored = require_participant(tenant_id, channel_id, individual_id)
    if stored.get("channel_state") == "terminated":
        return answer(stored)
    if stored.get("room_sid"):
        sid, token = text_numbers.account_auth(tenant_id, stored["account_id"])
        try:
            twilio_video.complete_room(sid, token, stored["room_sid"])
        except twilio_rest.TwilioError as err:
            if err.status != 404:  # a room Twilio no longer has is ended already
                raise text_numbers.twilio_failure(err, "end the video room") from None
    now = clock.now()
    opened = stored.get("opened_at")
    duration = max(0, int((now - clock.parse_iso(opened)).total_seconds())) if opened else 0
    store.update(tenant_id, channel_id, {"channel_state": "terminated", "terminated_at": _iso(now), "duration": duration,
                                         "last_modified_at": _iso(now)},
                 condition="#state <> :ended", values={":ended": "terminated"})  # fmt: skip
    return answer(require_channel(tenant_id, channel_id))


# ── finalize-encounter ──
def encounter_url(tenant_id: str) -> str:
    from parley.dal.secrets import tenant_secret

    url = str(tenant_secret(tenant_id).get("encounter_webhook_url") or "")
    if not url:
        raise Unprocessable("the tenant has no encounter webhook configured (encounter_webhook_url in its provider secret)",
                            code="no-encounter-webhook")  # fmt: skip
    return url


def encounter_payload(
    stored: dict[str, Any], encounter_id: str, service_type_id: str | None, note: str | None, version: int
) -> dict[str, Any]:
    """The encounter the platform receives: the visit, its appointment and times, and each participant's join and
    leave (its video-participant's ``connected_at`` / ``disconnected_at``)."""
    records = _records(stored["tenant_id"], stored["id"])
    return {
        "type": ENCOUNTER_KIND,
        "version": version,
        "encounter-id": encounter_id,
        "video-channel-id": stored["id"],
        "organization-id": stored["organization_id"],
        "subject-id": stored.get("subject_id"),
        "service-type-id": service_type_id,
        "appointment": stored.get("appointment"),
        "started-at": stored.get("opened_at"),
        "ended-at": stored.get("terminated_at"),
        "duration": stored.get("duration"),
        "note": note,
        "participants": [
            {
                "individual-id": p["individual_id"],
                "account-type": p.get("account_type"),
                "connected-at": records.get(p["individual_id"], {}).get("connected_at"),
                "disconnected-at": records.get(p["individual_id"], {}).get("disconnected_at"),
                "status": records.get(p["individual_id"], {}).get("status") or "invited",
            }
            for p in stored["participants"]
        ],
    }


def finalize(tenant_id: str, channel_id: str, individual_id: str, *, service_type_id: str | None, use_author_note: bool,
             version: int) -> tuple[str, VideoChannelAttributes]:  # fmt: skip
    """Write the ended visit to the platform as an encounter: ONE signed POST (``Parley-Signature`` as the texts'
    callbacks, the tenant's signing secret; ``Parley-Delivery-Id: encounter-<channel id>``) to the tenant's
    ``encounter_webhook_url``. The delivery is claimed on the visit before the POST (``encounter_delivery:
    pending``): a retried or concurrent finalize of a delivered (or in-flight) encounter answers the visit as it is
    and POSTs nothing; a failed delivery (the platform unreachable or not 2xx: 502) may be finalized again.
    A visit not yet ended → 409."""
    from parley.dal import text_callbacks as plumbing
    from parley.domain import text_callbacks

    stored = require_participant(tenant_id, channel_id, individual_id)
    if stored.get("channel_state") != "terminated":
        raise Conflict("the visit has not ended: terminate it first", code="visit-not-terminated")
    if stored.get("encounter_delivery") in ("delivered", "pending"):
        return answer(stored)
    url = encounter_url(tenant_id)
    encounter_id = stored.get("encounter_id") or str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley:encounter:{tenant_id}:{channel_id}"))
    note = stored.get("note")
    if use_author_note:
        author = _records(tenant_id, channel_id).get(stored.get("created_by") or "")
        note = (author or {}).get("note") or note
    claimed = store.update(
        tenant_id, channel_id,
        {"encounter_delivery": "pending", "encounter_id": encounter_id, "service_type_id": service_type_id,
         "last_modified_at": _iso(clock.now())},
        condition="attribute_not_exists(#enc) OR #enc = :failed", values={":failed": "failed"},
    )  # fmt: skip
    if not claimed:
        return answer(require_channel(tenant_id, channel_id))
    body = json.dumps(
        encounter_payload(stored, encounter_id, service_type_id, note, version), separators=(",", ":"), sort_keys=True
    ).encode()
    delivery_id = f"encounter-{channel_id}"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": text_callbacks.USER_AGENT,
        text_callbacks.DELIVERY_HEADER: delivery_id,
        text_callbacks.SIGNATURE_HEADER: text_callbacks.sign(plumbing.signing_secret(tenant_id), int(time.time()), body),
    }
    try:
        dest = text_callbacks.destination(url)
        status, _, _ = text_callbacks.exchange(dest, body, headers)
        detail = f"HTTP {status}"
    except text_callbacks.Refused as err:
        status, detail = 0, f"refused: {err}"
    except (OSError, http.client.HTTPException) as err:
        status, detail = 0, f"connection failed: {err}"
    outcome = "delivered" if 200 <= status < 300 else "failed"
    store.update(tenant_id, channel_id, {"encounter_delivery": outcome, "encounter_detail": detail, "last_modified_at": _iso(clock.now())})
    if outcome == "failed":
        raise BadGateway(f"the encounter could not be delivered: {detail}", code="encounter-undelivered")
    return answer(require_channel(tenant_id, channel_id))


# ── list ──
def listing(tenant_id: str, individual_id: str, *, states: set[str] | None, organization_id: str | None, offset: int,
            limit: int) -> tuple[list[tuple[str, VideoChannelAttributes]], int]:  # fmt: skip
    """The individual's visits, newest first: one Query of its memberships, the visits read in BatchGetItems, then
    ``states`` (as answered: scheduled/open follow the clock) and ``organization_id`` applied; ``page[total]`` counts
    the matches."""
    ids = store.channel_ids_of(tenant_id, individual_id)
    found = store.batch(tenant_id, ids)
    now = clock.now()
    matches = [
        found[c]
        for c in ids
        if c in found
        and (states is None or state_of(found[c], now) in states)
        and (organization_id is None or found[c]["organization_id"] == organization_id)
    ]
    return [(s["id"], view(s, now=now)) for s in matches[offset : offset + limit]], len(matches)


# ── purge (docs/courier.md "Purge data") ──
def purge_individuals(tenant_id: str, individual_ids: Any) -> dict[str, int]:
    """The purged individuals leave their visits: each visit's invitation list no longer names them (nor its
    ``created_by`` / ``subject_id``), and their membership items are deleted. The visits stay, for the other
    participants (their video-participant records are area E's: ``video_participants``)."""
    from parley.dal import purges

    changed = 0
    for individual in sorted(individual_ids):
        members = table.query_all(
            key_condition="PK = :pk AND begins_with(SK, :vc)",
            expr_values=table.values(pk=store.member_pk(tenant_id, individual), vc="VCHAN#"),
        )
        for member in members:
            stored = store.get(tenant_id, member["channel_id"], consistent=True)
            if stored is not None:
                changes: dict[str, Any] = {"participants": [p for p in stored.get("participants", []) if p["individual_id"] != individual]}
                for name in ("created_by", "subject_id"):
                    if stored.get(name) == individual:
                        changes[name] = None
                store.update(tenant_id, stored["id"], changes)
                changed += 1
            purges.delete_keys([(member["PK"], member["SK"])])
    return {"video_channels": changed}
