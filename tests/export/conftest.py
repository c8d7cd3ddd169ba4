"""Seed data for the export tests, written through the real (encrypted) store."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from app.core.domain import ActionItem, Company, Contact, Meeting, Note, Segment
from app.export.base import Backoff


@dataclass
class Seed:
    acme: Company
    globex: Company
    ada: Contact
    bob: Contact
    carol: Contact
    m1: Meeting
    m2: Meeting
    segments: list[Segment]
    a_open: ActionItem
    a_done: ActionItem
    a_mine: ActionItem
    a_proposed: ActionItem
    a_dismissed: ActionItem


def seed_store(store) -> Seed:
    acme = store.companies.add(Company(name="Acme Corp", domain="acme.com"))
    globex = store.companies.add(Company(name="Globex", domain="globex.io"))
    ada = store.contacts.add(Contact(name="Ada Lovelace", emails=["ada@acme.com"], phones=["+44 20 7946 0000"],
                                     title="CTO", company_id=acme.id, notes="Prefers email; likes; semicolons, too"))
    bob = store.contacts.add(Contact(name="Bob Stone", emails=["bob@globex.io", "b.stone@example.org"],
                                     company_id=globex.id))
    carol = store.contacts.add(Contact(name="Carol", emails=[], title="Advisor"))
    m1 = store.meetings.add(Meeting(title="Acme pricing call", started_at=datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc),
                                    ended_at=datetime(2026, 1, 5, 10, 30, tzinfo=timezone.utc), template="sales",
                                    language="en"))
    for c in (ada, bob, carol):
        store.meetings.add_participant(m1.id, c.id)
    segs = store.segments.add_many(m1.id, [
        Segment(start=0.0, end=4.0, text="Thanks for joining, let's talk pricing.", speaker="You", channel=0),
        Segment(start=4.0, end=9.5, text='I\'ll send the "annual" pricing sheet by Friday.', speaker="Ada Lovelace", channel=1),
        Segment(start=9.5, end=14.0, text="Great, we go with the annual plan then.", speaker="Bob Stone", channel=1),
    ])
    store.notes.add(Note(meeting_id=m1.id, author="ai", kind="minutes",
                         body="## Summary\n\nDiscussed **pricing** for 2026 [S1].\n\n## Decisions\n\n"
                              "- Go with the annual plan [S3]\n- Keep <script> tags & ampersands escaped\n"))
    store.notes.add(Note(meeting_id=m1.id, author="user", kind="notes", body="Ask about SSO next time."))
    a_open = store.actions.add(ActionItem(meeting_id=m1.id, text="Send the annual pricing sheet", owner_text="Ada Lovelace",
                                          owner_contact_id=ada.id, due_date=date(2026, 1, 9), status="open",
                                          evidence=[segs[1].id]))
    a_done = store.actions.add(ActionItem(meeting_id=m1.id, text="Confirm the annual plan internally", owner_text="Bob Stone",
                                          owner_contact_id=bob.id, status="done", evidence=[segs[2].id]))
    a_mine = store.actions.add(ActionItem(meeting_id=m1.id, text="Draft the contract", owner_text="You", status="open",
                                          due_date=date(2026, 1, 12)))
    a_prop = store.actions.add(ActionItem(meeting_id=m1.id, text="Maybe schedule a demo", owner_text="Bob Stone",
                                          owner_contact_id=bob.id, status="proposed"))
    a_dis = store.actions.add(ActionItem(meeting_id=m1.id, text="Buy lunch", owner_text="You", status="dismissed"))
    m2 = store.meetings.add(Meeting(title="Globex intro", started_at=datetime(2026, 2, 1, 15, 0, tzinfo=timezone.utc)))
    store.meetings.add_participant(m2.id, bob.id)
    return Seed(acme, globex, ada, bob, carol, m1, m2, segs, a_open, a_done, a_mine, a_prop, a_dis)


@pytest.fixture
def store(kith):
    return kith.store()


@pytest.fixture
def seed(store) -> Seed:
    return seed_store(store)


@pytest.fixture
def fast_backoff():
    """Real backoff with tiny waits (capped at 20 ms); the waits it chose are in ``.waits``."""
    return Backoff(retries=3, base=0.005, cap=0.02)
