"""Per-tenant limits (docs/architecture.md §6.4): the send window's verdicts, the limits a caller has, the 429 each
family answers, and the local gateway's emulation of API Gateway's account-level throttle."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpers import Context, api_event
from parley.api import build_app
from parley.dal.limits import judge, next_midnight
from parley.domain.context import Caller
from parley.domain.limits import send_limits
from parley.errors import TooManyRequests
from parley.settings import Settings

S = 1_796_582_788  # an epoch second


# ───────────── the send window ─────────────
@pytest.mark.parametrize(
    ("item", "verdict"),
    [
        (None, "new"),  # the day's first send
        ({"day_n": 7, "sec": S - 1, "sec_n": 3}, "new"),  # an earlier second's window: start this one
        ({"day_n": 7, "sec": S, "sec_n": 2}, "same"),  # this second's, with room
        ({"day_n": 7, "sec": S, "sec_n": 3}, "rate"),  # this second's, full
        ({"day_n": 7, "sec": S + 1, "sec_n": 1}, "same"),  # opened by a clock a little ahead: joined
        ({"day_n": 10, "sec": S - 5, "sec_n": 1}, "quota"),  # the day's quota, whatever the second
        ({"day_n": 10, "sec": S, "sec_n": 0}, "quota"),
        ({"day_n": 9, "sec": S, "sec_n": 3}, "rate"),
    ],
)
def test_the_window_decides_between_the_two_updates_and_the_two_refusals(item, verdict):
    assert judge(item, S, rate=3, quota=10) == verdict


def test_the_quota_resets_at_the_next_midnight_utc():
    assert next_midnight(datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)) == datetime(2026, 12, 7, tzinfo=UTC)
    assert next_midnight(datetime(2026, 12, 31, 0, 0, 0, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


# ───────────── the limits a caller has ─────────────
def test_a_tenants_own_limits_win_and_0_means_the_deployments_default(monkeypatch):
    monkeypatch.setattr("parley.domain.limits.get_settings", lambda: Settings(TABLE_NAME="t"))
    assert send_limits(Caller(tenant_id="t1")) == (50, 10_000)  # TENANT_SEND_RATE_LIMIT, TENANT_DAILY_SEND_QUOTA
    assert send_limits(Caller(tenant_id="t1", send_rate_limit=3, daily_send_quota=1000)) == (3, 1000)
    configured = Settings(TABLE_NAME="t", TENANT_SEND_RATE_LIMIT="7", TENANT_DAILY_SEND_QUOTA="70")
    monkeypatch.setattr("parley.domain.limits.get_settings", lambda: configured)
    assert send_limits(Caller(tenant_id="t1", daily_send_quota=5)) == (7, 5)


def test_the_defaults_follow_ses():
    defaults = Settings(TABLE_NAME="t")
    assert defaults.tenant_provider_rate_limit == 14  # SES's default production sending rate, per second
    with pytest.raises(ValueError):
        Settings(TABLE_NAME="t", TENANT_PROVIDER_RATE_LIMIT="0")


# ───────────── 429 in each family's shape ─────────────
def _refused(family: str, error: TooManyRequests) -> dict:
    router = Router()

    @router.post("/sends")
    def send() -> dict:
        raise error

    event = api_event("crm/send", tenant_id="t1", body="{}", headers={"Content-Type": "application/json"})
    event.update(httpMethod="POST", path="/sends", resource="/sends", pathParameters=None)
    return build_app(family, router).resolve(event, Context())


@pytest.mark.parametrize(
    ("family", "shape"),
    [
        ("candidate", {"status": 429, "message": "daily send quota of 3 reached; resets at 2026-12-07T00:00:00Z"}),
        ("ats", {"status": 429, "message": "daily send quota of 3 reached; resets at 2026-12-07T00:00:00Z"}),
        ("crm", {"title": "Too Many Requests", "detail": "daily send quota of 3 reached; resets at 2026-12-07T00:00:00Z"}),
    ],
)
def test_a_limit_is_429_with_retry_after_in_the_familys_shape(family, shape):
    out = _refused(family, TooManyRequests("daily send quota of 3 reached; resets at 2026-12-07T00:00:00Z", retry_after=3600))
    assert out["statusCode"] == 429
    headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
    headers |= {k.lower(): v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
    assert headers["retry-after"] == "3600"
    body = json.loads(out["body"])
    if family == "crm":
        assert body.pop("time").endswith("Z")
    assert body == shape


def test_retry_after_is_at_least_a_second():
    assert TooManyRequests("x", retry_after=0).retry_after == 1
    assert TooManyRequests("x", retry_after=2.7).retry_after == 2  # type: ignore[arg-type]


# ───────────── the local gateway's account-level throttle ─────────────
def test_the_account_throttle_is_a_token_bucket():
    from parley_local.gateway import AccountThrottle

    bucket = AccountThrottle()
    assert (bucket.rate, bucket.burst) == (10_000.0, 5_000)  # AWS's defaults for a region
    bucket.set(rate=10, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]  # the burst, then empty
    time.sleep(0.25)  # 2.5 tokens back
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    bucket.set(rate=1, burst=0)
    assert not bucket.take()  # nothing passes
