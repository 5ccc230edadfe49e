"""Who a courier request acts for: the acting user's individuals (docs/courier.md "Who is calling").

A user acts through the individuals it owns (an individual's ``owner-id`` is the user, docs/data-model.md §6.9).
Every courier route that takes an ``individual-id`` (in a body or a query) resolves it here, the same way:

- named: it must be one of the acting user's individuals — its ``owner-id`` is the user, or it is the user's own
  ``primary-individual-id`` — else 403 ``not-owner`` (an individual the tenant does not have is answered the same, so
  the 403 tells nothing about other users' or tenants' individuals);
- omitted where the route allows it: the user's ``primary-individual-id``; a user the directory does not have, or
  one without a primary individual, is a 422 ``no-primary-individual``.

Reads only: one GetItem (the individual), a second only when the first does not settle it (the user).
"""

from __future__ import annotations

from parley.dal import directory as store
from parley.errors import Forbidden, Unprocessable


def _primary_of(tenant_id: str, user_id: str) -> str | None:
    user = store.get(tenant_id, "users", user_id)
    return store.attributes(user).get("primary-individual-id") if user else None


def owns(tenant_id: str, user_id: str, individual_id: str) -> bool:
    """Whether ``individual_id`` is one of the user's individuals (owned, or the user's primary one)."""
    individual = store.get(tenant_id, "individuals", individual_id)
    if individual is not None and store.attributes(individual).get("owner-id") == user_id:
        return True
    return _primary_of(tenant_id, user_id) == individual_id


def individual_for(
    tenant_id: str, user_id: str, individual_id: str | None, *, pointer: str | None = None, parameter: str | None = None
) -> str:
    """The individual a request acts for: ``individual_id`` when the user owns it (403 otherwise), or the user's
    primary individual when it is omitted (422 when the user has none). ``pointer``/``parameter`` name the request's
    member in the error's ``source``."""
    if individual_id is None:
        primary = _primary_of(tenant_id, user_id)
        if not primary:
            raise Unprocessable(
                f"individual-id is required: user {user_id!r} has no primary-individual-id",
                pointer=pointer,
                parameter=parameter,
                code="no-primary-individual",
            )
        return primary
    if not owns(tenant_id, user_id, individual_id):
        detail = f"individual {individual_id!r} is not one of user {user_id!r}'s individuals"
        raise Forbidden(detail, pointer=pointer, parameter=parameter, code="not-owner")
    return individual_id
