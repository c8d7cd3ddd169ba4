"""A cut-off JSON answer keeps its complete values (pure function; the real model run is in
tests/meetings, where SmolLM2 fills every list until it runs out of tokens)."""
import json

from app.extract.salvage import salvage
from app.extract.schema import raw_schema_for

FULL = {
    "actions": [{"task": "Send pricing", "owner": "You", "due": "Friday", "seg": [3]},
                {"task": "Share the questionnaire", "owner": "Maria", "due": "next Tuesday", "seg": [4]}],
    "people": [{"name": "Maria Lopez", "company": "Acme", "role": "finance", "seg": [2]}],
    "companies": [{"name": "Acme", "seg": [2]}],
    "decisions": [],
    "signals": {"budget": {"value": "40k", "seg": [5]}, "stage": {"value": "discovery", "seg": [1]}},
    "points": ["pricing", "security"],
    "summary": "A discovery call.",
}
SCHEMA = raw_schema_for(("budget", "stage"))


def test_every_cut_gives_a_valid_prefix_or_nothing():
    text = json.dumps(FULL)
    kept_actions = []
    for cut in range(1, len(text)):
        r = salvage(text[:cut], SCHEMA)
        if r is None:
            continue
        # never invents: whatever is kept is exactly what was written
        for a in r.actions:
            assert a.model_dump() in FULL["actions"]
        for p in r.people:
            assert p.model_dump() in FULL["people"]
        kept_actions.append(len(r.actions))
    assert kept_actions and kept_actions == sorted(kept_actions), "longer prefixes keep at least as much"
    assert max(kept_actions) == 2


def test_a_half_written_item_is_dropped_and_missing_fields_are_empty():
    text = json.dumps(FULL)
    cut = text.index('"Share the questionnaire"') + 10  # inside the second action
    r = salvage(text[:cut], SCHEMA)
    assert [a.task for a in r.actions] == ["Send pricing"]
    assert r.people == [] and r.summary == "" and r.signals.budget.value == ""


def test_junk_is_not_salvaged():
    assert salvage("not json at all", SCHEMA) is None
    assert salvage('{"actions": [{"task": ', SCHEMA) is None  # nothing complete: an error, not an empty answer
    assert salvage('{"actions": [], "people": [{"na', SCHEMA).actions == []
