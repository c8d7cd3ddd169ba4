"""Repositories on the real encrypted store: round trips, natural keys, search, suggestions."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.core.domain import ActionItem, AuditEntry, Company, Contact, Deal, Meeting, Note, Segment, Suggestion, Word
from app.core.errors import KithError, NotFound


def _meeting(store, title="Kickoff"):
    return store.meetings.add(Meeting(title=title, started_at=datetime(2026, 3, 1, 10, tzinfo=timezone.utc)))


def test_contacts_round_trip_and_natural_keys(store):
    acme = store.companies.add(Company(name="Acme", domain="https://www.Acme.com/about"))
    assert acme.domain == "acme.com"
    assert store.companies.find_by_domain("bob@acme.com").id == acme.id
    c = store.contacts.add(Contact(name=" Alice Zephyr ", emails=["Alice@Acme.com"], title="CTO", company_id=acme.id))
    got = store.contacts.get(c.id)
    assert (got.name, got.emails, got.title, got.company_id) == ("Alice Zephyr", ["Alice@Acme.com"], "CTO", acme.id)
    assert got.created_at.tzinfo is not None
    assert store.contacts.find_by_email("alice@acme.com").id == c.id  # case-insensitive natural key
    with pytest.raises(KithError, match="already belongs"):
        store.contacts.add(Contact(name="Imposter", emails=["ALICE@acme.com"]))
    with pytest.raises(KithError, match="not an email"):
        store.contacts.add(Contact(name="X", emails=["nope"]))
    with pytest.raises(KithError, match="needs a name"):
        store.contacts.add(Contact(name="  "))
    assert store.contacts.find_by_name("alice zephyr").id == c.id
    assert store.contacts.find_by_name("Alice Zepyhr", min_score=80).id == c.id
    assert store.contacts.find_by_name("Bob Builder") is None
    got.title = "CEO"
    got.emails.append("az@home.org")
    store.contacts.update(got)
    assert store.contacts.find_by_email("az@home.org").id == c.id
    assert [x.id for x in store.contacts.list(query="CEO")] == [c.id]
    assert [x.id for x in store.contacts.list(company_id=acme.id)] == [c.id]
    with pytest.raises(NotFound):
        store.contacts.get(999)
    store.contacts.delete(c.id)
    assert store.contacts.find_by_email("alice@acme.com") is None  # emails go with the person
    assert store.contacts.list(query="CEO") == []  # and the FTS row


def test_meetings_segments_notes(store):
    m = _meeting(store)
    c = store.contacts.add(Contact(name="Bob Stone", emails=["bob@b.io"]))
    store.meetings.add_participant(m.id, c.id, role="organizer")
    store.meetings.add_participant(m.id, c.id, role="speaker")  # idempotent, role updated
    assert [p.id for p in store.meetings.participants(m.id)] == [c.id]
    assert store.meetings.participant_roles(m.id) == {c.id: "speaker"}
    assert [x.id for x in store.meetings.meetings_with(c.id)] == [m.id]
    segs = store.segments.add_many(m.id, [
        Segment(0.0, 2.5, "We agreed on the pilot.", speaker="You", channel=0, words=[Word(0.0, 0.4, " We", 0.9)]),
        Segment(2.5, 4.0, "Pricing is next week.", speaker="Them", channel=1),
    ])
    assert [s.index for s in segs] == [1, 2] and all(s.id for s in segs)
    more = store.segments.add_many(m.id, [Segment(4.0, 5.0, "Thanks all.")])
    assert more[0].index == 3
    back = store.segments.for_meeting(m.id)
    assert [s.text for s in back] == ["We agreed on the pilot.", "Pricing is next week.", "Thanks all."]
    assert back[0].words == [Word(0.0, 0.4, " We", 0.9)]
    assert [s.id for s in store.segments.get_many([segs[1].id, segs[0].id])] == [segs[1].id, segs[0].id]
    assert store.segments.update_speaker(meeting_id=m.id, old_speaker="Them", speaker="Bob Stone") == 1
    assert store.search("Bob Stone pricing")[0].kind == "segment"
    store.segments.replace(m.id, [Segment(0, 1, "Final text only.")])
    assert [s.index for s in store.segments.for_meeting(m.id)] == [1]
    assert store.search("pilot") == []  # replaced rows left the index
    store.notes.add(Note(m.id, "user", "Remember the **pilot** budget"))
    store.notes.add(Note(m.id, "ai", "# Minutes", kind="minutes"))
    assert [n.kind for n in store.notes.for_meeting(m.id)] == ["notes", "minutes"]
    assert [n.author for n in store.notes.for_meeting(m.id, kind="minutes")] == ["ai"]
    assert store.meetings.list(query="pilot") == []
    assert [x.id for x in store.meetings.list(query="Final")] == [m.id]
    m.status = "processed"
    store.meetings.update(m)
    assert store.meetings.get(m.id).status == "processed"


def test_actions_audit_exports_deals(store):
    m = _meeting(store)
    a = store.actions.add(ActionItem(m.id, "Send the deck", owner_text="You", due_date=date(2026, 3, 5), evidence=[1, 2]))
    store.actions.add(ActionItem(m.id, "Book a room", status="open"))
    assert store.actions.get(a.id).evidence == [1, 2]
    assert [x.text for x in store.actions.list(status="proposed")] == ["Send the deck"]
    assert len(store.actions.list(status=["proposed", "open"], meeting_id=m.id)) == 2
    assert [x.id for x in store.actions.list(owner="you")] == [a.id]
    store.actions.set_status(a.id, "done")
    assert store.actions.get(a.id).status == "done"
    with pytest.raises(KithError, match="status"):
        store.actions.set_status(a.id, "finished")
    e = store.audit.record(AuditEntry(actor="ai", action="extract", model="qwen", output={"n": 1}))
    assert store.audit.list()[0].output == {"n": 1} and e.at is not None
    assert store.exports.get("contact", 1, "hubspot") is None
    store.exports.set("contact", 1, "hubspot", "hs-1")
    store.exports.set("contact", 1, "hubspot", "hs-2")
    assert store.exports.get("contact", 1, "hubspot") == "hs-2"
    co = store.companies.add(Company(name="Acme"))
    d = store.deals.add(Deal(company_id=co.id, title="Pilot", amount=1200.0, close_date=date(2026, 6, 30)))
    assert store.deals.get(d.id).close_date == date(2026, 6, 30)
    assert [x.id for x in store.deals.list(company_id=co.id)] == [d.id]


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.contacts.add(Contact(name="Ghost"))
            with store.transaction():
                store.companies.add(Company(name="Inner"))
            raise RuntimeError("boom")
    assert store.contacts.list() == [] and store.companies.list() == []
    with store.transaction():
        store.contacts.add(Contact(name="Kept"))
        with pytest.raises(KithError):
            with store.transaction():
                store.contacts.add(Contact(name="Dup", emails=["a@b.co"]))
                store.contacts.add(Contact(name="Dup2", emails=["a@b.co"]))
    assert [c.name for c in store.contacts.list()] == ["Kept"]


def test_search_across_kinds_and_hostile_queries(store):
    m = _meeting(store, "Quarterly review")
    store.contacts.add(Contact(name="Zoë Quartz", emails=["zoe@quartz.dev"], notes="met at the expo"))
    store.notes.add(Note(m.id, "user", "Zoe wants a quartz discount"))
    store.segments.add_many(m.id, [Segment(61, 62, "The quartz order ships in May.", speaker="Them")])
    kinds = sorted(h.kind for h in store.search("quartz"))
    assert kinds == ["contact", "note", "segment"]
    seg = [h for h in store.search("quartz order") if h.kind == "segment"][0]
    assert seg.meeting_id == m.id and "1:01" in seg.title and "[quartz]" in seg.snippet
    assert [h.kind for h in store.search("zoe")][0] == "contact"  # diacritics folded
    assert store.search("qua")  # prefix on the last word
    for q in ['"', "AND OR NOT", "quartz)", "-", "*", "NEAR(", ""]:
        store.search(q)  # never an FTS syntax error
    assert store.search("nothing-like-this") == []


def test_suggestion_accept_never_overwrites_user_values(store):
    c = store.contacts.add(Contact(name="Dana Kite", emails=["dana@kite.io"], title="VP Sales"))
    s = store.suggestions.add(Suggestion("update_contact", {"contact_id": c.id, "fields": {"title": "Intern", "phone": "+1 555 0100"}}))
    r = store.suggestions.accept(s.id)
    assert r["conflicts"] == [{"field": "title", "current": "VP Sales", "proposed": "Intern"}]
    got = store.contacts.get(c.id)
    assert got.title == "VP Sales" and got.phones == ["+1 555 0100"]
    assert store.suggestions.get(s.id).status == "accepted"
    assert store.suggestions.result(s.id)["conflicts"][0]["field"] == "title"
    with pytest.raises(KithError, match="already accepted"):
        store.suggestions.accept(s.id)
    s2 = store.suggestions.add(Suggestion("update_contact", {"contact_id": c.id, "fields": {"title": "CRO"}}))
    r2 = store.suggestions.accept(s2.id, payload={"contact_id": c.id, "fields": {"title": "CRO"}, "overwrite": ["title"]})
    assert r2["applied"] == ["title"] and store.contacts.get(c.id).title == "CRO"
    # an AI-created person may be updated by later suggestions
    s3 = store.suggestions.add(Suggestion("create_contact", {"name": "Eli Ray", "email": "eli@ray.co", "company": "Ray Co",
                                                             "company_domain": "ray.co", "title": "CFO"}))
    r3 = store.suggestions.accept(s3.id)
    eli = store.contacts.get(r3["id"])
    assert r3["created"] and eli.source == "ai" and eli.title == "CFO"
    assert store.companies.get(eli.company_id).domain == "ray.co"
    s4 = store.suggestions.add(Suggestion("create_contact", {"name": "Eli Ray", "email": "ELI@ray.co", "title": "CEO"}))
    r4 = store.suggestions.accept(s4.id)
    assert not r4["created"] and r4["id"] == eli.id and store.contacts.get(eli.id).title == "CEO"
    assert any(e.action == "suggestion.accept" for e in store.audit.list())


def test_suggestion_kinds_company_deal_action(store):
    s = store.suggestions.add(Suggestion("create_company", {"name": "Orbit", "domain": "orbit.space"}))
    r = store.suggestions.accept(s.id)
    assert r["created"] and store.companies.find_by_domain("orbit.space").id == r["id"]
    again = store.suggestions.accept(store.suggestions.add(Suggestion("create_company", {"name": "Orbit Inc", "domain": "orbit.space"})).id)
    assert not again["created"] and again["id"] == r["id"]
    d = store.suggestions.accept(store.suggestions.add(Suggestion("update_deal", {
        "company": "Orbit", "fields": {"stage": "proposal", "budget": "40k", "decision_makers": ["Ann", "Raj"]}})).id)
    deal = store.deals.get(d["id"])
    assert d["created"] and deal.stage == "proposal" and deal.company_id == r["id"]
    assert "budget: 40k" in store.deals.notes(deal.id) and "Ann, Raj" in store.deals.notes(deal.id)
    user_deal = store.deals.add(Deal(company_id=r["id"], title="Orbit pilot", stage="negotiation"))
    d2 = store.suggestions.accept(store.suggestions.add(Suggestion("update_deal", {
        "deal_id": user_deal.id, "fields": {"stage": "lost", "next_step": "send contract"}})).id)
    assert d2["conflicts"][0]["field"] == "stage"
    assert store.deals.get(user_deal.id).stage == "negotiation" and store.deals.get(user_deal.id).next_step == "send contract"
    a = store.actions.add(ActionItem(None, "Email the SOW", owner_text="You"))
    ra = store.suggestions.accept(store.suggestions.add(Suggestion("action_item", {"action_item_id": a.id, "task": a.text})).id)
    assert ra["id"] == a.id and store.actions.get(a.id).status == "open"
    rj = store.suggestions.reject(store.suggestions.add(Suggestion("create_company", {"name": "Nope"})).id)
    assert rj.status == "rejected" and store.companies.find_by_name("Nope") is None
    assert [x.kind for x in store.suggestions.list()] == []
    assert len(store.suggestions.list(status=None)) == 6
    with pytest.raises(KithError, match="unknown suggestion kind"):
        store.suggestions.add(Suggestion("delete_everything", {}))  # type: ignore[arg-type]


def test_sqlite_utils_view_and_fts_stays_in_sync(store):
    from app.store.rights import check

    store.contacts.add(Contact(name="Via Utils"))
    assert store.db["contacts"].count == 1
    m = _meeting(store)
    store.segments.add_many(m.id, [Segment(i, i + 1, f"batch line {i} marmalade") for i in range(50)])
    # a row written outside the repository is still indexed by the (unguarded) trigger
    store.db["segments"].insert({"meeting_id": m.id, "idx": 51, "start": 51, "end": 52, "text": "stray quokka"})
    assert [h.kind for h in store.search("quokka")] == ["segment"]
    assert len(store.search("marmalade", limit=100)) == 50
    assert store.conn.execute("SELECT count(*) FROM _fts_bulk").fetchone()[0] == 0
    assert check(store)["fts"] == ["ok"]  # FTS5 integrity-check: index matches the content table


def test_minutes_are_the_ai_minutes_notes(store):
    from datetime import datetime, timezone

    from app.core.domain import Meeting, Note

    m = store.meetings.add(Meeting(title="Sync", started_at=datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)))
    store.notes.add(Note(meeting_id=m.id, author="user", body="my notes"))
    ai = store.notes.add(Note(meeting_id=m.id, author="ai", body="## Summary\nWe agreed.", kind="minutes"))
    assert [n.id for n in store.notes.minutes(m.id)] == [ai.id]
    assert [n.body for n in store.notes.user_notes(m.id)] == ["my notes"]
