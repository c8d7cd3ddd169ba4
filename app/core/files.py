"""Writing user-facing files safely: outputs checked before long work, private (0600) plain-text
copies, atomic replacement, and OS errors (full disk, a folder where a file should be, a
missing folder) turned into one clear :class:`KithError`."""
from __future__ import annotations

import errno
import os
from pathlib import Path

from app.core.errors import KithError

_REASONS = {
    errno.ENOSPC: ("the disk is full", "free some space and run the command again; nothing was changed"),
    errno.EDQUOT: ("the disk quota is exhausted", "free some space and run the command again"),
    errno.EACCES: ("permission denied", "choose a place you can write to"),
    errno.EPERM: ("permission denied", "choose a place you can write to"),
    errno.EROFS: ("the file system is read-only", "choose a writable place"),
    errno.EISDIR: ("it is a folder, not a file", "give a file name (e.g. add /name.txt)"),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter path"),
}


def os_error(e: OSError, path: Path | str | None = None, doing: str = "write") -> KithError:
    """A KithError for an OSError (``doing`` = write/read/…)."""
    where = path if path is not None else (e.filename or "")
    reason, hint = _REASONS.get(e.errno, (e.strerror or type(e).__name__, "check the path and try again"))
    if not where:
        return KithError(f"the command could not finish: {reason}", hint=hint)
    return KithError(f"could not {doing} {where}: {reason}", hint=hint)


def check_output(path: Path | str, option: str = "-o", overwrite: bool = True) -> Path:
    """Refuse an output path that cannot be written — before any long work starts."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise KithError(f"{option} {p}: is a folder, not a file", hint=f"give a file name, e.g. {p / 'out.txt'}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise KithError(f"{option} {p}: the folder {parent} does not exist", hint="create it first or choose another place")
    if not parent.is_dir():
        raise KithError(f"{option} {p}: {parent} is not a folder", hint="check the path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise KithError(f"{option} {p}: cannot write in {parent} (permission denied)", hint="choose a place you can write to")
    if p.exists() and not overwrite:
        raise KithError(f"{option} {p}: already exists", hint="choose another name or remove the file")
    return p


def write_private(path: Path | str, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Atomically write ``data`` to ``path`` with mode 0600 (owner only). Nothing is left behind
    on error, and an existing file stays as it was."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    raw = data.encode(encoding) if isinstance(data, str) else data
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # O_CREAT honours the umask; an old tmp file keeps its mode
            view = memoryview(raw)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, p)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise os_error(e, p) from e
    return p


def read_user_text(path: Path | str, what: str, hint: str, max_bytes: int, error: type[KithError] = KithError) -> str:
    """A text file the user gave us (a transcript, their notes), read with one clear ``error`` for
    each way it can be wrong: missing, a folder, too big, not UTF-8, binary, unreadable.
    ``what`` starts each message (e.g. "--notes notes.txt"); ``hint`` says what to give instead."""
    p = Path(path).expanduser()
    if not p.exists():
        raise error(f"{what}: no such file", hint=hint)
    if p.is_dir():
        raise error(f"{what}: is a folder, not a file", hint=hint)
    try:
        if p.stat().st_size > max_bytes:
            raise error(f"{what}: larger than {max_bytes // 2**20} MB", hint=hint)
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{what}: not UTF-8 text", hint="save it as UTF-8 (most editors: Save as… → UTF-8)") from None
    except OSError as e:
        raise os_error(e, p, "read") from None
    if "\x00" in text:
        raise error(f"{what}: binary data, not text", hint=hint)
    return text
