"""Two-channel recording: microphone (channel 0, "You") and system audio (channel 1, "Them").

Sources push ``(block, arrival time)`` into one ``queue.SimpleQueue`` and return at once. A
single writer thread does everything else:

* resamples each channel to ``sample_rate`` (:class:`StreamResampler`) and places it on one
  timeline anchored to the monotonic clock; a channel's first block is placed where its
  arrival time says (silence before it);
* corrects clock drift: each channel's produced frames are compared with the wall clock and
  its resampling ratio nudged (±0.2 % at most), so two devices stay aligned over hours;
* pads a stalled, lost or absent channel with silence so the other continues;
* emits 2-channel float32 frames to subscribers (live transcription), computes levels every
  50 ms, warns about long silence and low disk, and seals ~1 s chunks into the ``.krec``
  container (fsync'd each time: a crash loses at most ~2 s).

Paused time is not recorded: the timeline stops, and pause/resume marks are written into the
file with their frame position.
"""
from __future__ import annotations

import math
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from app.capture import events as ev
from app.capture.container import RecordingWriter
from app.capture.resample import StreamResampler
from app.core.errors import KithError
from app.core.events import EventBus, emitter

LEVEL_WINDOW_S = 0.05
LAG_TOLERANCE_S = 1.0  # a live channel this far behind the clock is padded with silence (crash loss stays ≤ 2 s)
AHEAD_LIMIT_S = 0.5  # a channel this far ahead of the clock drops the excess
# Clock drift: each device's true rate is a least-squares fit of frames received against the
# monotonic clock (exponentially forgetting, ~5 min memory), used once it spans 30 s; a residual
# offset beyond 40 ms is worked off over a minute. Arrival jitter never moves the ratio before that.
RATE_WARMUP_S = 2.0
RATE_MIN_SPAN_S = 30.0
RATE_MEMORY_S = 300.0
OFFSET_DEADBAND_S = 0.04
OFFSET_HORIZON_S = 60.0
MAX_CORRECTION = 2e-3
SILENCE_RMS = 10 ** (-60 / 20)
DISK_CHECK_S = 3.0


@dataclass
class RecordingSummary:
    id: str
    path: Path
    frames: int
    seconds: float
    sample_rate: int
    overruns: int
    gaps: int
    reason: str


class _Channel:
    def __init__(self, index: int, source, out_rate: int):
        self.index = index
        self.source = source
        self.name = getattr(source, "name", "") if source is not None else ""
        self.resampler = StreamResampler(source.samplerate, out_rate) if source is not None else None
        self.pending: list[np.ndarray] = []
        self.pending_len = 0
        self.anchored = False
        self.offset0 = 0.0
        self.err = 0.0
        self.lost = source is None
        self.stopped = False
        self.ready = threading.Event()
        self.silent_frames = 0
        self.silence_warned = False
        self.frames_in = 0
        self.t_first: float | None = None
        self.t_last = 0.0
        self.sums = [0.0] * 5  # weighted Σ1, Σx, Σy, Σx², Σxy of (seconds, frames)
        self.rate_ratio = 1.0  # measured device rate / nominal
        self.next_fit = 0.0

    def track_rate(self, n: int, t: float) -> None:
        """Record ``n`` frames that arrived at ``t``; refit the device's true rate every 2 s."""
        if self.t_first is None:
            self.t_first = self.t_last = t
        self.frames_in += n
        x = t - self.t_first
        if x < RATE_WARMUP_S:
            self.t_last = t
            return
        decay = math.exp(-(t - self.t_last) / RATE_MEMORY_S)
        self.t_last = t
        y = float(self.frames_in)
        s = self.sums
        for i, v in enumerate((1.0, x, y, x * x, x * y)):
            s[i] = s[i] * decay + v
        if x - RATE_WARMUP_S < RATE_MIN_SPAN_S or x < self.next_fit:
            return
        self.next_fit = x + 2.0
        s1, sx, sy, sxx, sxy = s
        den = s1 * sxx - sx * sx
        if den <= 0:
            return
        ratio = (s1 * sxy - sx * sy) / den / self.source.samplerate
        if abs(ratio - 1.0) < 5 * MAX_CORRECTION:  # larger is a stall or a burst, not a clock
            self.rate_ratio = ratio

    @property
    def live(self) -> bool:
        return self.anchored and not self.lost

    def push(self, x: np.ndarray) -> None:
        if len(x):
            self.pending.append(x)
            self.pending_len += len(x)

    def pad(self, n: int) -> None:
        if n > 0:
            self.push(np.zeros(n, dtype=np.float32))

    def drop(self, n: int) -> None:
        self.take(min(n, self.pending_len))

    def take(self, n: int) -> np.ndarray:
        """Remove and return the first n samples (zeros where there are none)."""
        out = np.zeros(n, dtype=np.float32)
        got = 0
        while got < n and self.pending:
            head = self.pending[0]
            k = min(n - got, len(head))
            out[got:got + k] = head[:k]
            got += k
            if k == len(head):
                self.pending.pop(0)
            else:
                self.pending[0] = head[k:]
        self.pending_len -= got
        return out

    def clear(self) -> None:
        self.pending.clear()
        self.pending_len = 0
        self.anchored = False


class Recorder:
    def __init__(self, directory: Path, key: bytes, mic=None, system=None, *, sample_rate: int = 16000,
                 bus: EventBus | None = None, silence_warning_s: float = 30.0, min_free_disk_mb: float = 500.0,
                 chunk_seconds: float = 1.0, meta: dict | None = None, clock: Callable[[], float] = time.monotonic,
                 disk_check_s: float = DISK_CHECK_S):
        if mic is None and system is None:
            raise KithError("nothing to record: no microphone and no system-audio source",
                            hint="check `kith devices`")
        self.directory = Path(directory)
        self.key = key
        self.rate = int(sample_rate)
        self._emit = emitter(bus)
        self.silence_warning_s = silence_warning_s
        self.min_free_disk_mb = min_free_disk_mb
        self.chunk_frames = max(1, int(round(chunk_seconds * self.rate)))
        self.meta = dict(meta or {})
        self.clock = clock
        self.disk_check_s = disk_check_s
        self.channels = [_Channel(0, mic, self.rate), _Channel(1, system, self.rate)]
        self.devices: tuple = (None, None)  # the InputDevice of each channel, when known (session.open_recorder)
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._subs: list[Callable[[np.ndarray], None]] = []
        self._thread: threading.Thread | None = None
        self._writer: RecordingWriter | None = None
        self._chunk: list[np.ndarray] = []
        self._chunk_len = 0
        self._meter: list[np.ndarray] = []
        self._meter_len = 0
        self.frames_out = 0
        self.gaps = 0
        self.paused = False
        self._t_start = 0.0
        self._paused_total = 0.0
        self._pause_t = 0.0
        self._next_disk_check = 0.0
        self._disk_warned = False
        self._stop_reason: str | None = None
        self._done = threading.Event()
        self._sources_lock = threading.Lock()
        self._tick = threading.Event()  # set to wake the writer early (commands)
        self.error: BaseException | None = None
        self.summary: RecordingSummary | None = None

    # -- public API -------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._writer.id if self._writer else ""

    @property
    def path(self) -> Path | None:
        return self._writer.path if self._writer else None

    @property
    def seconds(self) -> float:
        return self.frames_out / self.rate

    @property
    def overruns(self) -> int:
        return sum(getattr(c.source, "overruns", 0) for c in self.channels if c.source is not None)

    def subscribe(self, fn: Callable[[np.ndarray], None]) -> Callable[[], None]:
        """``fn(frames)`` gets float32 [n, 2] (0 = You, 1 = Them) from the writer thread; keep it quick."""
        self._subs.append(fn)
        return lambda: self._subs.remove(fn) if fn in self._subs else None

    def start(self, threaded: bool = True) -> "Recorder":
        """Open the file and the devices. ``threaded=False`` leaves the work to :meth:`pump`
        (deterministic simulations with a fake clock)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._check_disk(force=True)
        meta = {"mic": self.channels[0].name, "system": self.channels[1].name, **self.meta}
        self._writer = RecordingWriter(self.directory, self.key, self.rate, 2, meta=meta)
        self._t_start = self.clock()
        started = []
        try:
            for ch in self.channels:
                if ch.source is not None:
                    idx = ch.index
                    ch.source.start(lambda block, t, _i=idx: self._q.put((_i, block, t)),
                                    lambda reason, _i=idx: self._q.put(("lost", _i, reason)))
                    started.append(ch)
        except BaseException:
            for ch in started:
                ch.source.stop()
            self._writer.close(state="finished", error="could not open the devices")
            raise
        if threaded:
            self._thread = threading.Thread(target=self._run, name="kith-capture-writer", daemon=True)
            self._thread.start()
        self._emit(ev.RecordingStarted(self.id, str(self.path), self.rate, self.channels[0].name, self.channels[1].name))
        return self

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Wait until every opened device has delivered its first audio (Pulse takes 0.5–1.8 s)."""
        deadline = time.monotonic() + timeout
        for ch in self.channels:
            if ch.source is not None and not ch.lost:
                if not ch.ready.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def note(self, kind: str, **info) -> None:
        """Append an encrypted side record to the recording (the app autosaves the user's notes
        and the live transcript this way, so a crash keeps them). Never blocks; written by the
        writer thread and made durable with the next audio chunk (~1 s)."""
        self._q.put(("note", kind, info))
        if self._thread is None and self._writer is not None:
            self.pump()

    def stop(self, reason: str = "user", timeout: float = 10.0) -> RecordingSummary:
        if self._writer is None:
            raise KithError("recording was not started")
        if self._thread is None:  # driven by pump()
            if not self._done.is_set():
                self._finish(reason)
                self._done.set()
        else:
            if not self._done.is_set():
                self._q.put(("stop", reason, None))
                self._tick.set()
            self._thread.join(timeout)
        self._stop_sources()
        if self.error is not None:
            raise KithError(f"recording failed: {self.error}", hint=f"what was recorded is in {self.path}") from self.error
        assert self.summary is not None
        return self.summary

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the recording stops by itself (disk low, devices lost) or ``timeout``."""
        return self._done.wait(timeout)

    # -- writer thread ------------------------------------------------------------------
    def _command(self, name: str) -> None:
        done = threading.Event()
        self._q.put((name, None, done))
        if self._thread is None:
            self.pump()
        done.wait(2.0)

    def _active(self, t: float) -> float:
        """Seconds of recorded (unpaused) time at monotonic time t."""
        return t - self._t_start - self._paused_total

    def pump(self, wait: float = 0.0) -> None:
        """Process what the sources delivered, emit frames up to now, run the periodic checks."""
        try:
            item = self._q.get(timeout=wait) if wait > 0 else self._q.get_nowait()
        except queue.Empty:
            item = None
        while item is not None:
            self._handle(item)
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                item = None
        if not self.paused:
            self._mix(self.clock())
        self._check_disk()

    def _run(self) -> None:
        try:
            while self._stop_reason is None:
                # one tick per level window: drain everything that came, mix both channels once
                self._tick.wait(LEVEL_WINDOW_S)
                self.pump()
            self._finish(self._stop_reason)
        except BaseException as e:  # disk full, I/O error: keep what is written, report
            self.error = e
            self._emit(ev.CaptureWarning(f"recording stopped by an error: {type(e).__name__}: {e}"))
            try:
                if self._writer is not None and not self._writer.closed:
                    self._writer.close(state="finished", error=type(e).__name__)
            except Exception:
                pass
        finally:
            self._done.set()
            if self._stop_reason != "user":  # stopped by itself: release the devices now
                threading.Thread(target=self._stop_sources, daemon=True).start()

    def _stop_sources(self) -> None:
        with self._sources_lock:
            for ch in self.channels:
                if ch.source is not None and not ch.stopped:
                    ch.stopped = True
                    ch.source.stop()

    def _handle(self, item) -> None:
        kind, a, b = item
        if isinstance(kind, int):
            self._on_block(self.channels[kind], a, b)
        elif kind == "lost":
            self._on_lost(self.channels[a], b)
        elif kind == "stop":
            self._stop_reason = self._stop_reason or a
        elif kind == "note":
            if self._writer is not None and not self._writer.closed:
                self._writer.mark(a, **b)
        elif kind == "pause":
            if not self.paused:
                self._mix(self.clock(), final=True)
                self._flush_chunk()
                self._writer.mark("pause", at=time.time())
                self._writer._sync()
                self.paused = True
                self._pause_t = self.clock()
                for ch in self.channels:
                    ch.clear()
                self._emit(ev.RecordingPaused(self.id, self.frames_out))
            b.set()
        elif kind == "resume":
            if self.paused:
                self._paused_total += self.clock() - self._pause_t
                self.paused = False
                self._writer.mark("resume", at=time.time())
                self._emit(ev.RecordingResumed(self.id, self.frames_out))
            b.set()

    def _on_block(self, ch: _Channel, block: np.ndarray, t: float) -> None:
        if ch.lost:
            return
        ch.ready.set()
        ch.track_rate(len(block), t)  # device clock, paused or not
        if self.paused:
            return
        out = ch.resampler.process(block)
        expected = self._active(t) * self.rate
        if not ch.anchored:
            start = int(round(expected - len(block) / ch.source.samplerate * self.rate))
            head = self.frames_out + ch.pending_len
            if start > head:
                ch.pad(start - head)
            elif start < head:
                cut = head - start
                out = out[min(cut, len(out)):]
            ch.push(out)
            ch.anchored = True
            ch.offset0 = self.frames_out + ch.pending_len - expected
            ch.err = 0.0
            return
        ch.push(out)
        err = (self.frames_out + ch.pending_len - expected) - ch.offset0
        ch.err += 0.02 * (err - ch.err)
        if err > AHEAD_LIMIT_S * self.rate:  # a burst far ahead of the clock: drop the excess
            ch.drop(int(err))
            ch.err = 0.0
        corr = ch.rate_ratio
        excess = abs(ch.err) - OFFSET_DEADBAND_S * self.rate
        if excess > 0:
            corr += np.sign(ch.err) * excess / (self.rate * OFFSET_HORIZON_S)
        ch.resampler.correction = min(1 + MAX_CORRECTION, max(1 - MAX_CORRECTION, corr))

    def _on_lost(self, ch: _Channel, reason: str) -> None:
        if ch.lost:
            return
        ch.lost = True  # what it delivered before is still emitted; silence after
        self._writer.mark("device_lost", channel=ch.index, at=time.time())
        self._emit(ev.DeviceLost(ch.index, ch.name, reason, self.frames_out))
        if all(c.lost for c in self.channels):
            self._stop_reason = self._stop_reason or "devices_lost"

    def _mix(self, now: float, final: bool = False) -> None:
        live = [c for c in self.channels if c.live]
        n = min((c.pending_len for c in live), default=0)
        if final:  # stop/pause: everything received, and silence up to now where nothing came
            n = max(max((c.pending_len for c in live), default=0), int(self._active(now) * self.rate) - self.frames_out)
        floor_n = int(self._active(now) * self.rate - LAG_TOLERANCE_S * self.rate) - self.frames_out
        if floor_n > n:  # a stalled or missing channel: fill with silence, keep the timeline
            for c in live:
                if c.pending_len < floor_n:
                    self.gaps += 1
                    self._writer.mark("gap", channel=c.index, frames=floor_n - c.pending_len)
                    self._emit(ev.CaptureWarning(f"channel {c.index} stalled; "
                                                 f"{(floor_n - c.pending_len) / self.rate:.2f} s of silence inserted"))
                    c.pad(floor_n - c.pending_len)
                    c.anchored = False  # re-place its next block by its arrival time
            n = floor_n
        if n <= 0:
            return
        frames = np.empty((n, 2), dtype=np.float32)
        for c in self.channels:
            frames[:, c.index] = c.take(n) if c.pending_len else 0.0
        self.frames_out += n
        for fn in list(self._subs):
            try:
                fn(frames)
            except Exception as e:  # a slow or broken consumer must not stop the recording
                self._subs.remove(fn)
                self._emit(ev.CaptureWarning(f"live consumer removed after an error: {type(e).__name__}: {e}"))
        self._meter_feed(frames)
        self._chunk.append(frames)
        self._chunk_len += n
        if self._chunk_len >= self.chunk_frames:
            self._flush_chunk()

    def _flush_chunk(self) -> None:
        if self._chunk_len:
            block = np.concatenate(self._chunk) if len(self._chunk) > 1 else self._chunk[0]
            self._writer.write_audio(block, sync=True)
            self._chunk.clear()
            self._chunk_len = 0

    def _meter_feed(self, frames: np.ndarray) -> None:
        self._meter.append(frames)
        self._meter_len += len(frames)
        win = int(self.rate * LEVEL_WINDOW_S)
        if self._meter_len < win:
            return
        block = np.concatenate(self._meter)
        self._meter.clear()
        self._meter_len = 0
        rms = np.sqrt(np.mean(np.square(block, dtype=np.float64), axis=0))
        peak = np.max(np.abs(block), axis=0)
        self._emit(ev.Levels(self.frames_out / self.rate, (float(rms[0]), float(rms[1])), (float(peak[0]), float(peak[1]))))
        for c in self.channels:
            if c.source is None or c.lost:
                continue
            if rms[c.index] < SILENCE_RMS:
                c.silent_frames += len(block)
                if not c.silence_warned and c.silent_frames >= self.silence_warning_s * self.rate:
                    c.silence_warned = True
                    msg = ("no sound from your microphone — is it muted?" if c.index == 0
                           else "no sound from the call — is the right output device selected?")
                    self._emit(ev.SilenceWarning(c.index, c.silent_frames / self.rate, msg))
            else:
                c.silent_frames = 0
                c.silence_warned = False

    def _check_disk(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next_disk_check:
            return
        self._next_disk_check = now + self.disk_check_s
        free_mb = shutil.disk_usage(self.directory).free / 1e6
        if free_mb < self.min_free_disk_mb:
            self._emit(ev.DiskLow(free_mb, self.min_free_disk_mb, stopping=True))
            if force:
                raise KithError(f"only {free_mb:.0f} MB free on the recordings disk (minimum {self.min_free_disk_mb:.0f} MB)",
                                hint="free some space or lower capture.min_free_disk_mb")
            self._stop_reason = self._stop_reason or "disk_low"
        elif free_mb < 2 * self.min_free_disk_mb and not self._disk_warned:
            self._disk_warned = True
            self._emit(ev.DiskLow(free_mb, self.min_free_disk_mb, stopping=False))

    def _finish(self, reason: str) -> None:
        # drain what the devices delivered up to now, then seal
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                break
            if isinstance(item[0], int) or item[0] == "note":
                self._handle(item)
        if not self.paused:
            self._mix(self.clock(), final=True)
        self._flush_chunk()
        self._writer.close(state="finished", reason=reason, gaps=self.gaps, overruns=self.overruns)
        self.summary = RecordingSummary(self.id, self.path, self.frames_out, self.seconds, self.rate,
                                        self.overruns, self.gaps, reason)
        self._emit(ev.RecordingStopped(self.id, str(self.path), self.frames_out, self.seconds, reason))
