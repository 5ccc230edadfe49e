"""The candidate directory: who an address belongs to, so every API files a message under one candidate."""

from __future__ import annotations

from parley import clock
from parley.dal import candidates
from parley.domain.ids import new_id
from parley.errors import Conflict
from parley.models.domain import Candidate


def _addresses(email: str | None, phone: str | None) -> list[str]:
    return [a for a in ((email or "").strip().lower(), (phone or "").strip()) if a]


def resolve(tenant_id: str, *, email: str | None = None, phone: str | None = None) -> str:
    """The id of the candidate owning this email address (or phone number); a new candidate on first contact.

    Races are settled by the address item's conditional write: two first sends to one address at
    once end with one candidate.
    """
    (address,) = _addresses(email, phone)[:1] or [""]
    if not address:
        raise ValueError("resolve needs an email or a phone number")
    for _ in range(3):
        owner = candidates.owner_of(tenant_id, address)
        if owner:
            return owner
        c = Candidate(
            tenant_id=tenant_id,
            id=new_id(),
            email=address if email else "",
            phone=address if not email else "",
            created_at=clock.now(),
        )
        if candidates.create(c, [address]):
            return c.id
    raise Conflict(f"could not file {address} under a candidate; retry")


def find(tenant_id: str, *, email: str | None = None, phone: str | None = None) -> Candidate | None:
    """The candidate owning this address, or None (never creates one)."""
    (address,) = _addresses(email, phone)[:1] or [""]
    owner = candidates.owner_of(tenant_id, address) if address else None
    return candidates.get(tenant_id, owner) if owner else None


def get(tenant_id: str, candidate_id: str) -> Candidate | None:
    return candidates.get(tenant_id, candidate_id)


def upsert(tenant_id: str, *, candidate_id: str | None = None, **profile: str) -> Candidate:
    """Create or update a candidate's profile (operators, imports). Its email/phone must not belong to another."""
    current = candidates.get(tenant_id, candidate_id) if candidate_id else None
    if current is None and not candidate_id:
        owner = candidates.owner_of(tenant_id, (profile.get("email") or profile.get("phone") or "").lower())
        current = candidates.get(tenant_id, owner) if owner else None
    base = current.model_dump() if current else {"tenant_id": tenant_id, "id": candidate_id or new_id(), "created_at": clock.now()}
    updated = Candidate.model_validate(base | {k: v for k, v in profile.items() if v is not None})
    updated = updated.model_copy(update={"email": updated.email.lower()})
    new_addr = set(_addresses(updated.email, updated.phone))
    old_addr = set(_addresses(current.email, current.phone)) if current else set()
    ok = (
        candidates.replace(updated, sorted(new_addr - old_addr), sorted(old_addr - new_addr))
        if current
        else candidates.create(updated, sorted(new_addr))
    )
    if not ok:
        raise Conflict("that email address or phone number belongs to another candidate")
    return updated
