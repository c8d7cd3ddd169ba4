"""Capture benchmark: N minutes of two-channel recording through PulseAudio.

    .venv/bin/python bench/capture_bench.py [--minutes 10]

Plays speech in a loop into two null sinks (a 48 kHz mono "mic" and a 44.1 kHz stereo "call"),
records both monitors with Kith (parec → resample to 16 kHz → align → AES-GCM chunks →
fsync each second) and prints:

* CPU per minute of audio: this process (writer + reader threads) plus Kith's parec/pactl
  helpers, as % of one core (target ≤ 3 %), next to the named baseline **parec-only**
  (the same two parec streams to /dev/null — the cost of just receiving the audio);
* encryption share: AES-256-GCM sealing of the same amount of audio, measured alone;
* input overruns (source overflow flags + gaps padded with silence; target 0);
* bytes on disk per hour, and whether the file decodes with no damaged chunk.

Uses the running PulseAudio server if `pactl info` answers, else starts a private one.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.capture import devices as dv  # noqa: E402
from app.capture.container import RecordingReader, RecordingWriter  # noqa: E402
from app.capture.recorder import Recorder  # noqa: E402
from app.capture.resample import StreamResampler  # noqa: E402
from app.capture.sources import PulseSource  # noqa: E402


def pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, check=True, timeout=10).stdout.strip()


def ensure_pulse(tmp: Path) -> subprocess.Popen | None:
    if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
        return None
    if shutil.which("pulseaudio") is None:
        sys.exit("PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils)")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp), "PULSE_RUNTIME_PATH": str(tmp / "pulse")}
    proc = subprocess.Popen(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
                             "--load=module-native-protocol-unix auth-anonymous=1", "--load=module-always-sink"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["PULSE_SERVER"] = f"unix:{tmp}/pulse/native"  # this script's own children only
    for _ in range(100):
        if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
            return proc
        time.sleep(0.1)
    proc.kill()
    sys.exit("could not start PulseAudio")


def speech_wav(rate: int, path: Path, reverse: bool = False) -> Path:
    import soundfile as sf

    x, sr = sf.read(str(ROOT / "tests" / "data" / "jfk.wav"), dtype="float32")
    if reverse:
        x = x[::-1].copy()
    r = StreamResampler(sr, rate)
    y = np.concatenate([r.process(x), r.process(np.zeros(sr, np.float32))])
    sf.write(str(path), np.tile(y, 5), rate, subtype="FLOAT")  # ~60 s
    return path


class Looper:
    """paplay a file into a sink again and again until stopped."""

    def __init__(self, sink: str, wav: Path):
        self.sink, self.wav, self._stop = sink, wav, threading.Event()
        self.proc: subprocess.Popen | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.proc = subprocess.Popen(["paplay", f"--device={self.sink}", str(self.wav)])
            self.proc.wait()

    def stop(self) -> None:
        self._stop.set()
        if self.proc is not None:
            self.proc.terminate()
        self.thread.join(5)


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline_parec(sources: list[dv.InputDevice], seconds: float) -> float:
    """CPU seconds of two plain parec processes reading the same monitors to /dev/null."""
    procs = [subprocess.Popen(["parec", f"--device={d.name}", "--format=float32le", f"--rate={int(d.default_samplerate)}",
                               "--channels=1", f"--latency-msec={int(PulseSource.BLOCK_S * 1000)}"],
                              stdout=subprocess.DEVNULL) for d in sources]
    time.sleep(seconds)
    cpu = sum(proc_cpu(p.pid) for p in procs)
    for p in procs:
        p.terminate()
        p.wait()
    return cpu


def encryption_only(seconds: float, key: bytes, directory: Path) -> float:
    """CPU seconds to seal and write `seconds` of 16 kHz stereo audio in 1 s chunks (no fsync)."""
    block = (np.random.default_rng(0).uniform(-0.3, 0.3, (16000, 2))).astype(np.float32)
    w = RecordingWriter(directory, key, 16000, 2)
    t = time.process_time()
    for _ in range(int(seconds)):
        w.write_audio(block, sync=False)
    cpu = time.process_time() - t
    w.close()
    w.path.unlink()
    return cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--baseline-seconds", type=float, default=None, help="length of the parec-only baseline")
    args = ap.parse_args()
    seconds = args.minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="kith-capture-bench-"))
    daemon = ensure_pulse(tmp)
    modules = []
    loopers: list[Looper] = []
    try:
        modules.append(pactl("load-module", "module-null-sink", "sink_name=kith_bench_mic", "rate=48000", "channels=1"))
        modules.append(pactl("load-module", "module-null-sink", "sink_name=kith_bench_call", "rate=44100", "channels=2"))
        devs = dv.list_devices()
        mic = dv.resolve("kith_bench_mic.monitor", devs, "mic")
        call = dv.resolve("kith_bench_call.monitor", devs, "system")
        loopers = [Looper("kith_bench_mic", speech_wav(48000, tmp / "mic.wav", reverse=True)),
                   Looper("kith_bench_call", speech_wav(44100, tmp / "call.wav"))]
        time.sleep(1.0)

        base_s = args.baseline_seconds or min(60.0, seconds / 4)
        print(f"baseline parec-only: {base_s:.0f} s …", flush=True)
        base_cpu = baseline_parec([mic, call], base_s)

        key = os.urandom(32)
        srcs = [dv.open_source(mic, 16000), dv.open_source(call, 16000)]
        rec = Recorder(tmp / "recordings", key, srcs[0], srcs[1], sample_rate=16000, min_free_disk_mb=100)
        print(f"recording {args.minutes:g} min through PulseAudio …", flush=True)
        cpu0 = time.process_time()
        rec.start()
        rec.wait_ready(10)
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            if rec.wait(min(5.0, seconds - (time.monotonic() - t0))):
                break
        helper_cpu = sum(s.cpu_seconds() for s in srcs)
        summary = rec.stop()
        kith_cpu = time.process_time() - cpu0
        audio_s = summary.seconds
        size = summary.path.stat().st_size
        reader = RecordingReader(summary.path, key)
        frames = sum(len(b) for b in reader.blocks(dtype="int16"))
        enc_cpu = encryption_only(audio_s, key, tmp)

        own = kith_cpu / audio_s * 100
        total = (kith_cpu + helper_cpu) / audio_s * 100
        base = base_cpu / base_s * 100
        print()
        print(f"audio recorded            {audio_s:8.1f} s  (2 channels, 16 kHz; sources 48 kHz mono + 44.1 kHz stereo)")
        print(f"Kith process CPU          {kith_cpu:8.2f} s  = {own:5.2f} % of one core  ({kith_cpu / audio_s * 60:.2f} s per audio minute)")
        print(f"  + parec/pactl helpers   {helper_cpu:8.2f} s  → total {total:5.2f} % of one core (target ≤ 3 %)")
        print(f"baseline parec-only       {base:8.2f} % of one core  → Kith total / baseline = {total / base if base else float('nan'):.2f}×")
        print(f"encryption alone          {enc_cpu / audio_s * 100:8.3f} % of one core  ({enc_cpu / kith_cpu * 100 if kith_cpu else 0:.1f} % of Kith's own CPU)")
        print(f"input overruns            {summary.overruns:8d}  (+ {summary.gaps} gaps padded with silence; target 0)")
        print(f"bytes on disk             {size / audio_s * 3600 / 1e6:8.1f} MB per hour  ({size} bytes for {audio_s:.1f} s)")
        print(f"decodes                   {'yes' if frames == summary.frames and not reader.problems else 'NO'}"
              f"  ({frames} frames, {len(reader.problems)} damaged chunks)")
    finally:
        for lp in loopers:
            lp.stop()
        for m in modules:
            subprocess.run(["pactl", "unload-module", m], capture_output=True)
        if daemon is not None:
            daemon.terminate()
            daemon.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
