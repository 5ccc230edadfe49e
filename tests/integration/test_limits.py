"""The per-tenant limits' items on moto (docs/architecture.md §6.4, data-model §6.8): the send window that admits or
refuses each send (``dal/limits.admit``) and the pace that hands out provider-send slots (``dal/limits.reserve``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

AT = datetime(2026, 12, 6, 23, 59, 58, 250_000, tzinfo=UTC)


@pytest.fixture
def calls(aws):
    """Every DynamoDB operation made from now on, by name."""
    from parley.dal.aws import client

    seen: list[str] = []
    client("dynamodb").meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.append(model.name))
    return seen


def _window(tenant_id: str, day: str) -> dict | None:
    from parley.dal import keys, table

    return table.get(keys.limits_pk(tenant_id), keys.send_window_sk(day))


def test_a_second_admits_the_rate_and_a_day_the_quota(tenant):
    from parley.dal import limits

    t = tenant[0].id
    assert [limits.admit(t, AT, rate=3, quota=5) for _ in range(3)] == [None] * 3
    refused = limits.admit(t, AT, rate=3, quota=5)
    assert (refused.reason, refused.retry_after) == ("rate", 1)
    assert refused.resets_at == datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)  # the next second
    later = AT + timedelta(seconds=1)
    assert [limits.admit(t, later, rate=3, quota=5) for _ in range(2)] == [None, None]
    over = limits.admit(t, later, rate=3, quota=5)
    assert over.reason == "quota"
    assert over.resets_at == datetime(2026, 12, 7, tzinfo=UTC)
    assert over.retry_after == 1  # 23:59:59.25 → midnight: 0.75 s, rounded up
    stored = _window(t, "2026-12-06")
    assert stored == {
        "PK": f"TENANT#{t}#LIMITS",
        "SK": "SEND#2026-12-06",
        "type": "send_window",
        "day_n": 5,  # refused sends are not counted
        "sec": int(later.timestamp()),
        "sec_n": 2,
        "ttl": int(datetime(2026, 12, 8, tzinfo=UTC).timestamp()),  # DynamoDB deletes it the day after
    }
    # the next UTC day has a window of its own
    assert limits.admit(t, AT + timedelta(seconds=2), rate=3, quota=5) is None
    assert _window(t, "2026-12-07")["day_n"] == 1


def test_a_refund_takes_a_message_back_out_of_the_day_but_not_the_second(tenant):
    from parley.dal import limits

    t = tenant[0].id
    assert limits.admit(t, AT, rate=2, quota=1) is None
    limits.refund(t, AT)
    assert _window(t, "2026-12-06")["day_n"] == 0
    assert limits.admit(t, AT, rate=2, quota=1) is None  # the quota has room again
    assert limits.admit(t, AT, rate=2, quota=5).reason == "rate"  # the second's requests stay counted
    limits.refund(t, AT)
    limits.refund(t, AT)  # never below 0
    assert _window(t, "2026-12-06")["day_n"] == 0


def test_tenants_have_windows_of_their_own(tenant, other_tenant):
    from parley.dal import limits

    a, b = tenant[0].id, other_tenant[0].id
    assert limits.admit(a, AT, rate=1, quota=1) is None
    assert limits.admit(a, AT, rate=1, quota=1) is not None
    assert limits.admit(b, AT, rate=1, quota=1) is None


def test_a_send_costs_one_write_two_when_another_process_opened_the_second(tenant, calls):
    from parley.dal import limits

    t = tenant[0].id
    for _ in range(3):
        limits.admit(t, AT, rate=10, quota=100)
    assert calls == ["UpdateItem"] * 3  # the new second's update, then the same second's twice
    calls.clear()
    limits._last_second.clear()  # another process: it guesses "new second", which the window refuses
    assert limits.admit(t, AT, rate=10, quota=100) is None
    assert calls == ["UpdateItem"] * 2
    calls.clear()
    assert limits.admit(t, AT + timedelta(milliseconds=500), rate=10, quota=100) is None  # the same second: its guess
    assert limits.admit(t, AT, rate=4, quota=100).reason == "rate"  # a refusal: one write that fails its condition
    assert calls == ["UpdateItem"] * 2
    calls.clear()
    # a busy tenant (this process admitted one a second ago): "same second" is guessed, one write when another
    # instance has opened the window already, two when this is the second's first send
    later = AT + timedelta(seconds=1)
    limits._last_second.clear()
    assert limits.admit(t, later, rate=10, quota=100) is None  # opened by "another instance"
    calls.clear()
    limits._last_second[t] = int(AT.timestamp())
    assert limits.admit(t, later, rate=10, quota=100) is None
    assert calls == ["UpdateItem"]
    limits._last_second[t] = int(later.timestamp())
    assert limits.admit(t, later + timedelta(seconds=1), rate=10, quota=100) is None
    assert calls == ["UpdateItem"] * 3


def test_concurrent_sends_never_pass_the_rate(tenant):
    from parley.dal import limits

    t = tenant[0].id
    results: list[object] = []

    def send() -> None:
        limits._last_second.clear()  # each as a process of its own would guess
        results.append(limits.admit(t, AT, rate=5, quota=1000))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(r is None for r in results) == 5
    assert {r.reason for r in results if r is not None} == {"rate"}
    assert _window(t, "2026-12-06")["day_n"] == 5


# ───────────── the pace ─────────────
def test_slots_follow_each_other_and_restart_from_now_after_idling(tenant):
    from parley.dal import limits

    t = tenant[0].id
    now = 1_796_582_788_000_000
    assert limits.reserve(t, 3, interval_us=250_000, now_us=now) == now  # idle: from now
    assert limits.reserve(t, 2, interval_us=250_000, now_us=now + 100_000) == now + 750_000  # after the three
    limits._pace_end.clear()  # another process: it guesses "idle", which the pace refuses
    assert limits.reserve(t, 1, interval_us=250_000, now_us=now + 200_000) == now + 1_250_000
    later = now + 10_000_000  # the reserved slots are all in the past: start from now again
    assert limits.reserve(t, 1, interval_us=250_000, now_us=later) == later
    from parley.dal import keys, table

    item = table.get(keys.limits_pk(t), keys.PACE_SK)
    assert item["tat"] == later + 250_000 and item["type"] == "pace"
    assert item["ttl"] == later // 1_000_000 + 7 * 86400


def test_concurrent_reservations_never_share_a_slot(tenant):
    from parley.dal import limits

    t = tenant[0].id
    now = 1_796_582_788_000_000
    got: list[int] = []

    def reserve() -> None:
        limits._pace_end.clear()
        first = limits.reserve(t, 3, interval_us=100_000, now_us=now)
        got.extend(first + k * 100_000 for k in range(3))

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == [now + k * 100_000 for k in range(24)]


def test_the_provider_rate_is_the_tenants_else_the_default(tenant, monkeypatch):
    from parley.domain import auth, limits
    from parley.settings import get_settings

    t = tenant[0].id
    monkeypatch.setenv("TENANT_PROVIDER_RATE_LIMIT", "14")
    get_settings.cache_clear()
    assert limits.provider_interval_us(t) == 71_429  # 1/14 s, rounded up: never faster than the rate
    auth.configure_tenant(t, provider_rate_limit="4")  # as configure-tenant --set provider_rate_limit=4 does
    assert limits.provider_interval_us(t) == 250_000


def test_a_throttled_window_is_answered_like_the_rate(tenant, monkeypatch):
    """DynamoDB throttling the tenant's own window item (a flood beyond what the partition takes) is a 429, not a 500."""
    from botocore.exceptions import ClientError

    from parley.dal import limits, table

    real = table.ddb()

    class Throttled:
        def update_item(self, **_):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "UpdateItem")  # fmt: skip

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(table, "ddb", lambda: Throttled())
    refused = limits.admit(tenant[0].id, AT, rate=10, quota=100)
    assert (refused.reason, refused.retry_after) == ("rate", 1)
