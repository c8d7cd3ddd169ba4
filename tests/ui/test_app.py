"""The app on a fresh profile and its plumbing: every page opens on the real store with an
intentional empty state; tasks run off the GUI thread; the core never imports Qt."""
from __future__ import annotations

import subprocess
import sys
import threading

from uihelp import banner_text, db, idle

from app.ui.main_window import PAGES


def test_every_page_opens_with_empty_states(window, ctx, qtbot):
    for key, *_ in PAGES:
        page = window.go(key)
        idle(ctx, qtbot)
        assert page.isVisible()
    assert banner_text(window) == "", banner_text(window)
    meetings = window.page("meetings")
    window.go("meetings")
    idle(ctx, qtbot)
    assert meetings.right.currentWidget() is meetings.empty
    window.go("review")
    idle(ctx, qtbot)
    assert window.page("review").stack.currentWidget() is window.page("review").empty
    window.go("actions")
    idle(ctx, qtbot)
    assert window.page("actions").stack.currentWidget() is window.page("actions").empty
    window.go("people")
    idle(ctx, qtbot)
    assert window.page("people").contacts.right.currentWidget() is window.page("people").contacts.empty
    # the database was created by the DB lane, never by the GUI thread
    assert ctx.kith.paths.database.exists()


def test_db_work_runs_on_one_thread_and_never_the_gui(ctx, qtbot):
    seen = set()
    for _ in range(5):
        db(ctx, lambda s: seen.add(threading.get_ident()))
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_worker_errors_become_readable_messages(window, ctx, qtbot):
    from app.core.errors import KithError

    def boom(store):
        raise KithError("the thing is broken", hint="fix the thing")

    ctx.tasks.db(boom, name="boom")
    idle(ctx, qtbot)
    assert "the thing is broken" in banner_text(window) and "fix the thing" in banner_text(window)

    ctx.tasks.db(lambda s: 1 / 0, name="zero")
    idle(ctx, qtbot)
    text = banner_text(window)
    assert "Something went wrong" in text and "Traceback" not in text


def test_cancel_reaches_a_running_model_task(ctx, qtbot):
    import time

    from app.core.errors import Cancelled

    def slow(kith, h):
        for _ in range(500):
            h.cancel_token.raise_if_cancelled()
            time.sleep(0.01)
        return "finished"

    results = []
    h = ctx.tasks.model(slow, results.append, results.append, name="slow")
    qtbot.waitUntil(lambda: h.state == "running", timeout=5000)
    h.cancel()
    idle(ctx, qtbot)
    assert h.state == "cancelled" and isinstance(h.error, Cancelled) and results == []


def test_core_does_not_import_qt_and_kith_app_is_registered():
    code = ("import sys, app.ui.cli, argparse; p = argparse.ArgumentParser(); s = p.add_subparsers(); app.ui.cli.register(s);"
            "a = p.parse_args(['app', '--wizard']); assert a.wizard; assert 'PySide6' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_geometry_is_remembered(ctx, qtbot):
    from app.ui.main_window import MainWindow

    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    w.resize(760, 540)
    idle(ctx, qtbot)
    w.close()
    w2 = MainWindow(ctx)
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (760, 540)
    w2.close()


def test_first_run_wizard_opens_the_encrypted_store(window, ctx, qtbot):
    from app.ui.views.wizard import FirstRunWizard

    wiz = FirstRunWizard(ctx, window)
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.currentPage()
    qtbot.waitUntil(page.isComplete, timeout=20000)
    assert "ready" in page.status.text()
    wiz.reject()
    from app.ui.application import first_run_needed

    assert not first_run_needed(ctx.kith)  # remembered: the wizard does not come back


def test_upcoming_meeting_reminder_uses_the_calendar(window, ctx, qtbot, tmp_path):
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc) + timedelta(minutes=3)
    stamp = lambda d: d.strftime("%Y%m%dT%H%M%SZ")  # noqa: E731
    ics = tmp_path / "cal.ics"
    ics.write_text("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:r1@t",
                                f"DTSTAMP:{stamp(start)}", f"DTSTART:{stamp(start)}", f"DTEND:{stamp(start + timedelta(minutes=30))}",
                                "SUMMARY:Standup", "END:VEVENT", "END:VCALENDAR", ""]))
    settings = window.go("settings")
    settings.show_tab("Calendars")
    settings.calendars.add_ics_file(str(ics))
    idle(ctx, qtbot)
    shown = []
    window.notify = lambda title, text: shown.append(title)
    window.tray = window.tray or object()  # offscreen has no tray: the check still runs
    window.check_upcoming()
    idle(ctx, qtbot)
    assert shown and shown[0].startswith("Standup at")
    window.check_upcoming()
    idle(ctx, qtbot)
    assert len(shown) == 1  # once per meeting
    window.tray = None


def test_wizard_offers_a_passphrase_and_the_database_reopens_only_with_it(window, ctx, qtbot, memory_keyring):
    import pytest

    from app.core.errors import KithError
    from app.store.db import open_store
    from app.ui.qt import QDialog
    from app.ui.views.settings_privacy import PassphraseDialog, switch_to_passphrase
    from app.ui.views.wizard import FirstRunWizard

    wiz = FirstRunWizard(ctx, window)
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.currentPage()
    qtbot.waitUntil(page.isComplete, timeout=20000)
    assert page.choose.isEnabled(), "a keyring-backed database can switch to a passphrase"
    dlg = PassphraseDialog()
    qtbot.addWidget(dlg)
    dlg.first.setText("short")
    dlg.second.setText("short")
    dlg.accept()
    assert "at least" in dlg.problem.text() and dlg.result() != QDialog.DialogCode.Accepted
    dlg.first.setText("correct horse battery")
    dlg.second.setText("correct horse")
    dlg.accept()
    assert "differ" in dlg.problem.text() and dlg.result() != QDialog.DialogCode.Accepted

    switch_to_passphrase(ctx, wiz, passphrase="correct horse battery", done=page._protected)
    idle(ctx, qtbot)
    assert "passphrase" in page.status.text() and not page.choose.isEnabled()
    assert db(ctx, lambda s: s.key_mode) == "passphrase"
    assert not [k for k in memory_keyring.store if k[0] == "kith"], "the keyring no longer holds the key"
    open_store(ctx.kith.paths, passphrase="correct horse battery").close()
    with pytest.raises(KithError):
        open_store(ctx.kith.paths, passphrase="not the passphrase")
    wiz.reject()


def test_templates_are_editable_from_settings(window, ctx, qtbot):
    from app.extract.templates import load_template
    from app.ui.views.settings_privacy import YouTab

    tab = YouTab(ctx)
    qtbot.addWidget(tab)
    tab.template.setCurrentText("investor")
    path = tab.edit_template(open_file=False)
    assert path is not None and path.is_file() and path.parent == ctx.kith.paths.config / "templates"
    assert load_template("investor", ctx.kith.paths).source == str(path)


def test_calendars_sync_on_the_users_schedule(window, ctx, qtbot, tmp_path):
    from datetime import datetime, timedelta, timezone

    from app.calendar.repo import CalendarRepo

    start = datetime.now(timezone.utc) + timedelta(days=1)
    stamp = lambda d: d.strftime("%Y%m%dT%H%M%SZ")  # noqa: E731
    ics = tmp_path / "cal.ics"

    def write(*titles):
        ev = []
        for i, t in enumerate(titles):
            ev += ["BEGIN:VEVENT", f"UID:s{i}@t", f"DTSTAMP:{stamp(start)}", f"DTSTART:{stamp(start + timedelta(hours=i))}",
                   f"DTEND:{stamp(start + timedelta(hours=i, minutes=30))}", f"SUMMARY:{t}", "END:VEVENT"]
        ics.write_text("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *ev, "END:VCALENDAR", ""]))

    write("Kickoff")
    settings = window.go("settings")
    settings.show_tab("Calendars")
    settings.calendars.add_ics_file(str(ics))
    idle(ctx, qtbot)
    write("Kickoff", "Follow-up")  # the feed changes
    count = lambda: db(ctx, lambda s: CalendarRepo(s).count_events())  # noqa: E731
    assert count() == 1
    ctx.settings.calendar.sync_minutes = 0
    window.sync_if_due()
    idle(ctx, qtbot)
    assert count() == 1, "0 = only when asked"
    ctx.settings.calendar.sync_minutes = 1
    window.sync_if_due()
    idle(ctx, qtbot)
    assert count() == 1, "just synced: not due yet"
    db(ctx, lambda s: s.execute("UPDATE calendar_sources SET synced_at = '2000-01-01T00:00:00+00:00'"))
    window.sync_if_due()
    idle(ctx, qtbot)
    assert count() == 2
