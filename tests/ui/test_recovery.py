"""Never lose a meeting: the app is killed mid-call (SIGKILL, no Stop); the notes and the live
transcript were autosaved (encrypted) in the recording; the next start offers the unfinished
recording back and it becomes a meeting with its transcript and notes (then its minutes are written)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from uihelp import banner_text, db, idle

ROOT = Path(__file__).resolve().parents[2]
PASS = "crash-test-passphrase"
NOTES = "Budget approved.\n- send the quote by Friday"


@pytest.fixture
def crashed(kith_home, jfk_wav, monkeypatch):
    """A profile where the app died during "Keynote prep" after transcribing and autosaving notes."""
    monkeypatch.setenv("KITH_PASSPHRASE", PASS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("crash_script.py")), str(jfk_wav), "Keynote prep", NOTES],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert out.returncode == -signal.SIGKILL and "killing" in out.stdout, (out.returncode, out.stderr[-3000:])
    return kith_home


def test_a_killed_live_meeting_is_offered_back_with_its_notes(crashed, qapp, qtbot):
    from app.capture.container import find_unfinished, info
    from app.context import Kith
    from app.ui.application import build_context
    from app.ui.audio import wav_source_factory
    from app.ui.main_window import MainWindow

    kith = Kith.from_env()
    assert kith.passphrase == PASS
    kith.settings.llm.model = "smollm2-135m"
    kith.settings.llm.max_tokens = 512
    [path] = find_unfinished(kith.paths.recordings)
    ctx = build_context(kith, wav_source_factory(Path(__file__).parent / "data" / "none.wav"))
    asked: list[str] = []
    try:
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.ask_recover = lambda q: asked.append(q) or True
        minutes: list = []
        w.write_minutes = lambda mid, notes: minutes.append((mid, notes))  # the LLM part is the live tests' job
        w.show()  # the first paint looks for unfinished recordings
        qtbot.waitUntil(lambda: bool(asked), timeout=60000)
        idle(ctx, qtbot, timeout=600000)
        assert len(asked) == 1 and asked[0].startswith("Kith closed during “Keynote prep” — recover the 1-minute recording"), asked
        assert "your notes" in asked[0]
        meetings = db(ctx, lambda s: s.meetings.list())
        assert [m.title for m in meetings] == ["Keynote prep"], banner_text(w)
        m = meetings[0]
        assert m.recording_id is not None
        segs = db(ctx, lambda s: s.segments.for_meeting(m.id))
        assert len(segs) >= 2 and "americans" in " ".join(s.text for s in segs).lower()
        notes = db(ctx, lambda s: s.notes.for_meeting(m.id))
        assert [n.body for n in notes if n.author == "user"] == [NOTES]
        assert minutes == [(m.id, NOTES)]  # then its minutes are written from the transcript and the notes
        assert "Recovered “Keynote prep”" in banner_text(w)
        assert info(path).state == "finished" and not find_unfinished(kith.paths.recordings)
        from app.ui.audio import load_meeting_audio

        samples, rate = db(ctx, lambda s: load_meeting_audio(s, m))
        assert rate == 16000 and len(samples) / rate >= 5
        # recovered once: the next start asks nothing
        asked.clear()
        w.offer_recovery()
        idle(ctx, qtbot)
        assert asked == []
    finally:
        ctx.tasks.shutdown(wait=True)
        ctx.bridge.close()


def test_not_now_keeps_the_recording_for_the_next_start(crashed, qapp, qtbot):
    from app.capture.container import find_unfinished
    from app.context import Kith
    from app.ui.application import build_context
    from app.ui.main_window import MainWindow

    kith = Kith.from_env()
    ctx = build_context(kith)
    try:
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        asked: list[str] = []
        w.ask_recover = lambda q: asked.append(q) and False
        w.show()
        qtbot.waitUntil(lambda: bool(asked), timeout=60000)
        idle(ctx, qtbot)
        assert db(ctx, lambda s: s.meetings.list()) == []
        assert len(find_unfinished(kith.paths.recordings)) == 1
    finally:
        ctx.tasks.shutdown(wait=True)
        ctx.bridge.close()
