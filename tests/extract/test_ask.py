"""answer_question cites only what it was given, or says it does not know."""
from __future__ import annotations

from datetime import date

import pytest

from app.core.domain import Segment
from app.extract import answer_question
from app.extract.ask import UNKNOWN
from app.extract.schema import RawAnswer

RETRIEVED = [
    ("Acme call", date(2026, 3, 4), Segment(0, 5, "Our budget is about fifty thousand dollars a year.", "Them", 1, id=41, meeting_id=7, index=10)),
    ("Acme call", date(2026, 3, 4), Segment(5, 9, "We want to go live before the end of June.", "Them", 1, id=46, meeting_id=7, index=15)),
]


class Scripted:
    """A stand-in at the model boundary that returns a fixed answer object."""

    name, n_ctx = "scripted", 4096

    def __init__(self, answer: RawAnswer):
        self.answer = answer
        self.prompts = []

    def count_tokens(self, text):
        return len(text.split())

    def complete_json(self, system, user, schema, max_tokens=0):
        self.prompts.append(user)
        return self.answer, self.answer.model_dump_json(), None


@pytest.mark.slow
def test_answer_on_smollm2_cites_only_retrieved_segments(smol):
    ans = answer_question("What budget did Acme mention?", RETRIEVED, smol)
    if ans.known:
        assert ans.citations and {c.segment_id for c in ans.citations} <= {41, 46}
        assert all(c.meeting_title == "Acme call" and c.quote for c in ans.citations)
    else:
        assert ans.text == UNKNOWN and not ans.citations


def test_nothing_retrieved_means_unknown_without_calling_a_model():
    ans = answer_question("What did Globex say?", [], llm=None)  # type: ignore[arg-type]
    assert not ans.known and ans.text == UNKNOWN


def test_a_supported_answer_keeps_its_citations():
    llm = Scripted(RawAnswer(answer="About fifty thousand dollars a year.", cite=[1]))
    ans = answer_question("What budget did Acme mention?", RETRIEVED, llm)
    assert ans.known and [c.segment_id for c in ans.citations] == [41] and ans.citations[0].meeting_id == 7
    assert "<<<EXCERPTS" in llm.prompts[0] and "[2]" in llm.prompts[0]


@pytest.mark.parametrize("raw", [
    RawAnswer(answer="About fifty thousand dollars.", cite=[9]),  # cites nothing it was given
    RawAnswer(answer="The CEO is called Bob and loves golf.", cite=[1]),  # not in what it cites
    RawAnswer(answer="", cite=[]),
])
def test_unsupported_or_unknown_answers_say_i_dont_know(raw):
    ans = answer_question("What budget did Acme mention?", RETRIEVED, Scripted(raw))
    assert not ans.known and ans.text == UNKNOWN and not ans.citations
