"""`kith calendar …` through the real CLI entry point and the real store."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.calendar.sync import due
from app.core.config import Settings, save_settings
from app.core.paths import Paths

DATA = Path(__file__).parent / "data"


def _cli(argv):
    from app.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _feed(tmp_path, title="Board prep"):
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).strftime("%Y%m%dT%H%M%SZ")
    end = (datetime.now(timezone.utc) + timedelta(hours=4)).strftime("%Y%m%dT%H%M%SZ")
    f = tmp_path / "mine.ics"
    f.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nX-WR-CALNAME:Mine\r\n"
                 f"BEGIN:VEVENT\r\nUID:u1\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{title}\r\n"
                 "ATTENDEE;CN=Bob Stone:mailto:bob@acme.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return f


def test_add_list_sync_and_schedule(kith_home, tmp_path):
    f = _feed(tmp_path)
    rc, out, err = _cli(["calendar", "add-ics", str(f)])
    assert rc == 0 and "Added calendar 'Mine'" in out and "1 event" in out, err
    rc, out, _ = _cli(["calendar", "list", "--json"])
    (src,) = json.loads(out)
    assert src["kind"] == "ics" and src["events"] == 1 and src["location"] == str(f)
    rc, out, _ = _cli(["calendar", "list", "--events", "--json"])
    (ev,) = json.loads(out)
    assert ev["title"] == "Board prep" and ev["attendees"][0]["email"] == "bob@acme.com"

    _feed(tmp_path, "Board prep (moved)")
    rc, out, _ = _cli(["calendar", "sync"])
    assert rc == 0 and "Mine" in out
    rc, out, _ = _cli(["calendar", "list", "--events", "--json"])
    assert json.loads(out)[0]["title"] == "Board prep (moved)"
    # sync also prepared the brief for the coming meeting
    rc, out, _ = _cli(["brief", "--next", "--json", "--no-llm"])
    assert json.loads(out)["title"] == "Board prep (moved)"

    # schedule: 0 = only when asked; with a period, due once it has passed
    _feed(tmp_path, "Changed again")
    rc, out, _ = _cli(["calendar", "sync", "--if-due"])
    assert rc == 0 and out == ""
    rc, out, _ = _cli(["calendar", "list", "--events", "--json"])
    assert json.loads(out)[0]["title"] == "Board prep (moved)"
    s = Settings()
    s.calendar.sync_minutes = 15
    save_settings(s, Paths.under(kith_home).settings_file)
    rc, out, _ = _cli(["calendar", "sync", "--if-due"])
    assert rc == 0 and out == ""  # synced a moment ago
    rc, out, _ = _cli(["calendar", "list", "--events", "--json"])
    assert json.loads(out)[0]["title"] == "Board prep (moved)"

    rc, _, err = _cli(["calendar", "add-ics", str(f)])
    assert rc == 1 and "already added" in err
    rc, _, err = _cli(["calendar", "add-ics", str(tmp_path / "missing.ics")])
    assert rc == 1 and "no such calendar file" in err
    rc, out, _ = _cli(["calendar", "remove", str(src["id"])])
    assert rc == 0
    rc, out, _ = _cli(["calendar", "list", "--json"])
    assert json.loads(out) == []


def test_due(store):
    from app.calendar.model import SourceRecord
    from app.calendar.repo import CalendarRepo

    repo = CalendarRepo(store)
    now = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
    rec = repo.add_source(SourceRecord(kind="ics", name="x", config={"location": "/x.ics"}))
    assert not due(store, 0, now) and due(store, 30, now)  # never synced
    rec.last_synced_at = now - timedelta(minutes=10)
    repo.update_source(rec)
    assert not due(store, 30, now) and due(store, 5, now)
