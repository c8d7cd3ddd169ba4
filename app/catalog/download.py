"""Resumable, checksum-verified HTTP(S) downloads of model files.

* The bytes go to ``<dest>.part`` next to the destination; only a complete file whose
  sha256 matches is renamed (``os.replace``) to ``dest`` — no half file is ever used.
* An interrupted transfer keeps the ``.part``; the next attempt (an automatic retry, or a
  later run) asks for the rest with ``Range: bytes=N-``. A server that ignores ranges
  (200 instead of 206) makes us start over, safely.
* A wrong checksum deletes the partial file and raises :class:`KithError`.
* A lock file makes two processes downloading the same file wait for each other.

Only ever called when the user asked to install a model (``kith models install``).
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from app.catalog.files import FileLock, ProgressFn, remove_quietly
from app.core.errors import Cancelled, KithError
from app.core.events import CancelToken, EventBus, Progress

CHUNK = 64 << 10  # small reads: a cut connection loses at most one chunk
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ChecksumMismatch(KithError):
    pass


def _hash_prefix(path: Path, cancel: CancelToken | None) -> "hashlib._Hash":
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(4 << 20):
            if cancel is not None:
                cancel.raise_if_cancelled()
            h.update(block)
    return h


def download(
    url: str,
    dest: Path,
    sha256: str = "",
    *,
    size: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    bus: EventBus | None = None,
    allow_unverified: bool = False,
    retries: int = 3,
    timeout: float = 30.0,
    session=None,
) -> str:
    """Download ``url`` to ``dest``; return the sha256 of what was stored.

    ``sha256`` empty means the catalog cannot vouch for the file: refused unless
    ``allow_unverified``. ``retries`` is how many times an interrupted transfer is resumed
    within this call; the ``.part`` survives beyond it for a later call.
    """
    import requests

    sha256 = sha256.lower()
    if not sha256 and not allow_unverified:
        raise KithError(
            f"no checksum is known for {dest.name}; refusing an unverified download",
            hint="re-run with --allow-unverified if you trust the source",
        )
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    http = session or requests.Session()

    def report(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        if bus is not None:
            bus.emit(Progress(task=f"download {dest.name}", done=done, total=total))

    with FileLock(dest.with_name(f".{dest.name}.lock")):
        if dest.exists() and sha256:
            from app.catalog.files import sha256_file

            if sha256_file(dest, cancel=cancel) == sha256:
                return sha256  # someone (maybe another process) already finished it
            remove_quietly(dest)
        attempt = 0
        while True:
            try:
                digest = _attempt(http, url, part, size, timeout, report, cancel)
                break
            except Cancelled:
                raise  # the .part stays: a later install resumes it
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    _ShortRead) as e:
                attempt += 1
                if attempt > retries:
                    got = part.stat().st_size if part.exists() else 0
                    raise KithError(
                        f"download of {dest.name} interrupted after {got} bytes ({type(e).__name__})",
                        hint="run the same command again: it resumes where it stopped",
                    ) from e
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
        if sha256 and digest != sha256:
            remove_quietly(part)
            raise ChecksumMismatch(
                f"checksum mismatch for {dest.name}: expected {sha256[:12]}…, got {digest[:12]}…",
                hint="the download was corrupted or the file changed upstream; the partial file was deleted — try again",
            )
        os.replace(part, dest)
        return digest


class _ShortRead(Exception):
    """The server closed the connection before sending everything it promised."""


def _attempt(http, url: str, part: Path, size: int, timeout: float, report, cancel: CancelToken | None) -> str:
    import requests

    have = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = http.get(url, headers=headers, stream=True, timeout=timeout, allow_redirects=True)
    except requests.exceptions.InvalidURL as e:
        raise KithError(f"bad download URL {url!r}: {e}") from e
    with resp:
        if resp.status_code == 416 and have:
            # We already hold at least the whole file (e.g. the rename was interrupted).
            h = _hash_prefix(part, cancel)
            report(have, have)
            return h.hexdigest()
        if resp.status_code == 206 and have:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != have:
                raise KithError(f"the server answered a resume request with a wrong range ({resp.headers.get('Content-Range')!r})")
            total = int(m.group(3)) if m.group(3) != "*" else size
            h = _hash_prefix(part, cancel)
            mode = "ab"
        elif resp.status_code == 200:
            have = 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else size
            h = hashlib.sha256()
            mode = "wb"
        elif resp.status_code in (401, 403, 404, 410):
            raise KithError(f"download failed: HTTP {resp.status_code} for {url}", hint="the file moved or access is denied; check the catalog URL")
        else:
            raise requests.ConnectionError(f"HTTP {resp.status_code}")
        done = have
        report(done, total)
        with open(part, mode) as f:
            for block in resp.iter_content(CHUNK):
                if cancel is not None and cancel.cancelled:
                    f.flush()
                    raise Cancelled("download cancelled", hint="run the same command again to resume")
                if not block:
                    continue
                f.write(block)
                h.update(block)
                done += len(block)
                report(done, total)
            f.flush()
            os.fsync(f.fileno())
        if total and done < total:
            raise _ShortRead(f"got {done} of {total} bytes")
        return h.hexdigest()
