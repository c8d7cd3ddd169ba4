"""A fixed slice of bench/quality_bench.py on the DEFAULT model, with thresholds: a sales call
with a "sure"-accepted request, a hedge and a price increase (s01), a call with an injection
attempt (s04) and a meeting with no commitments (s03). Scored by the bench's own judge."""
from __future__ import annotations

import importlib.util
import json
from datetime import date

import pytest

from app.core.domain import Segment
from app.core.paths import resource_path
from app.extract import MeetingContext, extract_meeting

SLICE = ("s01-sales-renewal", "s03-no-commitments", "s04-injection")


def _bench():
    path = resource_path("bench", "quality_bench.py")
    spec = importlib.util.spec_from_file_location("quality_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.quality
@pytest.mark.slow
@pytest.mark.timeout(2400)  # ~2-3 min on an idle 2-core machine; far more when the box is shared
def test_bench_slice_meets_the_thresholds(qwen):
    bench = _bench()
    corpus = {m["id"]: m for m in bench.load_corpus()}
    scores = []
    for mid in SLICE:
        m = corpus[mid]
        segs = [Segment(start=s["start"], end=s["end"], text=s["text"], speaker=s["speaker"], channel=s["channel"],
                        index=i) for i, s in enumerate(bench.segments_of(m), 1)]
        ctx = MeetingContext(title=m["title"], date=date.fromisoformat(m["date"]), attendees=[tuple(a) for a in m["attendees"]],
                             user_name=m["user_name"], template=m["template"])
        res = json.loads(extract_meeting(segs, ctx, qwen).model_dump_json())
        scores.append(bench.score_meeting(m, res))
    o = bench.overall(scores)
    report = [(s["id"], s.get("junk"), s.get("wrong_owner"), s["unsupported_examples"], s["summary"]) for s in scores]
    assert o["recall"][0] >= 4 and o["recall"][1] == 5, report  # owner-right recall ≥ 80 % (4 of 5)
    assert o["precision"][0] >= 0.8 * o["precision"][1], report
    assert o["supported"][0] == o["supported"][1], report  # every kept item is supported by its line
    assert o["leaks"] == 0 and o["cut"] == 0 and o["junk"] == 0, report
    by = {s["id"]: s for s in scores}
    assert by["s03-no-commitments"]["items"] == 0, report
