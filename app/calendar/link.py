"""Calendar events → meetings and people.

* :func:`event_for` finds the event a recording started during (a few minutes' grace
  before the start, as people join early).
* :func:`link_meeting` ties a meeting to its event (title, attendees as participants).
* Attendees match contacts by email, then by name (rapidfuzz, via the store). Unknown
  attendees become *suggestions* (``create_contact``; their email domain suggests the
  company, ``create_company``, except free-mail domains). Nothing is created without
  approval unless ``settings.crm.auto_accept`` names the kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from app.calendar.model import Attendee, CalendarEvent, utc
from app.core.domain import Contact, Suggestion

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "msn.com", "yahoo.com",
    "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me",
    "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "zoho.com", "yandex.com", "yandex.ru", "qq.com", "163.com",
    "fastmail.com", "hey.com", "tutanota.com", "mail.ru", "orange.fr", "free.fr", "t-online.de", "comcast.net",
})
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"}
GENERIC_TITLES = {"", "untitled", "meeting", "recording", "new meeting"}


def company_from_domain(domain: str) -> tuple[str, str] | None:
    """(suggested company name, registrable domain) for a work address; None for free mail."""
    domain = domain.strip().lower().rstrip(".")
    if not domain or "." not in domain or domain in FREE_MAIL:
        return None
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        base = labels[-3:]
    else:
        base = labels[-2:]
    registrable = ".".join(base)
    if registrable in FREE_MAIL:
        return None
    name = " ".join(w.capitalize() for w in base[0].replace("_", "-").split("-") if w)
    return name, registrable


def event_for(store: "Store", when: datetime, early_minutes: int = 10) -> CalendarEvent | None:
    """The timed event running at ``when`` (or starting within ``early_minutes``); the one
    that started last wins when several overlap, then the one with most attendees."""
    from app.calendar.repo import CalendarRepo

    when = utc(when)
    candidates = [e for e in CalendarRepo(store).events_between(when - timedelta(hours=12), when + timedelta(minutes=early_minutes + 1),
                                                                include_all_day=False)
                  if e.start - timedelta(minutes=early_minutes) <= when and (when < e.end or e.start == e.end and when - e.start < timedelta(minutes=30))]
    if not candidates:
        return None
    candidates.sort(key=lambda e: (abs((e.start - when).total_seconds()) if e.start > when else 0,
                                   -e.start.timestamp(), -len(e.attendees)))
    return candidates[0]


def invitees(event: CalendarEvent | None, me: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(name, email) of the event's other attendees — not the calendar's owner, not ``me`` (names or
    emails), not those who declined. For bounding and naming speakers and resolving owners."""
    mine = {m.casefold() for m in me if m}
    out = []
    for a in getattr(event, "attendees", None) or []:
        if a.is_self or a.response == "declined" or a.name.casefold() in mine or a.email.casefold() in mine:
            continue
        if a.name or a.email:
            out.append((a.name, a.email))
    return out


def match_attendee(store: "Store", a: Attendee, min_score: float = 90) -> Contact | None:
    """A known contact for an attendee: by email first, then by name (fuzzy)."""
    if a.email:
        c = store.contacts.find_by_email(a.email)
        if c is not None:
            return c
    if a.name and a.name.strip() and "@" not in a.name:
        return store.contacts.find_by_name(a.name.strip(), min_score=min_score)
    return None


@dataclass
class LinkReport:
    meeting_id: int
    event_id: int | None
    title_set: bool = False
    matched: list[int] = field(default_factory=list)  # contact ids added as participants
    suggested: list[int] = field(default_factory=list)  # suggestion ids created (pending)
    created: list[int] = field(default_factory=list)  # contact ids created via auto-accept


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p and not p.isdigit()]
    return " ".join(p.capitalize() for p in parts) or email


def _pending(store: "Store", kind: str) -> list[Suggestion]:
    return [s for s in store.suggestions.list(status="pending") if s.kind == kind]


def link_meeting(store: "Store", meeting_id: int, event: CalendarEvent, auto_accept: Iterable[str] = (),
                 self_emails: Iterable[str] = (), my_name: str = "") -> LinkReport:
    """Tie meeting ``meeting_id`` to ``event``; attendees become participants or suggestions."""
    from app.calendar.repo import CalendarRepo

    auto = set(auto_accept)
    mine = {e.lower() for e in self_emails} | CalendarRepo(store).self_emails()
    report = LinkReport(meeting_id=meeting_id, event_id=event.id)
    with store.transaction():
        m = store.meetings.get(meeting_id)
        m.calendar_event_id = event.id
        if m.title.strip().lower() in GENERIC_TITLES or m.title.strip().lower().startswith(("recording ", "meeting ")):
            m.title = event.title
            report.title_set = True
        store.meetings.update(m)
        pending_people = {str(s.payload.get("email", "")).lower() for s in _pending(store, "create_contact")}
        pending_domains = {str(s.payload.get("domain", "")).lower() for s in _pending(store, "create_company")}
        me = my_name.strip().casefold()
        for a in event.attendees:
            if a.is_self or (a.email and a.email.lower() in mine) or a.response == "declined":
                continue
            if me and me != "you" and a.name.strip().casefold() == me:  # .ics feeds do not mark the owner
                continue
            c = match_attendee(store, a)
            if c is not None:
                store.meetings.add_participant(meeting_id, c.id, role="organizer" if a.organizer else "attendee")
                report.matched.append(c.id)
                continue
            if not a.email:
                continue  # a bare name we cannot place: nothing to suggest reliably
            company = company_from_domain(a.email.rsplit("@", 1)[-1])
            if company and company[1] not in pending_domains and store.companies.find_by_domain(company[1]) is None:
                s = store.suggestions.add(Suggestion(
                    kind="create_company", payload={"name": company[0], "domain": company[1]}, meeting_id=meeting_id,
                    reason=f"email domain of an attendee of the calendar event “{event.title}”"))
                pending_domains.add(company[1])
                if "create_company" in auto:
                    store.suggestions.accept(s.id)
                else:
                    report.suggested.append(s.id)
            if a.email.lower() in pending_people:
                continue
            payload = {"name": a.name or _name_from_email(a.email), "email": a.email}
            if company:
                payload.update(company=company[0], company_domain=company[1])
            s = store.suggestions.add(Suggestion(kind="create_contact", payload=payload, meeting_id=meeting_id,
                                                 reason=f"attendee of the calendar event “{event.title}”"))
            pending_people.add(a.email.lower())
            if "create_contact" in auto:
                result = store.suggestions.accept(s.id)
                store.meetings.add_participant(meeting_id, result["id"], role="organizer" if a.organizer else "attendee")
                report.created.append(result["id"])
            else:
                report.suggested.append(s.id)
    return report


def link_if_during_event(store: "Store", meeting_id: int, auto_accept: Iterable[str] = (),
                         my_name: str = "") -> LinkReport | None:
    """For the pipeline: link a meeting to the event it started during, if any.
    Call as ``link_if_during_event(store, meeting.id, settings.crm.auto_accept, settings.crm.my_name)``."""
    m = store.meetings.get(meeting_id)
    if m.calendar_event_id is not None:
        return None
    ev = event_for(store, m.started_at)
    return link_meeting(store, meeting_id, ev, auto_accept, my_name=my_name) if ev is not None else None
