"""Time helpers. Everything is stored in UTC; ISO-8601 strings always carry a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["UTC", "epoch_ms", "iso", "now", "parse_iso"]


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z`` suffix (sorts lexicographically)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def parse_iso(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return dt.astimezone(UTC)
