"""Every kept item cites real segments whose words support it; the rest is dropped or flagged."""
from __future__ import annotations

from app.extract.owners import find_people
from app.extract.postprocess import ChunkView, merge, process_chunk
from app.extract.schema import raw_schema_for
from app.extract.templates import load_template
from extract_helpers import DEMO_DATE, meeting

LINES = [
    (0, "I will send the pricing proposal by Friday."),
    (1, "Our budget is about fifty thousand dollars a year."),
    (1, "Our main concern is security and access to bank data."),
    (0, "We agreed to start with a pilot in April."),
    (1, "This is Maria from Acme Freight."),
]


def _raw(**over):
    tpl = load_template("sales")
    data = {"actions": [], "people": [], "companies": [], "decisions": [], "points": [], "summary": "s",
            "signals": {k: {"value": "", "seg": []} for k in tpl.signal_keys}}
    data.update(over)
    return raw_schema_for(tpl.signal_keys).model_validate(data), tpl


def _process(raw, tpl, chunk_range=None):
    segs = meeting(LINES)
    chunk = segs if chunk_range is None else segs[chunk_range[0]:chunk_range[1]]
    return process_chunk(raw, ChunkView(chunk, {s.index: s for s in segs}), find_people(segs, [], "You"), tpl, DEMO_DATE)


def test_missing_and_unsupported_citations_are_dropped_with_a_reason():
    raw, tpl = _raw(actions=[
        {"task": "send the pricing proposal", "owner": "You", "due": "Friday", "seg": [1]},
        {"task": "send the pricing proposal", "owner": "You", "due": "", "seg": [99]},  # no such segment
        {"task": "book flights to Lisbon", "owner": "You", "due": "", "seg": [2]},  # not what S2 says
        {"task": "", "owner": "", "due": "", "seg": [1]},
    ])
    out = _process(raw, tpl)
    assert [a.task for a in out.action_items] == ["send the pricing proposal"]
    assert out.action_items[0].quote == "I will send the pricing proposal by Friday."
    reasons = {(d.text, d.reason) for d in out.dropped}
    assert ("send the pricing proposal", "cites segments that do not exist (S99)") in reasons
    assert ("book flights to Lisbon", "the cited words do not support it") in reasons


def test_citations_outside_the_chunk_count_as_missing():
    raw, tpl = _raw(decisions=[{"text": "start with a pilot in April", "seg": [4]}])
    out = _process(raw, tpl, chunk_range=(0, 2))  # the model only saw S1-S2
    assert not out.decisions and out.dropped[0].reason.startswith("cites segments that do not exist")


def test_a_wrong_citation_is_moved_to_the_supporting_segment_and_flagged():
    raw, tpl = _raw(decisions=[{"text": "start with a pilot in April", "seg": [1]}])
    out = _process(raw, tpl)
    (d,) = out.decisions
    assert d.evidence == [4] and d.flagged and "S4 supports it" in d.flag_reason


def test_weak_support_is_never_kept():
    # "make a display requires an advanced chip" cited to "Okay. And speech recognition?" was kept:
    # an item must have half its content words in the line it cites, or move to one that has
    raw, tpl = _raw(actions=[{"task": "send the proposal plus contract drafts, invoice samples and references", "owner": "You", "due": "",
                              "seg": [1]}])
    out = _process(raw, tpl)
    assert not out.action_items
    assert out.dropped[0].reason == "the cited words do not support it"


def test_an_item_moves_to_the_line_that_supports_it_or_is_dropped():
    raw, tpl = _raw(decisions=[{"text": "security and access to bank data", "seg": [2]},  # S3 says it
                               {"text": "make a display requires an advanced chip", "seg": [5]}])
    out = _process(raw, tpl)
    (d,) = out.decisions
    assert d.evidence == [3] and not d.flagged  # the next line: moved, not flagged
    assert [x.text for x in out.dropped] == ["make a display requires an advanced chip"]


def test_signals_people_companies_are_checked_too():
    raw, tpl = _raw(
        signals={"stage": {"value": "none", "seg": []}, "budget": {"value": "$50,000 a year", "seg": [2]},
                 "timeline": {"value": "", "seg": []}, "decision_makers": {"value": "", "seg": []},
                 "objections": {"value": "security of bank data", "seg": [3]}, "next_step": {"value": "pilot", "seg": [77]}},
        people=[{"name": "Maria", "company": "Acme Freight", "role": "", "seg": [5]},
                {"name": "Dracula", "company": "", "role": "", "seg": [5]}],
        companies=[{"name": "Acme Freight", "seg": [5]}, {"name": "Globex", "seg": [5]}],
    )
    out = _process(raw, tpl)
    assert set(out.signals) == {"budget", "objections"}
    assert out.signals["budget"].quote.startswith("Our budget")
    assert [p.name for p in out.people] == ["Maria"] and [c.name for c in out.companies] == ["Acme Freight"]
    dropped = {d.text for d in out.dropped}
    assert {"Dracula", "Globex", "next_step: pilot"} <= dropped


def test_merge_deduplicates_overlapping_chunks():
    raw, tpl = _raw(actions=[{"task": "send the pricing proposal", "owner": "You", "due": "", "seg": [1]}],
                    signals={"stage": {"value": "discovery", "seg": [1]}, "budget": {"value": "", "seg": []},
                             "timeline": {"value": "", "seg": []}, "decision_makers": {"value": "", "seg": []},
                             "objections": {"value": "security", "seg": [3]}, "next_step": {"value": "", "seg": []}})
    a = _process(raw, tpl)
    raw2, _ = _raw(actions=[{"task": "send pricing proposal", "owner": "unassigned", "due": "", "seg": [1]}],
                   signals={"stage": {"value": "pilot", "seg": [4]}, "budget": {"value": "", "seg": []},
                            "timeline": {"value": "", "seg": []}, "decision_makers": {"value": "", "seg": []},
                            "objections": {"value": "bank data access", "seg": [3]}, "next_step": {"value": "", "seg": []}})
    b = _process(raw2, tpl)
    m = merge([a, b], tpl)
    assert len(m.action_items) == 1 and m.action_items[0].owner == "You"
    assert m.signals["stage"].value == "pilot"  # later in the meeting wins
    assert m.signals["objections"].value == "security; bank data access"  # lists accumulate


def test_a_number_missing_from_the_cited_words_is_flagged():
    lines_budget = {"stage": {"value": "", "seg": []}, "budget": {"value": "$45,000 a year", "seg": [2]},
                    "timeline": {"value": "", "seg": []}, "decision_makers": {"value": "", "seg": []},
                    "objections": {"value": "", "seg": []}, "next_step": {"value": "", "seg": []}}
    raw, tpl = _raw(signals=lines_budget)
    b = _process(raw, tpl).signals["budget"]  # spoken as words ("fifty thousand"): flagged for review
    assert b.flagged and "45000 not in the cited words" in b.flag_reason


def test_a_price_increase_is_not_a_budget():
    lines = [(1, "Finance flagged the 20% price increase on the new contract.")]
    tpl = load_template("sales")
    empty = {k: {"value": "", "seg": []} for k in tpl.signal_keys}
    raw = raw_schema_for(tpl.signal_keys).model_validate(
        {"actions": [], "people": [{"name": "Dana", "company": "", "role": "sales representative", "seg": [1]}],
         "companies": [], "decisions": [], "points": [], "summary": "",
         "signals": dict(empty, budget={"value": "20%", "seg": [1]})})
    segs = meeting(lines)
    out = process_chunk(raw, ChunkView(segs, {s.index: s for s in segs}), find_people(segs, [("Dana", None)], "You"),
                        tpl, DEMO_DATE)
    assert "budget" not in out.signals
    assert [p.role for p in out.people] == [""]  # a job title nobody said is not kept
