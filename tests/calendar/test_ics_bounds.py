"""Hostile calendar feeds: endless SECONDLY/MINUTELY rules, huge RDATE lists and feeds with
too many events are cut (with a warning naming the event) instead of expanding without limit;
a sync of a feed that turned hostile keeps the events it still holds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.calendar import ics
from app.calendar.repo import CalendarRepo
from app.calendar.sync import sync_all
from app.cli import main

NOW = datetime(2026, 10, 22, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _vevent(uid: str, title: str, start: datetime, rule: str | None = None, extra: str = "") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_stamp(NOW)}", f"DTSTART:{_stamp(start)}",
             f"DTEND:{_stamp(start + timedelta(seconds=1))}", f"SUMMARY:{title}"]
    if rule:
        lines.append(f"RRULE:{rule}")
    if extra:
        lines.append(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def _feed(*events: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kith test//EN", *events, "END:VCALENDAR"]) + "\r\n"


def _window():
    return ics.Window.around(NOW)


def test_secondly_without_end_is_capped_per_event_with_a_warning_naming_it():
    warnings: list[str] = []
    _, events = ics.parse(_feed(_vevent("bomb", "Bomb", NOW + timedelta(hours=2), "FREQ=SECONDLY")), _window(),
                          warnings=warnings)
    assert len(events) == ics.MAX_PER_EVENT
    assert [e.start for e in events[:2]] == [NOW + timedelta(hours=2), NOW + timedelta(hours=2, seconds=1)]
    assert len(warnings) == 1 and "'Bomb'" in warnings[0] and f"{ics.MAX_PER_EVENT:,}" in warnings[0]


def test_minutely_without_end_next_to_a_normal_event_keeps_the_normal_event(kith, tmp_path):
    f = tmp_path / "feed.ics"
    f.write_text(_feed(_vevent("lunch", "Lunch with Ada", NOW + timedelta(days=1)),
                       _vevent("tick", "Tick", NOW - timedelta(days=3), "FREQ=MINUTELY")))
    store = kith.store()
    rec, report = ics.add_feed(store, str(f), now=NOW)
    titles = [e.title for e in CalendarRepo(store).events_between(NOW - timedelta(days=60), NOW + timedelta(days=120))]
    assert titles.count("Lunch with Ada") == 1
    assert titles.count("Tick") == ics.MAX_PER_EVENT
    assert "'Tick'" in report.note and report.note.startswith("warning:")


def test_a_rule_that_cannot_be_counted_in_time_keeps_only_its_first_occurrence():
    # SECONDLY from ten years ago: hundreds of millions of steps before the window starts
    warnings: list[str] = []
    feed = _feed(_vevent("old", "Ancient ticker", NOW - timedelta(days=3650), "FREQ=SECONDLY"),
                 _vevent("soon", "Soon", NOW + timedelta(days=2)))
    _, events = ics.parse(feed, _window(), warnings=warnings, seconds=0.2)
    assert [e.title for e in events] == ["Soon"]  # the ticker's only occurrence is outside the window
    assert len(warnings) == 1 and "'Ancient ticker'" in warnings[0] and "first occurrence" in warnings[0]


def test_the_feed_budget_bounds_many_capped_series_together():
    warnings: list[str] = []
    feed = _feed(*[_vevent(f"s{i}", f"Series {i}", NOW + timedelta(hours=i), "FREQ=HOURLY") for i in range(4)])
    _, events = ics.parse(feed, _window(), warnings=warnings, per_event=100, per_feed=250)
    assert len(events) <= 250
    assert sum("Series" in w for w in warnings) >= 3
    assert {e.title for e in events} >= {"Series 0", "Series 1"}


def test_a_huge_rdate_list_is_ignored_with_a_warning():
    dates = ",".join(_stamp(NOW + timedelta(hours=h)) for h in range(1, 40))
    warnings: list[str] = []
    _, events = ics.parse(_feed(_vevent("rd", "Many dates", NOW + timedelta(minutes=5), extra=f"RDATE:{dates}")),
                          _window(), warnings=warnings, per_event=10)
    assert len(events) == 1 and "'Many dates'" in warnings[0] and "RDATE" in warnings[0]


def test_a_bounded_rule_under_the_cap_is_untouched():
    warnings: list[str] = []
    _, events = ics.parse(_feed(_vevent("w", "Weekly", NOW, "FREQ=WEEKLY;COUNT=6")), _window(), warnings=warnings)
    assert len(events) == 6 and warnings == []


def test_sync_of_a_feed_that_turned_hostile_keeps_the_events_it_still_holds(kith, tmp_path):
    f = tmp_path / "feed.ics"
    f.write_text(_feed(_vevent("lunch", "Lunch with Ada", NOW + timedelta(days=1)),
                       _vevent("call", "Call Bob", NOW + timedelta(days=2))))
    store = kith.store()
    rec, _ = ics.add_feed(store, str(f), now=NOW)
    repo = CalendarRepo(store)
    before = {e.external_id: e.id for e in repo.events_between(NOW - timedelta(days=60), NOW + timedelta(days=120))}
    f.write_text(_feed(_vevent("lunch", "Lunch with Ada", NOW + timedelta(days=1)),
                       _vevent("call", "Call Bob", NOW + timedelta(days=2)),
                       _vevent("bomb", "Bomb", NOW + timedelta(hours=2), "FREQ=SECONDLY")))
    [report] = sync_all(store, {"now": NOW})
    after = {e.external_id: e.id for e in repo.events_between(NOW - timedelta(days=60), NOW + timedelta(days=120))}
    assert report.removed == 0 and report.added == ics.MAX_PER_EVENT
    assert after["lunch"] == before["lunch"] and after["call"] == before["call"]  # same rows, not re-created
    assert "'Bomb'" in report.note


def test_cli_add_ics_of_a_bomb_prints_one_warning_and_no_traceback(kith, tmp_path, capsys):
    f = tmp_path / "bomb.ics"
    start = datetime.now(UTC) + timedelta(hours=2)
    f.write_text(_feed(_vevent("bomb", "Bomb", start, "FREQ=SECONDLY")))
    assert main(["calendar", "add-ics", str(f)]) == 0
    out, err = capsys.readouterr()
    assert f"{ics.MAX_PER_EVENT} event(s)" in out
    assert "kith: warning: event 'Bomb'" in err and "Traceback" not in err


def test_rules_with_a_zero_interval_or_a_negative_count_keep_only_their_first_occurrence():
    # found by the fuzz suite: dateutil spins forever on INTERVAL=0 (or divides by it) and never
    # stops counting down from COUNT=-1; RFC 5545 makes both positive integers
    for rule in ("FREQ=DAILY;INTERVAL=0;BYMONTHDAY=31", "FREQ=SECONDLY;INTERVAL=0;BYSETPOS=1;BYDAY=MO",
                 "FREQ=SECONDLY;COUNT=-1;BYDAY=MO,TU", "FREQ=MINUTELY;COUNT=0"):
        warnings: list[str] = []
        _, events = ics.parse(_feed(_vevent("odd", "Odd rule", NOW + timedelta(hours=1), rule)), _window(),
                              warnings=warnings, seconds=0.5)
        assert [e.start for e in events] == [NOW + timedelta(hours=1)], rule
        assert len(warnings) == 1 and "cannot be read" in warnings[0], (rule, warnings)
