"""Speech to text on this machine (faster-whisper): files and live audio.

    from app.transcribe import WhisperCache, transcribe_file, StreamingTranscriber
    cache = WhisperCache(kith.paths)                       # keep it: models load once
    t = transcribe_file(path, kith.paths, kith.settings.transcribe, cache=cache, bus=kith.bus)
    st = StreamingTranscriber(cache.get("tiny.en", 2), on_event=handler)

Names are loaded lazily so that `kith --help` does not import numpy/faster-whisper.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "transcribe_file": "app.transcribe.file",
    "Transcript": "app.transcribe.file",
    "speaker_for": "app.transcribe.file",
    "WhisperCache": "app.transcribe.engine",
    "LoadedWhisper": "app.transcribe.engine",
    "load_whisper": "app.transcribe.engine",
    "StreamingTranscriber": "app.transcribe.streaming",
    "PartialSegment": "app.transcribe.events",
    "FinalSegment": "app.transcribe.events",
    "Lagging": "app.transcribe.events",
    "CaughtUp": "app.transcribe.events",
    "StreamError": "app.transcribe.events",
    "render": "app.transcribe.formats",
    "FORMATS": "app.transcribe.formats",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'app.transcribe' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)
