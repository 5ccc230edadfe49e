"""Client-retry idempotency (``Idempotency-Key``) with powertools, scoped per tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parley.errors import Conflict, Unprocessable


def run_once(
    *,
    tenant_id: str,
    scope: str,
    key: str | None,
    payload: dict[str, Any],
    fn: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run ``fn`` once per (tenant, scope, key); a repeat returns the first result.

    The same key with a different payload → 422; the same key while the first call is still
    running → 409. With ``lambda_context``, an attempt that crashed stops holding its key once the
    invocation's time is up (not for the whole TTL). Without a key, ``fn`` just runs. Powertools is
    imported only when a key is given, so plain requests do not pay its import cost.
    """
    if not key:
        return fn()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    from parley.dal.idempotency import persistence_layer
    from parley.settings import get_settings

    config = IdempotencyConfig(
        event_key_jmespath="[tenant, scope, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=get_settings().idempotency_ttl_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence_layer(), config=config)
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return fn()

    try:
        return once(request={"tenant": tenant_id, "scope": scope, "key": key, "payload": payload})
    except IdempotencyValidationError as err:
        raise Unprocessable("Idempotency-Key was already used with a different request body") from err
    except IdempotencyAlreadyInProgressError as err:
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly") from err
