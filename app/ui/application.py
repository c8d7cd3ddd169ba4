"""Composition root of the desktop app: one Kith, one task manager, one event bridge, one
main window. ``main()`` is what ``kith app`` and the packaged binary run."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from app.context import Kith
from app.core.paths import resource_path
from app.ui.bridge import EventBridge
from app.ui.context import UiContext
from app.ui.qt import QApplication, QInputDialog, QLineEdit, QSettings
from app.ui.tasks import PassphraseBroker, TaskManager

log = logging.getLogger("kith.ui")


def ensure_qapp(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Kith")
    app.setOrganizationName("Kith")
    app.setDesktopFileName("kith")
    style = resource_path("resources", "styles", "kith.qss")
    if style.exists() and not app.property("kith_styled"):
        app.setStyleSheet(style.read_text(encoding="utf-8"))
        app.setProperty("kith_styled", True)
    return app


def _ask_passphrase_gui(prompt: str) -> str | None:
    text, ok = QInputDialog.getText(None, "Kith — passphrase", prompt.strip() or "Passphrase:", QLineEdit.EchoMode.Password)
    return text if ok and text else None


def _ask_new_passphrase_gui(reason: str) -> str | None:
    """A new passphrase: typed twice, with the warning that it cannot be recovered."""
    from app.ui.qt import QDialog
    from app.ui.views.settings_privacy import PassphraseDialog

    dlg = PassphraseDialog(None, reason=f"Kith encrypts your data with a passphrase ({reason}).")
    return dlg.passphrase() if dlg.exec() == QDialog.DialogCode.Accepted else None


def build_context(kith: Kith, audio_source_factory=None) -> UiContext:
    """The app's pieces, without a window (tests build views on this)."""
    ensure_qapp()
    if kith.ask_passphrase is None:
        kith.ask_passphrase = PassphraseBroker(_ask_passphrase_gui, ask_new_gui=_ask_new_passphrase_gui)
    tasks = TaskManager(kith)
    bridge = EventBridge(kith.bus)
    if audio_source_factory is None:
        from app.ui.audio import default_source_factory

        audio_source_factory = default_source_factory
    return UiContext(kith=kith, tasks=tasks, bridge=bridge, audio_source_factory=audio_source_factory)


def first_run_needed(kith: Kith) -> bool:
    qs = QSettings(str(kith.paths.config / "ui.ini"), QSettings.Format.IniFormat)
    return not kith.paths.database.exists() and not qs.value("wizard/done", False, type=bool)


def _setup_logging(kith: Kith) -> None:
    # ids, timings and error types only — never transcript text, names or note bodies
    try:
        kith.paths.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(kith.paths.logs / "ui.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root = logging.getLogger("kith")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    except OSError:
        pass


def main(argv: list[str] | None = None, kith: Kith | None = None, wizard: bool | None = None,
         audio_wav: Path | None = None) -> int:
    t0 = time.perf_counter()
    app = ensure_qapp(argv)
    kith = kith or Kith.from_env()
    _setup_logging(kith)
    factory = None
    if audio_wav is not None:
        from app.ui.audio import wav_source_factory

        factory = wav_source_factory(Path(audio_wav), realtime=True)
    ctx = build_context(kith, factory)
    from app.ui.main_window import MainWindow

    window = MainWindow(ctx)
    window.painted.connect(lambda: log.info("first paint after %.0f ms", 1000 * (time.perf_counter() - t0)))
    window.show()
    if wizard or (wizard is None and first_run_needed(kith)):
        from app.ui.views.wizard import FirstRunWizard

        FirstRunWizard(ctx, window).open()
    app.setQuitOnLastWindowClosed(True)
    rc = app.exec()
    ctx.tasks.shutdown(wait=True)
    ctx.bridge.close()
    return int(rc)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv))
