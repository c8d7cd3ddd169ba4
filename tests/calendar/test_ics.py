"""iCalendar feeds: Outlook / Google / Apple shapes, recurrence exceptions, all-day, DST,
refresh, URL fetch from a loopback server, and malformed input (hypothesis) that must
leave the store exactly as it was."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.calendar import ics
from app.calendar.repo import CalendarRepo
from app.calendar.sync import sync_all
from app.core.errors import KithError

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 10, 22, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def _all(store):
    return CalendarRepo(store).events_between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def test_outlook_export(store):
    rec, rep = ics.add_feed(store, str(DATA / "outlook.ics"), now=NOW)
    assert rec.name == "Calendar" and rec.kind == "ics"
    ev = _all(store)
    weekly = [e for e in ev if e.title.startswith("Acme weekly")]
    # COUNT=5 Mondays from 19 Oct; 2 Nov excluded (EXDATE); 26 Oct moved to 14:00 (RECURRENCE-ID)
    assert [(e.local_start().strftime("%m-%d %H:%M"), e.title) for e in weekly] == [
        ("10-19 10:00", "Acme weekly"), ("10-26 14:00", "Acme weekly (moved)"),
        ("11-09 10:00", "Acme weekly"), ("11-16 10:00", "Acme weekly")]
    # Windows zone name mapped to IANA; UTC shifts across the 25 Oct DST change
    assert {e.tz for e in weekly} == {"Europe/Berlin"}
    assert [e.start.hour for e in weekly] == [8, 13, 9, 9]
    assert len({e.external_id for e in weekly}) == 4
    first = weekly[0]
    assert first.description.startswith("Quarterly review of the Acme account.")
    assert [(a.email, a.name, a.response, a.organizer) for a in first.attendees] == [
        ("ada@example.com", "Ada Lovelace", "accepted", True), ("bob@acme.com", "Bob Stone", "accepted", False),
        ("carol@acme.com", "Carol Diaz", "declined", False)]
    holiday = next(e for e in ev if e.title == "Company holiday")
    assert holiday.all_day and holiday.start.date().isoformat() == "2026-11-03" and holiday.end.date().isoformat() == "2026-11-04"
    assert not any("Cancelled" in e.title for e in ev)
    assert rep.added == len(ev) == 5


def test_google_export_with_x_wr_timezone_and_exceptions(store):
    rec, _ = ics.add_feed(store, str(DATA / "google.ics"), now=NOW)
    assert rec.name == "Ada (work)"
    ev = _all(store)
    standup = [e for e in ev if e.title.startswith("Standup")]
    days = [e.local_start().strftime("%m-%d %H:%M") for e in standup]
    assert "10-29 09:00" not in days and len(standup) == 9
    assert "11-02 10:00" in days and "11-02 09:00" not in days
    # US DST ends 1 Nov: 09:00 EDT = 13:00Z before, 09:00 EST = 14:00Z after
    assert standup[0].start == datetime(2026, 10, 27, 13, 0, tzinfo=UTC)
    assert next(e for e in standup if e.local_start().strftime("%m-%d") == "11-03").start == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    coffee = next(e for e in ev if e.title == "Coffee with Eve")
    assert coffee.start == datetime(2026, 11, 4, 17, 0, tzinfo=UTC) and coffee.local_start().hour == 12
    assert coffee.attendees[0].email == "eve@gmail.com"
    assert [a.name for a in standup[0].attendees] == ["Ada Lovelace", "dan@initech.io"]
    tg = next(e for e in ev if e.title == "Thanksgiving")
    assert tg.all_day


def test_apple_export_dst_night_floating_and_multi_day(store):
    ics.add_feed(store, str(DATA / "apple.ics"), now=NOW)
    ev = _all(store)
    inv = [e for e in ev if e.title == "Investor update with Frank"]
    # daily at 10:30 Berlin across the 25 Oct change: 08:30Z, then 09:30Z
    assert [e.start.strftime("%d %H:%M") for e in inv] == ["24 08:30", "25 09:30", "26 09:30"]
    assert all(e.local_start().strftime("%H:%M") == "10:30" and e.end - e.start == timedelta(hours=1) for e in inv)
    assert inv[0].location == "Café Einstein\nKurfürstenstraße 58, 10785 Berlin"
    assert [(a.email, a.name) for a in inv[0].others()] == [("ada@icloud.com", "Ada Lovelace"), ("frank@vc-partners.co.uk", "Frank Ortiz")]
    conf = next(e for e in ev if e.title == "Conference")
    assert conf.all_day and (conf.end - conf.start).days == 2
    # all-day events show on each of their days, in any zone
    repo = CalendarRepo(store)
    assert "Conference" in {e.title for e in repo.events_on(conf.start.date() + timedelta(days=1))}
    floating = next(e for e in ev if e.title == "Floating breakfast")
    assert floating.end - floating.start == timedelta(minutes=45)
    assert floating.start.astimezone().hour == 8  # floating = the machine's local wall time


def test_refresh_on_sync_updates_and_removes(store, tmp_path):
    feed = tmp_path / "feed.ics"
    text = (DATA / "google.ics").read_text()
    feed.write_text(text)
    rec, _ = ics.add_feed(store, str(feed), now=NOW)
    before = {e.external_id: e for e in _all(store)}
    feed.write_text(text.replace("SUMMARY:Coffee with Eve", "SUMMARY:Lunch with Eve")
                    .replace("UID:thanksgiving@google.com", "UID:thanksgiving-2@google.com"))
    reports = sync_all(store, {"now": NOW})
    assert [(r.added, r.updated, r.removed) for r in reports] == [(1, 1, 1)]
    after = {e.external_id: e for e in _all(store)}
    assert after["2b3c4d5e6f@google.com"].title == "Lunch with Eve"
    assert after["2b3c4d5e6f@google.com"].id == before["2b3c4d5e6f@google.com"].id
    assert "thanksgiving@google.com" not in after and "thanksgiving-2@google.com" in after
    # an unchanged feed changes nothing
    assert [(r.added, r.updated, r.removed) for r in sync_all(store, {"now": NOW})] == [(0, 0, 0)]
    # a feed that breaks later: error reported, old events kept
    feed.write_text(text[: len(text) // 2])
    reports = sync_all(store, {"now": NOW})
    assert reports[0].note.startswith("error:") and str(feed) in reports[0].note
    assert {e.external_id for e in _all(store)} == set(after)


class _FeedHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        if self.path != "/cal/ada.ics":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


def test_url_feed_from_loopback_server(store):
    _FeedHandler.body = (DATA / "apple.ics").read_bytes()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        base = f"http://127.0.0.1:{srv.server_port}"
        rec, rep = ics.add_feed(store, base + "/cal/ada.ics", now=NOW)
        assert rec.name == "Home" and rep.added == 5
        with pytest.raises(KithError, match="HTTP 404"):
            ics.add_feed(store, base + "/nope.ics", now=NOW)
        with pytest.raises(KithError, match="already added"):
            ics.add_feed(store, base + "/cal/ada.ics", now=NOW)
    finally:
        srv.shutdown()
        srv.server_close()
    with pytest.raises(KithError, match="plain http"):
        ics.normalize_location("http://calendar.example.com/a.ics")
    assert ics.normalize_location("webcal://p01-caldav.icloud.com/published/2/x") == "https://p01-caldav.icloud.com/published/2/x"


@pytest.mark.parametrize("body, words", [
    (b"", "not an iCalendar file"),
    (b"hello world", "not an iCalendar file"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "has no DTSTART"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2026130T99\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "x"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:y\r\nDTSTART:20261101T100000Z\r\nDTEND:20261101T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "before DTSTART"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\nDTSTART:20261101T100000Z\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "z"),
])
def test_malformed_feeds_name_the_problem(store, tmp_path, body, words):
    f = tmp_path / "bad.ics"
    f.write_bytes(body)
    with pytest.raises(KithError) as e:
        ics.add_feed(store, str(f), now=NOW)
    assert str(f) in e.value.message and words in e.value.message
    assert e.value.hint
    assert CalendarRepo(store).list_sources() == [] and CalendarRepo(store).count_events() == 0


def _snapshot(store):
    rows = store.conn.execute('SELECT source_id, external_id, title, start, "end", etag FROM calendar_events ORDER BY id').fetchall()
    src = store.conn.execute("SELECT id, name, config, sync_token FROM calendar_sources ORDER BY id").fetchall()
    return rows, src


GOOD = (DATA / "outlook.ics").read_text()


@st.composite
def broken_feeds(draw):
    """Valid feeds damaged the way real ones break: truncated, a line removed or garbled, junk bytes."""
    lines = GOOD.split("\r\n")
    how = draw(st.sampled_from(["truncate", "drop", "garble", "junk"]))
    if how == "truncate":
        return GOOD[: draw(st.integers(0, len(GOOD) - 40))].encode()
    if how == "drop":
        i = draw(st.integers(0, len(lines) - 1))
        return "\r\n".join(lines[:i] + lines[i + 1:]).encode()
    if how == "garble":
        i = draw(st.sampled_from([n for n, ln in enumerate(lines) if ln.startswith(("DTSTART", "DTEND", "RRULE", "EXDATE", "RECURRENCE-ID", "BEGIN", "END"))]))
        junk = draw(st.text(alphabet="0123456789TZ:;=-ABCXYZ", min_size=0, max_size=20))
        key = lines[i].split(":", 1)[0]
        return "\r\n".join(lines[:i] + [f"{key}:{junk}"] + lines[i + 1:]).encode()
    pos = draw(st.integers(0, len(GOOD)))
    return GOOD.encode()[:pos] + draw(st.binary(min_size=1, max_size=30)) + GOOD.encode()[pos:]


def test_fuzzed_feeds_fail_cleanly_or_import_whole(kith, tmp_path):
    """Property: a damaged feed either imports completely or raises a KithError naming the file,
    and a failed refresh leaves the store exactly as it was."""
    store = kith.store()
    feed = tmp_path / "fuzz.ics"
    feed.write_text(GOOD)
    rec, _ = ics.add_feed(store, str(feed), now=NOW)
    src = ics.IcsSource(CalendarRepo(store).get_source(rec.id), now=NOW)
    outcomes = {"ok": 0, "error": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(broken_feeds())
    def run(body):
        feed.write_bytes(body)
        before = _snapshot(store)
        try:
            src.sync(store)
        except KithError as e:
            outcomes["error"] += 1
            assert str(feed) in e.message
            assert _snapshot(store) == before  # nothing half-imported
        else:
            outcomes["ok"] += 1
            rows, _ = _snapshot(store)
            assert all(r[0] == rec.id for r in rows)
        finally:
            feed.write_text(GOOD)
            src.sync(store)  # back to the good state for the next example

    run()
    assert outcomes["error"] > 5
