"""Readable error messages: a KithError's message and hint, or a short sentence for
anything unexpected (the traceback goes to the log file, never to a dialog)."""
from __future__ import annotations

import logging

from app.core.errors import Cancelled, KithError

log = logging.getLogger("kith.ui")


def describe(exc: BaseException | None) -> tuple[str, str]:
    """(message, hint) for showing to a person."""
    if exc is None:
        return "Something went wrong.", ""
    if isinstance(exc, Cancelled):
        return "Cancelled.", ""
    if isinstance(exc, KithError):
        return exc.message, exc.hint or ""
    if isinstance(exc, MemoryError):
        return "Kith ran out of memory.", "Close other programs or choose a smaller model in Settings → Models."
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        name = getattr(exc, "filename", "") or ""
        what = "was not found" if isinstance(exc, FileNotFoundError) else "cannot be read or written"
        return f"{name or 'A file'} {what}.", "Check the path and its permissions."
    if isinstance(exc, OSError):
        return f"A system error stopped this: {exc.strerror or type(exc).__name__}.", "Check the disk space and the device, then try again."
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Something went wrong: {text[:200]}", "Details are in Kith's log file; try again."
