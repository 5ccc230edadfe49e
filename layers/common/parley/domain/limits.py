"""Per-tenant limits (issue 14; docs/architecture.md §6.4): one noisy tenant must not use up what the others need.

- **Send rate and daily send quota**, on the routes that send or schedule (the expensive ones): ``sending(caller)``
  wraps the accepting of one message. It admits the send against the tenant's send window (``dal/limits.admit``:
  one conditional write) or refuses it with ``TooManyRequests`` (429, ``Retry-After``); a send that then fails is
  taken back out of the day's count. The limits are tenant settings (``send_rate_limit``, ``daily_send_quota``;
  0 = the deployment's default from ``parley.settings``) and reach the handler in the authorizer's context, so
  nothing is read to know them. Reads are not limited here (no write per read): see §6.4.
- **Provider pace**: the dispatcher hands a tenant's messages to its provider at most ``provider_rate_limit`` per
  second (default ``TENANT_PROVIDER_RATE_LIMIT``, SES's 14/s): ``provider_interval_us`` is the spacing of the
  tenant's send slots (``dal/limits.reserve``); ``domain/dispatch`` waits for a near slot and puts a job whose
  slot is further off back on the queue, delayed, instead of failing it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger

from parley import clock, metrics
from parley.dal import limits, tenants
from parley.domain.context import Caller
from parley.errors import TooManyRequests
from parley.settings import get_settings

logger = Logger(child=True)


def send_limits(caller: Caller) -> tuple[int, int]:
    """``(requests per second, messages per UTC day)`` of the caller's tenant: its own settings, or the defaults."""
    settings = get_settings()
    return caller.send_rate_limit or settings.tenant_send_rate_limit, caller.daily_send_quota or settings.tenant_daily_send_quota


def admit(caller: Caller) -> None:
    """Count one send of the caller's tenant now, or refuse it (``TooManyRequests``, nothing counted)."""
    rate, quota = send_limits(caller)
    refusal = limits.admit(caller.tenant_id, clock.now(), rate=rate, quota=quota)
    if refusal is None:
        return
    metrics.count("SendRateLimited" if refusal.reason == "rate" else "SendQuotaExceeded")
    if refusal.reason == "quota":
        raise TooManyRequests(
            f"daily send quota of {quota} reached; resets at {refusal.resets_at:%Y-%m-%dT%H:%M:%SZ}", retry_after=refusal.retry_after
        )
    raise TooManyRequests(f"send rate limit of {rate} requests per second reached; retry after 1 second", retry_after=refusal.retry_after)


@contextmanager
def sending(caller: Caller) -> Iterator[None]:
    """Around the accepting of one message — a ``with`` block, or a decorator of the function that accepts it (then
    each call is admitted): inside its Idempotency-Key's ``run_once``, so a replay is not counted. Admitted first,
    before anything is read or written for it; if the body raises (a 400 for a suppressed address, a failed store),
    the message is taken back out of the day's count (the request still counted for the rate)."""
    admit(caller)
    at = clock.now()
    try:
        yield
    except BaseException:
        try:
            limits.refund(caller.tenant_id, at)
        except Exception:  # the count errs on the high side: the send is refused either way
            logger.warning("send not taken back out of the daily quota", exc_info=True, extra={"tenant_id": caller.tenant_id})
        raise


def provider_interval_us(tenant_id: str) -> int:
    """The spacing of the tenant's provider-send slots, in microseconds (rounded up: never faster than the rate).
    The rate is the tenant's ``provider_rate_limit`` (through ``tenants.cached``: read at most once per process
    every 300 s), else ``TENANT_PROVIDER_RATE_LIMIT``."""
    tenant = tenants.cached(tenant_id)
    rate = (tenant.provider_rate_limit if tenant else 0) or get_settings().tenant_provider_rate_limit
    return math.ceil(1_000_000 / rate)
