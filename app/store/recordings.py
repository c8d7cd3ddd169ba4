"""The ``recordings`` table: which encrypted recording files Kith knows of (the files themselves
are written by ``app.capture``; this repository only registers and finds them)."""
from __future__ import annotations

from pathlib import Path

from app.store._util import now_iso

STATES = ("recording", "finished", "recovered")


def register(store, path: Path, sample_rate: int, seconds: float, channels: int = 2, state: str = "finished") -> int:
    """Record a recording file; returns its id."""
    if state not in STATES:
        raise ValueError(f"recording state must be one of {', '.join(STATES)}, not {state!r}")
    now = now_iso()
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO recordings (path, channels, sample_rate, duration, state, meta, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)", (str(path), channels, sample_rate, seconds, state, "{}", now, now))
        return int(cur.lastrowid)


def file_of(store, recording_id: int | None) -> tuple[Path, int] | None:
    """(path, sample rate) of a registered recording, or None."""
    if recording_id is None:
        return None
    row = store.conn.execute("SELECT path, sample_rate FROM recordings WHERE id = ?", (recording_id,)).fetchone()
    return (Path(row[0]), int(row[1])) if row else None
