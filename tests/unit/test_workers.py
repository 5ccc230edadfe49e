"""The local scheduler's at() parsing: local wall-clock time in the schedule's zone → a UTC instant."""

from datetime import UTC, datetime

import pytest

from parley_local.workers import parse_at


def test_at_in_utc():
    assert parse_at("at(2026-05-04T09:30:00)", "UTC") == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def test_at_without_a_zone_is_utc():
    assert parse_at("  at(2026-05-04T09:30:00) ", None) == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("at(2026-07-01T12:00:00)", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # CEST, UTC+2
        ("at(2026-01-15T12:00:00)", datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),  # CET, UTC+1
        ("at(2026-01-01T00:30:00)", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),  # crosses the year
    ],
)
def test_at_in_europe_amsterdam(expression, expected):
    out = parse_at(expression, "Europe/Amsterdam")
    assert out == expected
    assert out.utcoffset().total_seconds() == 0


def test_at_in_a_negative_offset_zone():
    assert parse_at("at(2026-07-01T20:00:00)", "America/New_York") == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["rate(5 minutes)", "cron(0 12 * * ? *)", "at(2026-07-01T12:00:00", "2026-07-01T12:00:00", ""])
def test_non_at_expressions(expression):
    assert parse_at(expression, "UTC") is None
