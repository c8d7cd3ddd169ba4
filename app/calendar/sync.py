"""Sync every calendar source through its provider (a table of kinds, no if/elif chains).

Network is touched only here, and only when the user asks (``kith calendar sync``, the UI's
button) or when their own ``calendar.sync_minutes`` setting schedules it (:func:`due`).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from app.calendar.model import CalendarSource, SourceRecord, SyncReport
from app.core.errors import KithError

if TYPE_CHECKING:  # pragma: no cover
    from app.core.events import CancelToken
    from app.store.db import Store


def _google(record: SourceRecord, options: dict) -> CalendarSource:
    from app.calendar.google import GoogleCalendarSource

    return GoogleCalendarSource.from_record(record, options)


def _ics(record: SourceRecord, options: dict) -> CalendarSource:
    from app.calendar.ics import IcsSource

    return IcsSource.from_record(record, options)


# kind -> factory(record, options). Options: google_api_endpoint, now, timeout.
PROVIDERS: dict[str, Callable[[SourceRecord, dict], CalendarSource]] = {"google": _google, "ics": _ics}


def source_for(record: SourceRecord, options: dict | None = None) -> CalendarSource:
    try:
        factory = PROVIDERS[record.kind]
    except KeyError:
        raise KithError(f"calendar source {record.id} has an unknown kind {record.kind!r}",
                        hint="remove it with `kith calendar remove`") from None
    return factory(record, options or {})


def sync_all(store: "Store", options: dict | None = None, cancel: "CancelToken | None" = None,
             only: list[int] | None = None) -> list[SyncReport]:
    """Sync every enabled source; one failing source is reported and does not stop the others."""
    from app.calendar.repo import CalendarRepo

    reports: list[SyncReport] = []
    for rec in CalendarRepo(store).list_sources():
        if not rec.enabled or (only and rec.id not in only):
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            reports.append(source_for(rec, options).sync(store, cancel))
        except KithError as e:
            if type(e).__name__ == "Cancelled":
                raise
            reports.append(SyncReport(rec.id, rec.name, rec.kind, note=f"error: {e.message}"))
    return reports


def due(store: "Store", sync_minutes: int, now: datetime | None = None) -> bool:
    """True when the user's schedule (``calendar.sync_minutes`` > 0) says a sync is due."""
    from app.calendar.repo import CalendarRepo

    if sync_minutes <= 0:
        return False
    now = now or datetime.now(timezone.utc)
    sources = [s for s in CalendarRepo(store).list_sources() if s.enabled]
    return any(s.last_synced_at is None or now - s.last_synced_at >= timedelta(minutes=sync_minutes) for s in sources)
