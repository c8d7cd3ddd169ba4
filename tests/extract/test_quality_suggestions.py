"""Suggestions without duplicates or inventions: one proposal per person (the calendar's and
the model's merged), only fields the transcript states."""
from __future__ import annotations

from datetime import datetime, timezone

from app.context import Kith
from app.core.domain import Meeting, Segment, Suggestion
from app.extract.schema import ExtractionResult, PersonResult


def test_a_person_the_calendar_already_proposed_is_not_proposed_again(kith_home, monkeypatch):
    monkeypatch.setenv("KITH_PASSPHRASE", "test-passphrase")
    from app.meetings.store_results import store_extraction

    kith = Kith.from_env()
    store = kith.store()
    m = store.meetings.add(Meeting(title="Acme renewal", started_at=datetime(2026, 3, 2, 15, tzinfo=timezone.utc)))
    segs = store.segments.add_many(m.id, [
        Segment(start=0, end=3, text="Of course, Sam. Our main blocker is the security renewal.", speaker="Dana Whitfield",
                channel=1, index=1),
        Segment(start=3, end=6, text="Our CFO, Martin Reyes, signs off on anything above thirty thousand.",
                speaker="Dana Whitfield", channel=1, index=2)])
    store.suggestions.add(Suggestion(kind="create_contact", payload={"name": "Dana Whitfield", "email": "dana@acme.io"},
                                     meeting_id=m.id, reason="attendee of the calendar event"))
    result = ExtractionResult(people=[
        PersonResult(name="Dana Whitfield", email="dana@acme.io", evidence=[1], quote=segs[0].text),
        PersonResult(name="Martin Reyes", role="CFO", evidence=[2], quote=segs[1].text),
    ])
    store_extraction(kith, m, segs, result)
    people = [s.payload for s in store.suggestions.list(status="pending") if s.kind == "create_contact"]
    assert sorted(p["name"] for p in people) == ["Dana Whitfield", "Martin Reyes"]
    kith.close()
