"""Events → meetings and people, through the real store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.calendar.link import company_from_domain, event_for, link_if_during_event, link_meeting
from app.calendar.model import Attendee, CalendarEvent, SourceRecord
from app.calendar.repo import CalendarRepo
from app.core.domain import Company, Contact, Meeting

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)


def _event(store, title="Acme renewal", start=T0, minutes=60, attendees=None, all_day=False, ext="e1"):
    repo = CalendarRepo(store)
    srcs = repo.list_sources()
    src = srcs[0] if srcs else repo.add_source(SourceRecord(kind="ics", name="t", config={"location": "/x.ics"}))
    e = CalendarEvent(external_id=ext, title=title, start=start, end=start + timedelta(minutes=minutes), tz="Europe/Berlin",
                      all_day=all_day, attendees=attendees or [])
    repo.upsert_events(src.id, [e])
    return repo.get_event(e.id)


ATTENDEES = [
    Attendee("ada@example.com", "Ada Lovelace", "accepted", organizer=True, is_self=True),
    Attendee("bob@acme.com", "Bob Stone", "accepted"),
    Attendee("", "Carla Mendes", "accepted"),  # no email: matched by name
    Attendee("dave@initech.io", "Dave Ng", "needsAction"),
    Attendee("erin@gmail.com", "", "tentative"),
    Attendee("zed@acme.com", "Zed Declined", "declined"),
]


def test_company_from_domain():
    assert company_from_domain("acme.com") == ("Acme", "acme.com")
    assert company_from_domain("mail.vc-partners.co.uk") == ("Vc Partners", "vc-partners.co.uk")
    assert company_from_domain("gmail.com") is None and company_from_domain("yahoo.co.uk") is None


def test_event_for_picks_the_running_event(store):
    a = _event(store, "Early", start=T0 - timedelta(hours=2), minutes=30, ext="a")
    b = _event(store, "Main", start=T0, minutes=60, ext="b")
    _event(store, "Holiday", start=T0.replace(hour=0), minutes=24 * 60, all_day=True, ext="c")
    assert event_for(store, T0 + timedelta(minutes=5)).id == b.id
    assert event_for(store, T0 - timedelta(minutes=7)).id == b.id  # joined a little early
    assert event_for(store, T0 - timedelta(hours=2) + timedelta(minutes=29)).id == a.id
    assert event_for(store, T0 + timedelta(hours=3)) is None  # all-day events never claim recordings


def test_link_matches_and_suggests(store):
    acme = store.companies.add(Company(name="Acme Corp", domain="acme.com"))
    bob = store.contacts.add(Contact(name="Bob Stone", emails=["bob@acme.com"], company_id=acme.id))
    carla = store.contacts.add(Contact(name="Carla Mendes", emails=["carla@globex.com"]))
    ev = _event(store, attendees=ATTENDEES)
    m = store.meetings.add(Meeting(title="Recording 2026-11-02 14:03", started_at=T0 + timedelta(minutes=3)))
    rep = link_if_during_event(store, m.id)
    m2 = store.meetings.get(m.id)
    assert m2.calendar_event_id == ev.id and m2.title == "Acme renewal" and rep.title_set
    assert sorted(rep.matched) == sorted([bob.id, carla.id])
    assert {c.id for c in store.meetings.participants(m.id)} == {bob.id, carla.id}
    pend = store.suggestions.list(status="pending")
    kinds = sorted((s.kind, s.payload.get("email") or s.payload.get("domain")) for s in pend)
    # Dave (unknown) → contact + his company; Erin (free mail) → contact only; declined and self skipped
    assert kinds == [("create_company", "initech.io"), ("create_contact", "dave@initech.io"), ("create_contact", "erin@gmail.com")]
    erin = next(s for s in pend if s.payload.get("email") == "erin@gmail.com")
    assert erin.payload["name"] == "Erin" and "company" not in erin.payload
    dave = next(s for s in pend if s.payload.get("email") == "dave@initech.io")
    assert dave.payload["company"] == "Initech" and dave.meeting_id == m.id
    assert len(store.contacts.list()) == 2  # nothing created without approval

    # linking again (another recording of the same event) does not duplicate suggestions
    m3 = store.meetings.add(Meeting(title="Quarterly", started_at=T0 + timedelta(minutes=20)))
    rep3 = link_meeting(store, m3.id, ev)
    assert not rep3.title_set and store.meetings.get(m3.id).title == "Quarterly"
    assert len(store.suggestions.list(status="pending")) == 3

    # accepting the suggestion creates the person and their company
    res = store.suggestions.accept(dave.id)
    c = store.contacts.get(res["id"])
    assert c.emails == ["dave@initech.io"] and store.companies.get(c.company_id).domain == "initech.io"


def test_auto_accept_creates_people(store):
    ev = _event(store, attendees=ATTENDEES[3:5])
    m = store.meetings.add(Meeting(title="", started_at=T0))
    rep = link_meeting(store, m.id, ev, auto_accept=["create_contact", "create_company"])
    assert len(rep.created) == 2 and not rep.suggested
    people = {c.emails[0]: c for c in store.contacts.list()}
    assert set(people) == {"dave@initech.io", "erin@gmail.com"}
    assert store.companies.get(people["dave@initech.io"].company_id).name == "Initech"
    assert {c.id for c in store.meetings.participants(m.id)} == set(rep.created)


def test_no_event_no_link(store):
    m = store.meetings.add(Meeting(title="x", started_at=T0))
    assert link_if_during_event(store, m.id) is None
    assert store.meetings.get(m.id).calendar_event_id is None


def test_owner_of_an_ics_feed_is_not_suggested(store):
    ev = _event(store, attendees=[Attendee("ada@example.com", "Ada Lovelace", organizer=True), Attendee("dave@initech.io", "Dave Ng")])
    m = store.meetings.add(Meeting(title="", started_at=T0))
    link_meeting(store, m.id, ev, my_name="Ada Lovelace")
    assert {s.payload.get("email") for s in store.suggestions.list() if s.kind == "create_contact"} == {"dave@initech.io"}
