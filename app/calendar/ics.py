"""iCalendar (.ics) feeds: a file or an https URL (Outlook and Apple publish these).

Recurring events are expanded with ``recurring-ical-events`` over a window around now
(default −30…+90 days), exceptions (EXDATE, RECURRENCE-ID) included. A feed is parsed
completely before anything is written, and replaces that source's events in one
transaction: a malformed feed raises :class:`KithError` naming the problem and leaves the
previously imported events untouched.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from app.calendar.model import Attendee, CalendarEvent, SourceRecord, SyncReport, utc
from app.core.errors import KithError

if TYPE_CHECKING:  # pragma: no cover
    from app.core.events import CancelToken
    from app.store.db import Store

MAX_BYTES = 50 * 1024 * 1024
# A hostile (or broken) feed must not expand without end: one VEVENT with RRULE:FREQ=SECONDLY and
# no end is 7.8 million occurrences in the default window. Occurrences are counted before they are
# expanded, lazily and under a deadline; a series over its cap is cut there (and named in a warning).
MAX_PER_EVENT = 2_000  # ~3 ms each to expand and convert on a loaded 2-core machine
MAX_PER_FEED = 10_000
EXPAND_SECONDS = 5.0  # for counting every series of one feed
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class IcsError(KithError):
    pass


@dataclass
class Window:
    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime | None = None, past_days: int = 30, future_days: int = 90) -> "Window":
        now = utc(now or datetime.now(timezone.utc))
        return cls(now - timedelta(days=past_days), now + timedelta(days=future_days))


# -- fetching ------------------------------------------------------------------------------
def normalize_location(location: str) -> str:
    """A file path (made absolute) or an http(s) URL; webcal:// is https://."""
    loc = location.strip()
    if loc.lower().startswith("webcal://"):
        loc = "https://" + loc[len("webcal://"):]
    parsed = urlparse(loc)
    if parsed.scheme in ("http", "https"):
        if parsed.scheme == "http" and (parsed.hostname or "") not in LOOPBACK:
            raise IcsError(f"refusing to fetch a calendar over plain http: {loc}",
                           hint="use the feed's https:// (or webcal://) address")
        return loc
    if parsed.scheme and len(parsed.scheme) > 1 and parsed.scheme != "file":
        raise IcsError(f"unsupported calendar address {loc!r}", hint="give a .ics file path or an https:// URL")
    if parsed.scheme == "file":
        loc = parsed.path
    return str(Path(loc).expanduser().resolve())


def fetch(location: str, timeout: float = 30.0) -> bytes:
    """Read a feed from a file or URL (size-capped). Raises IcsError with the reason."""
    loc = normalize_location(location)
    if loc.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        req = urllib.request.Request(loc, headers={"User-Agent": "Kith calendar", "Accept": "text/calendar, */*"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                data = resp.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as e:
            raise IcsError(f"{loc}: the server answered HTTP {e.code} {e.reason}",
                           hint="check the feed address (private feeds need their secret link)") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise IcsError(f"{loc}: could not download the calendar ({reason})",
                           hint="check the address and your connection, then run `kith calendar sync` again") from e
    else:
        p = Path(loc)
        if not p.is_file():
            raise IcsError(f"{p}: no such calendar file", hint="give the path of an exported .ics file")
        if p.stat().st_size > MAX_BYTES:
            raise IcsError(f"{p}: file larger than {MAX_BYTES // 2**20} MB", hint="export a shorter date range")
        data = p.read_bytes()
    if len(data) > MAX_BYTES:
        raise IcsError(f"{loc}: calendar larger than {MAX_BYTES // 2**20} MB", hint="export a shorter date range")
    return data


# -- parsing -------------------------------------------------------------------------------
def _tz_name(tzinfo: Any) -> str:
    if tzinfo is None:
        return ""
    key = getattr(tzinfo, "key", None) or getattr(tzinfo, "zone", None)
    if key:
        return "" if key == "UTC" else str(key)
    tzid = getattr(tzinfo, "_tzid", None)  # dateutil zone built from a VTIMEZONE block
    if tzid:
        from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

        if tzid in WINDOWS_TO_OLSON:
            return WINDOWS_TO_OLSON[tzid]
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(tzid)
            return tzid
        except Exception:
            return ""
    return ""


def _to_utc(value: Any, floating_tz: Any) -> tuple[datetime, str, bool]:
    """(UTC datetime, IANA zone, all_day) for a DTSTART/DTEND value."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=floating_tz)
            return value.astimezone(timezone.utc), _tz_name(floating_tz), False
        return value.astimezone(timezone.utc), _tz_name(value.tzinfo), False
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc), "", True
    raise ValueError(f"not a date or date-time: {value!r}")


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _attendees(component: Any) -> list[Attendee]:
    out: list[Attendee] = []
    org = component.get("ORGANIZER")
    org_email = ""
    if org is not None:
        org_email = _mail(org)
    raw = component.get("ATTENDEE")
    if raw is None:
        raw = []
    elif not isinstance(raw, list):
        raw = [raw]
    seen = set()
    for a in raw:
        email = _mail(a)
        params = getattr(a, "params", {}) or {}
        name = _text(params.get("CN")).strip('"')
        key = email or name
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(Attendee(email=email, name=name, response=_text(params.get("PARTSTAT")).lower(),
                            organizer=bool(email) and email == org_email))
    if org_email and org_email not in seen:
        params = getattr(org, "params", {}) or {}
        out.insert(0, Attendee(email=org_email, name=_text(params.get("CN")).strip('"'), response="accepted", organizer=True))
    return out


def _mail(v: Any) -> str:
    s = _text(v)
    if s.lower().startswith("mailto:"):
        s = s[7:]
    return s.strip().lower() if "@" in s else ""


def parse(data: bytes | str, window: Window, origin: str = "calendar", floating_tz: Any = None,
          warnings: list[str] | None = None, *, per_event: int = MAX_PER_EVENT, per_feed: int = MAX_PER_FEED,
          seconds: float = EXPAND_SECONDS) -> tuple[str, list[CalendarEvent]]:
    """Parse a whole feed into expanded events in ``window``; raise IcsError naming the problem.

    Series with more than ``per_event`` occurrences in the window, or beyond the feed's
    ``per_feed`` budget or the ``seconds`` deadline for counting, are cut; each cut appends a
    warning naming the event to ``warnings``."""
    import icalendar
    import recurring_ical_events

    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise IcsError(f"{origin}: not an iCalendar file (no BEGIN:VCALENDAR at the start)",
                       hint="export the calendar as .ics (iCalendar) or use the feed's .ics link")
    floating_tz = floating_tz or datetime.now().astimezone().tzinfo
    try:
        cal = icalendar.Calendar.from_ical(text)
    except Exception as e:  # icalendar raises ValueError/KeyError/IndexError on broken lines
        raise IcsError(f"{origin}: malformed iCalendar data ({_short(e)})",
                       hint="re-export the calendar; the file may be truncated or edited by hand") from e
    if getattr(cal, "name", "") != "VCALENDAR":
        raise IcsError(f"{origin}: the file holds a {getattr(cal, 'name', '?')} block, not a VCALENDAR",
                       hint="export the calendar as .ics (iCalendar)")
    calname = _text(cal.get("X-WR-CALNAME")) or _text(cal.get("NAME"))
    try:
        import x_wr_timezone

        cal = x_wr_timezone.to_standard(cal)  # Google exports: X-WR-TIMEZONE applies to UTC/floating times
    except Exception:
        pass
    series: set[str] = set()  # UIDs with recurrences: their instances are keyed by RECURRENCE-ID
    for comp in cal.walk("VEVENT"):
        uid = _text(comp.get("UID")) or "(no UID)"
        if any(comp.get(k) is not None for k in ("RRULE", "RDATE", "RECURRENCE-ID")):
            series.add(uid)
        if comp.get("DTSTART") is None:
            raise IcsError(f"{origin}: event {uid} has no DTSTART", hint="the feed is invalid; re-export it")
        try:
            start_v = comp.decoded("DTSTART")
            end_v = comp.decoded("DTEND") if comp.get("DTEND") is not None else None
            bad_order = end_v is not None and _to_utc(end_v, floating_tz)[0] < _to_utc(start_v, floating_tz)[0]
        except Exception as e:
            raise IcsError(f"{origin}: event {uid} has an invalid date ({_short(e)})",
                           hint="the feed is invalid; re-export it") from e
        if bad_order:
            raise IcsError(f"{origin}: event {uid} ends (DTEND) before DTSTART", hint="the feed is invalid; re-export it")
        _check_rrule(comp, start_v, origin, uid)
    cut = _bound_recurrences(cal, window, floating_tz, per_event, per_feed, seconds)
    if cut:
        import logging

        logging.getLogger("kith.calendar").warning("ics feed: %d recurring event(s) cut", len(cut))
        if warnings is not None:
            warnings.extend(cut)
    try:
        occurrences = list(recurring_ical_events.of(cal, components=["VEVENT"]).between(window.start, window.end))
    except Exception as e:
        raise IcsError(f"{origin}: could not expand recurring events ({_short(e)})",
                       hint="the feed has a broken RRULE/EXDATE/RECURRENCE-ID; re-export it") from e
    events: dict[str, CalendarEvent] = {}
    for occ in occurrences:
        try:
            ev = _event(occ, floating_tz, series)
        except Exception as e:
            raise IcsError(f"{origin}: event {_text(occ.get('UID')) or '(no UID)'} is invalid ({_short(e)})",
                           hint="the feed is invalid; re-export it") from e
        if ev.status == "cancelled":
            continue
        events[ev.external_id] = ev
    out = sorted(events.values(), key=lambda e: (e.start, e.external_id))
    if len(out) > per_feed:
        if warnings is not None:
            warnings.append(f"the feed has {len(out):,} events in the window; only the first {per_feed:,} were kept")
        out = out[:per_feed]
    return calname, out


def _bound_recurrences(cal: Any, window: Window, floating_tz: Any, per_event: int, per_feed: int,
                       seconds: float) -> list[str]:
    """Cut recurring VEVENTs in place so that expanding ``cal`` stays bounded. Returns warnings.

    Each RRULE is walked lazily from DTSTART (dateutil's ``between`` would build the whole list
    first) and its occurrences in the window counted; a rule over its cap gets ``COUNT`` = the
    position of its last kept occurrence. A rule that cannot be counted before the deadline (e.g.
    FREQ=SECONDLY starting years ago) keeps only its first occurrence. RDATE lists longer than the
    cap are dropped."""
    from dateutil.rrule import rrulestr

    deadline = time.monotonic() + seconds
    budget = per_feed
    notes: list[str] = []
    for comp in cal.walk("VEVENT"):
        if comp.get("RECURRENCE-ID") is not None:
            budget -= 1
            continue
        rules = comp.get("RRULE")
        rules = rules if isinstance(rules, list) else ([rules] if rules is not None else [])
        rdates = comp.get("RDATE")
        rdates = rdates if isinstance(rdates, list) else ([rdates] if rdates is not None else [])
        n_rdates = sum(len(getattr(r, "dts", []) or []) for r in rdates)
        budget -= 1
        if not rules and not n_rdates:
            continue
        name = f"{_text(comp.get('SUMMARY')) or '(no title)'!r} ({_text(comp.get('UID')) or 'no UID'})"
        if n_rdates > per_event:
            del comp["RDATE"]
            notes.append(f"event {name} lists {n_rdates:,} extra dates (RDATE); they were ignored")
        start_v = comp.decoded("DTSTART")
        if isinstance(start_v, datetime):
            dtstart = start_v
        else:
            dtstart = datetime(start_v.year, start_v.month, start_v.day)
        if dtstart.tzinfo is None:  # floating or all-day: compare in the floating zone
            lo = (window.start - timedelta(days=2)).astimezone(floating_tz).replace(tzinfo=None)
            hi = window.end.astimezone(floating_tz).replace(tzinfo=None)
        else:
            lo, hi = window.start - timedelta(days=2), window.end
        kept_rules = []
        for rule in rules:
            cap = max(0, min(per_event, budget))
            n_in, steps, keep_count, over, late = 0, 0, None, False, False
            try:
                # RFC 5545: INTERVAL and COUNT are positive integers; dateutil spins on INTERVAL=0
                # and never stops counting from COUNT=-1
                if any(int(v) < 1 for key in ("INTERVAL", "COUNT") for v in (rule.get(key) or [])):
                    raise ValueError("INTERVAL and COUNT must be positive")
                for dt in rrulestr(rule.to_ical().decode(), dtstart=dtstart):
                    steps += 1
                    if steps % 2048 == 0 and time.monotonic() > deadline:
                        late = True
                        break
                    if dt > hi:
                        break
                    if dt >= lo:
                        n_in += 1
                        if n_in > cap:
                            over = True
                            break
                        keep_count = steps
            except (ValueError, TypeError, OverflowError, ZeroDivisionError):  # e.g. BYHOUR=25: a rule no calendar can expand
                notes.append(f"event {name} has a repeat rule that cannot be read ({rule.to_ical().decode()[:60]}); "
                             "only its first occurrence was kept")
                continue
            if late:
                notes.append(f"event {name} repeats too often to expand in time ({rule.to_ical().decode()[:60]}); "
                             "only its first occurrence was kept")
                continue  # the rule is dropped: DTSTART alone stays
            if over:
                if keep_count is None:
                    notes.append(f"event {name}: no room left in the feed's {per_feed:,} events; "
                                 "only its first occurrence was kept")
                    continue
                rule.pop("UNTIL", None)
                rule["COUNT"] = [keep_count]
                notes.append(f"event {name} repeats more than {cap:,} times in the window; "
                             f"only the first {cap:,} were kept")
                n_in = cap
            budget -= n_in
            kept_rules.append(rule)
        if len(kept_rules) != len(rules):
            del comp["RRULE"]
            for rule in kept_rules:
                comp.add("RRULE", rule)
    return notes


_FREQS = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


def _check_rrule(comp: Any, start: Any, origin: str, uid: str) -> None:
    rules = comp.get("RRULE")
    for rule in rules if isinstance(rules, list) else ([rules] if rules is not None else []):
        try:
            freq = [str(f).upper() for f in rule.get("FREQ", [])]
            if len(freq) != 1 or freq[0] not in _FREQS:
                raise ValueError(f"FREQ must be one of {', '.join(sorted(_FREQS))}, got {','.join(freq) or 'nothing'}")
            from dateutil.rrule import rrulestr

            dtstart = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
            rrulestr(rule.to_ical().decode(), dtstart=dtstart)
        except Exception as e:
            raise IcsError(f"{origin}: event {uid} has an invalid RRULE ({_short(e)})",
                           hint="the feed is invalid; re-export it") from e


def _short(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return msg[:200]


def _event(occ: Any, floating_tz: Any, series: set[str]) -> CalendarEvent:
    start_v = occ.decoded("DTSTART")
    start, tz, all_day = _to_utc(start_v, floating_tz)
    if occ.get("DTEND") is not None:
        end, _, _ = _to_utc(occ.decoded("DTEND"), floating_tz)
    elif occ.get("DURATION") is not None:
        end = start + occ.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    if end < start:
        raise ValueError("DTEND is before DTSTART")
    uid = _text(occ.get("UID")) or hashlib.sha1(f"{occ.get('SUMMARY')}{start.isoformat()}".encode()).hexdigest()
    if uid in series:
        rid = occ.get("RECURRENCE-ID")
        rid_dt = _to_utc(rid.dt, floating_tz)[0] if rid is not None else start
        external_id = f"{uid}_{rid_dt.strftime('%Y%m%dT%H%M%SZ')}"
    else:
        external_id = uid
    title = _text(occ.get("SUMMARY")) or "(no title)"
    status = _text(occ.get("STATUS")).lower() or "confirmed"
    body = "|".join([title, start.isoformat(), end.isoformat(), _text(occ.get("LOCATION")), _text(occ.get("SEQUENCE")),
                     _text(occ.get("LAST-MODIFIED") and occ.decoded("LAST-MODIFIED")),
                     ",".join(sorted(_mail(a) for a in (occ.get("ATTENDEE") if isinstance(occ.get("ATTENDEE"), list) else [occ.get("ATTENDEE")]) if a is not None))])
    return CalendarEvent(
        external_id=external_id,
        title=title,
        start=start,
        end=end,
        tz=tz,
        all_day=all_day,
        attendees=_attendees(occ),
        location=_text(occ.get("LOCATION")),
        description=_text(occ.get("DESCRIPTION"))[:4000],
        status="cancelled" if status == "cancelled" else status,
        etag=hashlib.sha1(body.encode()).hexdigest()[:16],
    )


# -- the provider --------------------------------------------------------------------------
class IcsSource:
    """A ``calendar_sources`` row of kind ``ics``; ``config["location"]`` is a path or URL."""

    kind = "ics"

    def __init__(self, record: SourceRecord, now: datetime | None = None, timeout: float = 30.0):
        self.record = record
        self.now = now
        self.timeout = timeout

    @classmethod
    def from_record(cls, record: SourceRecord, options: dict) -> "IcsSource":
        return cls(record, now=options.get("now"), timeout=options.get("timeout", 30.0))

    def window(self) -> Window:
        cfg = self.record.config
        return Window.around(self.now, int(cfg.get("past_days", 30)), int(cfg.get("future_days", 90)))

    def sync(self, store: "Store", cancel: "CancelToken | None" = None) -> SyncReport:
        from app.calendar.repo import CalendarRepo

        t0 = time.perf_counter()
        loc = self.record.config["location"]
        data = fetch(loc, timeout=self.timeout)
        if cancel is not None:
            cancel.raise_if_cancelled()
        warnings: list[str] = []
        calname, events = parse(data, self.window(), origin=loc, warnings=warnings)
        repo = CalendarRepo(store)
        with store.transaction():
            added, updated, removed = repo.replace_events(self.record.id, events)
            if calname and self.record.config.get("auto_name", True) and self.record.name != calname:
                self.record.name = calname
            self.record.last_synced_at = datetime.now(timezone.utc)
            repo.update_source(self.record)
        return SyncReport(self.record.id, self.record.name, self.kind, added, updated, removed, full=True,
                          seconds=time.perf_counter() - t0, note="; ".join(f"warning: {w}" for w in warnings))


def add_feed(store: "Store", location: str, name: str | None = None, now: datetime | None = None,
             timeout: float = 30.0) -> tuple[SourceRecord, SyncReport]:
    """Register a feed and import it; nothing is stored if the feed cannot be read or parsed."""
    from app.calendar.repo import CalendarRepo

    loc = normalize_location(location)
    repo = CalendarRepo(store)
    for existing in repo.list_sources(kind="ics"):
        if existing.config.get("location") == loc:
            raise IcsError(f"{loc} is already added (source {existing.id})", hint="run `kith calendar sync` to refresh it")
    t0 = time.perf_counter()
    data = fetch(loc, timeout=timeout)
    window = Window.around(now)
    warnings: list[str] = []
    calname, events = parse(data, window, origin=loc, warnings=warnings)
    record = SourceRecord(kind="ics", name=name or calname or Path(urlparse(loc).path).stem or loc,
                          config={"location": loc, "auto_name": name is None})
    with store.transaction():
        record = repo.add_source(record)
        added, updated, removed = repo.replace_events(record.id, events)
        record.last_synced_at = datetime.now(timezone.utc)
        repo.update_source(record)
    return record, SyncReport(record.id, record.name, "ics", added, updated, removed, full=True,
                              seconds=time.perf_counter() - t0, note="; ".join(f"warning: {w}" for w in warnings))
