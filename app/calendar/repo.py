"""All calendar and brief data access, over the store's connection (tables from app/store
migrations: ``calendar_sources``, ``calendar_events``, ``briefs``).

The schema has no columns for an event's original time zone or its all-day flag, so they
are encoded in ``start``/``end`` here and only here:
* a timed event: UTC ISO instant, optionally followed by the IANA zone in brackets
  (RFC 9557), e.g. ``2026-03-09T13:00:00.000000+00:00[America/New_York]``;
* an all-day event: the bare date, ``2026-03-09`` (end exclusive, as in iCalendar).
Both sort correctly as text. When the store gains ``tz``/``all_day`` columns only
``_enc``/``_dec`` change.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from app.calendar.model import Attendee, CalendarEvent, SourceRecord, utc
from app.core.errors import NotFound

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _ts(v: datetime) -> str:
    return utc(v).isoformat(timespec="microseconds")


def _enc(v: datetime, tz: str, all_day: bool) -> str:
    if all_day:
        return utc(v).date().isoformat()
    return _ts(v) + (f"[{tz}]" if tz else "")


def _dec(s: str | None) -> tuple[datetime | None, str, bool]:
    if not s:
        return None, "", False
    tz = ""
    if s.endswith("]") and "[" in s:
        s, tz = s[:-1].split("[", 1)
    if len(s) == 10:
        d = date.fromisoformat(s)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc), "", True
    v = datetime.fromisoformat(s)
    return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)), tz, False


def _rows(cur: Any) -> list[dict]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


class CalendarRepo:
    def __init__(self, store: "Store"):
        self.store = store
        self.conn = store.conn

    # -- sources ---------------------------------------------------------------------------
    @staticmethod
    def _source(r: dict) -> SourceRecord:
        cfg = json.loads(r["config"] or "{}")
        synced = datetime.fromisoformat(r["synced_at"]) if r.get("synced_at") else None
        return SourceRecord(kind=r["kind"], name=r["name"], config=cfg, sync_token=r["sync_token"],
                            last_synced_at=synced, enabled=bool(cfg.get("enabled", True)), id=r["id"])

    def add_source(self, rec: SourceRecord) -> SourceRecord:
        cfg = dict(rec.config, enabled=rec.enabled)
        with self.store.transaction():
            cur = self.conn.execute(
                "INSERT INTO calendar_sources (kind, name, config, sync_token, synced_at, created_at) VALUES (?,?,?,?,?,?)",
                (rec.kind, rec.name, json.dumps(cfg), rec.sync_token,
                 _ts(rec.last_synced_at) if rec.last_synced_at else None, _now()))
            rec.id = cur.lastrowid
        return rec

    def update_source(self, rec: SourceRecord) -> None:
        cfg = dict(rec.config, enabled=rec.enabled)
        with self.store.transaction():
            self.conn.execute("UPDATE calendar_sources SET name=?, config=?, sync_token=?, synced_at=? WHERE id=?",
                              (rec.name, json.dumps(cfg), rec.sync_token,
                               _ts(rec.last_synced_at) if rec.last_synced_at else None, rec.id))

    def get_source(self, id: int) -> SourceRecord:
        rows = _rows(self.conn.execute("SELECT * FROM calendar_sources WHERE id=?", (id,)))
        if not rows:
            raise NotFound(f"no calendar source {id}", hint="see `kith calendar list`")
        return self._source(rows[0])

    def list_sources(self, kind: str | None = None) -> list[SourceRecord]:
        if kind:
            cur = self.conn.execute("SELECT * FROM calendar_sources WHERE kind=? ORDER BY id", (kind,))
        else:
            cur = self.conn.execute("SELECT * FROM calendar_sources ORDER BY id")
        return [self._source(r) for r in _rows(cur)]

    def delete_source(self, id: int) -> None:
        with self.store.transaction():
            self.conn.execute("DELETE FROM calendar_sources WHERE id=?", (id,))

    def count_events(self, source_id: int | None = None) -> int:
        if source_id is None:
            return self.conn.execute("SELECT count(*) FROM calendar_events").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM calendar_events WHERE source_id=?", (source_id,)).fetchone()[0]

    # -- events ----------------------------------------------------------------------------
    @staticmethod
    def _event(r: dict) -> CalendarEvent:
        start, tz, all_day = _dec(r["start"])
        end, _, _ = _dec(r["end"])
        return CalendarEvent(
            external_id=r["external_id"], title=r["title"], start=start, end=end or start, tz=tz, all_day=all_day,
            attendees=[Attendee.from_dict(a) for a in json.loads(r["attendees"] or "[]")],
            location=r["location"], description=r["description"], status=r["status"], etag=r["etag"] or "",
            source_id=r["source_id"], id=r["id"])

    @staticmethod
    def _values(e: CalendarEvent) -> tuple:
        return (e.title, _enc(e.start, e.tz, e.all_day), _enc(e.end, "", e.all_day),
                json.dumps([a.to_dict() for a in e.attendees], ensure_ascii=False), e.location, e.description,
                e.etag, e.status or "confirmed")

    def _existing(self, source_id: int) -> dict[str, tuple[int, str]]:
        cur = self.conn.execute("SELECT external_id, id, etag FROM calendar_events WHERE source_id=?", (source_id,))
        return {x: (i, et or "") for x, i, et in cur.fetchall()}

    def upsert_events(self, source_id: int, events: Iterable[CalendarEvent], _existing: dict | None = None) -> tuple[int, int]:
        """Insert new events, update changed ones (ids stay stable). Returns (added, updated)."""
        existing = self._existing(source_id) if _existing is None else _existing
        now = _now()
        new, changed = [], []
        for e in events:
            e.source_id = source_id
            hit = existing.get(e.external_id)
            if hit is None:
                new.append(e)
            else:
                e.id = hit[0]
                if not e.etag or hit[1] != e.etag:
                    changed.append(self._values(e) + (now, hit[0]))
        with self.store.transaction():
            for e in new:
                e.id = self.conn.execute(
                    'INSERT INTO calendar_events (source_id, external_id, title, start, "end", attendees, location,'
                    ' description, etag, status, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
                    (source_id, e.external_id) + self._values(e) + (now,)).lastrowid
                existing[e.external_id] = (e.id, e.etag)
            self.conn.executemany(
                'UPDATE calendar_events SET title=?, start=?, "end"=?, attendees=?, location=?, description=?, etag=?,'
                ' status=?, updated_at=? WHERE id=?', changed)
        return len(new), len(changed)

    def delete_events(self, source_id: int, external_ids: Iterable[str]) -> int:
        ids = list(external_ids)
        n = 0
        with self.store.transaction():
            for x in ids:
                n += self.conn.execute("DELETE FROM calendar_events WHERE source_id=? AND external_id=?",
                                       (source_id, x)).rowcount
        return n

    def replace_events(self, source_id: int, events: list[CalendarEvent]) -> tuple[int, int, int]:
        """Make the source hold exactly ``events`` (ids of unchanged events kept). (added, updated, removed)."""
        with self.store.transaction():
            existing = self._existing(source_id)
            added, updated = self.upsert_events(source_id, events, existing)
            keep = {e.external_id for e in events}
            removed = self.delete_events(source_id, [x for x in existing if x not in keep])
        return added, updated, removed

    def get_event(self, id: int) -> CalendarEvent:
        rows = _rows(self.conn.execute("SELECT * FROM calendar_events WHERE id=?", (id,)))
        if not rows:
            raise NotFound(f"no calendar event {id}", hint="see `kith today` or `kith calendar list --events`")
        return self._event(rows[0])

    def events_between(self, start: datetime, end: datetime, include_all_day: bool = True) -> list[CalendarEvent]:
        """Events overlapping [start, end), ordered by start."""
        lo = utc(start).date().isoformat()  # all-day rows store bare dates: widen, then filter exactly
        cur = self.conn.execute(
            'SELECT * FROM calendar_events WHERE start < ? AND ("end" IS NULL OR "end" > ?) ORDER BY start, id',
            (_ts(end), lo))
        out = []
        for r in _rows(cur):
            e = self._event(r)
            if e.status == "cancelled":
                continue
            if e.all_day:
                if not include_all_day or not (e.start < utc(end) and e.end > utc(start)):
                    continue
            elif not (e.start < utc(end) and e.end > utc(start)):
                continue
            out.append(e)
        out.sort(key=lambda e: (e.start, e.id or 0))
        return out

    def events_on(self, day: date, tzinfo: Any = None) -> list[CalendarEvent]:
        """Events on a local calendar day (the machine's zone unless given)."""
        from datetime import time, timedelta

        tzinfo = tzinfo or datetime.now().astimezone().tzinfo
        lo = datetime.combine(day, time(0), tzinfo)
        hi = lo + timedelta(days=1)
        out = []
        for e in self.events_between(lo - timedelta(days=1), hi + timedelta(days=1)):
            if e.all_day:
                if e.start.date() <= day < e.end.date() or e.start.date() == day:
                    out.append(e)
            elif e.start < utc(hi) and e.end > utc(lo) or (e.start == e.end and utc(lo) <= e.start < utc(hi)):
                out.append(e)
        return out

    # -- briefs ----------------------------------------------------------------------------
    def get_brief(self, event_id: int) -> dict | None:
        rows = _rows(self.conn.execute("SELECT * FROM briefs WHERE event_id=? ORDER BY id DESC LIMIT 1", (event_id,)))
        if not rows:
            return None
        r = rows[0]
        r["data"] = json.loads(r["data"] or "{}")
        r["contact_ids"] = json.loads(r["contact_ids"] or "[]")
        return r

    def save_brief(self, event_id: int | None, markdown: str, data: dict, inputs_hash: str,
                   contact_ids: list[int], meeting_id: int | None = None) -> int:
        with self.store.transaction():
            if event_id is not None:
                self.conn.execute("DELETE FROM briefs WHERE event_id=?", (event_id,))
            cur = self.conn.execute(
                "INSERT INTO briefs (event_id, meeting_id, contact_ids, markdown, data, generated_at, inputs_hash)"
                " VALUES (?,?,?,?,?,?,?)",
                (event_id, meeting_id, json.dumps(contact_ids), markdown, json.dumps(data, ensure_ascii=False, default=str),
                 _now(), inputs_hash))
            return cur.lastrowid

    def self_emails(self) -> set[str]:
        """Addresses of the user (connected Google accounts) — never suggested as contacts."""
        return {str(s.config.get("account", "")).lower() for s in self.list_sources("google") if s.config.get("account")}
