"""Voice recordings (issue 20, area C; docs/courier.md "Voice (issue 20)" → "Voice media").

Twilio's recording callbacks reach ``VoiceCallbackFunction`` (area A; path ``/recording``), which checks the signature
and names the tenant and the voice setting, then calls :func:`apply_recording`. The media is fetched from Twilio into
the body bucket (``voice-recordings/<tenant>/<RecordingSid>.mp3``) with the text account's credentials (the URL is
made from the sid, never taken from the callback); the API answers short-lived pre-signed links.

- the recording's item is keyed by Twilio's RecordingSid: a repeated callback updates the same item; the state goes
  ``inprogress`` → ``completed`` (when the audio is in S3), never back;
- a transcription callback (``TranscriptionText``) fills ``transcription`` whether it comes before or after the
  recording's own callback;
- the account is the tenant's text account whose ``twilio-id`` is the callback's ``AccountSid``; the organization is
  that account's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import voice_media as store
from parley.errors import NotFound, ParleyError
from parley.models.courier_voice_media import VoiceRecordingAttributes

logger = Logger(child=True)

LINK_SECONDS = 900  # a recording's link lives 15 minutes
CONTENT_TYPE = "audio/mpeg"


class BadGateway(ParleyError):
    """Twilio could not give the recording's audio (the callback is answered 502; a repeated callback tries again)."""

    status = 502


def _account_for(tenant_id: str, account_sid: str) -> dict[str, Any] | None:
    from parley.dal import text_numbers

    offset = 0
    while True:
        items, total = text_numbers.accounts(tenant_id, None, offset=offset, limit=100)
        for account in items:
            if account.get("twilio_id") == account_sid:
                return account
        offset += len(items)
        if not items or offset >= total:
            return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def apply_recording(tenant_id: str, setting_id: str, params: dict[str, str]) -> None:
    """Record (or complete) the recording Twilio reports for a call on the voice setting ``setting_id``.

    ``params`` is Twilio's callback form: ``RecordingSid``, ``RecordingUrl``, ``RecordingDuration``, ``RecordingStatus``,
    ``CallSid``, ``AccountSid``, ``From``/``To`` when present, and for transcription callbacks ``TranscriptionText`` /
    ``TranscriptionStatus``; ``IndividualId`` (ours) when the caller knows whom the call is with. Idempotent: a
    repeated callback changes nothing; a transcription arriving before or after the recording fills the same item. A
    ``completed`` recording's media is copied into S3 once. The caller (the callback function) has verified the
    signature; a recording of an account the tenant does not have is ignored (logged) so Twilio gets its 200; a
    Twilio failure to give the audio raises ``BadGateway`` (502), the item stays ``inprogress``.
    """
    sid = (params.get("RecordingSid") or "").strip()
    if not sid.startswith("RE") or len(sid) > 64:
        logger.warning("recording callback without a RecordingSid", extra={"tenant_id": tenant_id, "setting_id": setting_id})
        return
    account = _account_for(tenant_id, params.get("AccountSid") or "")
    if account is None:
        logger.warning("recording callback of an unknown account", extra={"tenant_id": tenant_id, "recording_sid": sid})
        return
    now = clock.iso(clock.now())
    existing = store.get_recording(tenant_id, sid, consistent=True)
    created = {
        "type": "voice_recording",
        "tenant_id": tenant_id,
        "id": sid,
        "created_at": now,
        "organization_id": account["organization_id"],
        "account_id": account["id"],
        "GSI3PK": store.recording_org_pk(tenant_id, account["organization_id"]),
        "GSI3SK": f"{now}#{sid}",
        "download_count": 0,
    }
    fields: dict[str, Any] = {
        "setting_id": setting_id or None,
        "call_sid": params.get("CallSid") or None,
        "phone_number": params.get("From") or params.get("Caller") or None,
        "individual_id": params.get("IndividualId") or None,
        "duration": _int(params.get("RecordingDuration")),
        "last_modified_at": now,
    }
    if params.get("TranscriptionText") is not None and (params.get("TranscriptionStatus") or "completed") == "completed":
        fields["transcription"] = params["TranscriptionText"]
    if existing and existing.get("state") == "completed":
        # only what a completed recording may still learn: its transcription (and a missing duration)
        fields = {
            k: v for k, v in fields.items() if k in ("transcription", "last_modified_at") or (k == "duration" and not existing.get(k))
        }
        store.upsert_recording(tenant_id, sid, created=created, fields=fields)
        return
    store.upsert_recording(tenant_id, sid, created=created, fields=fields)
    status = params.get("RecordingStatus")
    if status != "completed" and (status is not None or not params.get("RecordingUrl")):
        return  # an in-progress (or absent/failed) recording: nothing to copy yet
    _copy_audio(tenant_id, sid, account)
    store.upsert_recording(
        tenant_id,
        sid,
        created=created,
        fields={"state": "completed", "content_type": CONTENT_TYPE, "s3_key": store.recording_key(tenant_id, sid), "last_modified_at": now},
    )


def _copy_audio(tenant_id: str, sid: str, account: dict[str, Any]) -> None:
    from parley.domain import text_numbers
    from parley.providers import twilio_rest

    key = store.recording_key(tenant_id, sid)
    if store.audio_exists(key):
        return
    account_sid, token = text_numbers.account_auth(tenant_id, account["id"])
    try:
        audio = twilio_rest.recording_media(account_sid, token, sid)
    except twilio_rest.TwilioError as err:
        raise BadGateway(f"Twilio could not give the recording {sid}: {err.message}", code="twilio-unavailable") from None
    store.put_audio(key, audio, CONTENT_TYPE)


def view(stored: dict[str, Any], *, url: str | None = None, expires: str | None = None) -> VoiceRecordingAttributes:
    return VoiceRecordingAttributes(
        created_at=stored["created_at"],
        download_count=int(stored.get("download_count") or 0),
        duration=stored.get("duration"),
        individual_id=stored.get("individual_id"),
        last_modified_at=stored.get("last_modified_at") or stored["created_at"],
        phone_number=stored.get("phone_number"),
        setting_id=stored.get("setting_id"),
        state=stored.get("state") or "inprogress",
        transcription=stored.get("transcription"),
        call_sid=stored.get("call_sid"),
        content_type=stored.get("content_type"),
        url=url,
        url_expires_at=expires,
    )


def page(
    tenant_id: str,
    organization_id: str,
    *,
    individual_id: str | None,
    setting_id: str | None,
    states: list[str] | None,
    offset: int,
    limit: int,
) -> tuple[list[tuple[str, VoiceRecordingAttributes]], int]:
    from parley.domain import channels

    channels.require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.recording_page(
        tenant_id, organization_id, individual_id=individual_id, setting_id=setting_id, states=states, offset=offset, limit=limit
    )
    return [(i["id"], view(i)) for i in items], total


def download(tenant_id: str, recording_id: str, *, individual_id: str | None = None) -> tuple[str, VoiceRecordingAttributes]:
    """One recording, counted as a download (``download-count`` + 1) when its audio is there, with a link valid
    ``LINK_SECONDS``; an ``inprogress`` one is answered without a link and not counted. ``individual_id`` (the
    seed's query) must be the recording's individual when given (404 otherwise: nothing is told about others)."""
    stored = store.get_recording(tenant_id, recording_id)
    if stored is None or (individual_id and stored.get("individual_id") != individual_id):
        raise NotFound(f"no voice-recording {recording_id!r}", code="not-found")
    if stored.get("state") != "completed":
        return recording_id, view(stored)
    counted = store.count_download(tenant_id, recording_id, clock.iso(clock.now())) or stored
    expires = clock.iso(clock.now() + timedelta(seconds=LINK_SECONDS))
    url = store.audio_link(counted["s3_key"], filename=f"{recording_id}.mp3", content_type=CONTENT_TYPE, expires_in=LINK_SECONDS)
    return recording_id, view(counted, url=url, expires=expires)


def purge(tenant_id: str, *, individual_ids: set[str], numbers: set[str]) -> dict[str, int]:
    """Erase a person's recordings (``parley.domain.purge``): every recording whose ``individual_id`` is theirs or
    whose caller (``phone_number``) is one of ``numbers`` (their phones, ``client:<individual>``) is deleted: at Twilio
    (the account's copy), its audio in S3, then its item (a purge that stops in between finds the item again). A
    second run finds nothing."""
    done = {
        "voice_recordings": 0,
        "voice_recording_objects": 0,
        "voice_recordings_deleted_at_twilio": 0,
        "voice_recordings_left_at_twilio": 0,
    }
    found: dict[str, dict[str, Any]] = {}
    for individual_id in sorted(individual_ids):
        found |= {r["id"]: r for r in store.recordings_of(tenant_id, individual_id)}
    for number in sorted(numbers):
        found |= {r["id"]: r for r in store.recordings_with(tenant_id, number)}
    for sid, recording in sorted(found.items()):
        done["voice_recordings_deleted_at_twilio" if _delete_at_twilio(tenant_id, recording) else "voice_recordings_left_at_twilio"] += 1
        for key in dict.fromkeys([recording.get("s3_key") or store.recording_key(tenant_id, sid), store.recording_key(tenant_id, sid)]):
            if store.delete_audio(key):
                done["voice_recording_objects"] += 1
        if store.delete_recording(tenant_id, sid):
            done["voice_recordings"] += 1
    return done


def _delete_at_twilio(tenant_id: str, recording: dict[str, Any]) -> bool:
    """Delete the recording from its Twilio account: True when done (or Twilio has it no more: 404), False when it
    cannot be (the account has no credentials any more, or Twilio refuses them: logged with the sid, for the
    operator). Twilio unreachable or failing raises: the purge step is retried, the item still there to find."""
    from parley.domain import text_numbers
    from parley.providers import twilio_rest

    try:
        account_sid, token = text_numbers.account_auth(tenant_id, str(recording.get("account_id") or ""))
    except NotFound:
        logger.warning("purge: a recording's account has no credentials; Twilio keeps it", extra={"tenant_id": tenant_id,
                       "recording_sid": recording["id"]})  # fmt: skip
        return False
    try:
        twilio_rest.delete_recording(account_sid, token, recording["id"])
    except twilio_rest.TwilioError as err:
        if err.status == 404:
            return True
        if err.status in (401, 403):
            logger.warning("purge: Twilio refused to delete a recording; Twilio keeps it", extra={"tenant_id": tenant_id,
                           "recording_sid": recording["id"], "status": err.status})  # fmt: skip
            return False
        raise
    return True
