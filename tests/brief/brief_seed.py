"""Seed data for brief tests (a real store, through its API)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from app.calendar.model import Attendee, CalendarEvent, SourceRecord
from app.calendar.repo import CalendarRepo
from app.core.domain import ActionItem, Company, Contact, Deal, Meeting, Note


@dataclass
class Seed:
    bob: Contact
    acme: Company
    deal: Deal
    discovery: Meeting
    pricing: Meeting
    other: Meeting
    event: CalendarEvent  # Bob + a newcomer
    newcomer_event: CalendarEvent  # only a newcomer


MINUTES = """## Summary

Bob walked us through Acme's rollout plan for 400 seats [S3]. Pricing was the main topic; Bob wants a 3-year term [S7].

## Key points

- 400 seats in Q1 [S3]

## Signals

- **budget**: approved for 2027 [S9]
- **objection**: SSO must support Okta [S12]
"""


def add_event(store, title, start, attendees, ext):
    repo = CalendarRepo(store)
    srcs = repo.list_sources()
    src = srcs[0] if srcs else repo.add_source(SourceRecord(kind="ics", name="Work", config={"location": "/w.ics"}))
    e = CalendarEvent(external_id=ext, title=title, start=start, end=start + timedelta(minutes=45), tz="Europe/Berlin",
                      attendees=attendees)
    repo.upsert_events(src.id, [e])
    return repo.get_event(e.id)


def seed_store(store, start: datetime) -> Seed:
    acme = store.companies.add(Company(name="Acme Corp", domain="acme.com"))
    bob = store.contacts.add(Contact(name="Bob Stone", emails=["bob@acme.com"], title="VP Engineering", company_id=acme.id))
    dave = store.contacts.add(Contact(name="Dave Ng", emails=["dave@initech.io"]))
    deal = store.deals.add(Deal(company_id=acme.id, title="Platform licence", stage="negotiation", amount=48000,
                                currency="EUR", next_step="send the revised order form"))
    discovery = store.meetings.add(Meeting(title="Acme discovery", started_at=datetime(2026, 9, 10, 9, 0, tzinfo=timezone.utc)))
    pricing = store.meetings.add(Meeting(title="Acme pricing", started_at=datetime(2026, 10, 8, 15, 0, tzinfo=timezone.utc)))
    other = store.meetings.add(Meeting(title="Initech intro", started_at=datetime(2026, 10, 9, 10, 0, tzinfo=timezone.utc)))
    for m in (discovery, pricing):
        store.meetings.add_participant(m.id, bob.id)
    store.meetings.add_participant(other.id, dave.id)
    store.notes.add(Note(meeting_id=discovery.id, author="ai", kind="minutes",
                         body="## Summary\n\nFirst call: Acme is replacing a legacy tool [S2].\n"))
    store.notes.add(Note(meeting_id=pricing.id, author="ai", kind="minutes", body=MINUTES))
    store.notes.add(Note(meeting_id=other.id, author="ai", kind="minutes", body="## Summary\n\nInitech secret plans.\n"))
    store.actions.add(ActionItem(meeting_id=pricing.id, text="Send the security questionnaire [S14]", owner_text="You",
                                 due_date=date(2026, 10, 15), status="open"))
    store.actions.add(ActionItem(meeting_id=pricing.id, text="Share last quarter's usage numbers", owner_text="Bob",
                                 owner_contact_id=bob.id, status="open"))
    store.actions.add(ActionItem(meeting_id=discovery.id, text="Book the demo", owner_text="You", status="done"))
    store.actions.add(ActionItem(meeting_id=other.id, text="Send Initech the NDA", owner_text="You", status="open"))
    me = Attendee("ada@example.com", "Ada", "accepted", organizer=True, is_self=True)
    event = add_event(store, "Acme: contract review", start,
                      [me, Attendee("bob@acme.com", "Bob Stone", "accepted"), Attendee("nina@globex.com", "Nina Park", "needsAction")],
                      "ev-acme")
    newcomer = add_event(store, "Intro with Globex", start + timedelta(hours=2),
                         [me, Attendee("nina@globex.com", "Nina Park", "accepted")], "ev-globex")
    return Seed(bob, acme, deal, discovery, pricing, other, event, newcomer)
