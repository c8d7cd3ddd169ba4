"""Collect what Kith knows about the people in an event — everything read from the store,
nothing from the network — into a :class:`Brief` without agenda (see ``agenda.py``)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING

from app.brief.model import Brief, DealState, Item, PastMeeting, Person, Ref, Signal
from app.calendar.model import Attendee, CalendarEvent

if TYPE_CHECKING:  # pragma: no cover
    from app.core.domain import Contact, Meeting
    from app.store.db import Store

MAX_MEETINGS = 5
SUMMARY_CHARS = 320
_SEG_REF = re.compile(r"\s*\[S\d+(?:\s*,\s*S?\d+)*\]")


def ref_of(meeting_id: int) -> str:
    return f"M{meeting_id}"


def _section(body: str, heading: str) -> str:
    """Text under a ``## heading`` of a Markdown note (until the next heading)."""
    m = re.search(rf"^#+\s*{re.escape(heading)}\s*$(.*?)(?=^#+\s|\Z)", body, flags=re.M | re.S | re.I)
    return m.group(1).strip() if m else ""


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _SEG_REF.sub("", text)).strip()


def _clip(text: str, n: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def summary_of(store: "Store", meeting_id: int) -> str:
    """The AI minutes' summary (or the start of the user's own notes)."""
    for n in store.notes.minutes(meeting_id):
        s = _clean((_section(n.body, "Summary") or n.body).replace("_No summary._", ""))
        if s:
            return _clip(s)
    for n in store.notes.user_notes(meeting_id):
        if n.body.strip():
            return _clip(_clean(re.sub(r"^#+.*$", "", n.body, flags=re.M)))
    return ""


def signals_of(store: "Store", meeting_id: int) -> list[str]:
    out = []
    for n in store.notes.for_meeting(meeting_id, kind="minutes"):
        for line in _section(n.body, "Signals").splitlines():
            line = _clean(line.lstrip("-* ").replace("**", ""))
            if line:
                out.append(line)
    return out


def _person(store: "Store", a: Attendee | None, c: "Contact | None", meetings: list["Meeting"]) -> Person:
    name = (c.name if c else "") or (a.name if a else "") or (a.email if a else "")
    p = Person(name=name, email=(c.email if c and c.email else (a.email if a else "")) or "",
               contact_id=c.id if c else None, title=c.title if c else "", in_crm=c is not None)
    if c and c.company_id:
        try:
            p.company = store.companies.get(c.company_id).name
        except Exception:  # noqa: BLE001 — a dangling company id must not break a brief
            p.company = ""
    p.meetings = len(meetings)
    if meetings:
        last, first = meetings[0], meetings[-1]
        p.last_met, p.last_ref = last.started_at.date().isoformat(), ref_of(last.id)
        p.first_met, p.first_ref = first.started_at.date().isoformat(), ref_of(first.id)
        p.how_known = f"{len(meetings)} recorded meeting{'s' if len(meetings) != 1 else ''} since {p.first_met} [{p.first_ref}]"
    elif c is not None:
        p.how_known = {"user": "in your contacts", "ai": "added from a meeting", "calendar": "added from your calendar",
                       "import": "imported"}.get(c.source, "in your contacts") + "; no recorded meetings yet"
    else:
        p.how_known = "not in your contacts; no history in Kith"
    return p


def _is_me(owner_text: str, my_name: str) -> bool:
    o = (owner_text or "").strip().casefold()
    return o in {my_name.strip().casefold(), "you", "me", "i", "myself"}


def collect(store: "Store", event: CalendarEvent, my_name: str = "You", self_emails: set[str] | None = None,
            max_meetings: int = MAX_MEETINGS) -> Brief:
    """Facts for ``event``'s brief (agenda empty). Deterministic for the same store state."""
    from rapidfuzz import fuzz

    from app.calendar.link import match_attendee

    mine = {e.lower() for e in (self_emails or set())}
    brief = Brief(event_id=event.id, title=event.title, start=event.start.isoformat(), end=event.end.isoformat(),
                  tz=event.tz, local_start=event.local_start().isoformat(), location=event.location)
    contacts: list[tuple[Person, "Contact | None"]] = []
    all_meetings: dict[int, "Meeting"] = {}
    seen_contacts: set[int] = set()
    me = my_name.strip().casefold()
    for a in event.attendees:
        if a.is_self or (a.email and a.email.lower() in mine) or a.response == "declined":
            continue
        if me and me != "you" and a.name.strip().casefold() == me:  # .ics feeds do not mark the owner
            continue
        c = match_attendee(store, a)
        if c is not None and c.id in seen_contacts:
            continue
        ms = store.meetings.meetings_with(c.id) if c is not None else []
        # only what happened before this event (a brief for a past event shows what was known then)
        ms = [m for m in ms if m.started_at < event.start and (event.id is None or m.calendar_event_id != event.id)]
        for m in ms:
            all_meetings[m.id] = m
        p = _person(store, a, c, ms)
        contacts.append((p, c))
        if c is not None:
            seen_contacts.add(c.id)
    brief.people = [p for p, _ in contacts]

    def cite(m: "Meeting") -> str:
        r = ref_of(m.id)
        brief.refs.setdefault(r, Ref(ref=r, meeting_id=m.id, title=m.title, date=m.started_at.date().isoformat()))
        return r

    recent = sorted(all_meetings.values(), key=lambda m: (m.started_at, m.id), reverse=True)
    for p, c in contacts:  # every person's first/last meeting is cited
        for mid in (p.first_ref, p.last_ref):
            if mid:
                cite(all_meetings[int(mid[1:])])
    for m in recent[:max_meetings]:
        people = [p.name for p, c in contacts if c is not None and any(x.id == c.id for x in store.meetings.participants(m.id))]
        brief.meetings.append(PastMeeting(ref=cite(m), meeting_id=m.id, title=m.title,
                                          date=m.started_at.date().isoformat(), summary=summary_of(store, m.id),
                                          people=people))

    # open action items both ways, from meetings with these people or owned by them
    known = [(p, c) for p, c in contacts if c is not None]
    meeting_ids = set(all_meetings)
    seen_items: set[int] = set()
    for a in store.actions.list(status=["open", "proposed"]):
        if a.id in seen_items:
            continue
        owner_c = next((c for _, c in known if a.owner_contact_id == c.id), None)
        if owner_c is None and a.owner_contact_id is None:
            owner_c = next((c for _, c in known if a.owner_text and fuzz.WRatio(a.owner_text, c.name) >= 90), None)
        in_scope = a.meeting_id in meeting_ids
        m = all_meetings.get(a.meeting_id) if a.meeting_id is not None else None
        if m is None and a.meeting_id is not None and owner_c is not None:
            m = store.meetings.get(a.meeting_id)
        ref = cite(m) if m is not None else None
        item = Item(text=_clean(a.text), owner=a.owner_text, ref=ref,
                    due=a.due_date.isoformat() if a.due_date else None, status=a.status)
        if in_scope and _is_me(a.owner_text, my_name) and a.owner_contact_id is None:
            item.owner = my_name
            brief.you_promised.append(item)
            seen_items.add(a.id)
        elif owner_c is not None:
            item.owner = owner_c.name
            brief.they_promised.append(item)
            seen_items.add(a.id)

    # deals of the attendees' companies, cited to the latest meeting with that company's people
    companies: dict[int, str] = {}
    for p, c in known:
        if c.company_id:
            companies.setdefault(c.company_id, p.company)
    for cid, cname in companies.items():
        latest = next((m for m in recent if any(x.company_id == cid for x in store.meetings.participants(m.id))), None)
        for d in store.deals.list(company_id=cid):
            brief.deals.append(DealState(company=cname, title=d.title, stage=d.stage, amount=d.amount, currency=d.currency,
                                         next_step=d.next_step, close_date=d.close_date.isoformat() if d.close_date else None,
                                         deal_id=d.id, ref=cite(latest) if latest else None))

    # latest signals: from the minutes of the most recent meetings, newest first
    seen_signals: set[str] = set()
    for m in recent[:3]:
        for s in signals_of(store, m.id)[:6]:
            if s.casefold() in seen_signals:  # the same signal again: the newest citation is enough
                continue
            seen_signals.add(s.casefold())
            brief.signals.append(Signal(text=_clip(s, 200), ref=cite(m)))
    return brief


def inputs_hash(brief: Brief) -> str:
    """Hash of the facts (not the agenda, not timestamps): a changed input means a new brief."""
    d = asdict(brief)
    for k in ("agenda", "questions", "agenda_source", "inputs_hash", "generated_at", "notes"):
        d.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()
