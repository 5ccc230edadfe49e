"""Client-retry idempotency (``Idempotency-Key``) with powertools, scoped per tenant.

The configuration, the persistence layer (``dal.idempotency``: one partition per tenant) and the
decorated function are built once per process, on the first request that carries a key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from parley.dal import aws
from parley.domain.context import Sender
from parley.errors import Conflict, Unprocessable


def _run(request: dict[str, Any], fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What ``run_once`` makes idempotent: ``fn``, keyed and validated on ``request``."""
    return fn()


@cache
def _idempotent() -> tuple[Any, Callable[..., dict[str, Any]]]:
    """``(config, _run made idempotent)`` on ``request``'s ``[tenant, scope, key]``, validated on its
    ``payload``: built once per process (``dal.aws.reset`` forgets it, with the persistence layer)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    from parley.dal.idempotency import persistence_layer
    from parley.settings import get_settings

    config = IdempotencyConfig(
        event_key_jmespath="[tenant, scope, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=get_settings().idempotency_ttl_seconds,
    )
    return config, idempotent_function(data_keyword_argument="request", persistence_store=persistence_layer(), config=config)(_run)


aws.on_reset(_idempotent.cache_clear)


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
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, once = _idempotent()
    config.lambda_context = lambda_context  # this invocation's (or none): bounds an INPROGRESS record's hold
    try:
        return once(request={"tenant": tenant_id, "scope": scope, "key": key, "payload": payload}, fn=fn)
    except IdempotencyValidationError as err:
        raise Unprocessable("Idempotency-Key was already used with a different request body") from err
    except IdempotencyAlreadyInProgressError as err:
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly") from err


def send_once(sender: Sender, scope: str, payload: dict[str, Any], fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run_once`` for a send: the sender's tenant, Idempotency-Key and Lambda context."""
    return run_once(
        tenant_id=sender.tenant_id, scope=scope, key=sender.idempotency_key, payload=payload, fn=fn, lambda_context=sender.lambda_context
    )
