"""The candidate directory: one profile item per candidate, one lookup item per address it owns."""

from __future__ import annotations

from typing import Any

from parley.dal import keys, table
from parley.models.domain import Candidate


def _profile_item(c: Candidate) -> dict[str, Any]:
    return {"PK": keys.candidate_profile_pk(c.tenant_id, c.id), "SK": keys.CANDIDATE_SK, "type": "candidate"} | c.model_dump(mode="json")


def _address_item(tenant_id: str, address: str, candidate_id: str) -> dict[str, Any]:
    return {
        "PK": keys.candidate_address_pk(tenant_id, address),
        "SK": keys.CANDIDATE_ADDRESS_SK,
        "type": "candidate_address",
        "candidate_id": candidate_id,
    }


def get(tenant_id: str, candidate_id: str) -> Candidate | None:
    item = table.get(keys.candidate_profile_pk(tenant_id, candidate_id), keys.CANDIDATE_SK)
    return Candidate.model_validate(item) if item else None


def batch_get(tenant_id: str, candidate_ids: set[str]) -> dict[str, Candidate]:
    """Several profiles in BatchGetItem calls of up to 100 keys."""
    found = table.batch_get((keys.candidate_profile_pk(tenant_id, c), keys.CANDIDATE_SK) for c in sorted(candidate_ids))
    profiles = (Candidate.model_validate(item) for item in found.values())
    return {c.id: c for c in profiles}


def owner_of(tenant_id: str, address: str) -> str | None:
    item = table.get(keys.candidate_address_pk(tenant_id, address), keys.CANDIDATE_ADDRESS_SK)
    return item["candidate_id"] if item else None


def create(c: Candidate, addresses: list[str]) -> bool:
    """Store a new candidate and claim its addresses, atomically. False if an address is already owned."""
    ops = [{"Put": {"Item": table.marshal(_profile_item(c)), "ConditionExpression": "attribute_not_exists(PK)"}}]
    ops += [
        {"Put": {"Item": table.marshal(_address_item(c.tenant_id, a, c.id)), "ConditionExpression": "attribute_not_exists(PK)"}}
        for a in addresses
    ]
    return table.try_transact(ops)


def replace(c: Candidate, claim: list[str], release: list[str]) -> bool:
    """Overwrite a profile, claim new addresses and release old ones, atomically.

    False if a claimed address belongs to someone else.
    """
    ops: list[dict[str, Any]] = [{"Put": {"Item": table.marshal(_profile_item(c))}}]
    for a in claim:
        ops.append(
            {
                "Put": {
                    "Item": table.marshal(_address_item(c.tenant_id, a, c.id)),
                    "ConditionExpression": "attribute_not_exists(PK) OR candidate_id = :me",
                    "ExpressionAttributeValues": table.values(me=c.id),
                }
            }
        )
    for a in release:
        ops.append(
            {
                "Delete": {
                    "Key": table.key(keys.candidate_address_pk(c.tenant_id, a), keys.CANDIDATE_ADDRESS_SK),
                    "ConditionExpression": "candidate_id = :me",
                    "ExpressionAttributeValues": table.values(me=c.id),
                }
            }
        )
    return table.try_transact(ops)
