"""File plumbing for model weights: hashing with progress, a verification cache, a
cross-process lock, and atomic writes.

The verification cache keeps ``(size, mtime_ns, sha256)`` per file in a small JSON sidecar
under ``<model cache>/.verified/`` so a second resolve of a 1 GB model costs one ``stat``.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Callable

from app.core.events import CancelToken

ProgressFn = Callable[[int, int], None]
CHUNK = 4 << 20


def sha256_file(path: Path, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                offset: int = 0, total: int | None = None) -> str:
    """sha256 of a file, reporting ``offset + bytes read`` of ``total`` as it goes."""
    h = hashlib.sha256()
    size = path.stat().st_size
    total = total if total is not None else size
    done = 0
    with open(path, "rb") as f:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            block = f.read(CHUNK)
            if not block:
                break
            h.update(block)
            done += len(block)
            if progress:
                progress(offset + done, total)
    return h.hexdigest()


class VerifyCache:
    def __init__(self, models_dir: Path):
        self.dir = models_dir / ".verified"

    def _entry(self, path: Path) -> Path:
        key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:24]
        return self.dir / f"{key}.json"

    def lookup(self, path: Path) -> str | None:
        """The cached sha256 if the file has not changed since it was hashed."""
        try:
            st = path.stat()
            data = json.loads(self._entry(path).read_text())
        except (OSError, ValueError):
            return None
        if data.get("path") == str(path.resolve()) and data.get("size") == st.st_size and data.get("mtime_ns") == st.st_mtime_ns:
            return data.get("sha256")
        return None

    def store(self, path: Path, sha256: str) -> None:
        try:
            st = path.stat()
            self.dir.mkdir(parents=True, exist_ok=True)
            entry = {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
            atomic_write_text(self._entry(path), json.dumps(entry))
        except OSError:
            pass  # a cache; failing to write it only costs a re-hash next time

    def forget(self, path: Path) -> None:
        try:
            self._entry(path).unlink()
        except OSError:
            pass


def temp_name(target: Path) -> Path:
    """A unique sibling of ``target`` (same directory, so os.replace is atomic)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")


def atomic_write_text(target: Path, text: str) -> None:
    tmp = temp_name(target)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class FileLock:
    """An exclusive advisory lock on ``path`` held across processes (flock / msvcrt)."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def __enter__(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+b")
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            import msvcrt
            import time

            while True:
                try:
                    self._fh.seek(0)
                    msvcrt.locking(self._fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.2)
        else:
            import fcntl

            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            if os.name == "nt":  # pragma: no cover
                import msvcrt

                self._fh.seek(0)
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
