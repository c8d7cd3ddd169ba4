"""Desktop app start-up: process start → first painted main window (target ≤ 1.5 s).

    .venv/bin/python bench/ui_bench.py [--runs 5]          (offscreen unless DISPLAY is set)

Each run is a fresh Python process timed from just before it is spawned until it reports
the main window's first paint. Baseline in the same run: a bare PySide6 window (the floor
any Qt app pays for interpreter + Qt start-up). Models load lazily, so they cost nothing here.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KITH = r"""
import sys, time
from pathlib import Path
from app.core.config import Settings
from app.context import Kith
from app.core.paths import Paths
from app.ui.application import build_context
from app.ui.main_window import MainWindow
from app.ui.qt import QApplication, QTimer
kith = Kith(paths=Paths.under(Path(sys.argv[1])), settings=Settings(), passphrase="bench")
ctx = build_context(kith)
w = MainWindow(ctx)
def painted():
    print("PAINTED", time.time(), flush=True)
    QTimer.singleShot(0, QApplication.instance().quit)
w.painted.connect(painted)
w.show()
QApplication.instance().exec()
ctx.tasks.shutdown(wait=True)
"""

BARE = r"""
import sys, time
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from PySide6.QtCore import QTimer
app = QApplication(sys.argv[:1])
class W(QMainWindow):
    done = False
    def paintEvent(self, ev):
        super().paintEvent(ev)
        if not self.done:
            self.done = True
            print("PAINTED", time.time(), flush=True)
            QTimer.singleShot(0, app.quit)
w = W(); w.setCentralWidget(QLabel("hello")); w.resize(1120, 740); w.show()
app.exec()
"""


def run_once(code: str, home: str, env: dict) -> float:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, home], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("PAINTED"):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"no paint reported: {out.stderr[-800:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    results = {}
    with tempfile.TemporaryDirectory(prefix="kith-ui-bench-") as tmp:
        for name, code in (("bare PySide6 window (baseline)", BARE), ("Kith main window", KITH)):
            times = []
            for i in range(args.runs):
                home = str(Path(tmp) / f"{len(results)}-{i}")  # fresh profile per run: first-run path
                times.append(run_once(code, home, env))
            results[name] = times
    print(f"platform: {env.get('QT_QPA_PLATFORM') or 'display ' + env['DISPLAY']}; runs: {args.runs}; load avg: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    base = statistics.median(results["bare PySide6 window (baseline)"])
    for name, times in results.items():
        med = statistics.median(times)
        print(f"{name:32s} median {med * 1000:6.0f} ms   min {min(times) * 1000:6.0f} ms   max {max(times) * 1000:6.0f} ms"
              f"   ×{med / base:.2f} of baseline")
    kith = statistics.median(results["Kith main window"])
    print(f"target ≤ 1500 ms: {'met' if kith <= 1.5 else 'NOT met'} ({kith * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
