"""The GE2E speaker encoder (Resemblyzer's weights) run in plain numpy.

Front end exactly like ``resemblyzer/audio.py`` (which calls librosa): 16 kHz audio, 25 ms Hann
window (n_fft 400), 10 ms hop, centred frames with zero padding, power spectrum, 40 Slaney-normed
mel bands (*not* logged). Network: 3-layer LSTM (40→256→256→256), the last hidden state through
linear 256→256, ReLU, L2 normalisation. An utterance is cut into partials of 160 frames (1.6 s),
the partial embeddings are averaged and normalised again.

All partials of a call go through the LSTM together (one matrix product per time step and layer),
so the cost is ~3×160 small GEMMs per batch whatever its size.
"""
from __future__ import annotations

import numpy as np

from app.speakers.weights import MODEL_NAME, load_encoder_weights

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
EMBED_DIM = 256
NORM_TARGET_DBFS = -30.0
INT16_MAX = 2 ** 15 - 1
_BLOCK = 32  # LSTM time steps whose input projection is computed at once


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = f / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mel)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney mel filterbank (librosa's default: htk=False, norm='slaney'), shape (n_mels, 1 + n_fft//2)."""
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def normalize_volume(wav: np.ndarray, target_dbfs: float = NORM_TARGET_DBFS, rms_of=None) -> np.ndarray:
    """Raise quiet audio to ``target_dbfs`` (never lowers it), like Resemblyzer's preprocessing.
    ``rms_of``: measure the level on this array (or take this RMS value, a float) instead of ``wav``."""
    ref = wav if rms_of is None else rms_of
    rms = _rms(ref) * INT16_MAX if not isinstance(ref, float) else ref * INT16_MAX
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / INT16_MAX)
    return wav if change < 0 else (wav * (10 ** (change / 20))).astype(np.float32)


def _rms(x: np.ndarray, step: int = 1 << 20) -> float:
    """Root mean square without a float64 copy of a long recording."""
    if x.size == 0:
        return 0.0
    acc = sum(float(np.dot(c, c)) for c in (x[a:a + step].astype(np.float64) for a in range(0, x.size, step)))
    return float(np.sqrt(acc / x.size))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x/2)) is exact and avoids overflow warnings from exp
    out = np.multiply(x, 0.5)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


class VoiceEncoder:
    """GE2E voice encoder in numpy. Cheap to build (~0.1 s); keep one per process if you like."""

    model = MODEL_NAME

    def __init__(self, weights: dict[str, np.ndarray] | None = None):
        w = weights or load_encoder_weights()
        self._layers = []
        for i in range(3):
            w_ih, w_hh = w[f"lstm.weight_ih_l{i}"], w[f"lstm.weight_hh_l{i}"]
            bias = w[f"lstm.bias_ih_l{i}"] + w[f"lstm.bias_hh_l{i}"]
            self._layers.append((np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), bias.astype(np.float32)))
        self._lin_w = np.ascontiguousarray(w["linear.weight"].T)
        self._lin_b = w["linear.bias"]
        self._mel = mel_filterbank()
        n = np.arange(N_FFT)
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic Hann

    # -- front end -------------------------------------------------------------------------------
    def mel_frames(self, wav: np.ndarray) -> np.ndarray:
        """Mel power spectrogram, shape (1 + len(wav)//160, 40), frame k centred on sample 160k
        (zero padding at both ends, as librosa's ``center=True, pad_mode="constant"``).
        Works block by block, so long recordings need no padded copy or big temporaries."""
        wav = np.asarray(wav, dtype=np.float32)
        n_frames = 1 + len(wav) // HOP
        out = np.empty((n_frames, N_MELS), np.float32)
        half = N_FFT // 2
        step = 1024
        for f0 in range(0, n_frames, step):
            f1 = min(n_frames, f0 + step)
            s0, s1 = f0 * HOP - half, (f1 - 1) * HOP + half  # samples this block of frames reads
            chunk = wav[max(0, s0):min(len(wav), s1)]
            if s0 < 0 or s1 > len(wav):
                chunk = np.pad(chunk, (max(0, -s0), max(0, s1 - len(wav))))
            frames = np.lib.stride_tricks.sliding_window_view(chunk, N_FFT)[::HOP][:f1 - f0]
            spec = np.fft.rfft(frames * self._window, axis=1)
            power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
            out[f0:f1] = power @ self._mel.T
        return out

    # -- network ---------------------------------------------------------------------------------
    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings of a batch of equal-length mel windows (B, T, 40) → (B, 256), L2-normed."""
        x = np.asarray(mels, dtype=np.float32)
        if x.ndim != 3 or x.shape[0] == 0:
            return np.zeros((0, EMBED_DIM), np.float32)
        b, t, _ = x.shape
        h = None
        for li, (w_ih, w_hh, bias) in enumerate(self._layers):
            hid = w_hh.shape[0]
            h = np.zeros((b, hid), np.float32)
            c = np.zeros((b, hid), np.float32)
            last = li == len(self._layers) - 1
            outs = None if last else np.empty((b, t, hid), np.float32)
            for k in range(t):
                if k % _BLOCK == 0:  # input projection for a block of steps (bounded memory)
                    pre = x[:, k:k + _BLOCK] @ w_ih
                    pre += bias
                g = pre[:, k % _BLOCK]
                g += h @ w_hh
                i_f = _sigmoid(g[:, :2 * hid])
                gg = np.tanh(g[:, 2 * hid:3 * hid])
                o = _sigmoid(g[:, 3 * hid:])
                c *= i_f[:, hid:]
                c += i_f[:, :hid] * gg
                h = o * np.tanh(c)
                if outs is not None:
                    outs[:, k] = h
            x = outs
        raw = np.maximum(h @ self._lin_w + self._lin_b, 0)
        return _l2(raw)

    def embed_windows(self, mel: np.ndarray, starts: np.ndarray, n_frames: int = PARTIAL_FRAMES,
                      batch: int = 256) -> np.ndarray:
        """Embed windows ``mel[s:s+n_frames]`` for every start frame (zero-padded at the end)."""
        starts = np.asarray(starts, dtype=np.int64)
        if starts.size == 0:
            return np.zeros((0, EMBED_DIM), np.float32)
        need = int(starts.max()) + n_frames
        if need > len(mel):
            mel = np.concatenate([mel, np.zeros((need - len(mel), mel.shape[1]), np.float32)])
        idx = starts[:, None] + np.arange(n_frames)[None, :]
        out = [self.embed_mels(mel[idx[a:a + batch]]) for a in range(0, len(starts), batch)]
        return np.concatenate(out)

    # -- utterances --------------------------------------------------------------------------
    def embed_utterance(self, wav: np.ndarray, rate: float = 1.25, min_coverage: float = 0.75,
                        normalize: bool = True) -> np.ndarray:
        """One embedding for a (single-speaker) waveform at 16 kHz: the normalised mean of its partials.

        ``rate`` partials per second; 1.25 = 80-frame step = 50 % overlap (Resemblyzer's default is 1.3).
        Unlike Resemblyzer this does not trim silences: pass speech.
        """
        wav = np.asarray(wav, dtype=np.float32)
        if normalize:
            wav = normalize_volume(wav)
        starts, n_samples = partial_starts(len(wav), rate, min_coverage)
        if n_samples > len(wav):
            wav = np.pad(wav, (0, n_samples - len(wav)))
        mel = self.mel_frames(wav)
        with one_blas_thread():
            partials = self.embed_windows(mel, starts)
        return _l2(partials.mean(axis=0))


def one_blas_thread():
    """A context with OpenBLAS limited to one thread: on these small matrix products its worker
    threads mostly spin, costing 2-8x the CPU for no speed-up."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def partial_starts(n_samples: int, rate: float = 1.25, min_coverage: float = 0.75) -> tuple[np.ndarray, int]:
    """Start frames of the partial utterances (Resemblyzer's ``compute_partial_slices``) and the
    number of samples the waveform must be padded to."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((SAMPLE_RATE / rate) / HOP))
    if not 0 < frame_step <= PARTIAL_FRAMES:
        raise ValueError("rate out of range")
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return np.array(starts, dtype=np.int64), (starts[-1] + PARTIAL_FRAMES) * HOP


def _l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)
