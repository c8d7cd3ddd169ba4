"""bm25 over transcript lines ranks a bounded number of lines: rare words are kept whole, common
ones only lift the lines that hold a rare one, all-common questions rank the newest matches; a
meeting filter ranks only that meeting's lines."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.core.domain import Meeting, Segment
from app.store import search as search_mod
from app.store.search import any_phrases, bounded_expression


def _meeting(store, title: str, lines: list[str]):
    m = store.meetings.add(Meeting(title=title, started_at=datetime(2026, 10, 6, 15, tzinfo=timezone.utc)))
    return m, store.segments.add_many(m.id, [Segment(i * 4.0, i * 4.0 + 3, t, "Dana", 1) for i, t in enumerate(lines)])


@pytest.fixture
def common_store(store):
    old, old_segs = _meeting(store, "Old", ["The zeppelin budget was approved."] + [f"Budget line {i}." for i in range(30)])
    new, new_segs = _meeting(store, "New", [f"Another budget remark {i}." for i in range(30)] + ["A zeppelin flew by."])
    return store, old_segs, new_segs


def test_small_stores_rank_every_match(common_store):
    store, *_ = common_store
    phrases = any_phrases("What zeppelin budget?")
    assert bounded_expression(store.conn, phrases) == (" OR ".join(phrases), None)


def test_rare_words_are_kept_whole_and_common_ones_lift_them(common_store, monkeypatch):
    store, old_segs, new_segs = common_store
    monkeypatch.setattr(search_mod, "RANK_BUDGET", 10)
    expr, low = bounded_expression(store.conn, any_phrases("What zeppelin budget?"))
    assert low is None and expr == '"zeppelin"* OR (("zeppelin"*) AND ("budget"*))'
    hits = store.search("What zeppelin budget?", match="any", kinds=("segment",))
    # only lines holding the rare word are ranked; the one that also holds the common word comes first
    assert [h.id for h in hits] == [old_segs[0].id, new_segs[-1].id]


def test_all_common_questions_rank_the_newest_matches(common_store, monkeypatch):
    store, old_segs, new_segs = common_store
    monkeypatch.setattr(search_mod, "RANK_BUDGET", 10)
    hits = store.search("budget", match="any", kinds=("segment",), limit=50)
    assert len(hits) == 10 and {h.id for h in hits} <= {s.id for s in new_segs}
    monkeypatch.setattr(search_mod, "RANK_BUDGET", 10000)
    assert len(store.search("budget", match="any", kinds=("segment",), limit=100)) == 61


def test_a_meeting_filter_ranks_that_meetings_lines_in_the_global_order(common_store, monkeypatch):
    store, old_segs, new_segs = common_store
    everything = [h.id for h in store.search("zeppelin budget", match="any", kinds=("segment",), limit=100)]
    old_id = old_segs[0].meeting_id
    for ranges in (16, 0):  # range by range, and the plain filter over many ranges
        monkeypatch.setattr(search_mod, "MAX_RANGES", ranges)
        only = [h.id for h in store.search("zeppelin budget", match="any", kinds=("segment",), limit=100,
                                           meeting_ids={old_id})]
        assert only == [i for i in everything if i in {s.id for s in old_segs}]


def test_a_meeting_whose_lines_interleave_with_another_is_not_searched_by_range(store):
    """Lines re-added to a meeting later sit after another meeting's: its id range holds foreign
    lines, which must not take the ranked places."""
    a, a_segs = _meeting(store, "A", ["Zeppelin pricing first."])
    b, b_segs = _meeting(store, "B", [f"Zeppelin zeppelin chatter {i}." for i in range(20)])
    late = store.segments.add_many(a.id, [Segment(100.0, 103.0, "Zeppelin pricing again.", "Dana", 1)])
    assert late[0].id > b_segs[-1].id
    hits = store.search("zeppelin", match="any", kinds=("segment",), limit=2, meeting_ids={a.id})
    assert [h.id for h in hits] and {h.id for h in hits} <= {s.id for s in a_segs + late}
    assert len(hits) == 2
