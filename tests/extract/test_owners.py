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


def test_model_owner_used_only_when_the_line_supports_it():
    lines = [(0, "Let's get the contract reviewed."), (1, "Agreed, Tom has the contract and reviews it this week.")]
    att = [("Tom Becker", "tom@acme.com"), ("Ana Ruiz", "ana@acme.com")]
    out, _ = _run([{"task": "review the contract", "owner": "Tom", "due": "", "seg": [2]}], lines, attendees=att)
    assert (out.action_items[0].owner, out.action_items[0].owner_source) == ("Tom Becker", "model")  # the line names him
    # the model names an attendee the line does not support: not kept
    out, _ = _run([{"task": "review the contract", "owner": "Ana", "due": "", "seg": [2]}], lines, attendees=att)
    assert out.action_items[0].owner == "unassigned"
    out, _ = _run([{"task": "get the contract reviewed", "owner": "Tom", "due": "", "seg": [1]}], lines, attendees=att)
    assert out.action_items[0].owner == "unassigned"
    out, _ = _run([{"task": "review the contract", "owner": "Zed", "due": "", "seg": [2]}], lines, attendees=att)
    assert out.action_items[0].owner == "unassigned"


def _run_segs(segs, actions, attendees=(), user="Sam"):
    people = find_people(segs, list(attendees), user)
    tpl = load_template("general")
    Raw = raw_schema_for(tpl.signal_keys)
    raw = Raw.model_validate({"actions": actions, "people": [], "companies": [], "decisions": [], "points": [],
                              "summary": "", "signals": {k: {"value": "", "seg": []} for k in tpl.signal_keys}})
    out = process_chunk(raw, ChunkView(segs, {s.index: s for s in segs}), people, tpl, DEMO_DATE)
    return {a.task: (a.owner, a.owner_source) for a in out.action_items}


# Two guests on the far channel that the speakers step could not name: the model's owners are
# attendees' names, half of them swapped — none may be kept without a line that supports it.
GUESTS = [("Dana Kim", "dana@northwind.io"), ("Leo Park", "leo@northwind.io")]
UNNAMED_CALL = [
    (0, "You", "Thanks both for joining."),
    (1, "Speaker 1", "I'll send the security questionnaire by Friday."),
    (1, "Speaker 2", "I will pull the usage numbers next week."),
    (0, "You", "Dana, can you share the rollout plan?"),
    (1, "Speaker 2", "Sure, happy to."),
    (0, "You", "Can you also send the invoice copy?"),
    (1, "Speaker 1", "Yes, will do."),
    (1, "Speaker 2", "Can you book the workshop room?"),
    (0, "You", "Sure, no problem."),
    (1, "Speaker 1", "The contract needs a legal review."),
    (0, "You", "Leo, can you draft the FAQ?"),
    (1, "Speaker 1", "No, sorry, not this month."),
]


def test_owners_never_guessed_when_the_far_voices_are_unnamed():
    segs = [seg(i, text, ch, speaker=sp) for i, (ch, sp, text) in enumerate(UNNAMED_CALL, 1)]
    got = _run_segs(segs, [
        {"task": "send the security questionnaire", "owner": "Dana", "due": "", "seg": [2]},
        {"task": "pull the usage numbers", "owner": "Dana", "due": "", "seg": [3]},
        {"task": "share the rollout plan", "owner": "Leo", "due": "", "seg": [4]},
        {"task": "send the invoice copy", "owner": "Dana", "due": "", "seg": [6]},
        {"task": "book the workshop room", "owner": "Leo", "due": "", "seg": [8]},
        {"task": "get a legal review of the contract", "owner": "Dana", "due": "", "seg": [10]},
        {"task": "draft the FAQ", "owner": "Leo", "due": "", "seg": [11]},
    ], attendees=GUESTS)
    assert got == {
        "send the security questionnaire": ("Speaker 1", "speaker"),  # first person: the speaker's label
        "pull the usage numbers": ("Speaker 2", "speaker"),
        "share the rollout plan": ("Dana Kim", "addressed"),  # asked by name, accepted
        "send the invoice copy": ("Speaker 1", "reply"),  # asked without a name: the one who took it on
        "book the workshop room": ("Sam", "addressed"),  # the user said "Sure" to the far side's request
        "get a legal review of the contract": ("Speaker 1", "speaker"),  # no support for the model's "Dana"
        "draft the FAQ": ("unassigned", "none"),  # asked, and turned down
    }


def test_owner_labels_on_a_mono_recording():
    """A mono file: every voice is a diarized label on one channel, the user among them."""
    lines = [("Speaker 1", "Hi Dana, thanks for joining."), ("Speaker 2", "Thanks Leo. Our blocker is security."),
             ("Speaker 1", "I will send the security answers by Friday."),
             ("Speaker 2", "Could you also send the price list?"), ("Speaker 1", "Sure."),
             ("Speaker 2", "And we'll sign the contract next week.")]
    segs = [seg(i, t, -1, speaker=sp) for i, (sp, t) in enumerate(lines, 1)]
    got = _run_segs(segs, [
        {"task": "send the security answers", "owner": "Dana", "due": "", "seg": [3]},
        {"task": "send the price list", "owner": "Dana", "due": "", "seg": [4]},
        {"task": "sign the contract", "owner": "Leo", "due": "", "seg": [6]},
    ], attendees=GUESTS)
    assert got == {"send the security answers": ("Speaker 1", "speaker"), "send the price list": ("Speaker 1", "reply"),
                   "sign the contract": ("Speaker 2", "speaker")}
    # once the speakers step has named the voices, the same lines give the names
    for s in segs:
        s.speaker = {"Speaker 1": "Leo Park", "Speaker 2": "Dana Kim"}[s.speaker]
    got = _run_segs(segs, [{"task": "send the security answers", "owner": "Dana", "due": "", "seg": [3]}],
                    attendees=GUESTS)
    assert got == {"send the security answers": ("Leo Park", "speaker")}


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
