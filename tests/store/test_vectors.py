"""The in-memory vector copy: sign bits pick candidates in a large store, new meetings are appended
without a reload, and a question searched in several scopes scans once."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from app.core.domain import Meeting, Segment
from app.store.vectors import Vectors


def _meeting(store, n: int, title: str = "Sync"):
    m = store.meetings.add(Meeting(title=title, started_at=datetime(2026, 10, 6, 15, tzinfo=timezone.utc)))
    segs = store.segments.add_many(m.id, [Segment(i * 4.0, i * 4.0 + 3, f"line {i}", "Dana", 1) for i in range(n)])
    return m, segs


def _unit_rows(rng, n: int, dim: int = 384) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v += 0.3  # not centred, like real sentence vectors: the sign bits are taken about the mean
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _near(base: np.ndarray, rng, i: int) -> np.ndarray:
    q = base[i] + 0.6 * _unit_rows(rng, 1)[0]
    return q / np.linalg.norm(q)


def test_sign_bit_candidates_give_the_same_top_lines_as_a_full_scan(store):
    rng = np.random.default_rng(5)
    m, segs = _meeting(store, 600)
    base = _unit_rows(rng, len(segs))
    store.vectors.put_many("t", [(s.id, m.id, base[i]) for i, s in enumerate(segs)])
    coarse = Vectors(store, exact_rows=100, candidates=60)  # 600 lines > 100: the sign-bit path, 10 % kept
    for i in (0, 17, 333, 599):
        q = _near(base, rng, i)
        full = store.vectors.nearest("t", q, 5)
        got = coarse.nearest("t", q, 5)
        assert got[0][0] == segs[i].id == full[0][0]
        assert np.isclose(got[0][1], full[0][1], atol=1e-6)  # scores come from the stored vectors
    assert coarse.index("t").bits.shape == (6, 600) and coarse.index("t").bits.dtype == np.uint64


def test_sign_bit_path_keeps_to_the_meetings_asked_for(store):
    rng = np.random.default_rng(6)
    a, sa = _meeting(store, 300, "A")
    b, sb = _meeting(store, 300, "B")
    base = _unit_rows(rng, 600)
    store.vectors.put_many("t", [(s.id, a.id, base[i]) for i, s in enumerate(sa)]
                           + [(s.id, b.id, base[300 + i]) for i, s in enumerate(sb)])
    coarse = Vectors(store, exact_rows=100, candidates=50)
    q = _near(base, rng, 10)  # a line of meeting A
    only_b = coarse.nearest("t", q, 10, meeting_ids={b.id})
    assert only_b and {sid for sid, _ in only_b} <= {s.id for s in sb}
    assert coarse.nearest("t", q, 1)[0][0] == sa[10].id
    # the same question in two scopes: one pass over the bits
    d1 = coarse._last[3]
    coarse.nearest("t", q, 10, meeting_ids={a.id})
    assert coarse._last[3] is d1


def test_a_new_meeting_is_appended_to_the_copy_and_a_deletion_reloads_it(store):
    rng = np.random.default_rng(7)
    m, segs = _meeting(store, 50)
    base = _unit_rows(rng, 80)
    store.vectors.put_many("t", [(s.id, m.id, base[i]) for i, s in enumerate(segs)])
    first = store.vectors.index("t")
    m2, segs2 = _meeting(store, 30)
    store.vectors.put_many("t", [(s.id, m2.id, base[50 + i]) for i, s in enumerate(segs2)])
    grown = store.vectors.index("t")
    assert len(grown.ids) == 80 and list(grown.ids[:50]) == list(first.ids)
    assert np.array_equal(grown.mat[:50], first.mat)  # the old rows were kept, not re-read
    assert store.vectors.nearest("t", base[60], 1)[0][0] == segs2[10].id
    store.meetings.delete(m.id)
    after = store.vectors.index("t")
    assert len(after.ids) == 30 and set(after.ids) == {s.id for s in segs2}


def test_a_replaced_vector_is_not_served_from_the_old_copy(store):
    rng = np.random.default_rng(8)
    m, segs = _meeting(store, 20)
    base = _unit_rows(rng, 21)
    store.vectors.put_many("t", [(s.id, m.id, base[i]) for i, s in enumerate(segs)])
    assert store.vectors.nearest("t", base[20], 1)[0][0] != segs[3].id
    store.vectors.put_many("t", [(segs[3].id, m.id, base[20])])  # same row count and ids: only the content changed
    assert store.vectors.nearest("t", base[20], 1)[0][0] == segs[3].id
