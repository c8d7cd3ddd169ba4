"""Live-meeting soak of the desktop app: N minutes of the replayed demo call through the real
app (offscreen unless DISPLAY is set) — meters, partial/final lines, pause/resume, notes,
■ Stop (→ minutes unless --no-process) — in a fresh process and a throwaway profile.

    .venv/bin/python bench/ui_soak_bench.py [--minutes 10] [--no-process]

Reports peak RSS (and its growth after the first recorded minute), the longest UI stall
(10 ms timer), p99 stall, counts of level/partial/final events and the stored meeting.
Baseline in the same run: the app idle for 20 s (same process type, no recording), so the
figures read as "recording adds X MB / Y ms over an idle window". Targets (DESIGN.md §5):
0 crashes; UI never blocked > 50 ms (p99); live meeting ≤ 600 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "ui" / "soak_driver.py"

IDLE = r"""
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from app.context import Kith
from app.ui.application import build_context
from app.ui.main_window import MainWindow
from app.ui.qt import QApplication, QTimer
ctx = build_context(Kith.from_env()); w = MainWindow(ctx); w.show()
gaps, last = [], [None]
def tick():
    now = time.perf_counter()
    if last[0] is not None: gaps.append((now - last[0]) * 1000 - 10)
    last[0] = now
t = QTimer(interval=10); t.timeout.connect(tick); t.start()
QTimer.singleShot(20000, QApplication.instance().quit)
QApplication.instance().exec()
rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
g = sorted(gaps); print("IDLE", round(rss, 1), round(g[-1], 1), round(g[int(0.99 * (len(g) - 1))], 1), flush=True)
ctx.tasks.shutdown(wait=True)
"""


def env_for(home: str) -> dict:
    return {**os.environ, "KITH_HOME": home, "KITH_PASSPHRASE": "bench-passphrase",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--no-process", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        idle = subprocess.run([sys.executable, "-c", IDLE], capture_output=True, text=True, env=env_for(home), cwd=ROOT)
        base = [ln.split()[1:] for ln in idle.stdout.splitlines() if ln.startswith("IDLE")]
        t0 = time.monotonic()
        args = [sys.executable, str(DRIVER), "--seconds", str(a.minutes * 60)] + (["--no-process"] if a.no_process else [])
        run = subprocess.run(args, capture_output=True, text=True, env=env_for(home), cwd=ROOT)
        wall = time.monotonic() - t0
    fatal = "Fatal Python error" in run.stderr
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("SOAK ")]
    if not lines:
        print(f"soak FAILED (exit {run.returncode}, fatal={fatal}):\n{run.stderr[-3000:]}")
        return 1
    r = json.loads(lines[-1][5:])
    if base:
        rss0, stall0, p990 = map(float, base[0])
        print(f"baseline (app idle 20 s): RSS {rss0:.0f} MB, UI max stall {stall0:.0f} ms, p99 {p990:.1f} ms")
    print(f"soak {a.minutes:g} min (recorded {r.get('recorded_s')} s, wall {wall:.0f} s, exit {run.returncode}, fatal {fatal}): "
          f"RSS peak {r['rss_peak_mb']:.0f} MB (recording peak {r['rss_recording_peak_mb']:.0f} MB; after 1st min "
          f"{r['rss_first_min_mb']:.0f} MB; trend first→last third {r['rss_trend_mb']:+.0f} MB), "
          f"UI max stall {r['ui_max_stall_ms']:.0f} ms, p99 {r['ui_p99_ms']:.1f} ms; events: {r['levels']} levels, "
          f"{r['partials']} partials, {r['finals']} finals; stop→idle {r['stop_to_idle_s']} s; meeting {r['meeting']}; "
          f"failures {r['failures']}")
    print("rss samples (recorded s, MB):", r["rss"])
    return 0 if run.returncode == 0 and not fatal else 1


if __name__ == "__main__":
    sys.exit(main())
