"""The courier's voice calls (seed 003, docs/courier.md "Voice (issue 20)" → "Agents, conferences and dial logs"):
queue agents, conferences and the dial logs Twilio's status callbacks feed.

- **agents** sign an individual into a voice-setting's queue: a browser agent gets a Voice access token (identity =
  the individual's id, incoming calls allowed), a PSTN agent (``use-pstn``) gives an E.164 ``phone-number``. One agent
  per (setting, individual): signing in again replaces the first. ``call`` is the agent's current call leg (a dial log)
  while Twilio reports it ringing or in progress.
- **conferences** call an individual (``client:<individual-id>`` in the browser, or ``phone-number``) into a Twilio
  conference named ``parley-<id>`` from the organization's first text account (its number), state ``created`` →
  ``running`` (a leg in progress) → ``completed`` | ``failed`` (forward only).
- **access tokens** (agents and ``get-credentials``) are ``twilio.jwt.access_token`` JWTs (HS256) signed with the
  account's API key (``text_numbers.api_key``: one per account, shared with video).
- **dial logs**: ``apply_status`` (Twilio's status callbacks, via area A's VoiceCallbackFunction).
"""

from __future__ import annotations

import uuid
from typing import Any

from parley import clock
from parley.dal import voice_calls as store
from parley.errors import NotFound, Unprocessable

TOKEN_TTL = 3600  # seconds
# Twilio's call status order: a later status never goes back to an earlier one.
RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3,
        "completed": 4, "busy": 4, "failed": 4, "no-answer": 4, "canceled": 4}  # fmt: skip
FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}
_NS = uuid.UUID("6f1c1e5e-0b0e-4c55-9f25-7d3c4a2b9e10")


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def _now() -> str:
    return clock.iso(clock.now())


# ── the account: its auth and its voice API key ──


def _setting(tenant_id: str, setting_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """Area A's voice-setting (``organization_id``, ``account_id``): 404 when the tenant has none of that id."""
    from parley.domain import voice_lines

    return voice_lines.require_setting(tenant_id, setting_id, parameter=parameter, pointer=pointer)


def org_account(tenant_id: str, organization_id: str) -> dict[str, Any]:
    """The organization's text account a conference calls from: its first (oldest) one; 422 when it has none."""
    from parley.dal import text_numbers as texting

    _, total = texting.accounts(tenant_id, organization_id, offset=0, limit=0)
    found, _ = texting.accounts(tenant_id, organization_id, offset=max(total - 1, 0), limit=1)  # newest first: the last is the oldest
    if not found:
        raise Unprocessable(f"organization {organization_id!r} has no text-account to call from", pointer=pointer("organization-id"),
                            code="no-text-account")  # fmt: skip
    return found[0]


def access_token(tenant_id: str, account_id: str, identity: str) -> str:
    """A Twilio Voice access token (JWT, HS256) for ``identity``: incoming calls allowed, valid ``TOKEN_TTL`` s."""
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VoiceGrant

    from parley.domain import text_numbers

    account_sid, key_sid, key_secret = text_numbers.api_key(tenant_id, account_id)
    token = AccessToken(account_sid, key_sid, key_secret, identity=identity, ttl=TOKEN_TTL)
    token.add_grant(VoiceGrant(incoming_allow=True))
    jwt = token.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else str(jwt)


def status_url(tenant_id: str, account_id: str, conference_id: str) -> str:
    """Where Twilio posts a conference call's status events: area A's VoiceCallbackFunction ``/status``, naming the
    tenant, the account whose auth token signs them and the conference (``voice_lines.callback_url``; 503 when the
    deployment lacks the callbacks' URL)."""
    from parley.domain import voice_lines

    return voice_lines.callback_url("status", tenant_id, account_id, conference_id=conference_id)


# ── agents ──


def agent_view(stored: dict[str, Any], token: str | None = None) -> Any:
    from parley.models.voice_calls import AgentAttributes, Ref

    return AgentAttributes(
        access_token=token,
        call=Ref(id=stored["call_id"]) if stored.get("call_id") else None,
        created_at=stored["created_at"],
        individual_id=stored["individual_id"],
        last_modified_at=stored["last_modified_at"],
        phone_number=stored.get("phone_number"),
        setting=Ref(id=stored["setting_id"]),
        use_pstn=bool(stored.get("use_pstn")),
        user=Ref(id=stored["user_id"]) if stored.get("user_id") else None,
    )


def agent_id_of(tenant_id: str, setting_id: str, individual_id: str) -> str:
    """One agent per (setting, individual): its id."""
    return str(uuid.uuid5(_NS, f"agent:{tenant_id}:{setting_id}:{individual_id}"))


def create_agent(tenant_id: str, user_id: str, individual_id: str, attrs: Any, region: str = "US") -> tuple[str, Any]:
    from parley.domain import text_numbers

    if not attrs.setting_id:
        raise Unprocessable("setting-id is required", pointer=pointer("setting-id"), code="missing-member")
    setting = _setting(tenant_id, attrs.setting_id, pointer=pointer("setting-id"))
    phone = None
    if attrs.use_pstn:
        if not attrs.phone_number:
            raise Unprocessable("phone-number is required with use-pstn", pointer=pointer("phone-number"), code="missing-member")
        phone = text_numbers.e164(attrs.phone_number, region, pointer=pointer("phone-number"))
    agent_id = agent_id_of(tenant_id, attrs.setting_id, individual_id)
    token = None if attrs.use_pstn else access_token(tenant_id, setting["account_id"], individual_id)
    previous = store.get_agent(tenant_id, agent_id, consistent=True)
    now = _now()
    fields = {
        "id": agent_id,
        "setting_id": attrs.setting_id,
        "organization_id": setting.get("organization_id"),
        "account_id": setting["account_id"],
        "individual_id": individual_id,
        "user_id": user_id,
        "use_pstn": bool(attrs.use_pstn),
        "phone_number": phone,
        "created_at": previous["created_at"] if previous else now,
        "last_modified_at": now,
    }
    store.put_agent(tenant_id, fields)
    return agent_id, agent_view(fields, token)


def get_agent(tenant_id: str, agent_id: str) -> tuple[str, Any]:
    found = store.get_agent(tenant_id, agent_id)
    if found is None:
        raise NotFound(f"no voice-queue-agent {agent_id!r}", code="not-found")
    return agent_id, agent_view(found)


def agents_page(tenant_id: str, setting_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, Any]], int]:
    _setting(tenant_id, setting_id, parameter="setting-id")
    items, total = store.agents_page(tenant_id, setting_id, offset=offset, limit=limit)
    return [(i["id"], agent_view(i)) for i in items], total


# ── conferences ──


def conference_view(stored: dict[str, Any]) -> Any:
    from parley.models.voice_calls import ConferenceAttributes

    return ConferenceAttributes(
        created_at=stored["created_at"],
        created_by=stored.get("created_by"),
        individual_id=stored.get("individual_id"),  # absent once the individual is purged
        last_modified_at=stored["last_modified_at"],
        organization_id=stored["organization_id"],
        state=stored["state"],
    )


def require_conference(tenant_id: str, conference_id: str, *, consistent: bool = False) -> dict[str, Any]:
    found = store.get_conference(tenant_id, conference_id, consistent=consistent)
    if found is None:
        raise NotFound(f"no voice-conference {conference_id!r}", code="not-found")
    return found


def create_conference(tenant_id: str, user_id: str | None, attrs: Any, region: str = "US") -> tuple[str, Any]:
    """Store the conference (``created``), then ask Twilio to call the individual into it. A refusal by Twilio
    leaves the conference ``failed`` and answers the refusal (422/502)."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    from parley.dal import directory as people
    from parley.domain import text_numbers
    from parley.providers import twilio_rest

    for member in ("organization-id", "individual-id"):
        if not getattr(attrs, member.replace("-", "_")):
            raise Unprocessable(f"{member} is required", pointer=pointer(member), code="missing-member")
    if people.get(tenant_id, "organizations", attrs.organization_id) is None:
        raise NotFound(f"no organization {attrs.organization_id!r}", pointer=pointer("organization-id"), code="not-found")
    if people.get(tenant_id, "individuals", attrs.individual_id) is None:
        raise NotFound(f"no individual {attrs.individual_id!r}", pointer=pointer("individual-id"), code="not-found")
    to = f"client:{attrs.individual_id}"
    if attrs.phone_number:
        to = text_numbers.e164(attrs.phone_number, region, pointer=pointer("phone-number"))
    account = org_account(tenant_id, attrs.organization_id)
    caller_id = account.get("phone_number")
    if not caller_id:
        from parley.dal import text_numbers as texting

        owned = texting.account_numbers(tenant_id, account["id"])
        caller_id = owned[0]["phone_number"] if owned else None
    if not caller_id:
        raise Unprocessable(f"text-account {account['id']!r} has no number to call from", pointer=pointer("organization-id"),
                            code="no-caller-id")  # fmt: skip
    conference_id = str(uuid.uuid4())
    callback = status_url(tenant_id, account["id"], conference_id)
    sid, token = text_numbers.account_auth(tenant_id, account["id"])
    now = _now()
    fields = {
        "id": conference_id,
        "organization_id": attrs.organization_id,
        "individual_id": attrs.individual_id,
        "account_id": account["id"],
        "name": f"parley-{conference_id}",
        "to": to,
        "state": "created",
        "created_by": user_id,
        "created_at": now,
        "last_modified_at": now,
    }
    store.put_conference(tenant_id, fields)
    dial = Dial()
    dial.conference(fields["name"], status_callback=callback, status_callback_event="start end join leave",
                    start_conference_on_enter=True, end_conference_on_exit=False)  # fmt: skip
    twiml = str(VoiceResponse().append(dial))
    try:
        call = twilio_rest.create_twiml_call(sid, token, to=to, from_=caller_id, twiml=twiml, status_url=callback)
    except twilio_rest.TwilioError as err:
        store.update_conference(tenant_id, conference_id, {"state": "failed", "error": err.message[:500], "last_modified_at": _now()})
        raise text_numbers.twilio_failure(err, "place the call") from None
    store.update_conference(tenant_id, conference_id, {"call_sid": call["sid"], "last_modified_at": _now()})
    return conference_id, conference_view(require_conference(tenant_id, conference_id, consistent=True))


def get_conference(tenant_id: str, conference_id: str, individual_id: str | None = None) -> tuple[str, Any]:
    found = require_conference(tenant_id, conference_id)
    if individual_id and found.get("individual_id") != individual_id:
        raise NotFound(f"no voice-conference {conference_id!r} of individual {individual_id!r}", code="not-found")
    return conference_id, conference_view(found)


def conferences_page(tenant_id: str, organization_id: str, individual_id: str | None, states: list[str] | None, *, offset: int,
                     limit: int) -> tuple[list[tuple[str, Any]], int]:  # fmt: skip
    items, total = store.conferences_page(tenant_id, organization_id, individual_id, states, offset=offset, limit=limit)
    return [(i["id"], conference_view(i)) for i in items], total


def credentials(tenant_id: str, conference_id: str, individual_id: str) -> str:
    """A Voice token for ``individual_id`` (identity) to take part in the conference (its browser leg rings
    ``client:<identity>``). 404 for an unknown conference or individual; 409 when the conference is over."""
    from parley.dal import directory as people
    from parley.errors import Conflict

    found = require_conference(tenant_id, conference_id)
    if people.get(tenant_id, "individuals", individual_id) is None:
        raise NotFound(f"no individual {individual_id!r}", parameter="individual-id", code="not-found")
    if found["state"] in ("completed", "failed"):
        raise Conflict(f"voice-conference {conference_id!r} is {found['state']}", code="conference-over")
    return access_token(tenant_id, found["account_id"], individual_id)


# ── dial logs ──


def dial_view(stored: dict[str, Any]) -> Any:
    from parley.models.voice_calls import DialLogAttributes

    duration = stored.get("call_duration")
    return DialLogAttributes(
        call_duration=int(duration) if duration is not None else None,
        conference_id=stored.get("conference_id"),
        created_at=stored["created_at"],
        individual_id=stored.get("individual_id"),
        last_modified_at=stored["last_modified_at"],
        organization_id=stored["organization_id"],
        status=stored["status"],
    )


def get_dial(tenant_id: str, dial_id: str, individual_id: str | None = None) -> tuple[str, Any]:
    found = store.get_dial(tenant_id, dial_id)
    if found is None or (individual_id and found.get("individual_id") != individual_id):
        raise NotFound(f"no voice-dial-log {dial_id!r}", code="not-found")
    return dial_id, dial_view(found)


def dials_page(tenant_id: str, organization_id: str, conference_id: str | None, individual_id: str | None, *, offset: int,
               limit: int) -> tuple[list[tuple[str, Any]], int]:  # fmt: skip
    items, total = store.dials_page(tenant_id, organization_id, conference_id, individual_id, offset=offset, limit=limit)
    return [(i["id"], dial_view(i)) for i in items], total


def dial_id(tenant_id: str, call_sid: str) -> str:
    return str(uuid.uuid5(_NS, f"dial:{tenant_id}:{call_sid}"))


def _owner(tenant_id: str, owner_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(conference, setting)``: the owner the callback URL names, either one; both None when it is neither."""
    conference = store.get_conference(tenant_id, owner_id)
    if conference is not None:
        return conference, None
    try:
        return None, _setting(tenant_id, owner_id)
    except (NotFound, ImportError):
        return None, None


def apply_status(tenant_id: str, owner_id: str, params: dict[str, str]) -> None:
    """Record one call leg's status from a Twilio status callback (already signature-checked by the caller).

    ``owner_id`` is the voice-setting's or the voice-conference's id the callback URL names; ``params`` are Twilio's
    form fields (``CallSid``, ``CallStatus``, ``From``, ``To``, ``Direction``, ``CallDuration``, ``Timestamp``,
    ``ParentCallSid``, ``ConferenceSid`` …). The call leg's voice-dial-log (one per ``CallSid``) is created on first
    sight and moved forward only, by Twilio's status order (queued < initiated < ringing < in-progress < a final
    status: completed | busy | failed | no-answer | canceled): a redelivered or late, older status changes nothing
    (idempotent). An unknown owner or a callback without ``CallSid``/``CallStatus`` is ignored (nothing written).
    A conference's leg moves the conference (``running`` while in progress, then ``completed``, or ``failed`` when
    it ends without having been answered); a setting's leg to one of its agents (``client:<individual>`` or the
    agent's phone) is that agent's current ``call`` until it ends.
    """
    call_sid, status = (params.get("CallSid") or "").strip(), (params.get("CallStatus") or "").strip().lower()
    if not call_sid or status not in RANK:
        return
    conference, setting = _owner(tenant_id, owner_id)
    if conference is None and setting is None:
        return
    now = _now()
    to = params.get("To") or ""
    agent = None
    if conference is not None:
        organization_id, individual_id = conference["organization_id"], conference.get("individual_id")
    else:
        organization_id = setting.get("organization_id")  # type: ignore[union-attr]
        agent = next((a for a in store.agents_of(tenant_id, owner_id)
                      if to in (f"client:{a['individual_id']}", a.get("phone_number"))), None)  # fmt: skip
        individual_id = agent["individual_id"] if agent else None
    duration = params.get("CallDuration")
    fields = {
        "id": dial_id(tenant_id, call_sid),
        "call_sid": call_sid,
        "organization_id": organization_id,
        "conference_id": conference["id"] if conference else None,
        "setting_id": owner_id if setting is not None else None,
        "individual_id": individual_id,
        "status": status,
        "call_duration": int(duration) if duration and duration.isdigit() else None,
        "from_number": params.get("From"),
        "to_number": to or None,
        "direction": params.get("Direction"),
        "created_at": now,
        "last_modified_at": now,
    }
    if not store.advance_dial(tenant_id, fields, RANK[status]):
        return  # redelivered or older: forward only
    if conference is not None:
        if RANK[status] == RANK["in-progress"]:
            store.update_conference(tenant_id, conference["id"], {"state": "running", "last_modified_at": now}, from_states=("created",))
        elif status in FINAL:
            state = "completed" if status == "completed" else "failed"
            changes = {"state": state, "last_modified_at": now}
            store.update_conference(tenant_id, conference["id"], changes, from_states=("created", "running"))
    elif agent is not None:
        store.set_agent_call(tenant_id, agent["id"], fields["id"], now, ended=status in FINAL)


# ── the purge (parley.domain.purge) ──


def _agents_of(tenant_id: str, individual_ids: set[str]) -> list[dict[str, Any]]:
    """The individuals' agents: one per (line, individual), so each line of each of the tenant's organizations is
    asked by id (GetItem; a tenant's few lines)."""
    from parley.dal import directory
    from parley.dal import voice_lines as lines

    if not individual_ids:
        return []
    found = []
    for organization_id in directory.entity_ids(tenant_id, "organizations"):
        for setting in lines.all_settings(tenant_id, organization_id):
            for individual_id in sorted(individual_ids):
                agent = store.get_agent(tenant_id, agent_id_of(tenant_id, setting["id"], individual_id), consistent=True)
                if agent is not None:
                    found.append(agent)
    return found


def _conferences_of(tenant_id: str, individual_ids: set[str], numbers: set[str]) -> dict[str, dict[str, Any]]:
    """The conferences with the individuals (GSI6, per organization of the tenant) and those that called one of the
    numbers (GSI5)."""
    from parley.dal import directory

    found: dict[str, dict[str, Any]] = {}
    if individual_ids:
        for organization_id in directory.entity_ids(tenant_id, "organizations"):
            for individual_id in sorted(individual_ids):
                found |= {c["id"]: c for c in store.conferences_of(tenant_id, organization_id, individual_id)}
    for number in sorted(numbers):
        found |= {c["id"]: c for c in store.conferences_to(tenant_id, number)}
    return found


def person_numbers(tenant_id: str, individual_ids: set[str]) -> set[str]:
    """The phone numbers these items know as the individuals': their PSTN agents' phones and the phones their
    conferences called (the purge erases them wherever the voice items hold them, an individual's purge naming no
    phone of its own)."""
    numbers = {str(a["phone_number"]) for a in _agents_of(tenant_id, individual_ids) if a.get("phone_number")}
    conferences = _conferences_of(tenant_id, individual_ids, set()).values()
    return numbers | {str(c["to"]) for c in conferences if str(c.get("to") or "").startswith("+")}


def _scrubbed(text: Any, values: set[str]) -> Any:
    if not isinstance(text, str):
        return text
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "[purged]")
    return text


def purge(tenant_id: str, *, individual_ids: set[str], numbers: set[str]) -> dict[str, int]:
    """Erase a person from the voice calls (``parley.domain.purge``): ``numbers`` are their phones (E.164) and
    ``client:<individual>``. The dial logs naming them lose ``individual_id`` and the numbers that are theirs (with
    those index keys); the conferences with an individual of theirs, or that called one of the numbers, lose
    ``individual_id`` and ``to`` (and the index keys naming them; the numbers in Twilio's ``error`` become
    ``[purged]``); the individuals' agents are deleted. Dial logs and conferences stay, anonymous: an organization's
    call history. Dial logs first, agents last (the sources of ``person_numbers``): a purge that stops half-way and
    runs again still finds what is left. A second run finds nothing (the index keys are gone)."""
    done = {"voice_dial_logs": 0, "voice_conferences": 0, "voice_agents": 0}
    dials: dict[str, dict[str, Any]] = {}
    for individual_id in sorted(individual_ids):
        dials |= {d["id"]: d for d in store.dials_of(tenant_id, individual_id)}
    for number in sorted(numbers):
        dials |= {d["id"]: d for d in store.dials_with(tenant_id, number)}
    for dial in dials.values():
        remove = []
        if dial.get("individual_id") in individual_ids:
            remove += ["individual_id", "GSI4PK", "GSI4SK"]
        if dial.get("from_number") in numbers:
            remove += ["from_number", "GSI5PK", "GSI5SK"]
        if dial.get("to_number") in numbers:
            remove += ["to_number", "GSI7PK", "GSI7SK"]
        if remove and store.forget_in_dial(tenant_id, dial["id"], remove):
            done["voice_dial_logs"] += 1
    for conference in _conferences_of(tenant_id, individual_ids, numbers).values():
        remove, named = [], set(numbers)
        if conference.get("individual_id") in individual_ids:
            remove += ["individual_id", "GSI6PK", "GSI6SK"]
        if remove or conference.get("to") in numbers:
            remove += ["to", "GSI5PK", "GSI5SK"]
            named.add(str(conference.get("to") or ""))
        error = _scrubbed(conference.get("error"), {n for n in named if n})
        changes = {"error": error} if error != conference.get("error") else {}
        if store.forget_in_conference(tenant_id, conference["id"], remove, changes):
            done["voice_conferences"] += 1
    for agent in _agents_of(tenant_id, individual_ids):
        if store.delete_agent(tenant_id, agent["id"]):
            done["voice_agents"] += 1
    return done
