"""boto3 clients, created lazily (a function pays only for the clients it uses) and shared."""

from __future__ import annotations

from collections.abc import Callable
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
