"""Device choice on each platform's device list (Windows and macOS lists as PortAudio reports them)."""
from __future__ import annotations

import pytest

from app.capture import devices as dv
from app.core.errors import KithError


def _sd(i, name, api, kind="mic", default=False, ch=2):
    return dv.InputDevice(f"sd:{i}", name, name, api, kind, ch, 48000.0, default)


WINDOWS = [
    _sd(1, "Microphone (Realtek Audio)", "MME", default=True),
    _sd(7, "Microphone (Realtek Audio)", "Windows WASAPI"),
    _sd(9, "Speakers (Realtek Audio) [Loopback]", "Windows WASAPI", kind="loopback"),
    _sd(10, "Headphones (Jabra) [Loopback]", "Windows WASAPI", kind="loopback"),
]
MAC = [
    _sd(0, "MacBook Pro Microphone", "Core Audio", default=True, ch=1),
    _sd(2, "BlackHole 2ch", "Core Audio", kind="virtual"),
]
LINUX = [
    dv.InputDevice("pulse:alsa_output.pci.analog-stereo.monitor", "alsa_output.pci.analog-stereo.monitor",
                   "Monitor of Built-in Audio", "PulseAudio", "monitor", 2, 48000.0, True, 1),
    dv.InputDevice("pulse:alsa_input.pci.analog-stereo", "alsa_input.pci.analog-stereo", "Built-in Audio",
                   "PulseAudio", "mic", 2, 48000.0, True, 2),
    _sd(0, "pulse", "ALSA"),
    _sd(1, "default", "ALSA", default=True),
]


def test_windows_uses_wasapi_loopback_for_system_audio():
    mic, system, notes = dv.choose("", "", WINDOWS)
    assert mic.id == "sd:1" and system.kind == "loopback" and notes == []
    assert dv.resolve("Jabra", WINDOWS, "system").id == "sd:10"


def test_windows_without_loopback_records_the_mic_with_a_clear_note(monkeypatch):
    monkeypatch.setattr(dv.sys, "platform", "win32")
    mic, system, notes = dv.choose("", "", WINDOWS[:2])
    assert system is None and mic is not None
    assert "WASAPI loopback" in notes[0] and "VB-CABLE" in notes[0]


def test_macos_uses_the_virtual_device(monkeypatch):
    mic, system, _ = dv.choose("", "", MAC)
    assert mic.name == "MacBook Pro Microphone" and system.name == "BlackHole 2ch"
    monkeypatch.setattr(dv.sys, "platform", "darwin")
    _mic, system, notes = dv.choose("", "", MAC[:1])
    assert system is None and "BlackHole" in notes[0] and "Multi-Output" in notes[0]


def test_linux_prefers_pulse_sources_over_the_alsa_pulse_device():
    mic, system, _ = dv.choose("", "", LINUX)
    assert mic.id == "pulse:alsa_input.pci.analog-stereo"
    assert system.id == "pulse:alsa_output.pci.analog-stereo.monitor"
    assert dv.resolve("1", LINUX, "mic").name == "default"  # a PortAudio index


def test_bad_choices_are_clear_errors():
    with pytest.raises(KithError, match="no input device matches --mic 'nope'"):
        dv.choose("nope", "", LINUX)
    with pytest.raises(KithError, match="matches several devices"):
        dv.resolve("Realtek", WINDOWS, "mic")
    with pytest.raises(KithError, match="same device"):
        dv.choose("sd:9", "sd:9", WINDOWS)
    with pytest.raises(KithError, match="no audio input devices found"):
        dv.choose("", "", [])
    with pytest.raises(KithError, match="nothing to record"):
        dv.choose(None, "", MAC[:1])
