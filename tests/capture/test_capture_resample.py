"""The streaming resampler: exact at 1:1, accurate and alias-free when downsampling."""
from __future__ import annotations

import numpy as np
import pytest

from app.capture.resample import StreamResampler


def _run(r: StreamResampler, x: np.ndarray, block: int) -> np.ndarray:
    return np.concatenate([r.process(x[i:i + block]) for i in range(0, len(x), block)])


def _tone(freq, rate, seconds=2.0):
    t = np.arange(int(rate * seconds)) / rate
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


def test_identity_is_exact():
    x = np.random.default_rng(1).uniform(-1, 1, 16000).astype(np.float32)
    y = _run(StreamResampler(16000, 16000), x, 333)
    assert len(y) > 15900
    assert np.array_equal(y, x[: len(y)])


@pytest.mark.parametrize("rate", [48000, 44100, 22050])
def test_downsampling_keeps_the_band_and_the_timing(rate):
    x = 0.5 * _tone(440, rate) + 0.3 * _tone(3000, rate)
    y = _run(StreamResampler(rate, 16000), x, 1024)
    ref = 0.5 * _tone(440, 16000) + 0.3 * _tone(3000, 16000)
    assert abs(len(y) - len(x) * 16000 / rate) < 40
    seg = slice(200, len(y) - 200)
    assert np.max(np.abs(y[seg] - ref[: len(y)][seg])) < 2e-3  # no delay, no gain error


def test_no_aliasing_from_above_the_new_nyquist():
    x = _tone(11000, 48000)  # would fold to 5 kHz without a low-pass
    y = _run(StreamResampler(48000, 16000), x, 960)
    rms = np.sqrt(np.mean(y[200:-200] ** 2))
    assert 20 * np.log10(rms / np.sqrt(0.5)) < -50


def test_correction_stretches_by_the_ratio():
    x = _tone(500, 16000, seconds=10)
    r = StreamResampler(16000, 16000)
    r.correction = 1.001  # device 1000 ppm fast: consume more input per output
    y = _run(r, x, 800)
    assert len(y) == pytest.approx(len(x) / 1.001, abs=40)
