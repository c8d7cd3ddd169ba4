"""Which lines commit someone (app.extract.commitments) and how an item is confirmed on its line
(app.extract.actions) — rules, no model. Lines are the kinds the issue saw turned into junk."""
from __future__ import annotations

import pytest
from extract_helpers import DEMO_DATE

from app.core.domain import Segment
from app.extract.actions import confirm_actions
from app.extract.commitments import classify, find_candidates
from app.extract.owners import find_people
from app.extract.plain import whole_sentences
from app.extract.schema import ActionItemResult, ExtractionResult


def _segs(lines):
    return [Segment(start=i * 4.0, end=i * 4.0 + 3, text=t, speaker=sp, channel=-1, index=i)
            for i, (sp, t) in enumerate(lines, 1)]


@pytest.mark.parametrize("sentence", [
    "We could do that.", "Maybe next week, I'll get back to you on it.", "I'll get back on it.",
    "Should we drop support for the old mobile app?", "I already sent the list to design on Monday.",
    "Yesterday I finished the login refactor.", "I'd bet my car on them losing again.",
    "I can't promise anything there.", "Ha, nice try.",
])
def test_hedges_questions_reports_and_jokes_are_not_commitments(sentence):
    assert classify(sentence), sentence
    assert not find_candidates(_segs([("Ana", sentence)]))


@pytest.mark.parametrize("sentence,task", [
    ("I'll send you the SOC 2 report by Wednesday.", "send you the SOC 2 report"),
    ("Then I'll prepare a revised quote for Martin, by next Tuesday.", "prepare a revised quote for Martin"),
    ("I will take notes during this meeting and I will send you a summary.", "send you a summary"),
    ("I'll set up the pilot by the end of the month.", "set up the pilot"),
])
def test_first_person_promises_give_their_task(sentence, task):
    (c,) = find_candidates(_segs([("Ana", sentence)]))
    assert c.task == task and c.shape == "promise"


def test_talk_in_the_room_is_not_a_task():
    for s in ("I'll just go through the agenda now.", "I'll be your project manager.", "Let me introduce myself.",
              "I'll keep this short.", "I will first present what we are going to do in this meeting."):
        assert not find_candidates(_segs([("Project Manager", s)])), s


def test_a_request_accepted_with_sure_belongs_to_who_accepts():
    segs = _segs([("Omar", "Jules, could you pair with me on the flaky tests this afternoon?"), ("Jules", "Sure, happy to."),
                  ("Maya", "Leo, would you keep a log of each failure?"), ("Leo", "Maybe, let's see.")])
    people = find_people(segs, [], "You")
    (c,) = find_candidates(segs, people)
    assert c.shape == "accepted" and c.segment.index == 2 and c.request.index == 1
    out = ExtractionResult()
    confirm_actions(out, segs, people, DEMO_DATE)
    (a,) = out.action_items
    assert a.owner == "Jules" and a.evidence == [1, 2]


def test_a_model_item_on_a_line_that_commits_nobody_is_dropped_with_the_reason():
    segs = _segs([("Industrial Designer", "Okay. And speech recognition?"),
                  ("Marketing", "We could make a display, but that requires an advanced chip."),
                  ("Marketing", "I'll send you the market survey by Friday.")])
    people = find_people(segs, [], "You")
    out = ExtractionResult(action_items=[
        ActionItemResult(task="make a display requires an advanced chip", evidence=[2]),
        ActionItemResult(task="send the market survey", owner="Industrial Designer", evidence=[3]),
        ActionItemResult(task="send market survey", evidence=[3]),  # the same commitment again
    ])
    confirm_actions(out, segs, people, DEMO_DATE)
    (a,) = out.action_items
    assert (a.task, a.owner, a.due.isoformat()) == ("send the market survey", "Marketing", "2026-03-06")
    reasons = [d.reason for d in out.dropped]
    assert reasons == ["the cited line is a hedge, not a commitment", "the same commitment as another item"]


def test_a_meeting_without_commitments_gives_no_action_items():
    segs = _segs([("Rita", "So, what did everyone think of the ending?"), ("Ben", "I loved it."),
                  ("Ben", "We could read another Powers novel some time, maybe."), ("Chloe", "Same time next month.")])
    out = ExtractionResult()
    confirm_actions(out, segs, find_people(segs, [], "You"), DEMO_DATE)
    assert out.action_items == []


def test_summaries_end_on_a_full_sentence():
    assert whole_sentences("Summary: The team met. Marketing and User Interface discussed the importance of a") == \
        "The team met."
    assert whole_sentences("- Laura led the meeting.\n- They chose a remote.") == "Laura led the meeting. They chose a remote."
    assert whole_sentences("no end at all") == ""
