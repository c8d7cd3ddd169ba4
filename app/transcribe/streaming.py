"""Live transcription: feed PCM from a capture thread, get partial and final segments.

    st = StreamingTranscriber(cache.get("tiny.en"), on_event=handle)   # or bus=kith.bus
    st.feed(chunk, channel=0)        # any thread, never blocks (an unbounded queue)
    ...
    st.close()                       # finalizes what is still being said, stops the worker

One worker thread serves every channel (so two channels do not fight for the same two
cores). Per channel it keeps the audio since the last endpoint, runs the Silero VAD on
each new 32 ms frame, and:

* emits a :class:`PartialSegment` for the utterance in progress every ``partial_interval``
  seconds (skipped while lagging — partials are a luxury);
* emits :class:`FinalSegment` (s) when the speaker pauses ``endpoint_silence_ms``, or at the
  quietest point once an utterance runs past ``max_utterance_s``;
* when the audio waiting exceeds ``lag_threshold_s`` it emits :class:`Lagging`, batches
  several finished utterances into one Whisper call (a 30 s window costs about as much as
  a 3 s one) and emits :class:`CaughtUp` once the backlog is gone. Audio is never dropped.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from app.core.domain import Segment, Word
from app.core.events import Event, EventBus
from app.transcribe.engine import LoadedWhisper
from app.transcribe.events import CaughtUp, FinalSegment, Lagging, PartialSegment, StreamError

log = logging.getLogger(__name__)

SR = 16000
FRAME = 512  # Silero VAD frame (32 ms at 16 kHz)
FRAME_S = FRAME / SR
VAD_LOOKBACK = 32  # frames of context re-fed to warm the VAD state (~1 s)
SPEECH_P, SILENCE_P = 0.5, 0.35
PAD = 9  # frames (~0.3 s) kept before speech and after it
BATCH_MAX_S = 20.0
CONTEXT_S = 8.0  # recent speech decoded before an utterance (the 30 s window makes it cheap)


@dataclass
class _Channel:
    ch: int
    speaker: str
    rate: int
    resampler: object = None
    buf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    t0: float = 0.0  # stream time (s) of buf[0]
    probs: list = field(default_factory=list)  # VAD probability per frame of buf
    scanned: int = 0  # frames already examined by the endpoint logic
    utt_start: int | None = None  # frame where the current utterance starts (incl. pad)
    last_speech: int = -1  # last frame with speech in the current utterance
    speech_frames: int = 0
    last_partial: float = 0.0  # wall time
    partial_from: int = -1  # utt_start the last partial was for
    pending: list = field(default_factory=list)  # finished (start_frame, end_frame) awaiting Whisper
    history: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # recent speech, for context


class StreamingTranscriber:
    def __init__(self, model: LoadedWhisper, sample_rate: int = SR, *, on_event: Callable[[Event], None] | None = None,
                 bus: EventBus | None = None, language: str | None = None,
                 speakers: dict[int, str] | None = None, endpoint_silence_ms: int = 500,
                 partial_interval: float = 0.7, max_utterance_s: float = 15.0, lag_threshold_s: float = 3.0,
                 beam_size: int = 1, partials: bool = True):
        from app.core.native import quiet_onnxruntime

        quiet_onnxruntime()
        from faster_whisper.vad import get_vad_model

        self.model = model
        self.sample_rate = sample_rate
        self._on_event, self._bus = on_event, bus
        self.language = None if language in (None, "", "auto") else language
        if not model.multilingual:
            self.language = "en"
        self.speakers = speakers if speakers is not None else {0: "You", 1: "Them"}
        self.endpoint_frames = max(1, int(endpoint_silence_ms / 1000 / FRAME_S))
        self.partial_interval = partial_interval
        self.max_utt_frames = int(max_utterance_s / FRAME_S)
        self.lag_threshold_s = lag_threshold_s
        self.beam_size = beam_size
        self.partials = partials
        self.lagging = False
        self.behind_seconds = 0.0
        self._vad = get_vad_model()
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._chans: dict[int, _Channel] = {}
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="kith-stream-asr", daemon=True)
        self._worker.start()

    # -- producer side (any thread) -----------------------------------------------------------
    @classmethod
    def from_settings(cls, model: LoadedWhisper, settings, **kw) -> "StreamingTranscriber":
        """Endpoint silence, language and beam size from ``TranscribeSettings``."""
        kw.setdefault("endpoint_silence_ms", settings.vad_min_silence_ms)
        kw.setdefault("language", settings.language)
        kw.setdefault("beam_size", settings.beam_size)
        return cls(model, **kw)

    def feed(self, pcm: np.ndarray, channel: int = 0) -> None:
        """Queue a chunk of float32 PCM (any length) for ``channel``; a (n, 2) array feeds
        channels 0 and 1 at once. Never blocks, never drops."""
        if self._closed:
            raise RuntimeError("StreamingTranscriber is closed")
        arr = np.array(pcm, dtype=np.float32, copy=True)
        if arr.ndim == 2 and arr.shape[1] == 2:
            self._q.put(("audio", 0, np.ascontiguousarray(arr[:, 0])))
            self._q.put(("audio", 1, np.ascontiguousarray(arr[:, 1])))
            return
        self._q.put(("audio", channel, arr.reshape(-1)))

    def flush(self, timeout: float | None = None) -> bool:
        """Process everything fed so far and finalize utterances in progress."""
        done = threading.Event()
        self._q.put(("flush", None, done))
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._q.put(("stop", None, None))
        self._worker.join(timeout)

    def __enter__(self) -> "StreamingTranscriber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- worker ----------------------------------------------------------------------------------
    def _emit(self, ev: Event) -> None:
        try:
            if self._on_event is not None:
                self._on_event(ev)
            if self._bus is not None:
                self._bus.emit(ev)
        except Exception:  # a subscriber's bug must not kill transcription
            log.exception("live transcription event handler failed")

    def _chan(self, ch: int) -> _Channel:
        c = self._chans.get(ch)
        if c is None:
            c = self._chans[ch] = _Channel(ch, self.speakers.get(ch, ""), self.sample_rate)
        return c

    def _run(self) -> None:
        while True:
            items = [self._q.get()]
            while True:  # drain everything already waiting: catching up = bigger batches
                try:
                    items.append(self._q.get_nowait())
                except queue.Empty:
                    break
            new = {}
            flushes, stop = [], False
            for kind, ch, payload in items:
                if kind == "audio":
                    new.setdefault(ch, []).append(payload)
                elif kind == "flush":
                    flushes.append(payload)
                else:
                    stop = True
            try:
                for ch, chunks in new.items():
                    self._append(self._chan(ch), np.concatenate(chunks))
                self._update_lag()
                for c in self._chans.values():
                    self._scan(c, final=bool(flushes) or stop)
                if flushes or stop:
                    self._update_lag(force=0.0)
            except Exception as e:  # keep serving; the owner decides what to do
                log.exception("live transcription step failed")
                self._emit(StreamError(f"{type(e).__name__}: {e}"))
            for ev in flushes:
                ev.set()
            if stop:
                return

    def _append(self, c: _Channel, pcm: np.ndarray) -> None:
        if c.rate != SR:
            pcm = self._resample(c, pcm)
        c.buf = np.concatenate([c.buf, pcm]) if len(c.buf) else pcm
        n_frames = len(c.buf) // FRAME
        have = len(c.probs)
        if n_frames > have:
            lo = max(0, have - VAD_LOOKBACK)
            probs = self._vad(c.buf[lo * FRAME:n_frames * FRAME].copy())
            c.probs.extend(float(p) for p in np.asarray(probs).reshape(-1)[have - lo:])

    def _resample(self, c: _Channel, pcm: np.ndarray) -> np.ndarray:
        import av

        if c.resampler is None:
            c.resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SR)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = c.rate
        out = [f.to_ndarray().reshape(-1) for f in c.resampler.resample(frame)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def _update_lag(self, force: float | None = None) -> None:
        behind = force if force is not None else max(
            ((len(c.probs) - c.scanned) * FRAME_S + sum(e - s for s, e in c.pending) * FRAME_S
             for c in self._chans.values()), default=0.0)
        self.behind_seconds = behind
        if not self.lagging and behind > self.lag_threshold_s:
            self.lagging = True
            self._emit(Lagging(round(behind, 2)))
        elif self.lagging and behind < 1.0:
            self.lagging = False
            self._emit(CaughtUp(round(behind, 2)))

    # -- endpointing -------------------------------------------------------------------------------
    def _scan(self, c: _Channel, final: bool = False) -> None:
        n = len(c.probs)
        for f in range(c.scanned, n):
            p = c.probs[f]
            if c.utt_start is None:
                if p >= SPEECH_P:
                    c.utt_start, c.last_speech, c.speech_frames = max(0, f - PAD), f, 1
                    c.last_partial = 0.0  # first partial of an utterance comes as soon as possible
                continue
            if p >= SPEECH_P:
                c.last_speech = f
                c.speech_frames += 1
            elif p < SILENCE_P and f - c.last_speech >= self.endpoint_frames:
                self._end_utterance(c, min(c.last_speech + PAD, f + 1))
            elif f - c.utt_start >= self.max_utt_frames:
                lo = max(c.utt_start + 1, f - int(3.0 / FRAME_S))
                cut = lo + int(np.argmin(c.probs[lo:f + 1]))
                self._end_utterance(c, cut, carry_on=True)
        c.scanned = n
        if final and c.utt_start is not None:
            self._end_utterance(c, min(n, c.last_speech + PAD + 1))
        self._transcribe_pending(c, force=final)
        if c.utt_start is None and not c.pending:
            self._trim(c, max(0, len(c.probs) - PAD))
        elif self.partials and not final and not self.lagging and c.utt_start is not None:
            now = time.monotonic()
            if now - c.last_partial >= self.partial_interval and c.speech_frames * FRAME_S >= 0.4:
                c.last_partial = now
                self._partial(c)

    def _end_utterance(self, c: _Channel, end: int, carry_on: bool = False) -> None:
        if c.speech_frames * FRAME_S >= 0.25:
            c.pending.append((c.utt_start, end))
        if carry_on:
            c.utt_start, c.speech_frames = end, 1
        else:
            c.utt_start, c.last_speech, c.speech_frames = None, -1, 0

    def _transcribe_pending(self, c: _Channel, force: bool) -> None:
        while c.pending:
            start, end = c.pending.pop(0)
            if self.lagging:  # catch up: one Whisper call for consecutive utterances
                while c.pending and (c.pending[0][1] - start) * FRAME_S <= BATCH_MAX_S:
                    end = c.pending.pop(0)[1]
            self._final(c, start, end)
            self._update_lag()

    def _trim(self, c: _Channel, keep_from: int) -> None:
        """Forget audio before frame ``keep_from`` (nothing pending refers to it)."""
        if keep_from <= 0:
            return
        if c.utt_start is not None:
            keep_from = min(keep_from, c.utt_start)
        c.buf = c.buf[keep_from * FRAME:]
        c.t0 += keep_from * FRAME_S
        del c.probs[:keep_from]
        c.scanned -= keep_from
        if c.utt_start is not None:
            c.utt_start -= keep_from
            c.last_speech -= keep_from

    # -- Whisper calls ------------------------------------------------------------------------------
    def _whisper(self, audio: np.ndarray, final: bool):
        segs, info = self.model.model.transcribe(
            audio, language=self.language, task="transcribe", beam_size=self.beam_size if final else 1,
            vad_filter=False, word_timestamps=final, without_timestamps=not final,
            condition_on_previous_text=False, temperature=(0.0, 0.4, 0.8),  # at most 2 retries: bounded latency
        )
        segs = list(segs)
        if final and self.language is None and len(audio) > 2 * SR:
            self.language = info.language  # detect once, then stay put (no flapping)
        return segs

    def _final(self, c: _Channel, start: int, end: int) -> None:
        # Whisper recognises a lone short utterance noticeably worse than one in context, so
        # it hears the channel's previous speech first (up to CONTEXT_S, silences removed —
        # what the file path's VAD does); only the words of this utterance are kept.
        clip = c.buf[start * FRAME:end * FRAME]
        hist = np.concatenate([c.history, np.zeros(int(0.3 * SR), np.float32)]) if len(c.history) else c.history
        audio = np.concatenate([hist, clip]) if len(hist) else clip
        h = len(hist) / SR
        begin, stop = c.t0 + start * FRAME_S, c.t0 + end * FRAME_S
        off = begin - h  # stream time of audio[0] for words inside the clip
        c.history = audio[-int(CONTEXT_S * SR):]
        for s in self._whisper(audio, final=True):
            if s.words:
                kept = [w for w in s.words if (w.start + w.end) / 2 >= h]
                text = "".join(w.word for w in kept).strip()
                if not text:
                    continue
                words = [Word(round(off + w.start, 3), round(off + w.end, 3), w.word.strip(), float(w.probability))
                         for w in kept]
                seg_start, seg_end = words[0].start, words[-1].end
            else:
                text, words = s.text.strip(), []
                seg_start, seg_end = off + s.start, off + s.end
                if not text or s.end <= h:
                    continue
            seg = Segment(start=round(max(seg_start, begin), 3), end=round(min(seg_end, stop), 3),
                          text=text, speaker=c.speaker, channel=c.ch, words=words)
            self._emit(FinalSegment(seg))
        if not c.pending and c.utt_start is None:
            self._trim(c, end)
        elif not c.pending:
            self._trim(c, min(end, c.utt_start))

    def _partial(self, c: _Channel) -> None:
        start = c.utt_start
        end = len(c.probs)
        audio = c.buf[start * FRAME:end * FRAME]
        text = " ".join(s.text.strip() for s in self._whisper(audio, final=False)).strip()
        if text:
            self._emit(PartialSegment(c.ch, c.speaker, round(c.t0 + start * FRAME_S, 3),
                                      round(c.t0 + end * FRAME_S, 3), text))
