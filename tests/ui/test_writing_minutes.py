"""A meeting whose minutes are being written says so on its own page ("Writing minutes… (1/4)"),
not "has not been processed", and shows the minutes when the task ends."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from uihelp import db, idle

from app.core.domain import Meeting, Note, Segment
from app.core.events import Progress
from app.meetings.pipeline import MeetingStored


def _seed(store) -> tuple[int, int]:
    ids = []
    for title in ("Northwind pilot", "Other call"):
        m = store.meetings.add(Meeting(title=title, status="transcribed",
                                       started_at=datetime(2026, 11, 3, 15, tzinfo=timezone.utc)))
        store.segments.add_many(m.id, [Segment(0, 3, "We start the pilot on Monday.", "Dana", 1)])
        ids.append(m.id)
    return ids[0], ids[1]


def test_the_meeting_page_shows_its_minutes_being_written(window, ctx, qtbot):
    mid, other = db(ctx, _seed)
    meetings = window.go("meetings")
    window.open_meeting(mid)
    idle(ctx, qtbot)
    page = meetings.page
    assert "has not been processed" in page.minutes.toPlainText()
    gate, started = threading.Event(), threading.Event()

    def work(kith, handle):
        # what the pipeline emits on the model thread: the meeting stored, then a part written
        kith.bus.emit(MeetingStored(mid))
        kith.bus.emit(Progress("extract", 1, 4, "part 1 of 3"))
        started.set()
        assert gate.wait(30)
        return mid

    h = ctx.tasks.model(work, name="import")
    assert started.wait(30)
    ctx.kith.bus.emit(MeetingStored(other))  # another thread's event does not re-target the task
    qtbot.waitUntil(lambda: page.progress.isVisible() and "(1/4)" in page.progress.label.text(), timeout=10000)
    assert h.meeting_id == mid
    assert page.minutes.toPlainText().startswith("Writing minutes… (1/4)")
    window.go("today")
    window.open_meeting(mid)  # opened again while it runs: still says so
    qtbot.waitUntil(lambda: "Writing minutes" in page.minutes.toPlainText(), timeout=10000)
    window.open_meeting(other)  # another meeting's page is not affected
    qtbot.waitUntil(lambda: "has not been processed" in page.minutes.toPlainText(), timeout=10000)
    assert not page.progress.isVisible()
    window.open_meeting(mid)
    qtbot.waitUntil(lambda: "Writing minutes" in page.minutes.toPlainText(), timeout=10000)
    db(ctx, lambda s: s.notes.add(Note(meeting_id=mid, author="ai", body="## Summary\n\nThe pilot starts on Monday. [S1]",
                                       kind="minutes")))
    gate.set()
    idle(ctx, qtbot)
    qtbot.waitUntil(lambda: "pilot starts on Monday" in page.minutes.toPlainText(), timeout=10000)
    assert not page.progress.isVisible()
