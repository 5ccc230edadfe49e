"""SMS quiet hours: no SMS reaches a recipient outside 08:00-21:00 of the recipient's local time.

Pure time arithmetic (no I/O). The window is half-open: 08:00:00 is allowed, 21:00:00 is not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

START = time(8, 0)
END = time(21, 0)


def zone(*names: str | None) -> tuple[str, ZoneInfo]:
    """The first of ``names`` that is a known IANA zone (name, zone); UTC if none is."""
    for name in names:
        if not name:
            continue
        try:
            return name, ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC", ZoneInfo("UTC")


def allowed(at: datetime, tz: ZoneInfo) -> bool:
    """Whether ``at`` (an aware instant) is inside the sending window in ``tz``."""
    local = at.astimezone(tz).time()
    return START <= local < END


def first_instant_at_or_after(day: date, tz: ZoneInfo, wall_time: time = START) -> datetime:
    """The first instant (UTC) of ``day`` whose wall-clock time in ``tz`` is ``wall_time`` or later.

    That wall time normally exists once. On a day it is repeated (clocks go back) the earlier one
    counts; on a day a DST jump skips it, the transition instant (the first existing local time
    after the gap) is the answer.
    """
    wall = datetime.combine(day, wall_time)
    candidate = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if candidate.astimezone(tz).replace(tzinfo=None) == wall:
        return candidate
    # In a gap: fold=1 reads the wall time with the later offset, which lands before the gap. The
    # transition lies between the two readings; tz data has whole-second transitions.
    lo = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(candidate.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def next_allowed(at: datetime, tz: ZoneInfo) -> datetime | None:
    """None if an SMS may go out at ``at``; otherwise the (UTC) start of the next sending window."""
    if at.tzinfo is None:
        raise ValueError("at must be time-zone aware")
    if allowed(at, tz):
        return None
    local = at.astimezone(tz)
    day = local.date() if local.time() < START else local.date() + timedelta(days=1)
    return first_instant_at_or_after(day, tz)
