"""What every courier handler reads from its request, the same way (seed 003 documents no authentication: docs/courier.md).

The caller is the tenant of the credential the shared authorizer accepted. The acting user is
- with a user bearer token: the token's subject (``Caller.user_id``); an ``X-User-ID`` naming another user is a 403;
- with the tenant's API key: the user ``X-User-ID`` names, as the CRM does (one line of at most 128 characters).
A route that acts for a user (``CourierCaller.acting_user``) refuses an API-key request without ``X-User-ID`` (400):
the tenant's server must say whom it acts for. ``CourierCaller.individual`` applies the ``individual-id`` rule
(``parley.domain.ownership``: the user's own individual, else 403; omitted → the user's primary individual).
Every courier resource is scoped to the caller's tenant, so another tenant's id is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler.api_gateway import Router

from parley.api.app import caller, header
from parley.api.endpoint import Example
from parley.domain import ownership
from parley.domain.context import Caller
from parley.errors import BadRequest, Forbidden

USER_HEADER = "X-User-ID"

# The courier modules' sample requests (events/courier_*/*.json): the acting user, and a sample resource id.
SAMPLE = Example(headers={USER_HEADER: "9b2f6d3e-1c4a-4f7e-8a55-3d2e1f0c9b7a"}, path={"id": "11111111-1111-1111-1111-111111111111"})


@dataclass(frozen=True)
class CourierCaller:
    caller: Caller
    user_id: str | None  # the acting courier user: the user token's subject, or X-User-ID with the API key

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant_id

    def acting_user(self) -> str:
        """The acting user, for a route that acts for one: a 400 naming ``X-User-ID`` when an API-key request has none."""
        if self.user_id is None:
            raise BadRequest(f"{USER_HEADER} is required: name the user this request acts for", parameter=USER_HEADER, code="missing-user")
        return self.user_id

    def individual(self, individual_id: str | None, *, pointer: str | None = None, parameter: str | None = None) -> str:
        """The individual the request acts for (``parley.domain.ownership.individual_for``): one of the acting user's,
        else 403; omitted → the user's ``primary-individual-id`` (422 when it has none)."""
        return ownership.individual_for(self.tenant_id, self.acting_user(), individual_id, pointer=pointer, parameter=parameter)


def courier_caller(router: Router) -> CourierCaller:
    who = caller(router)
    user = (header(router, USER_HEADER) or "").strip() or None
    if user is not None and len(user) > 128:
        raise BadRequest(f"{USER_HEADER} must be at most 128 characters", parameter=USER_HEADER, code="invalid-header")
    if who.credential == "user_token":
        if user is not None and user != who.user_id:
            raise Forbidden(f"{USER_HEADER} names another user than the bearer token's", parameter=USER_HEADER, code="user-mismatch")
        user = who.user_id or None
    return CourierCaller(caller=who, user_id=user)
