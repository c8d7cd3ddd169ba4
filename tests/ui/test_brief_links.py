"""A brief's [M12] citations on the Today page are links that open meeting 12."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from uihelp import db, idle

from app.core.domain import Meeting
from app.ui.qt import QUrl


def _anchors(browser) -> dict[str, str]:
    """href → the text it covers, read from the rendered document (not from the Markdown)."""
    out: dict[str, str] = {}
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            href = frag.charFormat().anchorHref()
            if href:
                out[href] = out.get(href, "") + frag.text()
            it += 1
        block = block.next()
    return out


def test_meeting_refs_in_a_brief_open_the_meeting(window, ctx, qtbot):
    from app.calendar.model import Attendee, CalendarEvent
    from app.ui.views.today import EventCard

    mid = db(ctx, lambda s: s.meetings.add(Meeting(title="Northwind kickoff", status="processed",
                                                   started_at=datetime(2026, 11, 3, 15, tzinfo=timezone.utc))).id)
    today = window.go("today")
    idle(ctx, qtbot)
    start = datetime.now(timezone.utc) + timedelta(hours=2)
    ev = CalendarEvent(external_id="e1", title="Northwind pilot", start=start, end=start + timedelta(minutes=30),
                       attendees=[Attendee("dana@northwind.example", "Dana Whitfield", "accepted")])
    md = f"# Prep: Northwind pilot\n\n## Who is coming\n\n- **Dana Whitfield**. Last met 3 Nov [M{mid}]; met in a meeting.\n"
    card = EventCard(today, ev, md)
    qtbot.addWidget(card)
    levels = set()
    block = card.brief.document().begin()
    while block.isValid():
        levels.add(block.blockFormat().headingLevel())
        block = block.next()
    assert 1 not in levels and 2 not in levels  # the card shows the title; no heading as big as the page's
    assert "Prep: Northwind pilot" not in card.brief.toPlainText()
    links = _anchors(card.brief)
    assert links == {f"meeting:{mid}": f"[M{mid}]"}, links  # the citation keeps its brackets and is a link
    card.brief.anchorClicked.emit(QUrl(f"meeting:{mid}"))
    idle(ctx, qtbot)
    meetings = window.go("meetings")
    assert meetings.page.meeting_id == mid and meetings.right.currentWidget() is meetings.page
    card.brief.anchorClicked.emit(QUrl("https://example.com/"))  # anything else is ignored, no exception
    idle(ctx, qtbot)
