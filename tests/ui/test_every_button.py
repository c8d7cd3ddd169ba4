"""Every button does what it says: on a seeded profile, every visible, enabled button and menu
action of every page (and every Settings tab) is clicked. No exception may escape (sys.excepthook,
pytest-qt's slot capture, stderr), no task may fail with anything but a readable KithError, and
no button may pass Qt's ``checked=False`` into a parameter (an id of False, a Stop that skips the
minutes). Modal dialogs answer "Cancel" (recorded); the key effects are checked."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import pytest
from uihelp import VTT, db, idle

from app.core.domain import ActionItem, Company, Contact, Deal, Meeting, Note, Suggestion
from app.core.errors import KithError
from app.ui.main_window import PAGES


def seed(store) -> dict:
    from app.meetings.importers import import_transcript

    segments, _meta = import_transcript(VTT)
    with store.transaction():
        co = store.companies.add(Company(name="Northwind", domain="northwind.example"))
        c = store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"], company_id=co.id))
        store.deals.add(Deal(company_id=co.id, title="Northwind pilot"))
        m = store.meetings.add(Meeting(title="Northwind call", started_at=datetime(2026, 11, 20, 15, tzinfo=timezone.utc),
                                       template="sales", status="processed", source_file=str(VTT)))
        store.segments.add_many(m.id, segments)
        store.notes.add(Note(meeting_id=m.id, author="ai", body="## Decisions\n\n- Pilot [S1]", kind="minutes"))
        store.notes.add(Note(meeting_id=m.id, author="user", body="my notes", kind="notes"))
        a = store.actions.add(ActionItem(meeting_id=m.id, text="Send the pilot quote", owner_text="Sam", status="open"))
        store.suggestions.add(Suggestion(kind="create_company", meeting_id=m.id, payload={"name": "Contoso", "domain": "contoso.example"}))
        store.suggestions.add(Suggestion(kind="create_contact", meeting_id=m.id,
                                         payload={"name": "Priya Raman", "email": "priya@northwind.example",
                                                  "company": "Northwind", "title": ""}))
    return {"meeting": m.id, "contact": c.id, "action": a.id}


class Dialogs:
    """Modal dialogs answer Cancel; what was asked is recorded."""

    def __init__(self, monkeypatch):
        from app.ui import qt

        self.asked: list[tuple] = []
        self.opened: list[str] = []
        rec = self.asked.append
        mp = monkeypatch
        mp.setattr(qt.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (rec(("open", a[1:2])), ("", ""))[1]))
        mp.setattr(qt.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (rec(("save", a[1:2])), ("", ""))[1]))
        mp.setattr(qt.QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: (rec(("folder", a[1:2])), "")[1]))
        mp.setattr(qt.QInputDialog, "getText", staticmethod(lambda *a, **k: (rec(("text", a[1:2])), ("", False))[1]))
        mp.setattr(qt.QInputDialog, "getItem", staticmethod(lambda *a, **k: (rec(("item", a[1], list(a[3]))), ("", False))[1]))
        for name in ("warning", "question", "information", "critical"):
            mp.setattr(qt.QMessageBox, name, staticmethod(
                lambda *a, _n=name, **k: (rec((_n, a[1:2])), qt.QMessageBox.StandardButton.Cancel)[1]))
        mp.setattr(qt.QDialog, "exec", lambda self: (rec(("dialog", type(self).__name__)), 0)[1])
        mp.setattr(qt.QDesktopServices, "openUrl", staticmethod(lambda url: self.opened.append(url.toString()) or True))


def buttons_of(widget):
    from app.ui.qt import QPushButton, QToolButton

    return [b for t in (QPushButton, QToolButton) for b in widget.findChildren(t) if b.isVisible() and b.isEnabled()]


LIVE_CONTROLS = {"Start recording", "Pause recording", "Stop recording", "Cancel writing the minutes"}
SKIP = {"Install the selected model"}  # downloads weights from the network
# replaces the meeting's pending suggestions, which the Review page is then tested on;
# test_meetings.py clicks it and checks its effect
SKIP_ACTIONS = {"Write the minutes again"}


@pytest.fixture
def watched(window, ctx, qtbot, monkeypatch):
    """Everything that could go wrong, collected: escaped exceptions and failed tasks."""
    escaped: list = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: escaped.append(v))
    failed: list = []
    original = window.show_error

    def show_error(exc):
        failed.append(exc)
        original(exc)

    monkeypatch.setattr(window, "show_error", show_error)
    window.offer_recovery = lambda: None
    return escaped, failed


def test_every_button_and_menu_action_on_every_page(window, ctx, qtbot, watched, monkeypatch, capfd):
    escaped, failed = watched
    dialogs = Dialogs(monkeypatch)
    ids = db(ctx, seed)
    clicked: list[str] = []

    def click_all(page_key, container):
        seen = set()
        while True:  # buttons are looked up again after each click (pages rebuild their rows)
            todo = [b for b in buttons_of(container) if (b.accessibleName() or b.text()) not in LIVE_CONTROLS | SKIP
                    and (page_key, b.accessibleName() or b.text()) not in seen]
            if not todo or len(seen) > 200:
                return
            b = todo[0]
            name = b.accessibleName() or b.text()
            seen.add((page_key, name))
            if b.menu() is not None:  # a menu button: trigger each action (a popup would block)
                for act in b.menu().actions():
                    if act.isEnabled() and not act.isSeparator() and act.text() not in SKIP_ACTIONS:
                        act.trigger()
                        clicked.append(f"{page_key}: {name} → {act.text()}")
                        settle()
                continue
            b.click()
            clicked.append(f"{page_key}: {name}")
            settle()
            if window.current_key() != page_key.split("/")[0]:  # the button navigated: come back
                window.go(page_key.split("/")[0])
                if page_key == "meetings":
                    window.open_meeting(ids["meeting"])
                idle(ctx, qtbot)

    def settle():
        idle(ctx, qtbot)
        live = window.page("live")
        if live.session.running:  # "Start recording" on Today, "Record this": stop at once, keep the transcript
            qtbot.waitUntil(lambda: live.session.state == "recording", timeout=120000)
            live.stop(process=False)
            qtbot.waitUntil(lambda: live.session.state == "idle", timeout=120000)
            idle(ctx, qtbot)

    window.open_meeting(ids["meeting"])
    idle(ctx, qtbot)
    for key, *_ in PAGES:
        page = window.go(key)
        idle(ctx, qtbot)
        if key == "meetings":
            window.open_meeting(ids["meeting"])
            idle(ctx, qtbot)
        if key == "actions":
            page.table.selectRow(0)
        if key == "review":
            page.list.setCurrentRow(0)
        tabs = getattr(page, "tabs", None)
        if tabs is not None:
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                idle(ctx, qtbot)
                click_all(f"{key}/{tabs.tabText(i)}", tabs.widget(i))
        else:
            click_all(key, page)

    out, err = capfd.readouterr()
    print("\n".join(clicked))
    print("ASKED", dialogs.asked, "OPENED", dialogs.opened, "FAILED", failed)
    assert escaped == [], escaped
    assert "Traceback" not in err and "Error" not in err.replace("QtWarningMsg", ""), err[-3000:]
    unreadable = [e for e in failed if not isinstance(e, KithError)]
    assert unreadable == [], unreadable
    # no button passed Qt's checked=False into a parameter
    assert not [e for e in failed if "False" in str(e)], failed
    assert len(clicked) >= 35, clicked

    # key effects
    people = ["Dana Whitfield <dana@northwind.example>", "Priya Raman <priya@northwind.example>"]
    assert ("item", "Erase a person", people) in dialogs.asked  # was "no person with id False"
    assert ("item", "Export a person's data", people) in dialogs.asked
    assert db(ctx, lambda s: s.contacts.find_by_email("priya@northwind.example")) is not None  # Review → Accept
    assert any(u.endswith(".toml") or "templates" in u for u in dialogs.opened), dialogs.opened  # template Edit…
    assert db(ctx, lambda s: s.actions.get(ids["action"])).status in ("done", "dismissed", "open")
    assert any(c == "actions: Mark selected done" for c in clicked)
    assert db(ctx, lambda s: s.suggestions.list(status="pending")) == []  # Review: Accept / Reject acted


def test_live_buttons_start_pause_and_stop_goes_on_to_the_minutes(window, ctx, qtbot, watched):
    escaped, failed = watched
    # the minutes are the slow tests' job: a model that does not exist makes "write the minutes" fail
    # at once, which shows that ■ Stop asked for them (it used to store without minutes)
    ctx.settings.llm.model = "no-such-model"
    live = window.go("live")
    live.compact_btn.click()
    compact = live.compact
    assert compact.isVisible()
    compact.controls.start_btn.click()  # the compact panel's ● Start (was an AttributeError)
    qtbot.waitUntil(lambda: live.session.state == "recording", timeout=120000)
    qtbot.waitUntil(lambda: live.session.seconds >= 3, timeout=60000)
    live.controls.pause_btn.click()
    qtbot.waitUntil(lambda: live.session.state == "paused", timeout=10000)
    live.controls.pause_btn.click()
    qtbot.waitUntil(lambda: live.session.state == "recording", timeout=10000)
    qtbot.waitUntil(lambda: live.session.seconds >= 11.5, timeout=60000)
    states = []
    live.session.state_changed.connect(states.append)
    live.controls.stop_btn.click()  # ■ Stop must go on to write the minutes
    qtbot.waitUntil(lambda: "processing" in states or live.session.state == "idle", timeout=120000)
    assert "processing" in states and "storing" not in states, states
    assert live.cancel_btn.isVisible() or live.session.state == "idle"
    qtbot.waitUntil(lambda: live.session.state == "idle", timeout=600000)
    idle(ctx, qtbot)
    mid = live.session.meeting_id
    m = db(ctx, lambda s: s.meetings.get(mid))
    assert m.recording_id is not None and m.status == "transcribed"
    assert any(isinstance(e, KithError) and "no-such-model" in str(e) for e in failed), failed  # it tried to write them
    assert escaped == [] and [e for e in failed if not isinstance(e, KithError)] == []
