"""What every courier handler reads from its request, the same way (seed 003 documents no authentication: docs/courier.md).

The caller is the tenant of the API key (the shared authorizer); the acting user is named by ``X-User-ID``, as the
CRM does (optional; one line of at most 128 characters). Every courier resource is scoped to the caller's tenant, so
another tenant's id is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler.api_gateway import Router

from parley.api.app import caller, header
from parley.api.endpoint import Example
from parley.domain.context import Caller
from parley.errors import BadRequest

USER_HEADER = "X-User-ID"

# The courier modules' sample requests (events/courier_*/*.json): the acting user, and a sample resource id.
SAMPLE = Example(headers={USER_HEADER: "9b2f6d3e-1c4a-4f7e-8a55-3d2e1f0c9b7a"}, path={"id": "11111111-1111-1111-1111-111111111111"})


@dataclass(frozen=True)
class CourierCaller:
    caller: Caller
    user_id: str | None  # X-User-ID: the acting courier user

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant_id


def courier_caller(router: Router) -> CourierCaller:
    who = caller(router)
    user = (header(router, USER_HEADER) or "").strip() or None
    if user is not None and len(user) > 128:
        raise BadRequest(f"{USER_HEADER} must be at most 128 characters", parameter=USER_HEADER, code="invalid-header")
    return CourierCaller(caller=who, user_id=user)
