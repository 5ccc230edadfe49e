"""What every CRM handler reads from its request, the same way (decisions K1, K2, K9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api.app import caller, header, idempotency_key, request_base_url
from parley.api.endpoint import Example
from parley.domain.context import Caller, Sender
from parley.errors import BadRequest, Forbidden
from parley.settings import get_settings

# The CRM modules' sample requests (events/crm/*.json): the acting user, and a sample id of each kind.
SAMPLE = Example(headers={"X-User-ID": "user-7"}, path={"id": "7d0c6a4e-2f1b-4c9a-9e55-0b8f3f6c1a20", "templateId": "tpl-quote"})

TENANT_HEADER = "X-Tenant-ID"
USER_HEADER = "X-User-ID"
MAX_IDS = 100


@dataclass(frozen=True)
class CrmCaller:
    caller: Caller
    user_id: str | None  # X-User-ID: the acting CRM user (createdBy, updatedBy, a comment's authorId)

    @property
    def tenant_id(self) -> str:
        return self.caller.tenant_id


def crm_caller(router: Router) -> CrmCaller:
    """The key's tenant. The seed's unnamed header is ``X-Tenant-ID``: optional, and when given it must
    name the key's own tenant (403 otherwise: a key never reaches another tenant's data)."""
    who = caller(router)
    named = header(router, TENANT_HEADER)
    if named is not None and named.strip() != who.tenant_id:
        raise Forbidden(f"{TENANT_HEADER} does not match the API key's tenant")
    user = (header(router, USER_HEADER) or "").strip() or None
    if user is not None and (len(user) > 128 or any(c in user for c in "\r\n")):
        raise BadRequest(f"{USER_HEADER} must be one line of at most 128 characters")
    return CrmCaller(caller=who, user_id=user)


def crm_sender(router: Router) -> Sender:
    """``crm_caller``, with what a send takes besides: the ``Idempotency-Key``, the Lambda context, and the public
    base URL of the tracking links."""
    who = crm_caller(router)
    return Sender(
        caller=who.caller,
        user_id=who.user_id,
        base_url=public_base_url(router),
        idempotency_key=idempotency_key(router),
        lambda_context=router.lambda_context,
    )


def public_base_url(router: Router) -> str:
    """Where the CRM API is reachable from a mail client, for tracking URLs: ``CRM_PUBLIC_URL`` when
    set, else the URL this request came in at (scheme, host and the stage or base path before the route)."""
    return get_settings().crm_public_url.rstrip("/") or request_base_url(router)


# The ``ids`` query parameter as documented (read by ``ids_param``, which also takes ``?ids=a,b``).
Ids = Annotated[list[str] | None, Query(description="Record ids: repeated or comma-separated")]


def ids_param(router: Router, name: str = "ids") -> list[str]:
    """``?ids=a&ids=b`` and ``?ids=a,b`` alike (Spring binds both to a List), de-duplicated, in order."""
    event = router.current_event
    values = (event.multi_value_query_string_parameters or {}).get(name)
    if values is None:
        single = (event.query_string_parameters or {}).get(name)
        values = [single] if single is not None else []
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS} ids per request")
    return ids
