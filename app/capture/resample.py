"""A streaming band-limited resampler with an adjustable ratio (numpy only).

Windowed-sinc interpolation from a polyphase table: each output sample is a dot product
of ``2*half`` input samples with the kernel of its fractional phase. The ratio may change
between calls by a few hundred ppm — that is how the recorder corrects clock drift
(stretching or squeezing by fractions of a sample instead of dropping whole samples).
"""
from __future__ import annotations

import numpy as np

_PHASES = 256


def _kernel_table(cutoff: float, half: int) -> np.ndarray:
    """Table [PHASES+1, 2*half]: taps for input offsets -half+1..half at fractional position p/PHASES."""
    frac = np.arange(_PHASES + 1, dtype=np.float64)[:, None] / _PHASES
    offs = np.arange(-half + 1, half + 1, dtype=np.float64)[None, :]
    x = offs - frac  # distance of each tap from the output position
    win = np.kaiser(2 * half + 1, 8.0)
    # evaluate the window continuously by interpolation over [-half, half]
    w = np.interp(x, np.linspace(-half, half, 2 * half + 1), win)
    table = cutoff * np.sinc(cutoff * x) * w
    table /= table.sum(axis=1, keepdims=True)  # unity gain at DC for every phase
    return table.astype(np.float32)


class StreamResampler:
    """Mono float32 stream from ``in_rate`` to ``out_rate``; ``process`` returns what is ready."""

    def __init__(self, in_rate: float, out_rate: float):
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.in_rate = float(in_rate)
        self.out_rate = float(out_rate)
        down = self.out_rate / self.in_rate
        # Downsampling runs in two stages: a linear-phase anti-alias FIR at the input rate
        # (np.convolve, in C), then a short fractional interpolator on the now oversampled
        # signal. Much cheaper than one long polyphase kernel per output sample.
        self._fir: np.ndarray | None = None
        delay = 0
        if down < 0.99:
            cutoff = 0.94 * down
            half_fir = int(np.ceil(8 / cutoff))
            x = np.arange(-half_fir, half_fir + 1, dtype=np.float64)
            h = cutoff * np.sinc(cutoff * x) * np.kaiser(len(x), 8.0)
            self._fir = (h / h.sum()).astype(np.float32)
            self._fir_hist = np.zeros(len(self._fir) - 1, dtype=np.float32)
            delay = half_fir  # the FIR's group delay, in input samples
            self.half = 6
        else:
            self.half = 8
        self._table = _kernel_table(1.0, self.half)
        # history: keep `half` samples before the read position; start with zeros
        self._buf = np.zeros(self.half, dtype=np.float32)
        self._pos = float(self.half + delay)  # position of the next output sample, in _buf coordinates
        self.correction = 1.0  # >1: consume input faster (device clock fast), <1: slower

    @property
    def step(self) -> float:
        return self.in_rate / self.out_rate * self.correction

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if self._fir is not None and x.size:
            ext = np.concatenate((self._fir_hist, x))
            self._fir_hist = ext[len(ext) - len(self._fir) + 1:]
            x = np.convolve(ext, self._fir, mode="valid").astype(np.float32, copy=False)
        buf = np.concatenate((self._buf, x)) if x.size else self._buf
        step = self.step
        # last usable position p needs floor(p) + half < len(buf)
        limit = len(buf) - self.half - 1
        if limit < self._pos:
            self._buf = buf
            return np.zeros(0, dtype=np.float32)
        n = int(np.floor((limit - self._pos) / step)) + 1
        pos = self._pos + step * np.arange(n, dtype=np.float64)
        base = np.floor(pos).astype(np.int64)
        phase = np.rint((pos - base) * _PHASES).astype(np.int64)
        idx = base[:, None] + np.arange(-self.half + 1, self.half + 1)[None, :]
        out = np.einsum("ij,ij->i", buf[idx], self._table[phase]).astype(np.float32)
        next_pos = self._pos + step * n
        keep_from = int(np.floor(next_pos)) - self.half + 1
        keep_from = max(0, min(keep_from, len(buf)))
        self._buf = buf[keep_from:]
        self._pos = next_pos - keep_from
        return out
