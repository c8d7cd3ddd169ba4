"""``extract_meeting``: segments in, checked minutes out — chunked so cost grows linearly.

The transcript is cut into chunks that fit the model's context (with a little overlap), each
chunk is extracted by one grammar-constrained call, items are checked against their sources,
then chunks are merged and de-duplicated; a long meeting gets one last short call that merges
the chunk summaries. The parts' calls run one after another or decoded together
(:mod:`app.extract.parts`). Progress events go out per chunk and the cancel token is checked
between calls (between decoding steps when batched).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from app.core.domain import Segment
from app.core.errors import KithError
from app.core.events import CancelToken, EventBus, Progress, emitter
from app.core.paths import Paths
from app.extract.actions import confirm_actions
from app.extract.commitments import find_candidates
from app.extract.injection import drop_injected_items, strip_injected
from app.extract.llm import ExtractionError, Usage
from app.extract.owners import find_people
from app.extract.parts import PartOutcome, write_parts
from app.extract.plain import complete_text
from app.extract.postprocess import ChunkView, merge, process_chunk
from app.extract.prompt import (
    SUMMARY_SYSTEM,
    json_task,
    meeting_header,
    segment_line,
    summary_message,
    summary_task,
    system_prompt,
    transcript_message,
)
from app.extract.schema import LEAN_CAPS, Audit, ExtractionResult, raw_schema_for
from app.extract.templates import Template, load_template

if TYPE_CHECKING:  # pragma: no cover
    from app.extract.llm import LocalLLM


class JsonLLM(Protocol):
    name: str
    n_ctx: int

    @property
    def sha256(self) -> str: ...

    def count_tokens(self, text: str) -> int: ...

    def complete_json(self, system: str, user: str, schema, max_tokens: int = 512): ...


@dataclass
class MeetingContext:
    title: str
    date: date
    attendees: list[tuple[str, str | None]] = field(default_factory=list)  # (name, email)
    user_name: str = "You"
    user_notes: str = ""
    template: str = "general"  # a template name or the path of a .toml file
    paths: Paths | None = None  # for the user's template overrides (<config>/templates)


@dataclass
class ExtractOptions:
    chunk_tokens: int = 2400  # transcript tokens per call (≈ 10 minutes of talk)
    overlap_segments: int = 2
    max_tokens: int = 600  # generation budget per chunk (terse JSON, no summary)
    part_summary_tokens: int = 120  # plain prose, per part (cut back to its last full sentence)
    summary_max_tokens: int = 256  # the merged summary of a long meeting
    # most actions, people, companies, decisions, key points per call (bounds the answer)
    # (action items are confirmed on their line by rule, which also finds the ones the model
    # misses, so a shorter list costs little recall and saves ~30 generated tokens an item)
    caps: tuple[int, int, int, int, int] = LEAN_CAPS


def plan_chunks(lines: list[str], line_tokens: list[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy [start, end) ranges over the lines, each within ``budget`` tokens (a single
    over-long line gets a chunk of its own), consecutive chunks sharing ``overlap`` lines."""
    spans: list[tuple[int, int]] = []
    start, n = 0, len(lines)
    while start < n:
        end, used = start, 0
        while end < n and (end == start or used + line_tokens[end] <= budget):
            used += line_tokens[end]
            end += 1
        spans.append((start, end))
        if end >= n:
            break
        start = max(end - overlap, start + 1)
    return spans


def _number(segments: list[Segment]) -> list[Segment]:
    """Segments in time order with 1-based ``index`` (kept when the caller set them all)."""
    segs = [s for s in segments if (s.text or "").strip()]
    if segs and all(s.index > 0 for s in segs) and len({s.index for s in segs}) == len(segs):
        return sorted(segs, key=lambda s: s.index)
    segs = sorted(segs, key=lambda s: (s.start, s.end))
    for i, s in enumerate(segs, 1):
        s.index = i
    return segs


def extract_meeting(
    segments: list[Segment],
    ctx: MeetingContext,
    llm: "LocalLLM | JsonLLM",
    bus: EventBus | None = None,
    cancel: CancelToken | None = None,
    options: ExtractOptions | None = None,
) -> ExtractionResult:
    opts = options or ExtractOptions()
    emit = emitter(bus)
    t_start = time.perf_counter()
    segs = _number(segments)
    if not segs:
        raise KithError("the meeting has no transcript text to extract from",
                        hint="check the recording has speech, or import a transcript with `kith import`")
    template: Template = load_template(ctx.template, ctx.paths)
    people = find_people(segs, ctx.attendees, ctx.user_name)
    by_index = {s.index: s for s in segs}
    candidates = find_candidates(segs, people)  # committing lines, by rule (app.extract.commitments)

    system = system_prompt(template)
    task = json_task(template)
    header = meeting_header(ctx.title, ctx.date, people, ctx.user_notes)
    lines = [segment_line(s, people.user.name) for s in segs]
    line_tokens = [llm.count_tokens(line) + 1 for line in lines]
    fixed = llm.count_tokens(system) + llm.count_tokens(transcript_message(header, [], 9, 9) + task) + 64
    room = llm.n_ctx - fixed - opts.max_tokens  # (a truncation retry gets whatever context is left)
    budget = max(200, min(opts.chunk_tokens, room))
    spans = plan_chunks(lines, line_tokens, budget, opts.overlap_segments)
    schema = raw_schema_for(template.signal_keys, tuple(opts.caps), summary=False)

    usage = Usage()
    prompt_hash = hashlib.sha256(system.encode() + task.encode() + summary_task().encode())
    parts: list[ExtractionResult] = []
    failed: list[int] = []
    errors: list[ExtractionError] = []
    total_steps = len(spans) + (1 if len(spans) > 1 else 0)
    emit(Progress("extract", 0, total_steps, f"{len(segs)} segments in {len(spans)} part(s)"))
    prefixes = [transcript_message(header, lines[a:b], n, len(spans)) for n, (a, b) in enumerate(spans, 1)]
    for prefix in prefixes:
        prompt_hash.update(prefix.encode())
    finished = [0]

    def on_part(k: int, o: PartOutcome) -> None:
        finished[0] += 1
        emit(Progress("extract", finished[0], total_steps,
                      f"part {k + 1} failed" if o.error is not None else f"part {k + 1} of {len(spans)}"))

    outcomes = write_parts(llm, system, prefixes, task, schema, opts.max_tokens, opts.part_summary_tokens,
                           cancel, on_part)
    for n, ((a, b), o) in enumerate(zip(spans, outcomes), 1):
        if o.error is not None:
            failed.append(n)
            errors.append(o.error)
            continue
        usage.add(o.json_usage)
        usage.add(o.summary_usage)
        part = process_chunk(o.raw, ChunkView(chunk=segs[a:b], by_index=by_index), people, template, ctx.date)
        part.summary = o.summary
        parts.append(part)
    if not parts:
        raise errors[0]

    result = merge(parts, template)
    confirm_actions(result, segs, people, ctx.date, candidates)
    t_summary = time.perf_counter()
    summaries = [p.summary for p in parts if p.summary.strip()]
    if len(summaries) <= 1:
        result.summary = summaries[0] if summaries else ""
    else:  # map-reduce: one plain-prose summary from the parts' summaries
        if cancel is not None:
            cancel.raise_if_cancelled()
        msg = summary_message(header, summaries)
        prompt_hash.update(SUMMARY_SYSTEM.encode() + msg.encode())
        try:
            result.summary, u = complete_text(llm, SUMMARY_SYSTEM, msg, opts.summary_max_tokens)
            usage.add(u)
        except ExtractionError:
            result.summary = ""
        if not result.summary:
            result.summary = " ".join(summaries)
        emit(Progress("extract", total_steps, total_steps, "summary"))
    result.summary = strip_injected(result.summary, segs)  # an order to the assistant is never a fact
    drop_injected_items(result, segs)
    t_end = time.perf_counter()

    # attendee e-mails for people the meeting names
    for p in result.people:
        known = people.match(p.name, min_score=90)
        if known is not None and known.email and not p.email:
            p.email = known.email
    result.template = template.name
    result.audit = Audit(
        model=llm.name,
        model_sha256=llm.sha256,
        template=template.name,
        prompt_sha256=prompt_hash.hexdigest(),
        chunks=len(spans),
        timings={"total_s": round(t_end - t_start, 3), "summary_s": round(t_end - t_summary, 3),
                 "llm_s": round(usage.seconds, 3)},
        tokens={"prompt": usage.prompt_tokens, "completion": usage.completion_tokens,
                "transcript": sum(line_tokens)},
        retries=usage.retries,
        failed_chunks=failed,
    )
    return result
