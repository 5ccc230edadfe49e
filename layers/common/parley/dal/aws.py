"""boto3 clients, created lazily (a function pays only for the clients it uses) and shared."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# SDK-level retries stay on for idempotent reads/writes against DynamoDB, SQS and Scheduler.
_DEFAULT = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
# Provider sends are not idempotent: no blind SDK retry; the dispatcher's claim + SQS retry decide.
_NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=15)


@cache
def client(service: str, *, retry: bool = True) -> Any:
    return boto3.client(service, config=_DEFAULT if retry else _NO_RETRY)


def prime(services: Iterable[str]) -> None:
    """Load what creating these clients reads — service models, endpoint rules, partitions, retry and default
    configuration — into boto3's default session, without resolving credentials and without a network connection
    (the SnapStart before-snapshot hook, ``parley.snapstart``). The clients ``client`` then creates (on first use,
    after the restore) find all of it loaded: a few milliseconds each instead of tens.

    The primed clients are unsigned and thrown away: with SnapStart, Lambda may hand the credentials out through
    the container credentials endpoint, so resolving them would be an HTTP call during init, and credentials kept
    in a snapshot would be shared by every environment restored from it."""
    from botocore import UNSIGNED

    unsigned = _DEFAULT.merge(Config(signature_version=UNSIGNED))
    for service in dict.fromkeys(services):
        boto3.client(service, config=unsigned)


_on_reset: list[Callable[[], None]] = []


def on_reset(forget: Callable[[], None]) -> None:
    """Have ``reset`` also call ``forget``: per-process caches of what the table or a secret held (a
    switch of endpoints or tables makes them wrong)."""
    _on_reset.append(forget)


def reset() -> None:
    """Forget cached clients, and the caches registered with ``on_reset`` (tests switch endpoints
    between emulators, and tables between tests)."""
    client.cache_clear()
    for forget in _on_reset:
        forget()
