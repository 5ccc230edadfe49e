"""The users directory: a tenant's recruiters, known by the id clients send as ``x-ph-userid`` (stored as
a message's ``recruiter_id``). Each user gets a stable integer (the ATS ``created_by``) when it is first
written: the first message it sends (``emails.submit`` / ``emails.schedule``, every send path) or
``python -m parley.admin upsert-user``, which also sets its names. Reads never write: a recruiter that
has no integer yet (its messages were stored before numbering moved to the send paths) reads as
``numeric_id = None`` until it sends again or ``upsert-user`` numbers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.dal import aws, users
from parley.errors import BadRequest, Conflict, NotFound

if TYPE_CHECKING:
    from parley.models.domain import Tenant

MAX_ID = 128
MAX_NAME = 100


@dataclass(frozen=True)
class User:
    tenant_id: str
    id: str
    numeric_id: int | None
    firstname: str = ""
    lastname: str = ""

    @classmethod
    def of(cls, tenant_id: str, item: dict[str, Any]) -> User:
        n = item.get("numeric_id")
        return cls(tenant_id, item["user_id"], int(n) if n is not None else None, item.get("firstname", ""), item.get("lastname", ""))


def _check(user_id: str, firstname: str | None, lastname: str | None) -> None:
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_ID:
        raise BadRequest(f"userId is required (at most {MAX_ID} characters)")
    for name, value in (("firstname", firstname), ("lastname", lastname)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME or any(ord(c) < 32 for c in value)):
            raise BadRequest(f"{name} must be at most {MAX_NAME} characters, without control characters")


# (tenant id, user id) → its integer. A user's integer never changes once given, so this process keeps
# what it has seen for good: a recruiter's second send costs no read. Forgotten with the AWS clients
# (tests switch tables).
_numbers: dict[tuple[str, str], int] = {}
aws.on_reset(_numbers.clear)


def number(tenant_id: str, user_id: str) -> int:
    """The user's integer, handing out the next one from the tenant's counter if it has none (a write:
    call it from write paths only). Two first sightings racing each claim a number; the conditional
    claim keeps one (the other number is unused)."""
    known_number = _numbers.get((tenant_id, user_id))
    if known_number is not None:
        return known_number
    for _ in range(3):
        item = users.get(tenant_id, user_id)
        if item and "numeric_id" in item:
            break
        if users.claim_number(tenant_id, user_id, users.next_number(tenant_id)):
            item = users.get(tenant_id, user_id)
            assert item is not None
            break
    else:
        raise Conflict("could not number the user; retry")
    _numbers[(tenant_id, user_id)] = int(item["numeric_id"])
    return _numbers[(tenant_id, user_id)]


def upsert(tenant_id: str, user_id: str, *, firstname: str | None = None, lastname: str | None = None) -> User:
    """Create or rename a user (None keeps a name); it keeps the integer it was given first."""
    _check(user_id, firstname, lastname)
    users.set_names(tenant_id, user_id, firstname=firstname, lastname=lastname)
    number(tenant_id, user_id)
    item = users.get(tenant_id, user_id)
    assert item is not None
    return User.of(tenant_id, item)


def get(tenant_id: str, user_id: str) -> User | None:
    """The user as stored (``numeric_id`` None if it has no integer yet), or None if unknown. Read-only."""
    item = users.get(tenant_id, user_id)
    return User.of(tenant_id, item) if item else None


def known(tenant_id: str, user_ids: set[str]) -> dict[str, User]:
    """Those of ``user_ids`` the directory holds, as Users (one BatchGetItem per 100; nothing written).
    A user without an integer yet has ``numeric_id = None``; an id the directory lacks is left out."""
    ids = {u for u in user_ids if u}
    found = users.batch_get(tenant_id, ids) if ids else {}
    return {uid: User.of(tenant_id, item) for uid, item in found.items()}


# ── directory tooling (admin commands and the local stack's /_local/candidates, /_local/users) ──

CANDIDATE_PROFILE_FIELDS = ("email", "phone", "firstname", "lastname", "timezone", "headline", "location", "profile_url")
_MAX_PROFILE = {"email": 254, "phone": 16, "timezone": 64, "profile_url": 2048}


def _tenant_exists(tenant_id: str) -> Tenant:
    from parley.dal import tenants

    tenant = tenants.get(tenant_id) if tenant_id else None
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    return tenant


def upsert_candidate(tenant_id: str, *, candidate_id: str | None = None, **profile: str | None) -> dict[str, Any]:
    """Validate a candidate profile and store it (``parley.domain.candidates.upsert``); returns it as JSON."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from parley.domain import candidates
    from parley.models.phones import e164
    from parley.models.validators import email_address

    tenant = _tenant_exists(tenant_id)
    unknown = set(profile) - set(CANDIDATE_PROFILE_FIELDS)
    if unknown:
        raise BadRequest(f"unknown candidate fields: {', '.join(sorted(unknown))}")
    clean: dict[str, str] = {}
    for name, value in profile.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        value = value.strip()
        if len(value) > _MAX_PROFILE.get(name, MAX_NAME * 2) or any(ord(c) < 32 for c in value):
            raise BadRequest(f"{name} is too long or has control characters")
        try:
            if name == "email" and value:
                value = email_address(value).lower()
            elif name == "phone" and value:
                value = e164(value, tenant.default_country)  # E.164: the key messages and consent use
            elif name == "timezone" and value:
                ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError) as err:
            raise BadRequest(f"{name}: {err}") from err
        clean[name] = value
    if candidate_id is not None and (not candidate_id.strip() or len(candidate_id) > MAX_ID):
        raise BadRequest(f"candidateId must be 1..{MAX_ID} characters")
    if candidate_id is None and not (clean.get("email") or clean.get("phone")):
        raise BadRequest("a new candidate needs an email or a phone number (or give candidateId to update one)")
    c = candidates.upsert(tenant_id, candidate_id=candidate_id, **clean)
    return c.model_dump(mode="json")


def upsert_user(tenant_id: str, user_id: str, *, firstname: str | None = None, lastname: str | None = None) -> dict[str, Any]:
    _tenant_exists(tenant_id)
    u = upsert(tenant_id, user_id, firstname=firstname, lastname=lastname)
    return {"tenantId": u.tenant_id, "userId": u.id, "numericId": u.numeric_id, "firstname": u.firstname, "lastname": u.lastname}
