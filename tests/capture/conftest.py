"""Real audio for the capture tests: a PulseAudio server with test-owned null sinks.

Uses the daemon scripts/test.sh started (KITH_TEST_PULSE=1) or any server `pactl info`
reaches; otherwise starts a private daemon (own runtime dir, stopped at the end) so a plain
`pytest tests/capture` works too. Skips only when PulseAudio is not installed.

The test sinks have fixed rates (48 kHz mono "mic", 44.1 kHz stereo "call") and the test
WAVs are written at those rates, so Pulse never resamples: what is measured is Kith's own
capture, resampling to 16 kHz, alignment and encryption.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _pactl(*args: str, check: bool = True) -> str:
    r = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise RuntimeError(f"pactl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def _pulse_answers() -> bool:
    if shutil.which("pactl") is None:
        return False
    return subprocess.run(["pactl", "info"], capture_output=True, timeout=10).returncode == 0


@dataclass
class PulseEnv:
    mic_sink: str = "kith_test_mic"
    call_sink: str = "kith_test_call"
    mic_rate: int = 48000
    call_rate: int = 44100
    modules: dict = field(default_factory=dict)

    @property
    def mic_source(self) -> str:
        return f"{self.mic_sink}.monitor"

    @property
    def call_source(self) -> str:
        return f"{self.call_sink}.monitor"

    def load_sink(self, name: str, rate: int, channels: int) -> None:
        idx = _pactl("load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}", f"channels={channels}",
                     f"sink_properties=device.description={name}")
        self.modules[name] = idx

    def unload_sink(self, name: str) -> None:
        idx = self.modules.pop(name, None)
        if idx is not None:
            _pactl("unload-module", idx, check=False)

    def play(self, sink: str, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", f"--device={sink}", str(wav)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory):
    """A reachable PulseAudio server (the environment's, or a private one started here)."""
    if _pulse_answers():
        yield None
        return
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils)")
    runtime = tmp_path_factory.mktemp("pulse-runtime")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime / "pulse")}
    env.pop("PULSE_SERVER", None)
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
         "--load=module-native-protocol-unix auth-anonymous=1", "--load=module-null-sink sink_name=vsink",
         "--load=module-always-sink"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mp = pytest.MonkeyPatch()
    mp.setenv("PULSE_SERVER", f"unix:{runtime}/pulse/native")
    try:
        for _ in range(100):
            if proc.poll() is not None:
                pytest.skip("could not start a private PulseAudio daemon")
            if _pulse_answers():
                break
            time.sleep(0.1)
        else:
            pytest.skip("private PulseAudio daemon did not answer")
        yield proc
    finally:
        mp.undo()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def pulse(pulse_server):
    """Test-owned null sinks (unloaded afterwards) on the running server."""
    env = PulseEnv()
    for name in (env.mic_sink, env.call_sink):  # leftovers of an interrupted run
        for line in _pactl("list", "modules", "short", check=False).splitlines():
            if f"sink_name={name} " in line + " ":
                _pactl("unload-module", line.split()[0], check=False)
    env.load_sink(env.mic_sink, env.mic_rate, 1)
    env.load_sink(env.call_sink, env.call_rate, 2)
    yield env
    for name in list(env.modules):
        env.unload_sink(name)


def jfk_parts() -> tuple[np.ndarray, np.ndarray, int]:
    """Two different 4 s stretches of the JFK sample (16 kHz): one for the mic, one for the call."""
    import soundfile as sf

    x, sr = sf.read(str(DATA / "jfk.wav"), dtype="float32")
    return x[: 4 * sr].copy(), x[5 * sr: 9 * sr].copy(), sr


def write_at_rate(x: np.ndarray, sr: int, rate: int, path: Path) -> Path:
    """Write ``x`` resampled to ``rate`` (band-limited) with 0.3 s of silence before and after."""
    import soundfile as sf

    from app.capture.resample import StreamResampler

    r = StreamResampler(sr, rate)
    y = np.concatenate([r.process(x), r.process(np.zeros(sr // 10, np.float32))])[: int(len(x) * rate / sr)]
    pad = np.zeros(int(0.3 * rate), np.float32)
    sf.write(str(path), np.concatenate([pad, y, pad]), rate, subtype="FLOAT")
    return path


def best_alignment(recorded: np.ndarray, ref: np.ndarray) -> tuple[int, float]:
    """(lag, Pearson r) of ``ref`` inside ``recorded`` at the best alignment: the integer lag of
    maximal cross-correlation, refined to a fraction of a sample (a capture starts at an
    arbitrary point of the device's sample grid, so the 16 kHz grids differ by up to half a sample)."""
    n = len(recorded) + len(ref)
    f = np.fft.irfft(np.fft.rfft(recorded, n) * np.conj(np.fft.rfft(ref, n)), n)
    lag = int(np.argmax(f[: len(recorded)]))
    seg = recorded[lag: lag + len(ref)]
    m = min(len(seg), len(ref))
    if m < len(ref) // 2:
        return lag, 0.0
    seg, base = seg[:m].astype(np.float64), ref[:m].astype(np.float64)
    spec = np.fft.rfft(base)
    freqs = np.fft.rfftfreq(m)
    best = -1.0
    for frac in np.linspace(-1.0, 1.0, 41):
        shifted = np.fft.irfft(spec * np.exp(-2j * np.pi * freqs * frac), m)
        best = max(best, float(np.corrcoef(seg[64:-64], shifted[64:-64])[0, 1]))
    return lag, best
