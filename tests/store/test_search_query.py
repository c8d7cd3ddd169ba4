"""One FTS query builder: all-words for search as you type, any-content-word + bm25 for questions;
segment vectors live and die with their lines."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from app.core.domain import ActionItem, Contact, Meeting, Note, Segment
from app.store.search import content_terms, fts_query

LINES = [
    ("Dana", "Thanks for joining, let's go through the contract."),
    ("Sam", "Our budget for the pilot is about fifty thousand dollars a year."),
    ("Dana", "A two-year term is our standard agreement."),
    ("Sam", "I'd rather not sign a two-year term, twelve months first."),
    ("Dana", "We support single sign-on with Okta."),
]


@pytest.fixture
def acme(store):
    m = store.meetings.add(Meeting(title="Acme pricing call", started_at=datetime(2026, 10, 6, 15, tzinfo=timezone.utc)))
    segs = store.segments.add_many(m.id, [Segment(i * 4.0, i * 4.0 + 3, t, sp, 1) for i, (sp, t) in enumerate(LINES)])
    return m, segs


def test_the_question_builder_never_searches_for_the_word_or():
    q = fts_query("What budget did Acme mention?", match="any")
    assert q == '"budget"* OR "acme"*'
    assert '"OR"' not in q and '"or"' not in q
    assert fts_query("pricing schedules", match="any") == '"pric"* OR "schedul"*'  # finds price, scheduling
    assert fts_query("budget acme") == '"budget" "acme"*'  # search as you type: every word, last as a prefix
    assert fts_query("NEAR(a b) OR -c: d", match="all") == '"NEAR" "a" "b" "OR" "c" "d"'  # syntax is quoted away
    assert fts_query("what did you say?", match="any") == ""
    assert content_terms("What did Dana think about the two-year term?") == ["dana", "two", "year", "term"]
    with pytest.raises(ValueError):
        fts_query("x", match="some")


@pytest.mark.parametrize("question, want", [
    ("What budget did Acme mention?", 1),
    ("What did Sam think about the two-year term?", 3),
    ("Do they support single sign-on?", 4),
    ("How many dollars is the pilot budget per year?", 1),
])
def test_multi_word_questions_find_their_line_first(store, acme, question, want):
    _m, segs = acme
    hits = store.search(question, match="any", kinds=("segment",))
    assert hits and hits[0].id == segs[want].id, [h.title for h in hits]


def test_the_old_or_query_shape_found_nothing_and_all_words_search_is_unchanged(store, acme):
    assert store.search('"budget" OR "acme"') == []  # re-tokenised into "budget" "OR" "acme"*: what Ask used to send
    hits = store.search("fifty thou")
    assert [h.kind for h in hits] == ["segment"]


def test_minutes_notes_action_items_and_people_are_searched(store, acme):
    m, segs = acme
    store.notes.add(Note(meeting_id=m.id, author="ai", kind="minutes", body="## Decisions\n\n- One-year renewal term [S4]\n"))
    store.actions.add(ActionItem(meeting_id=m.id, text="Send the renewal paperwork", owner_text="Sam", evidence=[segs[3].id]))
    store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@acme.example"]))
    kinds = {h.kind for h in store.search("renewal paperwork Dana", match="any", kinds=("note", "action", "contact"))}
    assert kinds == {"note", "action", "contact"}
    from app.store.search import cited_segments

    hits = store.search("renewal term", match="any", kinds=("note", "action"))
    assert set(cited_segments(store, hits, ["renewal", "term"])) == {segs[3].id}


def test_meeting_filter_keeps_only_those_meetings(store, acme):
    m, _ = acme
    other = store.meetings.add(Meeting(title="Globex", started_at=datetime(2026, 9, 1, tzinfo=timezone.utc)))
    store.segments.add_many(other.id, [Segment(0, 1, "Globex has a budget too.", "Tom", 1)])
    both = {h.meeting_id for h in store.search("budget", match="any", kinds=("segment",))}
    assert both == {m.id, other.id}
    only = {h.meeting_id for h in store.search("budget", match="any", kinds=("segment",), meeting_ids={other.id})}
    assert only == {other.id}


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def test_vectors_are_searched_and_go_with_their_lines(store, acme):
    m, segs = acme
    store.vectors.put_many("t", [(s.id, m.id, _unit(i)) for i, s in enumerate(segs)])
    assert store.vectors.count_missing("t") == 0
    assert store.vectors.nearest("t", _unit(2), 2)[0][0] == segs[2].id
    # a changed line (an erased name, a correction) drops its vector and the next line's (which encodes it)
    store.segments.update_text(segs[1].id, "Our budget is [erased].")
    assert {r[0] for r in store.vectors.missing("t")} == {segs[1].id, segs[2].id}
    assert segs[1].id not in {i for i, _ in store.vectors.nearest("t", _unit(1), 10)}
    store.meetings.delete(m.id)
    assert store.vectors.count() == 0 and store.vectors.nearest("t", _unit(0), 5) == []


def test_erasing_a_person_drops_the_vectors_of_lines_that_named_them(store, acme):
    from app.store.rights import erase_person

    m, segs = acme
    c = store.contacts.add(Contact(name="Okta Person", emails=["okta@x.example"]))
    store.segments.update_text(segs[4].id, "We support single sign-on with Okta Person.")
    store.vectors.put_many("t", [(s.id, m.id, _unit(i)) for i, s in enumerate(segs)])
    erase_person(store, c.id)
    assert segs[4].id in {r[0] for r in store.vectors.missing("t")}


def test_quantised_search_returns_the_exact_top_lines_and_scores(store, acme):
    """The int8 copy only picks candidates: the top lines and their scores match a float32 scan."""
    m, segs = acme
    rng = np.random.default_rng(3)
    base = rng.standard_normal((len(segs), 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    store.vectors.put_many("t", [(s.id, m.id, base[i]) for i, s in enumerate(segs)])
    ids, _mids, mat = store.vectors.matrix("t")
    assert mat.dtype == np.int8
    for seed in range(5):
        q = base[seed % len(segs)] + 0.5 * _unit(100 + seed)
        q /= np.linalg.norm(q)
        stored = base.astype(np.float16).astype(np.float32)
        want = np.argsort(-(stored @ q))[:3]
        got = store.vectors.nearest("t", q, 3)
        assert [sid for sid, _ in got] == [segs[i].id for i in want]
        assert np.allclose([x for _, x in got], (stored @ q)[want], atol=1e-5)
