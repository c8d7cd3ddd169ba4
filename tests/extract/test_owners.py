"""Owner resolution on hand-made meetings: the rules, then the whole post-processing step."""
from __future__ import annotations

from app.extract.owners import find_people
from app.extract.postprocess import ChunkView, process_chunk
from app.extract.schema import raw_schema_for
from app.extract.templates import load_template

from extract_helpers import DEMO_DATE, meeting, seg

CALL = [
    (0, "Hi, thanks for joining. This is Alex from Northwind Ledger."),
    (1, "Sure. This is Maria from Acme Freight. I am the head of finance."),
    (1, "And I'm Tom, I run operations."),
    (0, "Good. I will send the pricing proposal by Friday."),
    (0, "Maria, can you share your security questionnaire by next Tuesday?"),
    (1, "Yes, I'll do that."),
    (1, "Tom will set up"),  # the recogniser cut this sentence in two
    (1, "the pilot by the end of the month. Sure, I will have the pilot running by the end of the month."),
    (1, "Can you also send us a reference customer?"),
    (1, "We'll think about the contract."),
]


def _run(actions, lines=CALL, attendees=()):
    segs = meeting(lines)
    people = find_people(segs, list(attendees), "You")
    tpl = load_template("general")
    Raw = raw_schema_for(tpl.signal_keys)
    raw = Raw.model_validate({
        "actions": actions, "people": [], "companies": [], "decisions": [], "points": [], "summary": "s",
        "signals": {k: {"value": "", "seg": []} for k in tpl.signal_keys},
    })
    view = ChunkView(chunk=segs, by_index={s.index: s for s in segs})
    return process_chunk(raw, view, people, tpl, DEMO_DATE), people


def test_people_found_from_introductions_and_addressing():
    people = find_people(meeting(CALL), [("Maria Lopez", "maria@acmefreight.com")], "You")
    names = {p.name: p for p in people.others}
    assert set(names) == {"Maria Lopez", "Tom"}
    assert names["Maria Lopez"].email == "maria@acmefreight.com"
    assert names["Maria Lopez"].company == "Acme Freight"
    assert "Alex" not in names  # the user's own introduction is the user, not a contact
    assert people.match("Alex") is people.user


def test_owners_follow_the_transcript_not_the_model():
    # the model's owners are all wrong or vague on purpose: the transcript decides
    out, _ = _run([
        {"task": "send the pricing proposal", "owner": "Maria", "due": "", "seg": [4]},
        {"task": "share the security questionnaire", "owner": "You", "due": "", "seg": [6]},  # cites the reply
        {"task": "set up the pilot", "owner": "Maria", "due": "", "seg": [8]},
        {"task": "send a reference customer", "owner": "Tom", "due": "", "seg": [9]},
    ])
    got = {a.task: (a.owner, a.owner_is_user, a.due and a.due.isoformat(), a.owner_source) for a in out.action_items}
    assert got["send the pricing proposal"] == ("You", True, "2026-03-06", "speaker")
    assert got["share the security questionnaire"][:3] == ("Maria", False, "2026-03-10")
    assert got["set up the pilot"][:3] == ("Tom", False, "2026-03-31")
    assert got["send a reference customer"][:2] == ("You", True)  # "can you …" said to the user
    for a in out.action_items:
        assert a.evidence and a.quote


def test_unknown_owner_is_unassigned_never_invented():
    out, _ = _run([
        {"task": "think about the contract", "owner": "Bob", "due": "", "seg": [10]},  # "we'll": two people on that side
    ])
    (a,) = out.action_items
    assert a.owner == "unassigned" and not a.owner_is_user and a.owner_source == "none"


def test_model_owner_kept_only_when_it_is_a_known_person():
    lines = [(0, "Let's get the contract reviewed."), (1, "Agreed, the contract needs a review.")]
    out, _ = _run([{"task": "review the contract", "owner": "Tom", "due": "", "seg": [1]}], lines,
                  attendees=[("Tom Becker", "tom@acme.com")])
    assert out.action_items[0].owner == "Tom Becker" and out.action_items[0].owner_source == "model"
    out, _ = _run([{"task": "review the contract", "owner": "Zed", "due": "", "seg": [1]}], lines,
                  attendees=[("Tom Becker", "tom@acme.com"), ("Ana Ruiz", "ana@acme.com")])
    assert out.action_items[0].owner == "unassigned"


def test_only_other_person_owns_a_far_side_commitment():
    lines = [(0, "Could you send the floor plan?"), (1, "Sure, I will send the floor plan tomorrow.")]
    out, _ = _run([{"task": "send the floor plan", "owner": "", "due": "tomorrow", "seg": [2]}], lines,
                  attendees=[("Ana Ruiz", "ana@acme.com")])
    (a,) = out.action_items
    assert (a.owner, a.owner_email, a.due.isoformat()) == ("Ana Ruiz", "ana@acme.com", "2026-03-05")


def test_named_speakers_from_an_import():
    segs = [seg(1, "I'll draft the board memo by Monday.", channel=-1, speaker="Priya Shah"),
            seg(2, "Great, thanks.", channel=-1, speaker="Ken")]
    people = find_people(segs, [], "You")
    tpl = load_template("general")
    Raw = raw_schema_for(tpl.signal_keys)
    raw = Raw.model_validate({"actions": [{"task": "draft the board memo", "owner": "Ken", "due": "", "seg": [1]}],
                              "people": [], "companies": [], "decisions": [], "points": [], "summary": "",
                              "signals": {k: {"value": "", "seg": []} for k in tpl.signal_keys}})
    out = process_chunk(raw, ChunkView(segs, {s.index: s for s in segs}), people, tpl, DEMO_DATE)
    assert out.action_items[0].owner == "Priya Shah"
    assert out.action_items[0].due.isoformat() == "2026-03-09"
