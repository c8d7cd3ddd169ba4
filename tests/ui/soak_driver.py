"""A live meeting of replayed audio through the real app, offscreen, for a given length:
Start (Ctrl+R path) → meters, partial and final lines → Pause → Resume → notes typed →
Stop → the meeting is stored (optionally with minutes). Samples the process's RSS every
5 s and how long the GUI event loop is ever blocked (a 10 ms timer), then prints one JSON
line. Run in its own interpreter (a crash is a non-zero exit, not a dead test runner):

    python tests/ui/soak_driver.py --seconds 150 [--wav FILE] [--no-process]

tests/ui/test_soak.py runs ~2.5 minutes; bench/ui_soak_bench.py runs 10 (or 60) minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "samples" / "demo_sales_call.ogg"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _trend(xs: list[float]) -> float:
    import statistics

    k = max(1, len(xs) // 3)
    return round(statistics.median(xs[-k:]) - statistics.median(xs[:k]), 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=150)
    ap.add_argument("--wav", type=Path, default=DEMO)
    ap.add_argument("--no-process", dest="process", action="store_false", help="store only; no minutes after Stop")
    ap.add_argument("--llm", default="smollm2-135m")
    a = ap.parse_args(argv)

    from app.context import Kith
    from app.ui.application import build_context
    from app.ui.audio import wav_source_factory
    from app.ui.main_window import MainWindow
    from app.ui.qt import QApplication, QTimer

    kith = Kith.from_env()
    kith.settings.llm.model = a.llm
    kith.settings.llm.max_tokens = 512
    kith.settings.crm.my_name = "Sam"
    ctx = build_context(kith, wav_source_factory(a.wav, loop=True))
    w = MainWindow(ctx)
    w.show()
    app = QApplication.instance()
    live = w.go("live")
    s = live.session
    counts = {"levels": 0, "partials": 0, "finals": 0, "warnings": []}
    s.levels.connect(lambda *_: counts.__setitem__("levels", counts["levels"] + 1))
    s.line_partial.connect(lambda *_: counts.__setitem__("partials", counts["partials"] + 1))
    s.line_final.connect(lambda *_: counts.__setitem__("finals", counts["finals"] + 1))
    s.warning.connect(lambda t: counts["warnings"].append(t))
    failures: list[str] = []
    s.failed.connect(lambda e: failures.append(repr(e)))

    gaps: list[float] = []
    last = [None]

    def tick() -> None:
        now = time.perf_counter()
        if last[0] is not None:
            gaps.append((now - last[0]) * 1000 - 10)
        last[0] = now

    probe = QTimer(interval=10)
    probe.timeout.connect(tick)
    rss: list[tuple[float, float]] = []
    t0 = time.monotonic()
    rss_timer = QTimer(interval=5000)
    rec_rss: list[float] = []  # samples while recording (not while the minutes are written)

    def sample() -> None:
        rss.append((round(s.seconds, 1), round(rss_mb(), 1)))
        if s.state in ("recording", "paused"):
            rec_rss.append(rss[-1][1])

    rss_timer.timeout.connect(sample)
    plan = {"paused": False, "resumed": False, "stopped": False, "notes": False}
    out: dict = {}

    def step() -> None:
        sec = s.seconds
        if s.state == "recording" and not plan["paused"] and sec >= a.seconds / 3:
            plan["paused"] = True
            live.toggle_pause()
            QTimer.singleShot(5000, lambda: (live.toggle_pause(), plan.__setitem__("resumed", True)))
        if s.state == "recording" and not plan["notes"] and sec >= a.seconds / 2:
            plan["notes"] = True
            live.notes.setPlainText("Pricing: 40 seats.\n- send the quote by Friday")
        if s.state == "recording" and plan["resumed"] and not plan["stopped"] and sec >= a.seconds:
            plan["stopped"] = True
            out["recorded_s"] = round(sec, 1)
            out["stop_at"] = time.monotonic()
            live.controls.stop_btn.click()  # the button, as a user does (process = writes minutes)
        if plan["stopped"] and s.state == "idle":
            done_t.stop()
            app.quit()

    if not a.process:  # the ■ Stop button writes the minutes; without --process store only
        live.controls.stop_btn.clicked.disconnect()
        live.controls.stop_btn.clicked.connect(lambda *_: live.stop(process=False))
    done_t = QTimer(interval=200)
    done_t.timeout.connect(step)
    QTimer.singleShot(0, lambda: (probe.start(), rss_timer.start(), done_t.start(), w.toggle_recording()))
    QTimer.singleShot(int((a.seconds * 3 + 1800) * 1000), lambda: (failures.append("timeout"), app.quit()))
    rss.append((0.0, round(rss_mb(), 1)))
    app.exec()
    probe.stop()
    rss_timer.stop()
    rss.append((round(s.seconds, 1), round(rss_mb(), 1)))

    mid = s.meeting_id
    stored = {}
    if mid is not None:
        def check(store):
            m = store.meetings.get(mid)
            notes = store.notes.for_meeting(mid)
            return {"title": m.title, "status": m.status, "segments": len(store.segments.for_meeting(mid)),
                    "recording": m.recording_id is not None, "user_notes": [n.body for n in notes if n.author == "user"],
                    "ai_notes": len([n for n in notes if n.author == "ai"])}

        h = ctx.tasks.db(check, name="soak-check")
        while h.state in ("queued", "running"):
            app.processEvents()
            time.sleep(0.01)
        stored = h.result or {"error": repr(h.error)}
    g = sorted(gaps) or [0.0]
    recording_rss = rec_rss or [0.0]
    out.update({
        "seconds_target": a.seconds, "wall_s": round(time.monotonic() - t0, 1),
        "stop_to_idle_s": round(time.monotonic() - out.pop("stop_at", time.monotonic()), 1),
        "levels": counts["levels"], "partials": counts["partials"], "finals": counts["finals"],
        "paused": plan["paused"], "resumed": plan["resumed"], "failures": failures, "warnings": counts["warnings"][:5],
        "rss_start_mb": rss[0][1], "rss_peak_mb": max(r for _s, r in rss),
        "rss_first_min_mb": recording_rss[min(len(recording_rss) - 1, 12)],
        "rss_recording_peak_mb": max(recording_rss),
        # growth while recording, robust to the transcriber's working-set swings: median of the last
        # third of the samples minus the median of the first third (the first 30 s, model load, excluded)
        "rss_trend_mb": _trend(recording_rss[6:] or recording_rss),
        "rss_end_mb": rss[-1][1], "rss": rss[:: max(1, len(rss) // 20)],
        "ui_max_stall_ms": round(g[-1], 1), "ui_p99_ms": round(g[int(0.99 * (len(g) - 1))], 1), "ticks": len(g),
        "meeting": stored, "fatal": False,
    })
    print("SOAK " + json.dumps(out), flush=True)
    ctx.tasks.shutdown(wait=True)
    ctx.bridge.close()
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
