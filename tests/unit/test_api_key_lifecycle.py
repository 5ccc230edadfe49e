"""A key's life without AWS: its state at an instant, the authorizer context it yields, the admin's durations and table."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from parley.admin_keys import describe, duration, instant, table
from parley.domain.auth import Grant
from parley.domain.context import Caller
from parley.models.api_keys import ApiKey

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _key(**fields) -> ApiKey:
    return ApiKey(key_hash="ab" * 32, tenant_id="t-1", key_prefix="prl_AbCdEf", created_at=NOW - timedelta(days=3), **fields)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, "active"),
        ({"expires_at": NOW + timedelta(milliseconds=1)}, "active"),
        ({"expires_at": NOW}, "expired"),  # refused from the instant of its expiry on
        ({"expires_at": NOW - timedelta(days=1)}, "expired"),
        ({"revoked_at": NOW - timedelta(minutes=1)}, "revoked"),
        ({"revoked": True}, "revoked"),  # the flag of keys revoked before revoked_at existed
        ({"revoked_at": NOW, "expires_at": NOW - timedelta(days=1)}, "revoked"),
    ],
)
def test_state_at_an_instant(fields, state):
    assert _key(**fields).state(NOW) == state


def test_the_id_is_the_start_of_the_hash():
    assert _key().id == "ab" * 6


def test_the_authorizer_context_names_the_key_and_carries_its_expiry_only_when_it_has_one():
    caller = Caller(tenant_id="t-1", sender_email="a@b.example")
    plain = Grant(caller, _key()).authorizer_context()
    assert plain == caller.authorizer_context() | {"keyId": "ab" * 6}
    expiring = Grant(caller, _key(expires_at=NOW + timedelta(hours=2))).authorizer_context()
    assert expiring["keyExpiresAt"] == "2026-05-01T14:00:00.000Z"
    assert all(isinstance(v, (str, bool, int)) for v in expiring.values())  # API Gateway takes flat scalars only


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), ("1h30m", 5400), ("3600", 3600), ("0", 0), (" 2H ", 7200)],
)
def test_durations(text, seconds):
    assert duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "h", "1x", "1.5h", "-1h", "1h 30m", "h1", "1hh"])
def test_bad_durations_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
        duration(text)


def test_instants_need_a_zone():
    assert instant("2026-01-31T00:00:00Z") == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="with a zone"):
        instant("2026-01-31T00:00:00")


def test_the_table_lines_up_and_shows_what_is_missing():
    rows = [
        describe(_key(name="ci", last_used_at=NOW - timedelta(minutes=5), rotated_to="cd" * 6, expires_at=NOW + timedelta(hours=1)), NOW),
        describe(ApiKey(key_hash="ef" * 32, tenant_id="t-1"), NOW),  # a key stored without prefix or times
    ]
    header, first, second = table(rows).splitlines()
    assert header.index("PREFIX") == first.index("prl_AbCdEf") == second.index("(none)")
    assert first.split() == ["ababababab" + "ab", "prl_AbCdEf", "ci", "active", "2026-04-28", "12:00:00Z", "2026-05-01",
                             "11:55:00Z", "2026-05-01", "13:00:00Z", "to", "cdcdcdcdcdcd"]  # fmt: skip
    assert second.split() == ["efefefefefef", "(none)", "-", "active", "-", "-", "-", "-"]
    assert table([]) == "(no keys)"
