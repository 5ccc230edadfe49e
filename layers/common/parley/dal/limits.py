"""Per-tenant limits in the table (issue 14; docs/architecture.md §6.4, docs/data-model.md §6.8).

Two items per tenant, in the partition ``PK = TENANT#<t>#LIMITS``; neither is on an index or the stream's filter.

**The send window** (``SK = SEND#<YYYY-MM-DD>``, one per UTC day, ``ttl`` the end of the next day): ``day_n``, the
messages accepted that day; ``sec``, the epoch second of the current one-second window; ``sec_n``, the send
requests admitted in it. Admitting one send is a conditional ``UpdateItem`` that checks both limits and counts
it in both, atomically:

- *same second* (``sec`` is this second): ``ADD sec_n 1, day_n 1`` if ``sec_n < rate AND day_n < quota``;
- *new second* (``sec`` is older, or absent): ``SET sec = now, sec_n = 1 ADD day_n 1`` if ``day_n < quota``.

Which one applies is not known before writing; this process guesses from the second it last admitted a send of
the tenant in (within the last two: the tenant is busy, some instance has most likely opened this second's window
already: *same*; else *new*), and a failed condition returns the item as it was
(``ReturnValuesOnConditionCheckFailure = ALL_OLD``), which says whether the send is refused (quota, rate) or the
other update applies. So a send costs one write, two when the guess was wrong (a busy tenant's first send of a
second; an idle tenant's send right after another instance's in the same second), and a refusal one. A refused
request is not counted. ``refund`` takes a message back out of ``day_n`` (a send that failed after it was
admitted): the day's quota counts accepted messages; the rate counts requests.

**The pace** (``SK = PACE``): ``tat``, the end of the provider-send slots reserved so far for the tenant (epoch
microseconds; GCRA's "theoretical arrival time"). ``reserve`` hands out ``n`` consecutive slots
``interval`` apart: from now when ``tat`` is in the past (``SET tat = now + n·interval`` if ``tat <= now``),
else after the last one (``ADD tat n·interval`` if ``tat > now``). One conditional write per dispatcher batch
and tenant (two when this process's guess of which case applies is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from parley.dal import aws, keys, table

_ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
BUSY_SECONDS = 2  # a tenant this process admitted a send of so recently is guessed busy (see the module doc)
PACE_TTL_SECONDS = 7 * 86400  # a pace item outlives any slot it hands out (refreshed with every reservation)

# What this process last saw, per tenant: the second of its last admitted send, and the end of the slots it last
# reserved. Only guesses of which update applies: a wrong one costs a second write, never a wrong answer.
_last_second: dict[str, int] = {}
_pace_end: dict[str, int] = {}
aws.on_reset(_last_second.clear)
aws.on_reset(_pace_end.clear)


@dataclass(frozen=True)
class Refusal:
    """Why a send is not admitted: ``quota`` (the day's messages) or ``rate`` (this second's requests), and the
    seconds until it may be tried again (the next second; 00:00 UTC)."""

    reason: Literal["rate", "quota"]
    retry_after: int
    resets_at: datetime


Verdict = Literal["quota", "rate", "same", "new"]


def judge(item: dict[str, Any] | None, second: int, *, rate: int, quota: int) -> Verdict:
    """What a send window (``item``, as stored) says about one more send in ``second``: refused for the ``quota``
    or the ``rate``, or admitted by the ``same``-second update or the ``new``-second one. The conditions of the
    two updates say the same in DynamoDB's words (``_update``)."""
    item = item or {}
    if int(item.get("day_n", 0)) >= quota:
        return "quota"
    sec = item.get("sec")
    if sec is not None and int(sec) >= second:  # this second's window (or one opened by a clock a little ahead)
        return "rate" if int(item.get("sec_n", 0)) >= rate else "same"
    return "new"


def next_midnight(at: datetime) -> datetime:
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def _window_sk(at: datetime) -> str:
    return keys.send_window_sk(at.astimezone(UTC).date().isoformat())


def _window_key(tenant_id: str, at: datetime) -> dict[str, Any]:
    return table.key(keys.limits_pk(tenant_id), _window_sk(at))


def _update(how: Literal["same", "new"], tenant_id: str, at: datetime, second: int, *, rate: int, quota: int) -> None:
    if how == "same":
        params: dict[str, Any] = {
            "UpdateExpression": "ADD sec_n :one, day_n :one",
            "ConditionExpression": "sec = :s AND sec_n < :rate AND day_n < :quota",
            "ExpressionAttributeValues": table.values(one=1, s=second, rate=rate, quota=quota),
        }
    else:
        params = {
            "UpdateExpression": "SET sec = :s, sec_n = :one, #type = :type, #ttl = :ttl ADD day_n :one",
            "ConditionExpression": "(attribute_not_exists(sec) OR sec < :s) AND (attribute_not_exists(day_n) OR day_n < :quota)",
            "ExpressionAttributeNames": {"#type": "type", "#ttl": "ttl"},
            "ExpressionAttributeValues": table.values(
                one=1, s=second, quota=quota, type="send_window", ttl=int(next_midnight(at).timestamp()) + 86400
            ),
        }
    table.ddb().update_item(TableName=table.table_name(), Key=_window_key(tenant_id, at), **params, **_ALL_OLD)


def admit(tenant_id: str, at: datetime, *, rate: int, quota: int) -> Refusal | None:
    """Count one send of ``tenant_id`` at ``at`` against its ``rate`` (requests per second) and ``quota``
    (messages per UTC day): None when admitted (and counted), else why not."""
    second = int(at.timestamp())
    how: Verdict = "same" if 0 <= second - _last_second.get(tenant_id, -10) <= BUSY_SECONDS else "new"
    for _ in range(4):
        assert how in ("same", "new")
        try:
            _update(how, tenant_id, at, second, rate=rate, quota=quota)
        except ClientError as err:
            if table.is_throttled(err):
                break  # DynamoDB throttles the tenant's window item: the tenant is sending too fast all the same
            if not table.is_condition_failure(err):
                raise
            old = table.unmarshal(err.response["Item"]) if err.response.get("Item") else None
        else:
            _last_second[tenant_id] = second
            return None
        how = judge(old, second, rate=rate, quota=quota)
        if how == "quota":
            reset = next_midnight(at)
            return Refusal("quota", max(1, int((reset - at).total_seconds() + 0.999)), reset)
        if how == "rate":
            break
        if how == "same" and old is not None:
            second = max(second, int(old["sec"]))
    # The rate (or, after four tries, a window this contended): the next second's window.
    return Refusal("rate", 1, datetime.fromtimestamp(second + 1, UTC))


def refund(tenant_id: str, at: datetime) -> None:
    """Take one admitted message back out of the day ``at`` falls on (it was not accepted after all); never below 0."""
    table.try_update(
        keys.limits_pk(tenant_id), _window_sk(at), "ADD day_n :minus",
        condition="day_n > :zero", values=table.values(minus=-1, zero=0),
    )  # fmt: skip


def reserve(tenant_id: str, n: int, *, interval_us: int, now_us: int) -> int:
    """Reserve ``n`` consecutive provider-send slots ``interval_us`` apart for ``tenant_id``; returns the first
    slot (epoch µs; the others follow it). Slots are never handed out twice, whoever asks."""
    span = n * interval_us
    key = table.key(keys.limits_pk(tenant_id), keys.PACE_SK)
    names = {"#type": "type", "#ttl": "ttl"}
    ttl = now_us // 1_000_000 + PACE_TTL_SECONDS

    def start_now() -> int:  # the tenant was idle: its slots start now
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=key,
            UpdateExpression="SET tat = :end, #type = :type, #ttl = :ttl",
            ConditionExpression="attribute_not_exists(tat) OR tat <= :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.values(end=now_us + span, now=now_us, type="pace", ttl=ttl),
        )
        _pace_end[tenant_id] = now_us + span
        return now_us

    def follow(conditional: bool) -> int:  # slots are reserved ahead of now: these follow them
        condition = {"ConditionExpression": "tat > :now"} if conditional else {}
        out = table.ddb().update_item(
            TableName=table.table_name(),
            Key=key,
            UpdateExpression="SET #type = :type, #ttl = :ttl ADD tat :span",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.values(span=span, type="pace", ttl=ttl, **({"now": now_us} if conditional else {})),
            ReturnValues="UPDATED_NEW",
            **condition,
        )
        end = int(table.unmarshal(out["Attributes"])["tat"])
        _pace_end[tenant_id] = end
        return end - span

    ahead = _pace_end.get(tenant_id, 0) > now_us
    for _ in range(2):
        try:
            return follow(True) if ahead else start_now()
        except ClientError as err:
            if not table.is_condition_failure(err):
                raise
            ahead = not ahead
    # Both conditions failed in turn (the item changed between the calls): ``tat`` only grows, so follow it.
    return follow(False)
