"""The responders' calendar (parley.domain.responders.active_period): wall-clock rules in the responder's IANA time
zone, the 2026 daylight-saving transitions of America/New_York (Sunday 8 March and Sunday 1 November, 02:00), overnight
rules, the start-at/end-at bounds and the period that keys the one-reply-per-conversation marker."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from parley.domain import responders


def responder(rules, tz="America/New_York", **fields):
    return {"enabled": True, "calendar": json.dumps({"timezone": tz, "rules": rules}), **fields}


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


NINE_TO_FIVE = [{"day": "everyday", "start-time": "09:00:00", "end-time": "17:00:00Z"}]


@pytest.mark.parametrize(
    ("when", "period"),
    [
        # Saturday 7 March: EST (UTC-5): 09:00-17:00 is 14:00-22:00 UTC
        ("2026-03-07T13:59:59Z", None),
        ("2026-03-07T14:00:00Z", "2026-03-07T14:00:00.000Z"),
        ("2026-03-07T21:30:00Z", "2026-03-07T14:00:00.000Z"),
        ("2026-03-07T22:00:00Z", None),
        # Sunday 8 March, after the spring transition: EDT (UTC-4): 13:00-21:00 UTC
        ("2026-03-08T12:59:59Z", None),
        ("2026-03-08T13:30:00Z", "2026-03-08T13:00:00.000Z"),
        ("2026-03-08T20:59:59Z", "2026-03-08T13:00:00.000Z"),
        ("2026-03-08T21:30:00Z", None),
        # Saturday 31 October: EDT: 13:00-21:00 UTC
        ("2026-10-31T13:30:00Z", "2026-10-31T13:00:00.000Z"),
        ("2026-10-31T21:30:00Z", None),
        # Sunday 1 November, after the autumn transition: EST: 14:00-22:00 UTC
        ("2026-11-01T13:30:00Z", None),
        ("2026-11-01T14:00:00Z", "2026-11-01T14:00:00.000Z"),
        ("2026-11-01T21:30:00Z", "2026-11-01T14:00:00.000Z"),
        ("2026-11-01T22:00:00Z", None),
    ],
)
def test_a_nine_to_five_rule_follows_new_york_across_both_2026_transitions(when, period):
    assert responders.active_period(responder(NINE_TO_FIVE), at(when)) == period


def test_an_overnight_window_across_the_transition_lasts_seven_hours_in_spring_and_nine_in_autumn():
    night = responder([{"day": "saturday", "start-time": "22:00", "end-time": "06:00"}])
    # spring: Sat 7 Mar 22:00 EST = 03:00Z Sunday; Sun 06:00 EDT = 10:00Z (7 hours)
    spring = [s for s, e in responders.windows_on(json.loads(night["calendar"]), datetime(2026, 3, 7).date())]
    ((start, end),) = responders.windows_on(json.loads(night["calendar"]), datetime(2026, 3, 7).date())
    assert spring == [start] and (start, end) == (at("2026-03-08T03:00:00Z"), at("2026-03-08T10:00:00Z"))
    assert responders.active_period(night, at("2026-03-08T09:59:00Z")) == "2026-03-08T03:00:00.000Z"
    assert responders.active_period(night, at("2026-03-08T10:00:00Z")) is None
    # autumn: Sat 31 Oct 22:00 EDT = 02:00Z Sunday; Sun 06:00 EST = 11:00Z (9 hours)
    ((start, end),) = responders.windows_on(json.loads(night["calendar"]), datetime(2026, 10, 31).date())
    assert (start, end) == (at("2026-11-01T02:00:00Z"), at("2026-11-01T11:00:00Z")) and (end - start).total_seconds() == 9 * 3600
    assert responders.active_period(night, at("2026-11-01T10:30:00Z")) == "2026-11-01T02:00:00.000Z"
    # the overnight window belongs to Saturday: on Friday night nothing
    assert responders.active_period(night, at("2026-03-07T04:00:00Z")) is None


def test_a_wall_time_in_the_spring_gap_is_read_with_the_offset_before_it_and_the_autumn_overlap_is_its_first_occurrence():
    gap = responder([{"day": "sunday", "start-time": "02:30", "end-time": "04:00"}])
    # 02:30 does not exist on 8 March: 02:30 EST = 07:30Z (= 03:30 EDT); 04:00 EDT = 08:00Z
    assert responders.active_period(gap, at("2026-03-08T07:29:00Z")) is None
    assert responders.active_period(gap, at("2026-03-08T07:45:00Z")) == "2026-03-08T07:30:00.000Z"
    overlap = responder([{"day": "sunday", "start-time": "01:30", "end-time": "03:00"}])
    # 01:30 happens twice on 1 November: the first (EDT) = 05:30Z; 03:00 EST = 08:00Z
    assert responders.active_period(overlap, at("2026-11-01T05:40:00Z")) == "2026-11-01T05:30:00.000Z"
    assert responders.active_period(overlap, at("2026-11-01T07:59:00Z")) == "2026-11-01T05:30:00.000Z"


def test_days_bounds_disabled_and_rules_less_responders():
    weekdays = responder([{"day": "weekdays", "start-time": "00:00", "end-time": "00:00"}], tz="Europe/Paris")
    assert responders.active_period(weekdays, at("2026-06-05T12:00:00Z")) == "2026-06-04T22:00:00.000Z"  # Friday, CEST
    assert responders.active_period(weekdays, at("2026-06-06T12:00:00Z")) is None  # Saturday
    weekends = responder([{"day": "weekends", "start-time": "00:00", "end-time": "00:00"}], tz="UTC")
    assert responders.active_period(weekends, at("2026-06-06T12:00:00Z")) == "2026-06-06T00:00:00.000Z"
    bounded = responder(NINE_TO_FIVE, start_at="2026-06-10T00:00:00.000Z", end_at="2026-06-11T15:00:00.000Z")
    assert responders.active_period(bounded, at("2026-06-09T15:00:00Z")) is None
    assert responders.active_period(bounded, at("2026-06-10T15:00:00Z")) == "2026-06-10T13:00:00.000Z"
    assert responders.active_period(bounded, at("2026-06-11T15:00:00Z")) is None  # end-at is exclusive
    assert responders.active_period({**bounded, "enabled": False}, at("2026-06-10T15:00:00Z")) is None
    vacation = responder([], start_at="2026-07-01T00:00:00.000Z", end_at="2026-07-15T00:00:00.000Z")
    assert responders.active_period(vacation, at("2026-07-04T03:00:00Z")) == "2026-07-01T00:00:00.000Z"
    assert responders.active_period(responder([]), at("2026-07-04T03:00:00Z")) == responders.ALWAYS
    # overlapping rules: the earliest window that holds the instant is the period
    both = responder([*NINE_TO_FIVE, {"day": "everyday", "start-time": "12:00", "end-time": "13:00"}])
    assert responders.active_period(both, at("2026-06-10T16:30:00Z")) == "2026-06-10T13:00:00.000Z"


@pytest.mark.parametrize(("text", "ok"), [("14:15:22Z", True), ("09:00", True), ("23:59:59", True), ("24:00", False), ("9:00", False),
                                          ("09:60", False), ("noon", False)])  # fmt: skip
def test_times(text, ok):
    assert (responders.parse_time(text) is not None) == ok


def test_zones():
    assert responders.zone("America/New_York") is not None and responders.zone("UTC") is not None
    for bad in ("Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "America/../UTC"):
        assert responders.zone(bad) is None


def test_the_auto_reply_hook_is_the_last_channel_events_hook():
    """A reply is a new post with its own events: the triggering event's inbox state, live updates, bridge and pushes
    are applied before it (docs/courier.md "Responders")."""
    from parley.domain import channel_events

    assert channel_events.HOOKS[-1] == "parley.domain.channel_responders"
    assert channel_events.HOOKS.count("parley.domain.channel_responders") == 1
