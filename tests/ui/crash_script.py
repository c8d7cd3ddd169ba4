"""Run by test_recovery in a fresh interpreter: the real app records a replayed call live,
the user types notes, and the process is killed (SIGKILL) in the middle of the meeting —
no Stop, no cleanup, like a crash or a power cut. Usage: crash_script.py WAV TITLE NOTES"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    wav, title, notes = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    from app.context import Kith
    from app.ui.application import build_context
    from app.ui.audio import wav_source_factory
    from app.ui.main_window import MainWindow
    from app.ui.qt import QApplication, QTimer

    kith = Kith.from_env()
    ctx = build_context(kith, wav_source_factory(wav, loop=True))
    w = MainWindow(ctx)
    w.offer_recovery = lambda: None
    w.show()
    live = w.go("live")
    live.title.setText(title)
    live.start()
    state = {"typed": None}

    def poll() -> None:
        if live.session.state != "recording":
            return
        if state["typed"] is None and live.transcript.finals():
            live.notes.setPlainText(notes)  # autosaved 2 s after the last keystroke
            state["typed"] = time.monotonic()
        if state["typed"] is not None and time.monotonic() - state["typed"] > 4 and len(live.transcript.finals()) >= 2:
            print("killing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    t = QTimer(interval=100)
    t.timeout.connect(poll)
    t.start()
    QTimer.singleShot(240_000, lambda: sys.exit(3))  # never reached a crash point: fail
    QApplication.instance().exec()


if __name__ == "__main__":
    main()
