"""A person the model names is linked to an existing contact only when the user accepts it."""
from __future__ import annotations

from datetime import datetime, timezone

from app.core.domain import Contact, Meeting, Segment
from app.meetings.store_results import store_extraction


def _meeting(store, with_ids=()):
    m = store.meetings.add(Meeting(title="Intro call", started_at=datetime(2026, 4, 1, tzinfo=timezone.utc)))
    segs = store.segments.add_many(m.id, [Segment(0, 2, "I'm Bruno, from Initech.", speaker="Them"),
                                          Segment(2, 4, "Nice to meet you.", speaker="You")])
    for cid in with_ids:
        store.meetings.add_participant(m.id, cid)
    return m, segs


RESULT = {"summary": "Intro.", "people": [{"name": "Bruno", "role": "CTO", "evidence": [1]}]}


def test_a_different_bruno_is_not_merged(kith):
    store = kith.store()
    zb = store.contacts.add(Contact(name="Bruno Zebrowski", emails=["bruno@globex.example"]))
    m, segs = _meeting(store)
    _, suggestions = store_extraction(kith, m, segs, RESULT)
    assert store.meetings.participants(m.id) == []  # nothing linked by the model itself
    assert store.contacts.get(zb.id).title == ""
    link = [s for s in suggestions if s.kind == "link_contact"]
    assert len(link) == 1 and link[0].status == "pending"
    assert link[0].payload["contact_id"] == zb.id and link[0].payload["name"] == "Bruno"
    assert link[0].payload["matched_by"] == "name" and link[0].evidence == [segs[0].id]
    store.suggestions.reject(link[0].id, "a different Bruno")
    assert store.meetings.participants(m.id) == [] and store.contacts.get(zb.id).title == ""


def test_accepting_the_link_adds_the_participant_and_fills_gaps(kith):
    store = kith.store()
    zb = store.contacts.add(Contact(name="Bruno Zebrowski"))
    m, segs = _meeting(store)
    _, suggestions = store_extraction(kith, m, segs, RESULT)
    sid = next(s.id for s in suggestions if s.kind == "link_contact")
    result = store.suggestions.accept(sid)
    assert result["entity"] == "contact" and result["id"] == zb.id and "participant" in result["applied"]
    assert [c.id for c in store.meetings.participants(m.id)] == [zb.id]
    assert store.meetings.participant_roles(m.id)[zb.id] == "speaker"
    assert store.contacts.get(zb.id).title == "CTO"


def test_a_known_participant_gets_no_link_proposal(kith):
    store = kith.store()
    zb = store.contacts.add(Contact(name="Bruno Zebrowski"))
    m, segs = _meeting(store, with_ids=[zb.id])
    _, suggestions = store_extraction(kith, m, segs, RESULT)
    assert [s.kind for s in suggestions if s.kind in ("link_contact", "update_contact")] == ["update_contact"]


OWNED = {"summary": "Intro.", "action_items": [{"task": "send the security questionnaire", "owner": "Bruno Zebrowsky",
                                                "evidence": [1]}]}


def test_an_owner_with_a_similar_name_is_proposed_not_linked(kith):
    """The model's "Bruno Zebrowsky" is not silently the contact "Bruno Zebrowski": the item stays
    unlinked, the suggestion carries the match, and accepting it links the owner."""
    store = kith.store()
    zb = store.contacts.add(Contact(name="Bruno Zebrowski"))
    m, segs = _meeting(store)
    actions, suggestions = store_extraction(kith, m, segs, OWNED)
    assert actions[0].owner_contact_id is None
    s = next(x for x in suggestions if x.kind == "action_item")
    assert s.payload["owner_match"] == {"contact_id": zb.id, "name": "Bruno Zebrowski"}
    from app.meetings.minutes import suggestion_line
    from app.ops.review import editable_fields

    assert f"contact #{zb.id} Bruno Zebrowski when accepted" in suggestion_line(s)
    assert not any(k.startswith("owner_match") for k, _ in editable_fields(s.payload))
    store.suggestions.accept(s.id)
    assert store.actions.get(actions[0].id).owner_contact_id == zb.id


def test_an_owner_with_the_same_name_is_linked(kith):
    store = kith.store()
    zb = store.contacts.add(Contact(name="Bruno Zebrowski"))
    m, segs = _meeting(store)
    actions, suggestions = store_extraction(kith, m, segs, {**OWNED, "action_items": [
        {**OWNED["action_items"][0], "owner": "bruno zebrowski"}]})
    assert actions[0].owner_contact_id == zb.id
    assert "owner_match" not in next(x for x in suggestions if x.kind == "action_item").payload
