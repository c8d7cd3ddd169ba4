"""Meetings → Import shows a sheet first: title, template (suggested), when (with the calendar
event it falls in) and who. Cancel imports nothing; Import runs the real pipeline (SmolLM2) with
the chosen values, through the same operation as `kith import --title --template --at --with`."""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone

from uihelp import VTT, banner_text, db, idle

from app.core.domain import Contact
from app.ui.qt import QDateTime

START = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)


SHORT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Sam>Hi Priya, thanks for joining. Shall we go through the security questions?

00:00:05.500 --> 00:00:09.000
<v Priya Raman>Yes. I will send you our questionnaire by Friday.
"""


def vtt_copy(tmp_path, short=False):
    f = tmp_path / "northwind_call.vtt"
    if short:  # two lines: the model writes its minutes in seconds
        f.write_text(SHORT, encoding="utf-8")
    else:
        shutil.copy(VTT, f)
    os.utime(f, (START.timestamp() + 120, START.timestamp() + 120))
    return f


def open_sheet(window, ctx, qtbot, path):
    meetings = window.go("meetings")
    meetings.import_file(str(path))
    qtbot.waitUntil(lambda: meetings.sheet is not None and meetings.sheet.isVisible(), timeout=10000)
    return meetings, meetings.sheet


def seed_event(store):
    from app.calendar.model import Attendee, CalendarEvent, SourceRecord
    from app.calendar.repo import CalendarRepo

    repo = CalendarRepo(store)
    src = repo.add_source(SourceRecord(kind="ics", name="work", config={"location": "/work.ics"}))
    repo.upsert_events(src.id, [CalendarEvent(
        external_id="ev1", title="Northwind pilot", start=START, end=START + timedelta(minutes=45),
        attendees=[Attendee("dana@northwind.example", "Dana Whitfield", "accepted")])])
    store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"]))
    store.contacts.add(Contact(name="Priya Raman", emails=["priya@northwind.example"]))


def test_cancel_imports_nothing(window, ctx, qtbot, tmp_path):
    meetings, sheet = open_sheet(window, ctx, qtbot, vtt_copy(tmp_path))
    assert sheet.title.text() == "Northwind call"  # from the file name
    assert sheet.template.currentData() == "sales"  # the transcript talks budget and a pilot
    assert "budget" in sheet.template_why.text()
    assert sheet.template.count() == 4
    assert sheet.when.dateTime().toPython() == (START + timedelta(minutes=2)).astimezone().replace(tzinfo=None)
    assert sheet.event_label.text() == "No calendar event at this time."
    sheet.buttons.button(sheet.buttons.StandardButton.Cancel).click()
    idle(ctx, qtbot)
    assert not sheet.isVisible()
    assert db(ctx, lambda s: s.meetings.list()) == []
    assert not any(h.lane == "model" for h in ctx.tasks.active())


def test_import_uses_the_chosen_title_template_time_and_people(window, ctx, qtbot, tmp_path):
    db(ctx, seed_event)
    path = vtt_copy(tmp_path, short=True)
    meetings, sheet = open_sheet(window, ctx, qtbot, path)
    assert not sheet.already.isVisible() and not sheet.options().allow_duplicate
    assert sheet.title.text() == "Northwind pilot"  # the event's title
    assert "Northwind pilot" in sheet.event_label.text()
    assert sheet.who.text() == "Dana Whitfield <dana@northwind.example>"
    # another time: no event then, and the untouched "who" follows the event
    later = (START + timedelta(days=1)).astimezone().replace(tzinfo=None)
    sheet.when.setDateTime(QDateTime(later))
    qtbot.waitUntil(lambda: sheet.event_label.text() == "No calendar event at this time.", timeout=10000)
    assert sheet.who.text() == ""
    sheet.title.setText("Northwind — security follow-up")
    sheet.template.setCurrentIndex(sheet.template.findData("one_on_one"))
    sheet.who.setText("Priya Raman <priya@northwind.example>")
    sheet.import_btn.click()
    qtbot.waitUntil(lambda: any(h.name == "import" for h in ctx.tasks.active()), timeout=10000)
    idle(ctx, qtbot, timeout=240000)
    assert banner_text(window) == ""
    m = db(ctx, lambda s: s.meetings.list())[0]
    assert m.status == "processed"
    assert (m.title, m.template) == ("Northwind — security follow-up", "one_on_one")
    assert m.started_at == later.astimezone() and m.calendar_event_id is None
    assert [c.name for c in db(ctx, lambda s: s.meetings.participants(m.id))] == ["Priya Raman"]
    assert meetings.page.meeting_id == m.id
    # the same file again: the sheet says so and Import makes a second copy (as --again)
    meetings.import_file(str(path))
    qtbot.waitUntil(lambda: meetings.sheet is not sheet and meetings.sheet.isVisible(), timeout=10000)
    again = meetings.sheet
    assert "already imported" in again.already.text() and again.import_btn.text() == "Import a second copy"
    assert again.options().allow_duplicate
    again.reject()
