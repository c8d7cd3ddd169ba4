"""Calendars: add a feed, sync. One implementation for `kith calendar add-ics|sync` and the app."""
from __future__ import annotations

from app.ops.changes import Kind, OpChanges, OpResult

CALENDAR = OpChanges.of(Kind.CALENDAR)


def add_feed(store, location: str, name: str | None = None) -> OpResult[tuple]:
    """Import an iCalendar feed (a file or an https/webcal URL). The value is (source, report)."""
    from app.calendar.ics import add_feed as add

    return OpResult(add(store, str(location), name=name), CALENDAR)


def sync(store, cancel=None, only=None, if_due_minutes: int | None = None) -> OpResult[list | None]:
    """Fetch changes from every calendar (or the sources in ``only``). With ``if_due_minutes``:
    only when the last sync is older than that (the value is None when it was not due)."""
    from app.calendar.sync import due, sync_all
    from app.core.events import CancelToken

    if if_due_minutes is not None and not due(store, if_due_minutes):
        return OpResult(None)
    reports = sync_all(store, {}, cancel or CancelToken(), only=only)
    return OpResult(reports, CALENDAR if reports else OpChanges())
