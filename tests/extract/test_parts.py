"""A meeting's parts written one after another or decoded together (app.extract.parts)."""
from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import Cancelled
from app.core.events import CancelToken, EventBus, Progress
from app.extract import LocalLLM, MeetingContext, extract_meeting
from app.extract.extractor import ExtractOptions
from app.extract.llm import ExtractionError, Usage
from app.extract.parts import batches, write_parts
from app.extract.prompt import json_task, system_prompt
from app.extract.schema import raw_schema_for
from app.extract.templates import load_template
from extract_helpers import meeting, smollm2_path

LINES = [(1, "We spent forty hours on the invoice backlog last month."),
         (0, "I will send the notes on the audit by Friday."),
         (1, "Maria, can you share the fuel cost numbers by next Tuesday?"),
         (0, "Sounds good. The pilot starts in March with two warehouses."),
         (1, "Our auditors asked about payroll twice this year."),
         (0, "Tom will set up a call about vendor onboarding next week.")]
SMALL = ExtractOptions(chunk_tokens=110, max_tokens=40, part_summary_tokens=24)


@pytest.fixture(scope="module")
def batched():
    return LocalLLM(smollm2_path(), n_threads=1, n_ctx=1024, n_parallel=3, batch_parts=True)


def _parts(llm, n_lines=18, template="sales"):
    t = load_template(template)
    prefixes = [f"Transcript part {k}:\n<<<TRANSCRIPT\n" + "\n".join(f"[S{i}] Them: {x}" for i, (_c, x) in
                                                                   enumerate(LINES * 3, 1) if i % 4 == k % 4)
                + "\nTRANSCRIPT>>>\n\n" for k in range(n_lines // 4)]
    return (system_prompt(t), prefixes, json_task(t), raw_schema_for(t.signal_keys, (2, 2, 2, 2, 2), summary=False))


def test_batched_parts_are_the_same_as_one_at_a_time_in_the_batch_context(batched):
    system, prefixes, task, schema = _parts(batched)  # 4 parts on 3 slots: one waits for a free slot
    assert batches(batched, len(prefixes))
    seen = []
    par = write_parts(batched, system, prefixes, task, schema, 40, 24, on_part=lambda k, o: seen.append(k))
    one = write_parts(batched, system, prefixes, task, schema, 40, 24, parallel=1)
    assert [(o.text, o.summary, o.error is None) for o in par] == [(o.text, o.summary, o.error is None) for o in one]
    assert sorted(seen) == [0, 1, 2, 3]
    assert all(o.json_usage.completion_tokens and o.summary_usage.calls == 1 for o in par if o.error is None)
    # the summary continued on its part's sequence: only the instruction was evaluated
    assert all(o.summary_usage.prompt_tokens > o.json_usage.completion_tokens for o in par if o.error is None)


def test_batched_minutes_report_each_part_and_cancel_between_steps(batched):
    segs = meeting(LINES * 3)
    ctx = MeetingContext("ops call", date(2026, 3, 4), template="general")
    bus, events = EventBus(), []
    bus.subscribe(Progress, events.append)
    r = extract_meeting(segs, ctx, batched, bus=bus, options=SMALL)
    n = r.audit.chunks
    assert n >= 2
    parts = [e.detail for e in events if e.detail.startswith("part ")]
    assert sorted(parts) == sorted(f"part {k} of {n}" if k not in r.audit.failed_chunks else f"part {k} failed"
                                   for k in range(1, n + 1))
    assert [e.done for e in events if e.detail.startswith("part ")] == list(range(1, n + 1))

    token = CancelToken()
    bus2 = EventBus()
    bus2.subscribe(Progress, lambda e: token.cancel() if e.detail.startswith("part ") else None)
    with pytest.raises(Cancelled):
        extract_meeting(segs, ctx, batched, bus=bus2, cancel=token, options=SMALL)
    again = extract_meeting(segs, ctx, batched, options=SMALL)  # the context is reusable
    assert again.audit.chunks == n


class _Fake:
    """A JsonLLM without generate_many: parts run one by one; part 2 fails."""

    name, n_ctx, sha256 = "fake", 4096, "0" * 64

    def __init__(self):
        self.calls = []

    def count_tokens(self, text):
        return len(text.split())

    def complete_json(self, system, user, schema, max_tokens=512, salvage_first=False):
        self.calls.append("json")
        if "part 2" in user:
            raise ExtractionError("no usable answer")
        return schema.model_construct(), "{}", Usage(calls=1)

    def complete_text(self, system, user, max_tokens):
        self.calls.append("text")
        return "They met.", Usage(calls=1)


def test_a_model_without_batching_writes_parts_in_turn_and_a_failed_part_is_reported():
    fake = _Fake()
    system, _p, task, schema = _parts(fake)
    prefixes = ["part 1 ", "part 2 ", "part 3 "]
    assert not batches(fake, 3)
    out = write_parts(fake, system, prefixes, task, schema, 40, 24)
    assert fake.calls == ["json", "text", "json", "json", "text"]
    assert [o.error is None for o in out] == [True, False, True]
    assert [o.summary for o in out] == ["They met.", "", "They met."]
