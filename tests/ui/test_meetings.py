"""Meetings: the meeting page with minutes and action items whose source links highlight
the cited lines; editing the transcript; search; export. The meeting is seeded through the
core's transcript importer and the store (the LLM path is covered by test_live.py)."""
from __future__ import annotations

from uihelp import VTT, banner_text, db, idle

from app.core.domain import ActionItem
from app.ui.qt import QUrl, Qt
from app.ui.views.meeting_page import HIGHLIGHT, linked_minutes


def test_linked_minutes_turn_refs_into_segment_links():
    from app.core.domain import Segment

    segs = {3: Segment(0, 1, "x", id=41, index=3)}
    out = linked_minutes("- Pilot agreed [S3] [S9]", segs)
    assert "[[S3]](seg:41)" in out and "[S9]" in out and "seg:9" not in out


MINUTES = """## Summary

Northwind wants a ten-agent pilot before rolling Kith out to forty support agents [S10].

## Decisions

- Pilot with ten agents, budget $12,000 [S10]
- Review call at the end of the pilot [S17]
"""


def seed_meeting(store) -> int:
    from datetime import datetime, timezone

    from app.core.domain import Meeting, Note
    from app.meetings.importers import import_transcript

    segments, _meta = import_transcript(VTT)
    with store.transaction():
        m = store.meetings.add(Meeting(title="Northwind call", started_at=datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc),
                                       template="sales", status="processed", source_file=str(VTT)))
        store.segments.add_many(m.id, segments)
        store.notes.add(Note(meeting_id=m.id, author="ai", body=MINUTES, kind="minutes"))
    return m.id


def import_vtt(window, ctx, qtbot):
    mid = db(ctx, seed_meeting)
    window.open_meeting(mid)
    idle(ctx, qtbot)
    meetings = window.page("meetings")
    qtbot.waitUntil(lambda: meetings.page.data is not None, timeout=10000)
    return meetings


def test_import_then_source_links_highlight_the_cited_lines(window, ctx, qtbot):
    meetings = import_vtt(window, ctx, qtbot)
    page = meetings.page
    assert banner_text(window) == ""
    assert meetings.list.count() == 1
    assert page.table.rowCount() == 18
    assert "warehouse migration" in page.table.item(1, 2).text()
    assert "ten-agent pilot" in page.minutes.toPlainText()
    assert f"seg:{page.data.segments[9].id}" in page.minutes.toHtml()  # [S10] became a link to that line
    # An action item citing lines 10 and 11 (as extraction stores them): its source link must
    # select and highlight exactly those transcript rows.
    segs = page.data.segments
    mid = page.data.meeting.id
    cited = [segs[9].id, segs[10].id]
    db(ctx, lambda s: s.actions.add(ActionItem(meeting_id=mid, text="Sign the order form", owner_text="Dana Whitfield",
                                                status="open", evidence=cited)))
    page.load(mid)
    idle(ctx, qtbot)
    html = page.actions_view.toHtml()
    assert f"seg:{cited[0]},{cited[1]}" in html and "Sign the order form" in html
    page.on_link(QUrl(f"seg:{cited[0]},{cited[1]}"))
    idle(ctx, qtbot)
    assert page.highlighted == cited
    assert page.table.currentRow() == 9
    assert page.table.item(9, 2).background().color() == HIGHLIGHT
    assert page.table.item(10, 0).background().color() == HIGHLIGHT
    assert page.table.item(8, 2).background().style() == Qt.BrushStyle.NoBrush  # other rows untouched
    assert page.last_played == (segs[9].start, segs[10].end)
    # a transcript has no audio: clicking tells the user so instead of failing
    assert "No recording is kept" in banner_text(window)


def test_edit_speaker_and_text_and_notes(window, ctx, qtbot):
    meetings = import_vtt(window, ctx, qtbot)
    page = meetings.page
    mid = page.data.meeting.id
    page.table.item(0, 1).setText("Sam Carter")  # rename a voice across the meeting
    idle(ctx, qtbot)
    page.table.item(1, 2).setText("Busy but good.")
    idle(ctx, qtbot)
    segs = db(ctx, lambda s: s.segments.for_meeting(mid))
    assert {s.speaker for s in segs} == {"Sam Carter", "Dana Whitfield"}
    assert segs[1].text == "Busy but good."
    page.notes.setPlainText("Pilot: 10 agents, $12k.")
    page.save_notes()
    idle(ctx, qtbot)
    notes = db(ctx, lambda s: [n.body for n in s.notes.for_meeting(mid) if n.author == "user"])
    assert notes == ["Pilot: 10 agents, $12k."]


def test_search_finds_meetings_by_what_was_said(window, ctx, qtbot):
    meetings = import_vtt(window, ctx, qtbot)
    meetings.search.setText("warehouse")
    qtbot.wait(300)
    idle(ctx, qtbot)
    assert meetings.list.count() == 1
    meetings.search.setText("zeppelin")
    qtbot.wait(300)
    idle(ctx, qtbot)
    assert meetings.list.count() == 0 and meetings.right.currentWidget() is meetings.none_found


def test_export_markdown_from_the_meeting_page(window, ctx, qtbot, tmp_path):
    meetings = import_vtt(window, ctx, qtbot)
    meetings.page.export("markdown", str(tmp_path))
    idle(ctx, qtbot)
    files = list(tmp_path.rglob("*.md"))
    assert files and "Northwind" in "".join(f.read_text() for f in files)
    # the same file as `kith export markdown --meeting ID` (one implementation): with the transcript
    from app.cli import main

    mid = meetings.page.meeting_id
    assert main(["export", "markdown", "--meeting", str(mid), "--out", str(tmp_path / "cli")]) == 0
    cli_files = sorted((tmp_path / "cli").rglob("*.md"))
    assert [f.read_text() for f in cli_files] == [f.read_text() for f in sorted(files)]
    assert "## Transcript" in files[0].read_text() or "Transcript" in files[0].read_text()


def test_reprocess_from_the_meeting_page_writes_the_minutes_again_like_the_cli(window, ctx, qtbot):
    meetings = import_vtt(window, ctx, qtbot)
    page = meetings.page
    mid = page.meeting_id
    before = db(ctx, lambda s: [n.body for n in s.notes.for_meeting(mid) if s.notes.is_minutes(n)])
    assert before and "ten-agent pilot" in before[0]
    page.reprocess_action.trigger()
    assert page.progress.isVisible() and "Writing minutes" in page.progress.label.text()
    idle(ctx, qtbot, timeout=300000)
    after = db(ctx, lambda s: [n.body for n in s.notes.for_meeting(mid) if s.notes.is_minutes(n)])
    assert len(after) == 1 and after != before, "one new set of minutes replaces the seeded one"
    audit = db(ctx, lambda s: [e for e in s.audit.list() if e.action == "extract"])
    assert audit and audit[0].model, "the extraction is audited like `kith meetings reprocess`"
    assert "written again" in banner_text(window)
    assert page.minutes.toPlainText().strip() and "ten-agent pilot" not in page.minutes.toPlainText()


def test_delete_from_the_meeting_page_removes_everything_derived(window, ctx, qtbot):
    meetings = import_vtt(window, ctx, qtbot)
    mid = meetings.page.meeting_id
    db(ctx, lambda s: s.actions.add(ActionItem(meeting_id=mid, text="Send the pilot quote", owner_text="Sam")))
    meetings.page.delete_meeting(confirm=False)
    idle(ctx, qtbot)
    assert db(ctx, lambda s: s.meetings.list()) == []
    assert db(ctx, lambda s: s.actions.list(meeting_id=mid)) == []
    assert "Deleted" in banner_text(window)
