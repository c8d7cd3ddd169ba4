"""Renaming a speaker in the transcript view is the CLI's rename (app.speakers.rename_speaker):
the lines, the AI minutes, the action items they own (text and contact), and the contact
becomes a participant of the meeting."""
from __future__ import annotations

from datetime import datetime, timezone

from uihelp import VTT, db, idle

from app.core.domain import ActionItem, Contact, Meeting, Note


def seed(store):
    from app.meetings.importers import import_transcript

    segments, _meta = import_transcript(VTT)
    with store.transaction():
        sam = store.contacts.add(Contact(name="Sam Carter", emails=["sam@acme.example"]))
        m = store.meetings.add(Meeting(title="Northwind call", started_at=datetime(2026, 11, 20, 15, tzinfo=timezone.utc),
                                       status="processed", source_file=str(VTT)))
        store.segments.add_many(m.id, segments)
        store.notes.add(Note(meeting_id=m.id, author="ai", body="## Action items\n\n- Sam sends the quote [S1]", kind="minutes"))
        a = store.actions.add(ActionItem(meeting_id=m.id, text="Send the quote", owner_text="Sam", status="open"))
    return m.id, sam.id, a.id


def test_rename_in_the_transcript_reaches_minutes_owners_and_participants(window, ctx, qtbot):
    mid, sam, aid = db(ctx, seed)
    window.open_meeting(mid)
    idle(ctx, qtbot)
    page = window.page("meetings").page
    qtbot.waitUntil(lambda: page.data is not None, timeout=10000)
    assert page.table.item(0, 1).text() == "Sam"
    page.table.item(0, 1).setText("Sam Carter")
    idle(ctx, qtbot)
    segs = db(ctx, lambda s: s.segments.for_meeting(mid))
    assert "Sam" not in {s.speaker for s in segs} and "Sam Carter" in {s.speaker for s in segs}
    a = db(ctx, lambda s: s.actions.get(aid))
    assert a.owner_text == "Sam Carter" and a.owner_contact_id == sam
    minutes = [n.body for n in db(ctx, lambda s: s.notes.for_meeting(mid)) if n.author == "ai"]
    assert "Sam Carter sends the quote" in minutes[0]
    assert sam in [c.id for c in db(ctx, lambda s: s.meetings.participants(mid))]
    assert page.table.item(0, 1).text() == "Sam Carter"  # the view reloaded
