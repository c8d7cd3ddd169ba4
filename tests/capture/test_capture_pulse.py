"""Real capture through PulseAudio: two sinks played with paplay, recorded through Kith."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from app.capture import devices as dv
from app.capture import events as ev
from app.capture.container import RecordingReader
from app.capture.recorder import Recorder
from app.core.events import Event, EventBus

from .conftest import best_alignment, jfk_parts, write_at_rate

pytestmark = pytest.mark.audio


def _record(tmp_path, key, mic_dev, call_dev, bus=None, **kw):
    sources = [dv.open_source(d, 16000) if d else None for d in (mic_dev, call_dev)]
    return Recorder(tmp_path / "rec", key, sources[0], sources[1], sample_rate=16000, bus=bus, **kw)


def test_devices_lists_pulse_monitors_and_defaults(pulse):
    devs = dv.list_devices()
    ids = {d.id for d in devs}
    assert f"pulse:{pulse.mic_source}" in ids and f"pulse:{pulse.call_source}" in ids
    mon = next(d for d in devs if d.name == pulse.mic_source)
    assert mon.kind == "monitor" and mon.host_api == "PulseAudio" and mon.default_samplerate == 48000
    system = dv.default_system(devs)
    assert system is not None and system.kind == "monitor"
    assert dv.resolve(pulse.call_source, devs, "system").name == pulse.call_source
    assert dv.resolve(f"pulse:{pulse.mic_source}", devs, "mic").name == pulse.mic_source


def test_two_channels_match_their_sources(pulse, tmp_path):
    """Different speech into the 'mic' and the 'call' sink at once: each channel correlates
    ≥ 0.99 with its own source and not with the other (no swap, no crosstalk)."""
    mic_ref, call_ref, sr = jfk_parts()
    mic_wav = write_at_rate(mic_ref, sr, pulse.mic_rate, tmp_path / "mic.wav")
    call_wav = write_at_rate(call_ref, sr, pulse.call_rate, tmp_path / "call.wav")
    devs = dv.list_devices()
    mic = dv.resolve(pulse.mic_source, devs, "mic")
    call = dv.resolve(pulse.call_source, devs, "system")
    key = os.urandom(32)
    frames_seen = []
    rec = _record(tmp_path, key, mic, call)
    rec.subscribe(lambda f: frames_seen.append(f.shape))
    rec.start()
    try:
        assert rec.wait_ready(10), "no audio from Pulse within 10 s"
        players = [pulse.play(pulse.mic_sink, mic_wav), pulse.play(pulse.call_sink, call_wav)]
        for p in players:
            assert p.wait(30) == 0, p.stderr.read()
        time.sleep(0.4)
    finally:
        summary = rec.stop()
    assert summary.overruns == 0  # (gaps would show as a lower correlation below)
    audio = RecordingReader(summary.path, key).read_all()
    assert audio.shape[1] == 2 and len(audio) == summary.frames
    assert sum(s[0] for s in frames_seen) == summary.frames and all(s[1] == 2 for s in frames_seen)
    lag0, r0 = best_alignment(audio[:, 0], mic_ref)
    lag1, r1 = best_alignment(audio[:, 1], call_ref)
    assert r0 >= 0.99, f"mic channel r={r0:.4f}"
    assert r1 >= 0.99, f"call channel r={r1:.4f}"
    # no swap: each channel is far less like the other source
    assert best_alignment(audio[:, 0], call_ref)[1] < 0.5
    assert best_alignment(audio[:, 1], mic_ref)[1] < 0.5
    # both were started together: they land at about the same place on the shared timeline
    assert abs(lag0 - lag1) < 0.25 * 16000, (lag0, lag1)


def test_device_lost_midway_other_channel_continues(pulse, tmp_path):
    """Unloading the 'mic' sink mid-recording: DeviceLost(0), channel 0 silent afterwards,
    channel 1 keeps recording the call."""
    _mic_ref, call_ref, sr = jfk_parts()
    call_wav = write_at_rate(call_ref, sr, pulse.call_rate, tmp_path / "call.wav")
    tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(int(2.5 * sr)) / sr)).astype(np.float32)
    tone_wav = write_at_rate(tone, sr, pulse.mic_rate, tmp_path / "tone.wav")
    devs = dv.list_devices()
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    key = os.urandom(32)
    rec = _record(tmp_path, key, dv.resolve(pulse.mic_source, devs, "mic"),
                  dv.resolve(pulse.call_source, devs, "system"), bus=bus)
    rec.start()
    try:
        assert rec.wait_ready(10)
        call = pulse.play(pulse.call_sink, call_wav)
        mic = pulse.play(pulse.mic_sink, tone_wav)
        time.sleep(1.5)
        mic.kill()
        pulse.unload_sink(pulse.mic_sink)
        lost_at = rec.frames_out
        assert call.wait(30) == 0
        time.sleep(0.3)
    finally:
        summary = rec.stop()
    lost = [e for e in seen if isinstance(e, ev.DeviceLost)]
    assert [e.channel for e in lost] == [0], seen
    assert summary.reason == "user"
    reader = RecordingReader(summary.path, key)
    audio = reader.read_all()
    assert any(m["kind"] == "device_lost" and m["channel"] == 0 for m in reader.marks)
    # the mic had the tone before, and is digital silence from shortly after the loss
    assert np.abs(audio[: lost_at, 0]).max() > 0.1
    after = lost_at + int(0.5 * 16000)
    assert np.abs(audio[after:, 0]).max() == 0.0
    # the call channel carries the whole call, including after the loss
    _lag, r = best_alignment(audio[:, 1], call_ref)
    assert r >= 0.99
    assert len(audio) / 16000 > 4.0


def test_portaudio_pulse_device(pulse, tmp_path):
    """The PortAudio path (sounddevice → ALSA 'pulse' device → default source)."""
    import subprocess

    _mic_ref, call_ref, sr = jfk_parts()
    call_wav = write_at_rate(call_ref, sr, pulse.call_rate, tmp_path / "call.wav")
    before = subprocess.run(["pactl", "get-default-source"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["pactl", "set-default-source", pulse.call_source], check=True)
    try:
        devs = dv.list_devices()
        pa = [d for d in devs if d.host_api != "PulseAudio" and d.name == "pulse"]
        if not pa:
            pytest.skip("PortAudio has no ALSA 'pulse' device (libasound2-plugins missing)")
        key = os.urandom(32)
        rec = _record(tmp_path, key, pa[0], None)
        rec.start()
        try:
            assert rec.wait_ready(10)
            assert pulse.play(pulse.call_sink, call_wav).wait(30) == 0
            time.sleep(0.4)
        finally:
            summary = rec.stop()
    finally:
        if before:
            subprocess.run(["pactl", "set-default-source", before])
    audio = RecordingReader(summary.path, key).read_all()
    _lag, r = best_alignment(audio[:, 0], call_ref)
    assert r >= 0.99, r
    assert np.abs(audio[:, 1]).max() == 0.0  # absent system channel is silence
