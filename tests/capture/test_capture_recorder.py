"""The two-channel recorder with synthetic sources (same interface as the device sources)."""
from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

from app.capture import events as ev
from app.capture.container import RecordingReader
from app.capture.recorder import Recorder
from app.capture.sources import FileSource, ToneSource
from app.core.errors import KithError
from app.core.events import Event, EventBus


@pytest.fixture
def bus_events():
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    return bus, seen


def _of(seen, cls):
    return [e for e in seen if isinstance(e, cls)]


def test_two_channels_levels_and_live_feed(tmp_path, bus_events, jfk_wav):
    bus, seen = bus_events
    key = os.urandom(32)
    fed = []
    rec = Recorder(tmp_path, key, ToneSource(440, samplerate=48000, amplitude=0.3), FileSource(jfk_wav), bus=bus)
    rec.subscribe(lambda f: fed.append(f.copy()))
    rec.start()
    assert rec.wait_ready(3)
    time.sleep(2.0)
    s = rec.stop()
    assert 1.9 < s.seconds < 2.6 and s.overruns == 0 and s.gaps == 0
    live = np.concatenate(fed)
    stored = RecordingReader(s.path, key).read_all()
    assert live.shape == stored.shape == (s.frames, 2)
    assert np.max(np.abs(live - stored)) <= 1 / 32768 + 1e-7
    # channel 0 is the 440 Hz tone (resampled from 48 kHz), channel 1 the speech file
    spec = np.abs(np.fft.rfft(stored[8000:24000, 0]))
    assert abs(np.argmax(spec) * 16000 / 16000 - 440) <= 2
    levels = _of(seen, ev.Levels)
    assert len(levels) >= 30  # every 50 ms
    assert np.median([lv.rms[0] for lv in levels]) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
    assert [type(e) for e in seen if not isinstance(e, ev.Levels)] == [ev.RecordingStarted, ev.RecordingStopped]


def test_pause_is_not_recorded_and_marked(tmp_path, bus_events):
    bus, seen = bus_events
    key = os.urandom(32)
    rec = Recorder(tmp_path, key, ToneSource(300), ToneSource(700), bus=bus)
    rec.start()
    rec.wait_ready(3)
    time.sleep(1.0)
    rec.pause()
    at_pause = rec.frames_out
    time.sleep(1.5)
    assert rec.frames_out == at_pause
    rec.resume()
    time.sleep(1.0)
    s = rec.stop()
    assert 1.8 < s.seconds < 2.5, s.seconds  # 1.5 s of pause left out
    r = RecordingReader(s.path, key)
    r.read_all()
    assert [(m["kind"], m["frame"]) for m in r.marks] == [("pause", at_pause), ("resume", at_pause)]
    assert _of(seen, ev.RecordingPaused)[0].at_frame == at_pause
    assert len(_of(seen, ev.RecordingResumed)) == 1


def test_either_side_may_be_absent(tmp_path):
    key = os.urandom(32)
    rec = Recorder(tmp_path, key, None, ToneSource(500))
    rec.start()
    rec.wait_ready(3)
    time.sleep(0.6)
    s = rec.stop()
    audio = RecordingReader(s.path, key).read_all()
    assert np.all(audio[:, 0] == 0) and np.abs(audio[:, 1]).max() > 0.2
    with pytest.raises(KithError, match="nothing to record"):
        Recorder(tmp_path, key, None, None)


def test_lost_device_other_channel_continues_gap_is_silence(tmp_path, bus_events, jfk_wav):
    bus, seen = bus_events
    key = os.urandom(32)
    rec = Recorder(tmp_path, key, ToneSource(440, lose_after=1.0), FileSource(jfk_wav), bus=bus)
    rec.start()
    time.sleep(2.5)
    s = rec.stop()
    (lost,) = _of(seen, ev.DeviceLost)
    assert lost.channel == 0 and 0.8 * 16000 < lost.at_frame < 1.4 * 16000
    assert s.reason == "user" and s.seconds > 2.3
    r = RecordingReader(s.path, key)
    audio = r.read_all()
    assert np.abs(audio[: lost.at_frame - 1600, 0]).max() > 0.2
    assert np.all(audio[lost.at_frame + 1600:, 0] == 0)
    assert np.abs(audio[lost.at_frame + 1600:, 1]).max() > 0.05  # the call goes on
    assert any(m["kind"] == "device_lost" for m in r.marks)


def test_all_devices_lost_stops_by_itself(tmp_path, bus_events):
    bus, seen = bus_events
    rec = Recorder(tmp_path, os.urandom(32), ToneSource(440, lose_after=0.5), None, bus=bus)
    rec.start()
    assert rec.wait(5)
    s = rec.stop()
    assert s.reason == "devices_lost" and _of(seen, ev.RecordingStopped)[0].reason == "devices_lost"


def test_silence_warning_names_the_silent_channel(tmp_path, bus_events):
    bus, seen = bus_events
    rec = Recorder(tmp_path, os.urandom(32), ToneSource(440, amplitude=0.0), ToneSource(440), bus=bus,
                   silence_warning_s=0.6)
    rec.start()
    time.sleep(1.3)
    rec.stop()
    warnings = _of(seen, ev.SilenceWarning)
    assert [w.channel for w in warnings] == [0]
    assert "muted" in warnings[0].message and warnings[0].seconds >= 0.6


def test_disk_low_refuses_to_start_and_stops_cleanly(tmp_path, bus_events):
    bus, seen = bus_events
    key = os.urandom(32)
    free_mb = shutil.disk_usage(tmp_path).free / 1e6
    with pytest.raises(KithError, match="free on the recordings disk"):
        Recorder(tmp_path, key, ToneSource(440), None, min_free_disk_mb=free_mb * 4).start()
    assert list(tmp_path.glob("*.krec")) == []
    rec = Recorder(tmp_path, key, ToneSource(440), None, bus=bus, min_free_disk_mb=free_mb / 4, disk_check_s=0.2)
    rec.start()
    time.sleep(0.6)
    rec.min_free_disk_mb = free_mb * 4  # the disk "fills up" mid-recording
    assert rec.wait(3)
    s = rec.stop()
    assert s.reason == "disk_low" and _of(seen, ev.DiskLow)[-1].stopping
    r = RecordingReader(s.path, key)
    assert len(r.read_all()) == s.frames and r.finished and r.end["reason"] == "disk_low"


def test_a_failing_live_consumer_does_not_stop_recording(tmp_path, bus_events):
    bus, seen = bus_events

    def broken(frames):
        raise RuntimeError("boom")

    rec = Recorder(tmp_path, os.urandom(32), ToneSource(440), None, bus=bus)
    rec.subscribe(broken)
    rec.start()
    time.sleep(0.8)
    s = rec.stop()
    assert s.seconds > 0.5
    assert any("boom" in w.message for w in _of(seen, ev.CaptureWarning))


class _ManualSource:
    """A device whose blocks the test hands in with chosen arrival times (fake clock)."""

    overruns = 0

    def __init__(self, name, samplerate):
        self.name, self.samplerate = name, samplerate

    def start(self, sink, on_lost):
        self.sink = sink

    def stop(self):
        pass


@pytest.mark.slow
def test_clock_drift_is_corrected_over_a_long_meeting(tmp_path):
    """Two devices whose clocks run +400 ppm and -300 ppm off nominal, blocks arriving with
    ±15 ms jitter, for 2 simulated minutes: without correction they would drift 84 ms
    apart; Kith keeps them within a few ms and the timeline on the wall clock."""
    rng = np.random.default_rng(7)
    freqs = rng.uniform(150, 3000, 6)
    phases = rng.uniform(0, 2 * np.pi, 6)

    def signal(t):  # the same sound reaches both devices: tones under a non-repeating envelope
        tones = (0.1 * np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases)).sum(axis=1)
        env = np.abs(np.sin(2 * np.pi * 0.37 * t) * np.sin(2 * np.pi * 0.61 * t + 1) * np.sin(2 * np.pi * 1.13 * t + 2))
        return (tones * env).astype(np.float32)

    now = [0.0]
    devs = [(_ManualSource("mic", 48000), 48000 * (1 + 400e-6)), (_ManualSource("call", 44100), 44100 * (1 - 300e-6))]
    rec = Recorder(tmp_path, os.urandom(32), devs[0][0], devs[1][0], clock=lambda: now[0], disk_check_s=1e9,
                   chunk_seconds=5)
    rec.start(threaded=False)
    sent = [0, 0]
    minutes = 2
    block_s = 0.05
    for step in range(1, int(minutes * 60 / block_s) + 1):
        now[0] = step * block_s
        for i, (src, true_rate) in enumerate(devs):
            due = int(now[0] * true_rate)
            n = due - sent[i]
            t = (sent[i] + np.arange(n)) / true_rate
            sent[i] = due
            src.sink(signal(t), now[0] + abs(rng.normal(0, 0.015)))
        rec.pump()
    s = rec.stop()
    assert s.frames == pytest.approx(minutes * 60 * 16000, abs=0.1 * 16000)
    for ch, (_src, true_rate) in zip(rec.channels, devs):
        assert ch.rate_ratio == pytest.approx(true_rate / ch.source.samplerate, abs=30e-6)
    audio = RecordingReader(s.path, rec.key).read_all()
    for start_s in (5, minutes * 60 - 10):
        a = audio[start_s * 16000:(start_s + 4) * 16000, 0]
        b = audio[start_s * 16000:(start_s + 4) * 16000, 1]
        lags = np.arange(-4000, 4001)
        f = np.fft.irfft(np.fft.rfft(a, 2 * len(a)) * np.conj(np.fft.rfft(b, 2 * len(a))))
        lag = lags[np.argmax(np.concatenate([f[-4000:], f[:4001]]))]
        assert abs(lag) <= 0.02 * 16000, f"channels {lag / 16:.1f} ms apart at {start_s} s"
