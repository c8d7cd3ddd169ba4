"""PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``True`` per ``Signal.emit``;
after a few minutes of level meters the interpreter aborts with ``Fatal Python error:
none_dealloc``. The app emits signals many times a second, so the installed binding must
survive tens of thousands of emits — of the kinds the app uses — in a fresh interpreter."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EMITS = 50_000

SCRIPT = textwrap.dedent(f"""
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.ui.qt import QApplication, QObject, Qt, Signal
    app = QApplication([])

    class Source(QObject):
        levels = Signal(float, float, float, float)   # the live meters
        partial = Signal(int, str, str)               # partial transcript lines
        obj = Signal(object)                          # the core-event bridge
        flag = Signal(bool)

    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.n = 0
        def on(self, *a):
            self.n += 1

    src, sink = Source(), Sink()
    for s in (src.levels, src.partial, src.obj, src.flag):
        s.connect(sink.on)
    src.obj.connect(sink.on, Qt.ConnectionType.QueuedConnection)  # across the event loop, like the bridge
    t0, n0 = sys.getrefcount(True), sys.getrefcount(None)
    for i in range({EMITS}):
        src.levels.emit(0.1, 0.2, 0.3, 0.4)
        src.partial.emit(1, "Them", "hello")
        src.obj.emit(i)
        src.flag.emit(i % 2 == 0)
        if i % 1000 == 0:
            app.processEvents()
    app.processEvents()
    print(sink.n, t0, sys.getrefcount(True), n0, sys.getrefcount(None))
""")


def test_tens_of_thousands_of_signal_emits_keep_true_and_none_alive():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert out.returncode == 0 and "Fatal Python error" not in out.stderr, out.stderr[-2000:]
    n, t0, t1, n0, n1 = map(int, out.stdout.split())
    assert n == 5 * EMITS  # every slot call happened (4 direct + 1 queued per round)
    # refcounts of the immortal-ish singletons do not drift with the number of emits
    assert abs(t1 - t0) < 100, (t0, t1)
    assert abs(n1 - n0) < 100, (n0, n1)
