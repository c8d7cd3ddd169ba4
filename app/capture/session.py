"""Wiring for callers (CLI, UI, meetings): the recordings key, recovery on start, and a
:class:`Recorder` on the devices the user chose in settings or on the command line.

    rec, notes = open_recorder(kith)              # default mic + the default output's monitor
    rec.subscribe(lambda f: (st.feed(f[:, 0], 0), st.feed(f[:, 1], 1)))
    rec.start(); rec.wait_ready(); ...; summary = rec.stop()
"""
from __future__ import annotations

from pathlib import Path

from app.capture.container import RecoveryResult, recover
from app.capture.recorder import Recorder


def store_recordings_key(store) -> bytes:
    """The recordings key: HKDF of the store's master key for purpose "recordings" (never logged)."""
    from app.store.keys import derive_subkey

    return derive_subkey(store.master_key, "recordings")


def recordings_key(kith) -> bytes:
    return store_recordings_key(kith.store())


def recording_file(store, recording_id: int | None) -> tuple[Path, int] | None:
    """(path, sample rate) of a registered recording, or None."""
    from app.store import recordings

    return recordings.file_of(store, recording_id)


def read_recording(store, path) -> tuple:
    """Decrypt a whole recording in memory: (frames × channels float32, sample rate). Nothing is
    written in the clear (``kith recordings export`` is the only way to get a plain file)."""
    from app.capture.container import RecordingReader

    reader = RecordingReader(Path(path), store_recordings_key(store))
    return reader.read_all(), reader.sample_rate


def recover_on_start(kith, key: bytes | None = None) -> list[RecoveryResult]:
    """Finalize recordings a crash left unfinished (cheap when there are none)."""
    directory = kith.paths.ensure().recordings
    return recover(directory, key if key is not None else recordings_key(kith))


def open_recorder(kith, mic: str | None = "", system: str | None = "", key: bytes | None = None,
                  meta: dict | None = None) -> tuple[Recorder, list[str]]:
    """A not-yet-started Recorder. ``mic``/``system``: a device spec, "" = settings or the
    default device, None = that channel off. Returns notes to show (e.g. no system-audio
    device on macOS without BlackHole). Raises KithError when nothing can be recorded."""
    from app import __version__
    from app.capture import devices as dv

    cfg = kith.settings.capture
    mic_spec = None if mic is None else (mic or cfg.mic or "")
    sys_spec = None if system is None else (system or cfg.system or "")
    mic_dev, sys_dev, notes = dv.choose(mic_spec, sys_spec)
    sources = [dv.open_source(d, cfg.sample_rate) if d else None for d in (mic_dev, sys_dev)]
    rec = Recorder(kith.paths.ensure().recordings, key if key is not None else recordings_key(kith),
                   sources[0], sources[1], sample_rate=cfg.sample_rate, bus=kith.bus,
                   silence_warning_s=cfg.silence_warning_s, min_free_disk_mb=cfg.min_free_disk_mb,
                   meta={"app": f"kith {__version__}", **(meta or {})})
    rec.devices = (mic_dev, sys_dev)
    return rec, notes
