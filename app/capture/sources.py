"""Audio sources: each delivers mono float32 blocks with their arrival time to a sink callable.

A source never blocks its audio thread: it hands ``(block, t_monotonic)`` to ``sink`` (the
recorder's ``queue.SimpleQueue.put``) and returns. Device loss is reported through
``on_lost(reason)``. Implementations:

* :class:`SoundDeviceSource` — PortAudio through sounddevice (any mic; WASAPI loopback on
  Windows; BlackHole on macOS; the ALSA "pulse"/"default" device on Linux).
* :class:`PulseSource` — one named PulseAudio/PipeWire source (a mic or a ``*.monitor``) read
  through ``parec --device=NAME``: the clean way to pick a specific Pulse source without
  touching the process environment or the user's default source.
* :class:`ToneSource`, :class:`FileSource` — synthetic sources paced by the wall clock, with
  the same interface, for tests, demos and benchmarks.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from app.core.errors import KithError

Sink = Callable[[np.ndarray, float], None]
LostHandler = Callable[[str], None]


class Source(Protocol):
    name: str
    samplerate: float
    overruns: int

    def start(self, sink: Sink, on_lost: LostHandler) -> None: ...

    def stop(self) -> None: ...


class SoundDeviceSource:
    def __init__(self, device: int | str, samplerate: float, channels: int = 1, name: str = "",
                 extra_settings=None, blocksize: int = 0, latency: str | float = "high"):
        self.device = device
        self.samplerate = float(samplerate)
        self.channels = channels
        self.name = name or str(device)
        self.extra_settings = extra_settings
        self.blocksize = blocksize
        self.latency = latency
        self.overruns = 0
        self._stream = None
        self._stopping = False

    def start(self, sink: Sink, on_lost: LostHandler) -> None:
        import sounddevice as sd

        clock = time.monotonic
        mono = self.channels == 1

        def callback(indata, frames, time_info, status):  # PortAudio thread: copy and go
            if status.input_overflow:
                self.overruns += 1
            block = indata[:, 0].copy() if mono else indata.mean(axis=1, dtype=np.float32)
            sink(block, clock())

        def finished():
            if not self._stopping:
                on_lost("the input stream stopped (device unplugged or disabled?)")

        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.samplerate, channels=self.channels,
                                          dtype="float32", callback=callback, finished_callback=finished,
                                          extra_settings=self.extra_settings, blocksize=self.blocksize,
                                          latency=self.latency)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            raise KithError(f"cannot open input device {self.name!r}: {e}",
                            hint="check `kith devices`, or pick another with --mic/--system") from e

    def stop(self) -> None:
        self._stopping = True
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # the device may already be gone
                pass
            self._stream = None


def pulse_available() -> bool:
    return shutil.which("pactl") is not None and shutil.which("parec") is not None


class PulseSource:
    """A named Pulse source through ``parec``; a ``pactl subscribe`` watcher reports its removal
    (PulseAudio would otherwise silently move the stream to the default source)."""

    BLOCK_S = 0.1  # Pulse hands over ~100 ms at a time: few wake-ups, still live enough

    def __init__(self, source_name: str, samplerate: float, index: int | None = None, name: str = ""):
        self.source_name = source_name
        self.samplerate = float(samplerate)
        self.index = index
        self.name = name or source_name
        self.overruns = 0
        self._proc: subprocess.Popen | None = None
        self._watch: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lost_once = threading.Lock()
        self._lost = False
        self._threads: list[threading.Thread] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._proc, self._watch) if p is not None]

    def start(self, sink: Sink, on_lost: LostHandler) -> None:
        if not pulse_available():
            raise KithError("parec/pactl not found", hint="install pulseaudio-utils (works with PipeWire too)")
        cmd = ["parec", f"--device={self.source_name}", "--format=float32le", f"--rate={int(self.samplerate)}",
               "--channels=1", f"--latency-msec={int(self.BLOCK_S * 1000)}", "--client-name=Kith", "--stream-name=Kith capture"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

        def lost(reason: str) -> None:
            with self._lost_once:
                if self._lost or self._stopping.is_set():
                    return
                self._lost = True
            on_lost(reason)
            self._terminate()

        def reader() -> None:
            fd = self._proc.stdout.fileno()
            want = int(self.samplerate * self.BLOCK_S) * 4 * 2
            rest = b""
            while True:
                data = os.read(fd, want)
                if not data:
                    break
                t = time.monotonic()
                data = rest + data
                usable = len(data) - len(data) % 4
                rest = data[usable:]
                if usable:
                    sink(np.frombuffer(data[:usable], dtype="<f4").copy(), t)
            if not self._stopping.is_set():
                err = (self._proc.stderr.read() or b"").decode(errors="replace").strip().splitlines()
                lost(f"parec ended: {err[-1] if err else 'source gone'}")

        def watcher() -> None:
            if self.index is None:
                return
            self._watch = subprocess.Popen(["pactl", "subscribe"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                           stdin=subprocess.DEVNULL, text=True)
            pat = re.compile(rf"Event 'remove' on source #{self.index}\b")
            for line in self._watch.stdout:
                if pat.search(line):
                    lost(f"source {self.source_name} was removed")
                    break

        for fn in (reader, watcher):
            th = threading.Thread(target=fn, name=f"kith-pulse-{fn.__name__}", daemon=True)
            th.start()
            self._threads.append(th)

    def _terminate(self) -> None:
        for p in (self._proc, self._watch):
            if p is not None and p.poll() is None:
                p.terminate()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the parec/pactl helper processes (Linux /proc)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop(self) -> None:
        self._stopping.set()
        self._terminate()
        for p in (self._proc, self._watch):
            if p is not None:
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    p.kill()
        for th in self._threads:
            th.join(timeout=2)


class _PacedSource:
    """Delivers ``BLOCK_S`` blocks in step with the wall clock (optionally skewed) from a thread."""

    BLOCK_S = 0.05

    def __init__(self, samplerate: float, name: str, clock_skew: float = 1.0, lose_after: float | None = None):
        self.samplerate = float(samplerate)
        self.name = name
        self.clock_skew = clock_skew  # 1.001 = this "device" runs 1000 ppm fast
        self.lose_after = lose_after
        self.overruns = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pos = 0

    def _next(self, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self, sink: Sink, on_lost: LostHandler) -> None:
        def run() -> None:
            t0 = time.monotonic()
            sent = 0
            n = int(round(self.samplerate * self.BLOCK_S))
            while not self._stop.is_set():
                now = time.monotonic()
                if self.lose_after is not None and now - t0 >= self.lose_after:
                    on_lost(f"{self.name} disappeared")
                    return
                due = int((now - t0) * self.samplerate * self.clock_skew)
                while sent + n <= due:
                    sink(self._next(n), time.monotonic())
                    sent += n
                self._stop.wait(self.BLOCK_S / 2)

        self._thread = threading.Thread(target=run, name=f"kith-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class ToneSource(_PacedSource):
    def __init__(self, freq: float = 440.0, samplerate: float = 16000, amplitude: float = 0.3, **kw):
        super().__init__(samplerate, kw.pop("name", f"tone {freq:g} Hz"), **kw)
        self.freq = freq
        self.amplitude = amplitude

    def _next(self, n: int) -> np.ndarray:
        t = (self._pos + np.arange(n)) / self.samplerate
        self._pos += n
        return (self.amplitude * np.sin(2 * np.pi * self.freq * t)).astype(np.float32)


class FileSource(_PacedSource):
    """Plays a sound file (mono mix, its own sample rate) in real time; silence after the end unless ``loop``."""

    def __init__(self, path: Path, loop: bool = False, **kw):
        import soundfile as sf

        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        super().__init__(rate, kw.pop("name", Path(path).name), **kw)
        self.data = data.mean(axis=1).astype(np.float32)
        self.loop = loop

    def _next(self, n: int) -> np.ndarray:
        if self.loop and len(self.data):
            idx = (self._pos + np.arange(n)) % len(self.data)
            out = self.data[idx]
        else:
            out = np.zeros(n, dtype=np.float32)
            chunk = self.data[self._pos:self._pos + n]
            out[:len(chunk)] = chunk
        self._pos += n
        return out
