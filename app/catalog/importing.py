"""`kith models import PATH`: adopt a local CTranslate2 Whisper folder or GGUF file.

By default the files are *copied* into the model cache (the model keeps working if the
original is moved or deleted); ``link=True`` only *registers* the path where it is. Either
way the main file's sha256 is recorded in the user catalog so later loads are verified.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import tomli_w

from app.catalog.catalog import USER_CATALOG, load_catalog
from app.catalog.files import FileLock, ProgressFn, VerifyCache, atomic_write_text, sha256_file, temp_name
from app.catalog.install import _check_whisper_dir, check_gguf
from app.core.errors import KithError
from app.core.events import CancelToken
from app.core.paths import Paths


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-").lower() or "model"


def import_model(paths: Paths, path: str | os.PathLike, name: str | None = None, *, link: bool = False,
                 progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> dict:
    """Register a local model; returns the user-catalog entry written."""
    src = Path(path).expanduser().resolve()
    if not src.exists():
        raise KithError(f"{src} does not exist")
    if src.is_dir():
        kind = "whisper"
        _check_whisper_dir(src)
        main = src / "model.bin"
    else:
        kind = "llm"
        check_gguf(src)
        main = src
    name = _slug(name or (src.name if kind == "whisper" else src.stem))
    cat = load_catalog(paths)
    if name in cat:
        raise KithError(f"a model named {name!r} already exists", hint="pass --name to choose another name")
    sha = sha256_file(main, progress, cancel)
    paths.models.mkdir(parents=True, exist_ok=True)
    if link:
        entry_path = src
    else:
        dest_dir = paths.models / name
        dest_dir.mkdir(parents=True, exist_ok=True)
        items = [p for p in src.iterdir() if p.is_file()] if kind == "whisper" else [src]
        for item in items:
            if cancel is not None:
                cancel.raise_if_cancelled()
            tmp = temp_name(dest_dir / item.name)
            shutil.copyfile(item, tmp)
            os.replace(tmp, dest_dir / item.name)
        entry_path = dest_dir if kind == "whisper" else dest_dir / src.name
        VerifyCache(paths.models).store(entry_path / "model.bin" if kind == "whisper" else entry_path, sha)
    entry = {
        "name": name,
        "kind": kind,
        "languages": [],
        "size": main.stat().st_size,
        "sha256": sha,
        "description": f"imported from {src}" + (" (linked in place)" if link else " (copied)"),
        "source": {"type": "local", "path": str(entry_path), "main": "model.bin" if kind == "whisper" else src.name},
    }
    user_file = paths.models / USER_CATALOG
    with FileLock(paths.models / ".user-catalog.lock"):
        import tomllib

        data = tomllib.loads(user_file.read_text(encoding="utf-8")) if user_file.exists() else {}
        data.setdefault("model", []).append(entry)
        atomic_write_text(user_file, tomli_w.dumps(data))
    return entry
