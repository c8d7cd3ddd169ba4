"""Input devices: microphones and loopback/monitor sources, and how to open them.

* Linux: PulseAudio or PipeWire (pipewire-pulse). Sources are listed with ``pactl`` and each
  named source — a mic or the ``.monitor`` of an output — is opened through ``parec
  --device=NAME`` (:class:`~app.capture.sources.PulseSource`). That picks a specific source
  per stream without changing the user's default source or this process's environment
  (PortAudio reaches Pulse only through the ALSA "pulse"/"default" device, which follows
  the default source). PortAudio devices are listed too and usable by index or name.
* Windows: WASAPI. PortAudio builds with loopback support list each output a second time as an
  input named "… [Loopback]"; the system channel uses the loopback of the default output.
  Without such a build Kith says so and suggests a virtual cable (VB-CABLE).
* macOS: no loopback API; install a virtual device (BlackHole), route the call's output to a
  Multi-Output Device that includes it, and set ``capture.system`` to its name.

A device spec (``--mic``/``--system``, settings ``capture.mic``/``capture.system``) is an id from
``kith devices`` (``pulse:NAME``, ``sd:INDEX``), a Pulse source name, a PortAudio index, or a
unique part of a device name.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Literal

from app.core.errors import KithError

Kind = Literal["mic", "monitor", "loopback", "virtual"]
_VIRTUAL_HINTS = ("blackhole", "loopback audio", "soundflower", "vb-audio", "cable output", "vb-cable")


@dataclass(frozen=True)
class InputDevice:
    id: str  # "pulse:NAME" or "sd:INDEX" — what --mic/--system accept
    name: str
    description: str
    host_api: str
    kind: Kind
    channels: int
    default_samplerate: float
    is_default: bool = False
    pulse_index: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _pactl(*args: str, timeout: float = 3.0) -> str | None:
    try:
        r = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def pulse_defaults() -> tuple[str, str] | None:
    """(default source, default sink) from ``pactl info``; None if no Pulse server answers."""
    out = _pactl("info")
    if out is None:
        return None
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        vals[k.strip()] = v.strip()
    return vals.get("Default Source", ""), vals.get("Default Sink", "")


def pulse_sources() -> list[InputDevice]:
    defaults = pulse_defaults()
    if defaults is None:
        return []
    default_source, default_sink = defaults
    out = _pactl("-f", "json", "list", "sources")
    items: list[dict] = []
    if out:
        try:
            items = json.loads(out)
        except ValueError:
            items = []
    if not items:  # older pactl: no JSON; fall back to the short listing
        short = _pactl("list", "sources", "short") or ""
        for line in short.splitlines():
            parts = line.split("\t")
            if len(parts) >= 4:
                items.append({"index": int(parts[0]), "name": parts[1], "sample_specification": parts[3]})
    devs = []
    for it in items:
        name = it.get("name", "")
        props = it.get("properties") or {}
        monitor = props.get("device.class") == "monitor" or name.endswith(".monitor")
        spec = it.get("sample_specification", "")
        ch, rate = 2, 48000.0
        for tok in spec.split():
            if tok.endswith("ch"):
                ch = int(tok[:-2] or 2)
            elif tok.endswith("Hz"):
                rate = float(tok[:-2])
        is_default = (name == f"{default_sink}.monitor") if monitor else (name == default_source)
        devs.append(InputDevice(id=f"pulse:{name}", name=name, description=it.get("description", name),
                                host_api="PulseAudio", kind="monitor" if monitor else "mic", channels=ch,
                                default_samplerate=rate, is_default=is_default, pulse_index=it.get("index")))
    return devs


def portaudio_inputs(refresh: bool = True) -> list[InputDevice]:
    import sounddevice as sd

    if refresh:  # PortAudio enumerates once at initialisation; re-read to see plugged devices
        try:
            sd._terminate()
            sd._initialize()
        except Exception:
            pass
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception:
        return []
    default_in = sd.default.device[0] if sd.default.device else -1
    out = []
    for d in devices:
        if d["max_input_channels"] < 1:
            continue
        api = apis[d["hostapi"]]["name"]
        low = d["name"].lower()
        if "wasapi" in api.lower() and "[loopback]" in low:
            kind: Kind = "loopback"
        elif any(h in low for h in _VIRTUAL_HINTS):
            kind = "virtual"
        elif low.endswith(".monitor") or "monitor of" in low:
            kind = "monitor"
        else:
            kind = "mic"
        out.append(InputDevice(id=f"sd:{d['index']}", name=d["name"], description=d["name"], host_api=api, kind=kind,
                               channels=d["max_input_channels"], default_samplerate=d["default_samplerate"],
                               is_default=d["index"] == default_in))
    return out


def list_devices(refresh: bool = True) -> list[InputDevice]:
    """Pulse sources (Linux) first, then PortAudio inputs. ``refresh`` re-initialises PortAudio
    to see devices plugged in since start — it closes PortAudio streams, so pass False while a
    recording through a PortAudio device (SoundDeviceSource) is running in this process."""
    devs: list[InputDevice] = []
    if sys.platform.startswith("linux"):
        devs.extend(pulse_sources())
    devs.extend(portaudio_inputs(refresh=refresh))
    return devs


def _no_devices_error() -> KithError:
    if sys.platform.startswith("linux"):
        hint = ("is PulseAudio/PipeWire running? `pactl info` should answer; plug in a microphone "
                "or check `kith devices`")
    elif sys.platform == "darwin":
        hint = "allow microphone access for your terminal in System Settings → Privacy & Security → Microphone"
    else:
        hint = "check Settings → System → Sound → Input, and microphone privacy settings"
    return KithError("no audio input devices found", hint=hint)


def default_mic(devices: list[InputDevice]) -> InputDevice | None:
    """The default microphone. With Pulse, only real Pulse sources count: PortAudio's ALSA
    "pulse"/"default" devices follow the default source, which may be a monitor."""
    pulse = any(d.host_api == "PulseAudio" for d in devices)
    candidates = [d for d in devices if d.kind == "mic" and not (pulse and d.host_api != "PulseAudio")]
    for pred in (lambda d: d.is_default, lambda d: d.name not in ("pulse", "default"), lambda d: True):
        for d in candidates:
            if pred(d):
                return d
    return None


def default_system(devices: list[InputDevice]) -> InputDevice | None:
    """The monitor of the default output (Linux), the default output's loopback (Windows), or a
    virtual device such as BlackHole (macOS)."""
    for pred in (lambda d: d.kind == "monitor" and d.is_default,
                 lambda d: d.kind == "monitor",
                 lambda d: d.kind == "loopback" and _is_default_output_loopback(d),
                 lambda d: d.kind == "loopback",
                 lambda d: d.kind == "virtual"):
        for d in devices:
            if pred(d):
                return d
    return None


def _is_default_output_loopback(d: InputDevice) -> bool:
    try:
        import sounddevice as sd

        out = sd.query_devices(kind="output")
        return d.name.lower().startswith(out["name"].lower())
    except Exception:
        return False


def system_missing_hint() -> str:
    if sys.platform == "darwin":
        return ("macOS has no system-audio capture: install BlackHole (brew install blackhole-2ch), add it to a "
                "Multi-Output Device with your speakers, and set system = \"BlackHole 2ch\" under [capture] in the settings "
                "file (`kith doctor` shows where)")
    if sys.platform == "win32":
        return ("this PortAudio build lists no WASAPI loopback devices: update sounddevice/PortAudio (≥ 19.7 with "
                "loopback), or install VB-CABLE and choose 'CABLE Output' with --system")
    return "no monitor source found: is PulseAudio/PipeWire running? see `pactl list sources short`"


def resolve(spec: str, devices: list[InputDevice], role: str) -> InputDevice:
    """Find the device a user named. Raises KithError listing candidates when none or several match."""
    spec = spec.strip()
    if not devices:
        raise _no_devices_error()
    for d in devices:
        if spec == d.id or (d.host_api == "PulseAudio" and spec == d.name):
            return d
    if spec.isdigit():
        for d in devices:
            if d.id == f"sd:{spec}":
                return d
    low = spec.lower()
    matches = [d for d in devices if low in d.name.lower() or low in d.description.lower()]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f"{d.id} ({d.description})" for d in (matches or devices)[:8])
    if matches:
        raise KithError(f"--{role} {spec!r} matches several devices: {names}", hint="use the exact id from `kith devices`")
    raise KithError(f"no input device matches --{role} {spec!r}", hint=f"run `kith devices`; available: {names}")


def choose(mic_spec: str | None, system_spec: str | None, devices: list[InputDevice] | None = None
           ) -> tuple[InputDevice | None, InputDevice | None, list[str]]:
    """Pick (mic, system, notes). A spec of None means "this channel off"; "" means the default.
    Raises KithError when no input device exists at all or neither channel can be opened."""
    devices = list_devices() if devices is None else devices
    if not devices:
        raise _no_devices_error()
    notes: list[str] = []
    mic = sysdev = None
    if mic_spec is not None:
        mic = resolve(mic_spec, devices, "mic") if mic_spec else default_mic(devices)
        if mic is None:
            notes.append("no microphone found: recording system audio only")
    if system_spec is not None:
        sysdev = resolve(system_spec, devices, "system") if system_spec else default_system(devices)
        if sysdev is None:
            notes.append("system audio not captured — " + system_missing_hint())
    if mic is not None and sysdev is not None and mic.id == sysdev.id:
        raise KithError(f"mic and system audio are the same device ({mic.id})", hint="pick another with --mic or --system")
    if mic is None and sysdev is None:
        raise KithError("nothing to record: no microphone and no system-audio source", hint="; ".join(notes) or None)
    return mic, sysdev, notes


def open_source(dev: InputDevice, samplerate: int):
    """A :class:`~app.capture.sources.Source` for a device, delivering mono float32."""
    from app.capture.sources import PulseSource, SoundDeviceSource

    if dev.host_api == "PulseAudio":
        # Read at the source's own rate and resample in Kith: Pulse's default resampler
        # (speex-float-1) measurably smears 44.1 kHz → 16 kHz; ours is band-limited sinc.
        return PulseSource(dev.name, dev.default_samplerate or samplerate, index=dev.pulse_index, name=dev.name)
    index = int(dev.id.split(":", 1)[1])
    rate = _pick_rate(index, samplerate, dev.default_samplerate)
    return SoundDeviceSource(index, rate, channels=min(dev.channels, 2), name=dev.name)


def _pick_rate(index: int, wanted: int, native: float) -> float:
    import sounddevice as sd

    try:
        sd.check_input_settings(device=index, samplerate=wanted, channels=1, dtype="float32")
        return float(wanted)
    except Exception:
        return float(native)  # the recorder resamples
