"""Helpers for the UI tests (imported by name: `from uihelp import db, idle`)."""
from __future__ import annotations

from pathlib import Path

UI_DATA = Path(__file__).resolve().parent / "data"
VTT = UI_DATA / "northwind_call.vtt"


def idle(ctx, qtbot, timeout: int = 60000) -> None:
    """Wait until every submitted task finished and its callback ran on the GUI thread."""
    qtbot.waitUntil(lambda: not ctx.tasks.active(), timeout=timeout)
    qtbot.wait(30)
    qtbot.waitUntil(lambda: not ctx.tasks.active(), timeout=timeout)


def db(ctx, fn, timeout: float = 30):
    """Run ``fn(store)`` on the app's DB lane and return its result (test-side check)."""
    import time

    from app.ui.qt import QApplication

    h = ctx.tasks.db(fn, name="test")
    deadline = time.monotonic() + timeout
    while h.state in ("queued", "running"):
        assert time.monotonic() < deadline, "db task timed out"
        QApplication.processEvents()
        time.sleep(0.002)
    if h.error is not None:
        raise h.error
    return h.result


def banner_text(window) -> str:
    return window.banner.message.text() + " " + window.banner.hint.text() if window.banner.isVisible() else ""
