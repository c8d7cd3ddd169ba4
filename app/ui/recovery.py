"""A live meeting survives the app. While recording, the notes pad and every final transcript
line are appended to the encrypted recording as side records (``Recorder.note``). If Kith
closed before Stop, the next start finds the unfinished recording, offers it back ("Kith
closed during *Acme pricing call* — recover the 12-minute recording and your notes?") and,
if the user agrees, finalizes the file with capture's own recovery (the one
``kith recordings recover`` runs) and stores it as a meeting with its transcript and notes.

These run on the task manager's DB lane; the main window asks the question."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from app.core.domain import Segment
from app.core.errors import KithError
from app.ui.live_session import LINE, LIVE_META, NOTES


@dataclass
class Unfinished:
    path: Path
    seconds: float
    title: str
    notes: str
    started_at: datetime
    calendar_event_id: int | None = None
    lines: list[Segment] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))

    def question(self) -> str:
        what = "your notes and the transcript" if self.notes.strip() else "the transcript"
        return (f"Kith closed during “{self.title}” — recover the {self.minutes}-minute recording and {what}?")


def _in_use(path: Path) -> bool:
    """True while another Kith process still writes the file (it holds the lock)."""
    from app.capture.container import _lock

    try:
        with open(path, "rb") as f:
            if not _lock(f):
                return True
    except OSError:
        return True
    return False


def find_unfinished_meetings(store, directory: Path) -> list[Unfinished]:
    """Recordings of the live page that a crash left unfinished, with what was autosaved."""
    from app.capture.container import RecordingReader, find_unfinished, info
    from app.capture.session import store_recordings_key

    if not Path(directory).is_dir():
        return []
    key = store_recordings_key(store)
    out = []
    for path in find_unfinished(directory):
        if _in_use(path):
            continue
        try:
            reader = RecordingReader(path, key)
            for _ in reader.blocks("int16"):
                pass
            seconds = info(path).seconds
        except (KithError, OSError, ValueError):
            continue
        meta = reader.meta or {}
        if not meta.get(LIVE_META):
            continue  # `kith record` files: `kith recordings recover` finalizes those
        notes, lines = "", []
        for m in reader.marks:
            if m.get("kind") == NOTES:
                notes = m.get("body") or ""
            elif m.get("kind") == LINE and m.get("text"):
                lines.append(Segment(float(m["start"]), float(m["end"]), m["text"], m.get("speaker") or "",
                                     int(m.get("channel", -1))))
        started = meta.get("started_at")
        out.append(Unfinished(path, seconds, meta.get("title") or path.stem, notes,
                              datetime.fromisoformat(started) if started else info(path).created_at,
                              meta.get("calendar_event_id"), lines))
    return out


def recover_as_meeting(kith, store, item: Unfinished, cancel=None):
    """Finalize the file (capture's recovery, as `kith recordings recover`) and store the meeting
    with its autosaved transcript and notes. Returns (meeting, segments)."""
    from datetime import timedelta

    from app.capture.container import recover
    from app.capture.session import store_recordings_key
    from app.ui.live_session import save_meeting

    result = recover([item.path], store_recordings_key(store))[0]
    if result.action not in ("recovered", "already_finished"):
        raise KithError(f"could not recover {item.path.name}: {result.message or result.action}",
                        hint="`kith recordings recover` tells more")
    seconds = result.seconds or item.seconds
    event = None
    if item.calendar_event_id:
        from app.calendar.repo import CalendarRepo

        try:
            event = CalendarRepo(store).get_event(int(item.calendar_event_id))
        except KithError:
            event = None
    return save_meeting(kith, store, title=item.title, started_at=item.started_at,
                        ended_at=item.started_at + timedelta(seconds=seconds) if item.started_at.tzinfo
                        else datetime.now(timezone.utc),
                        recording=(item.path, result.sample_rate or 16000, seconds), segments=item.lines,
                        notes=item.notes, event=event, calendar_event_id=item.calendar_event_id, cancel=cancel)
