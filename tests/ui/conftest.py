"""UI tests: real core (SQLCipher store, faster-whisper tiny.en, llama.cpp SmolLM2), Qt
offscreen. The only fake is the audio device: capture's FileSource replays a WAV in real
time through the same Source interface a microphone uses."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # test harness only: no display here

UI_DATA = Path(__file__).resolve().parent / "data"
VTT = UI_DATA / "northwind_call.vtt"


@pytest.fixture
def fast_kith(kith):
    """The test profile with the small plumbing LLM (SmolLM2-135M: valid JSON, invented content)."""
    kith.settings.llm.model = "smollm2-135m"
    kith.settings.llm.max_tokens = 512
    kith.settings.crm.my_name = "Sam"
    return kith


@pytest.fixture
def ctx(qapp, fast_kith, jfk_wav):
    from app.ui.application import build_context
    from app.ui.audio import wav_source_factory

    c = build_context(fast_kith, wav_source_factory(jfk_wav))
    yield c
    if c.window is not None:
        c.window.close()
        c.window.deleteLater()
    c.tasks.shutdown(wait=True)
    c.bridge.close()


@pytest.fixture
def window(ctx, qtbot):
    from app.ui.main_window import MainWindow

    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    idle(ctx, qtbot)
    return w


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
