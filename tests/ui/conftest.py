"""UI tests: real core (SQLCipher store, faster-whisper tiny.en, llama.cpp SmolLM2), Qt
offscreen. The only fake is the audio device: capture's FileSource replays a WAV in real
time through the same Source interface a microphone uses."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # test harness only: no display here

from uihelp import idle  # noqa: E402 — the window fixture waits for its first paint


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
