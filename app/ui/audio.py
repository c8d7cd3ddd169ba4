"""Audio for the app: where a live meeting's sound comes from, and playing back the moment
a source link points at.

Live sources are capture's own (:mod:`app.capture.sources`): the configured microphone and
system-audio devices, or a :class:`~app.capture.sources.FileSource` that replays a WAV in
real time through the same interface (demos, tests, screenshots).

Playback: PySide6-Essentials has no QtMultimedia, so playback uses sounddevice (PortAudio),
already a core dependency. A meeting's audio is its encrypted recording (decrypted in memory
with the recordings subkey) or the file it was processed from.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from app.context import Kith
from app.core.errors import KithError


@dataclass
class LiveSources:
    mic: object | None
    system: object | None
    mic_name: str = ""
    system_name: str = ""
    notes: list = None  # type: ignore[assignment]  # e.g. "system audio not captured — …"


class AudioSourceFactory(Protocol):
    def __call__(self, kith: Kith) -> LiveSources: ...


def default_source_factory(kith: Kith) -> LiveSources:
    """The devices chosen in Settings (or the system defaults), opened through capture."""
    from app.capture.devices import choose, open_source

    s = kith.settings.capture
    mic, system, notes = choose(s.mic, s.system)
    return LiveSources(
        mic=open_source(mic, s.sample_rate) if mic is not None else None,
        system=open_source(system, s.sample_rate) if system is not None else None,
        mic_name=getattr(mic, "name", "") if mic is not None else "",
        system_name=getattr(system, "name", "") if system is not None else "",
        notes=list(notes),
    )


def wav_source_factory(them: Path, you: Path | None = None, realtime: bool = True, loop: bool = False
                       ) -> Callable[[Kith], LiveSources]:
    """Replay WAV files (in real time) as the call's audio ("Them") and optionally the microphone ("You")."""

    def make(_kith: Kith) -> LiveSources:
        from app.capture.sources import FileSource

        return LiveSources(
            mic=FileSource(Path(you), loop=loop, name=f"replay {Path(you).name}") if you else None,
            system=FileSource(Path(them), loop=loop, name=f"replay {Path(them).name}"),
            mic_name=Path(you).name if you else "",
            system_name=Path(them).name,
        )

    return make


def load_meeting_audio(store, meeting) -> tuple[object, int] | None:
    """(mono float32 samples, rate) of a meeting, or None when no audio is kept. DB thread."""
    import numpy as np

    from app.capture.session import read_recording, recording_file

    rec = recording_file(store, meeting.recording_id)
    if rec is not None and rec[0].exists():
        data, rate = read_recording(store, rec[0])
        data = data.mean(axis=1) if getattr(data, "ndim", 1) == 2 else data
        return np.asarray(data, dtype=np.float32), rate
    src = Path(meeting.source_file) if meeting.source_file else None
    if src is not None and src.exists() and src.suffix.lower() in {".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif"}:
        import soundfile as sf

        try:
            data, rate = sf.read(str(src), dtype="float32", always_2d=True)
        except Exception as e:  # noqa: BLE001
            raise KithError(f"cannot read the meeting's audio {src.name}: {e}", hint="the file may have moved or be damaged") from e
        return data.mean(axis=1), int(rate)
    return None


class AudioPlayer:
    """Plays a slice of a meeting's audio on the default output (sounddevice), off the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.playing = False
        self.last_error: BaseException | None = None

    def play(self, samples, rate: int, start: float, end: float, on_error: Callable[[BaseException], None] | None = None) -> None:
        a = max(0, int(start * rate))
        b = min(len(samples), int(max(end, start + 0.5) * rate))
        clip = samples[a:b]

        def run() -> None:
            try:
                import sounddevice as sd

                with self._lock:
                    self.playing = True
                sd.play(clip, rate, blocking=True)
            except Exception:  # noqa: BLE001 — no output device is a normal state on a server
                self.last_error = KithError("cannot play audio: no usable output device",
                                            hint="connect speakers or headphones; the transcript is highlighted anyway")
                if on_error is not None:
                    on_error(self.last_error)
            finally:
                self.playing = False

        threading.Thread(target=run, name="kith-playback", daemon=True).start()

    def stop(self) -> None:
        try:
            import sounddevice as sd

            sd.stop()
        except Exception:  # noqa: BLE001
            pass
