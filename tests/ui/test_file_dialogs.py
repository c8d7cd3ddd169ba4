"""File dialogs start in the user's home folder, then where they last picked a file — never in
the process's working directory."""
from __future__ import annotations

from pathlib import Path

from uihelp import idle


def test_dialogs_start_at_home_then_in_the_last_folder(window, ctx, qtbot, monkeypatch, tmp_path):
    from app.ui import qt

    seen: list[str] = []
    ics = tmp_path / "cal" / "team.ics"
    ics.parent.mkdir()
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n")
    monkeypatch.setattr(qt.QFileDialog, "getOpenFileName", staticmethod(lambda _p, _t, d, _f="": (seen.append(d), (str(ics), ""))[1]))
    monkeypatch.setattr(qt.QFileDialog, "getSaveFileName", staticmethod(lambda _p, _t, d, _f="": (seen.append(d), ("", ""))[1]))
    settings = window.go("settings")
    settings.show_tab("Calendars")
    settings.calendars.add_ics_file()
    idle(ctx, qtbot)
    settings.show_tab("Privacy")
    settings.privacy.backup()
    assert seen == [str(Path.home()), str(ics.parent / "kith-backup.db")]
