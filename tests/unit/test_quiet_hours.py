"""SMS quiet hours: the 08:00-21:00 window in the recipient's zone, its edges, DST days, east and west."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from parley.domain.quiet_hours import allowed, first_instant_at_or_after, next_allowed, zone

NY = ZoneInfo("America/New_York")  # west of UTC, DST
TOKYO = ZoneInfo("Asia/Tokyo")  # east, no DST
KOLKATA = ZoneInfo("Asia/Kolkata")  # east, half-hour offset
AMS = ZoneInfo("Europe/Amsterdam")
AUCKLAND = ZoneInfo("Pacific/Auckland")  # east, southern-hemisphere DST
HONOLULU = ZoneInfo("Pacific/Honolulu")  # far west


def local(tz, y, mo, d, h, mi, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


@pytest.mark.parametrize("tz", [UTC, NY, TOKYO, KOLKATA, AMS, AUCKLAND, HONOLULU], ids=str)
@pytest.mark.parametrize(
    ("hm", "ok"),
    [((7, 59), False), ((8, 0), True), ((12, 0), True), ((20, 59), True), ((21, 0), False), ((23, 30), False), ((0, 0), False)],
)
def test_window_edges_in_every_zone(tz, hm, ok):
    at = local(tz, 2025, 6, 18, *hm)
    assert allowed(at, tz) is ok
    assert (next_allowed(at, tz) is None) is ok


def test_last_second_before_nine_pm_is_allowed_and_nine_pm_is_not():
    assert next_allowed(local(NY, 2025, 6, 18, 20, 59, 59), NY) is None
    assert next_allowed(local(NY, 2025, 6, 18, 21, 0, 0), NY) == local(NY, 2025, 6, 19, 8, 0)


def test_early_morning_is_held_until_eight_the_same_day():
    held = next_allowed(local(TOKYO, 2025, 6, 18, 7, 59), TOKYO)
    assert held == local(TOKYO, 2025, 6, 18, 8, 0)
    assert held == datetime(2025, 6, 17, 23, 0, tzinfo=UTC)  # east of UTC: the previous UTC day
    assert held.tzinfo == UTC


def test_evening_is_held_until_eight_the_next_day_west_of_utc():
    # 21:00 in Honolulu is 07:00 UTC the next day; the window opens at 08:00 HST = 18:00 UTC.
    held = next_allowed(local(HONOLULU, 2025, 6, 18, 21, 0), HONOLULU)
    assert held == datetime(2025, 6, 19, 18, 0, tzinfo=UTC)


def test_half_hour_offset_zone():
    assert next_allowed(local(KOLKATA, 2025, 6, 18, 22, 15), KOLKATA) == datetime(2025, 6, 19, 2, 30, tzinfo=UTC)


def test_the_same_utc_instant_is_quiet_in_one_zone_and_allowed_in_another():
    at = datetime(2025, 6, 18, 3, 0, tzinfo=UTC)  # 23:00 in New York, 12:00 in Tokyo
    assert next_allowed(at, TOKYO) is None
    assert next_allowed(at, NY) == datetime(2025, 6, 18, 12, 0, tzinfo=UTC)


def test_spring_forward_night_in_new_york():
    # 2025-03-09: 02:00 EST → 03:00 EDT. 01:30 EST is quiet; 08:00 that morning is already EDT (12:00 UTC).
    held = next_allowed(datetime(2025, 3, 9, 6, 30, tzinfo=UTC), NY)
    assert held == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    assert held.astimezone(NY).hour == 8
    # The evening before (EST) is held until 08:00 EDT: 10 wall-clock hours but only 9 real ones.
    before = local(NY, 2025, 3, 8, 22, 0)
    assert next_allowed(before, NY) - before == timedelta(hours=9)


def test_fall_back_night_in_amsterdam():
    # 2025-10-26: 03:00 CEST → 02:00 CET. 21:00 CEST the evening before → 08:00 CET = 07:00 UTC: 12 hours.
    before = local(AMS, 2025, 10, 25, 21, 0)
    held = next_allowed(before, AMS)
    assert held == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)
    assert held - before == timedelta(hours=12)
    # 02:30 happens twice that night; both are quiet and both wait for 08:00 CET.
    for fold in (0, 1):
        assert next_allowed(datetime(2025, 10, 26, 2, 30, tzinfo=AMS, fold=fold), AMS) == held


def test_southern_hemisphere_dst_start_east_of_utc():
    # Auckland 2025-09-28: 02:00 NZST → 03:00 NZDT. 08:00 NZDT = 19:00 UTC the day before.
    assert next_allowed(local(AUCKLAND, 2025, 9, 28, 1, 0), AUCKLAND) == datetime(2025, 9, 27, 19, 0, tzinfo=UTC)


def test_a_wall_time_skipped_by_dst_resolves_to_the_end_of_the_gap():
    # 02:30 does not exist in New York on 2025-03-09; the first existing time after it is 03:00 EDT.
    assert first_instant_at_or_after(date(2025, 3, 9), NY, time(2, 30)) == datetime(2025, 3, 9, 7, 0, tzinfo=UTC)
    # A repeated wall time resolves to its first occurrence (EDT).
    assert first_instant_at_or_after(date(2025, 11, 2), NY, time(1, 30)) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        next_allowed(datetime(2025, 6, 18, 22, 0), NY)


def test_zone_picks_the_first_known_name_else_utc():
    assert zone("", "America/New_York")[0] == "America/New_York"
    assert zone("Asia/Tokyo", "America/New_York")[0] == "Asia/Tokyo"
    assert zone("Not/AZone", None, "Europe/Amsterdam")[0] == "Europe/Amsterdam"
    assert zone(None, "")[0] == "UTC"
    assert zone("../etc/passwd")[0] == "UTC"
