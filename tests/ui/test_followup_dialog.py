"""Meeting page → Follow-up email…: the draft of `kith meetings followup` in editable fields;
Copy puts the edited text on the clipboard; Open in mail app opens a mailto: URL with the edited
recipients, subject and body (QDesktopServices is the only part replaced: no mail app here)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from uihelp import db, idle

from app.core.domain import ActionItem, Contact, Meeting, Note


def seed(store) -> int:
    dana = store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"]))
    m = store.meetings.add(Meeting(title="Northwind call", started_at=datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc),
                                   template="sales", status="processed"))
    store.meetings.add_participant(m.id, dana.id)
    store.notes.add(Note(meeting_id=m.id, author="ai", kind="minutes",
                         body="## Summary\n\nA ten-agent pilot first [S3].\n\n## Decisions\n\n- Pilot with ten agents [S3]\n"))
    store.actions.add(ActionItem(meeting_id=m.id, text="Send the pilot quote", owner_text="Sam",
                                 due_date=date(2026, 11, 27), status="open"))
    return m.id


def test_followup_dialog_copy_and_open_in_mail(window, ctx, qtbot, monkeypatch):
    from app.ui import qt
    from app.ui.views import followup_dialog

    opened: list[str] = []
    monkeypatch.setattr(followup_dialog.QDesktopServices, "openUrl", staticmethod(lambda url: (opened.append(url.toString(qt.QUrl.ComponentFormattingOption.FullyEncoded)), True)[1]))
    mid = db(ctx, seed)
    window.open_meeting(mid)
    page = window.page("meetings").page
    qtbot.waitUntil(lambda: page.data is not None, timeout=10000)
    page.followup_btn.click()
    qtbot.waitUntil(lambda: page.followup_dialog is not None and page.followup_dialog.isVisible(), timeout=10000)
    dlg = page.followup_dialog
    assert dlg.to.text() == "dana@northwind.example" and dlg.subject.text() == "Follow-up: Northwind call"
    body = dlg.body.toPlainText()
    assert body.startswith("Hi Dana,") and "- Me — Send the pilot quote (Fri 27 Nov 2026)" in body
    assert "- Pilot with ten agents" in body and body.rstrip().endswith("Best,\nSam")
    dlg.body.setPlainText(body.replace("Hi Dana,", "Dear Dana,"))
    dlg.copy_btn.click()
    assert qt.QApplication.clipboard().text().startswith("Dear Dana,")
    dlg.to.setText("dana@northwind.example; priya@northwind.example")
    dlg.open_btn.click()
    assert len(opened) == 1
    parts = urlsplit(opened[0])
    assert parts.scheme == "mailto" and unquote(parts.path) == "dana@northwind.example,priya@northwind.example"
    q = parse_qs(parts.query)
    assert q["subject"] == ["Follow-up: Northwind call"] and q["body"][0].startswith("Dear Dana,\r\n")
    dlg.close_btn.click()
    idle(ctx, qtbot)
    assert not dlg.isVisible()
