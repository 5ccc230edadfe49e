"""GET /api/v1/communications/analytics: a tenant's email metrics, from its per-day counters only.

The counters (dal/counters.py) are bumped as things happen: "sent"/"failed" by the dispatcher, "opened"
and "clicked" by the first open and first click of a record (domain/tracking.py), opens and clicks on
the day the record was *sent*, so every rate compares one cohort of sends with itself. A window selects
whole UTC days: ``from`` and ``to`` (date-times, both optional, inclusive) select the days they fall on.
One Query over the tenant's day items; no record is read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parley.dal import counters
from parley.errors import BadRequest
from parley.models.crm import CommunicationAnalytics, DayVolume, TemplateRates, TypeRates

FIRST_DAY = "0001-01-01"
LAST_DAY = "9999-12-31"


def parse_bound(name: str, value: str | None) -> datetime | None:
    """An ISO-8601 date-time (``Z``/offset; none means UTC) or date, as UTC; None when not given."""
    if value is None or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be an ISO-8601 date-time, e.g. 2030-01-31T23:59:59Z") from None


def _pick(name: str, value: str | None, alias: str, alias_value: str | None) -> datetime | None:
    given, other = parse_bound(name, value), parse_bound(alias, alias_value)
    if given and other and given != other:
        raise BadRequest(f"{name} and {alias} disagree: give one of them")
    return given or other


def report(tenant_id: str, *, from_: str | None = None, to: str | None = None, start_date: str | None = None,
           end_date: str | None = None) -> CommunicationAnalytics:  # fmt: skip
    """The query as the API takes it: ``from``/``to``, or their aliases ``startDate``/``endDate``."""
    return summary(tenant_id, _pick("from", from_, "startDate", start_date), _pick("to", to, "endDate", end_date))


def _rate(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def _rates(c: dict[str, int]) -> dict[str, Any]:
    """A row's totals and rates (``RateRow``) from its counters: opens and clicks per send."""
    return {
        "totalSent": c["sent"],
        "totalOpened": c["opened"],
        "totalClicked": c["clicked"],
        "openRate": _rate(c["opened"], c["sent"]),
        "clickRate": _rate(c["clicked"], c["sent"]),
    }


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def summary(tenant_id: str, start: datetime | None, end: datetime | None) -> CommunicationAnalytics:
    if start and end and start > end:
        raise BadRequest("from must not be after to")
    first = start.strftime("%Y-%m-%d") if start else FIRST_DAY
    last = end.strftime("%Y-%m-%d") if end else LAST_DAY
    totals = dict.fromkeys(counters.COUNTERS, 0)
    by_type: dict[str, dict[str, int]] = {}
    by_template: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    volume: list[DayVolume] = []
    for item in counters.days(tenant_id, first, last):  # oldest first: a template's newest name wins
        for counter in counters.COUNTERS:
            totals[counter] += _int(item.get(counter))
        if _int(item.get("sent")):
            volume.append(DayVolume(date=str(item["SK"]).removeprefix("DAY#"), count=_int(item["sent"])))
        for attr, value in item.items():
            kind, _, rest = attr.partition(":")
            if kind == "p" and rest.endswith(":name"):
                names[rest.removesuffix(":name")] = str(value)
                continue
            key, _, counter = rest.rpartition(":")
            if not key or counter not in counters.COUNTERS or kind not in ("t", "p"):
                continue
            bucket = (by_type if kind == "t" else by_template).setdefault(key, dict.fromkeys(counters.COUNTERS, 0))
            bucket[counter] += _int(value)

    def order(rows: dict[str, dict[str, int]]) -> list[tuple[str, dict[str, int]]]:
        return sorted(rows.items(), key=lambda kv: (-kv[1]["sent"], kv[0]))

    sent, opened, clicked, failed = totals["sent"], totals["opened"], totals["clicked"], totals["failed"]
    return CommunicationAnalytics(
        byTemplate=[TemplateRates(templateId=tid, templateName=names.get(tid), **_rates(c)) for tid, c in order(by_template)],
        byType=[TypeRates(type=kind, **_rates(c)) for kind, c in order(by_type)],
        clickRate=_rate(clicked, sent),
        failureRate=_rate(failed, sent + failed),
        openRate=_rate(opened, sent),
        sendVolumeByDay=volume,
        totalClicked=clicked,
        totalOpened=opened,
        totalSent=sent,
    )
