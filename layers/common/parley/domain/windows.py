"""Time windows and offset pagination shared by the archival/history endpoints."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from parley.errors import BadRequest

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def parse_instant(name: str, value: str) -> datetime:
    """ISO-8601 (a zone-less value is read as UTC) or epoch milliseconds."""
    raw = (value or "").strip()
    if not raw:
        raise BadRequest(f"{name} is required")
    try:
        if raw.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, UTC)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as err:
        raise BadRequest(f"{name} must be an ISO-8601 date-time or epoch milliseconds") from err
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def window(from_time: str, to_time: str) -> Window:
    start, end = parse_instant("fromTime", from_time), parse_instant("toTime", to_time)
    if start > end:
        raise BadRequest("fromTime must not be after toTime")
    return Window(start, end)


@dataclass(frozen=True)
class OffsetPage:
    offset: int
    limit: int
    total: int
    returned: int

    @property
    def as_pagination(self) -> dict[str, object]:
        """The seed's ``pagination`` object (offset counts records; currentPage = offset // limit)."""
        end = self.offset + self.returned
        return {
            "first": self.offset == 0,
            "last": end >= self.total,
            "hasPrevious": self.offset > 0,
            "hasNext": end < self.total,
            "hasErrors": False,
            "totalElements": self.total,
            "totalPages": math.ceil(self.total / self.limit) if self.limit else 0,
            "size": self.limit,
            "currentPage": self.offset // self.limit if self.limit else 0,
            "numberOfElements": self.returned,
        }


def check_paging(offset: int, limit: int, *, limit_name: str = "limit") -> None:
    if offset < 0:
        raise BadRequest("offset must not be negative")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"{limit_name} must be between 1 and {MAX_LIMIT}")
