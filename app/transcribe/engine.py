"""Loading faster-whisper models once and keeping them for reuse.

A :class:`WhisperCache` is a plain object the caller owns (the pipeline, the live meeting
session, the CLI) — no module-level singleton. Models are always loaded from a local
folder with ``local_files_only=True``: Kith never contacts a model hub.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.catalog import resolve_whisper
from app.core.errors import KithError
from app.core.events import CancelToken, EventBus
from app.core.paths import Paths


@dataclass
class LoadedWhisper:
    name: str  # catalog name or the path given
    path: Path
    model: object  # faster_whisper.WhisperModel
    threads: int

    @property
    def multilingual(self) -> bool:
        return bool(getattr(self.model, "model", None) is not None and self.model.model.is_multilingual)


def load_whisper(path: Path, threads: int = 2, name: str | None = None) -> LoadedWhisper:
    from app.core.native import quiet_onnxruntime

    quiet_onnxruntime()  # before faster-whisper's VAD imports onnxruntime: no telemetry files in ~/.cache
    from faster_whisper import WhisperModel

    try:
        model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads,
                             num_workers=1, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as e:
        raise KithError(f"could not load the Whisper model at {path}: {str(e).splitlines()[0][:200]}",
                        hint="the model files may be damaged: run `kith models verify`, or reinstall it") from e
    return LoadedWhisper(name=name or str(path), path=Path(path), model=model, threads=threads)


@dataclass
class WhisperCache:
    """Loaded models keyed by (resolved folder, threads)."""

    paths: Paths
    _models: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, name_or_path: str, threads: int = 2, progress=None, cancel: CancelToken | None = None,
            bus: EventBus | None = None) -> LoadedWhisper:
        folder = resolve_whisper(self.paths, name_or_path, progress, cancel, bus=bus)
        key = (str(folder), threads)
        with self._lock:
            lw = self._models.get(key)
            if lw is None:
                lw = load_whisper(folder, threads, name=str(name_or_path))
                self._models[key] = lw
            return lw

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
