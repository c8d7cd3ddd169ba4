"""Calendar records and the one interface every provider implements.

Times are timezone-aware UTC; ``tz`` keeps the event's original IANA zone so a 09:00
meeting in New York still shows as 09:00 after a DST change. All-day events carry
``all_day=True`` and start/end at 00:00 UTC of their (local) dates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from app.core.events import CancelToken
    from app.store.db import Store


@dataclass
class Attendee:
    email: str = ""
    name: str = ""
    response: str = ""  # accepted | declined | tentative | needsAction | ""
    organizer: bool = False
    is_self: bool = False  # the calendar's owner (Google "self": true)

    @property
    def label(self) -> str:
        return self.name or self.email or "(unknown)"

    def to_dict(self) -> dict:
        return {"email": self.email, "name": self.name, "response": self.response,
                "organizer": self.organizer, "is_self": self.is_self}

    @classmethod
    def from_dict(cls, d: dict) -> "Attendee":
        return cls(email=d.get("email", "") or "", name=d.get("name", "") or "", response=d.get("response", "") or "",
                   organizer=bool(d.get("organizer")), is_self=bool(d.get("is_self")))


@dataclass
class CalendarEvent:
    external_id: str  # provider id of this (expanded) instance; unique within a source
    title: str
    start: datetime  # UTC
    end: datetime  # UTC
    tz: str = ""  # original IANA zone ("" = unknown/floating/all-day)
    all_day: bool = False
    attendees: list[Attendee] = field(default_factory=list)
    location: str = ""
    description: str = ""
    status: str = "confirmed"
    etag: str = ""
    source_id: int | None = None
    id: int | None = None

    def local_start(self) -> datetime:
        """Start in the event's own zone (or the machine's when unknown)."""
        return _in_zone(self.start, self.tz)

    def local_end(self) -> datetime:
        return _in_zone(self.end, self.tz)

    def day(self) -> date:
        return self.start.date() if self.all_day else self.local_start().date()

    def others(self) -> list[Attendee]:
        """Attendees other than the calendar's owner."""
        return [a for a in self.attendees if not a.is_self]


def _in_zone(dt: datetime, tz: str) -> datetime:
    if tz:
        try:
            from zoneinfo import ZoneInfo

            return dt.astimezone(ZoneInfo(tz))
        except Exception:  # unknown zone name: fall back to the machine's zone
            pass
    return dt.astimezone()


def utc(dt: datetime) -> datetime:
    """Aware UTC; naive values are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


@dataclass
class SourceRecord:
    """A row of ``calendar_sources``: one Google calendar of one account, or one .ics feed."""

    kind: str  # google | ics
    name: str  # what the user sees ("alice@example.com / Work", a feed's X-WR-CALNAME)
    config: dict[str, Any] = field(default_factory=dict)
    sync_token: str | None = None
    last_synced_at: datetime | None = None
    enabled: bool = True
    id: int | None = None


@dataclass
class SyncReport:
    source_id: int | None
    source: str
    kind: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    full: bool = False  # a full (re)sync rather than an incremental one
    seconds: float = 0.0
    note: str = ""

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed


@runtime_checkable
class CalendarSource(Protocol):
    """One provider instance bound to one ``calendar_sources`` row."""

    record: SourceRecord

    def sync(self, store: "Store", cancel: "CancelToken | None" = None) -> SyncReport:  # pragma: no cover
        ...
