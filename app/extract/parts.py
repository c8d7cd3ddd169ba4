"""The model's work on a meeting's parts: per part one JSON call, then a prose summary of the
same transcript — one part after another, or the parts decoded together.

Sequential (:func:`_sequential`, any :class:`~app.extract.extractor.JsonLLM`): per part
``complete_json`` then ``complete_text``; llama.cpp's prompt cache evaluates only the summary
instruction, since the two prompts share the transcript.

Batched (:func:`_batched`, a ``LocalLLM`` whose ``batches`` is true, more than one part): the
parts' JSON calls run as parallel sequences in the batch context (:mod:`app.extract.batch`),
each with its own grammar; when a part's JSON is final its sequence continues with the
part's summary — the KV is cut back to the tokens the two prompts share and only the summary
instruction is evaluated, so the transcript is read once per part, as in the sequential path.
A retry (cut-off or invalid JSON) continues on the same sequence too. The tokens are those of
the sequential path (tested on the default model): the same prompts, the same prefix reuse,
the same pickers (greedy-first grammar for JSON, llama.cpp's penalties → greedy chain for the
prose), one KV stream per sequence.

Both call ``on_part(k, outcome)`` as part ``k`` is final (progress) and check ``cancel``
between calls or decoding steps; a part whose JSON fails is reported, not raised.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

from app.core.events import CancelToken
from app.extract.llm import ExtractionError, JsonRequest, Usage, _JsonJob
from app.extract.plain import complete_text, whole_sentences
from app.extract.prompt import summary_task

log = logging.getLogger(__name__)

SUMMARY_REPEAT_PENALTY = 1.1  # as complete_text's create_chat_completion


@dataclass
class PartOutcome:
    raw: BaseModel | None = None  # the part's JSON answer (None: it failed)
    text: str = ""  # its raw JSON text
    error: ExtractionError | None = None
    summary: str = ""
    json_usage: Usage = field(default_factory=Usage)
    summary_usage: Usage = field(default_factory=Usage)


def batches(llm: Any, n_parts: int) -> bool:
    """Whether ``llm`` decodes the parts together (a LocalLLM with n_parallel > 1 and Kith's
    sampler; a model without ``generate_many``, e.g. a test double, never does)."""
    return n_parts > 1 and callable(getattr(llm, "generate_many", None)) and bool(getattr(llm, "batches", False))


def write_parts(llm: Any, system: str, prefixes: list[str], task: str, schema: type[BaseModel],
                max_tokens: int, summary_tokens: int, cancel: CancelToken | None = None,
                on_part: Callable[[int, PartOutcome], None] | None = None,
                parallel: int | None = None) -> list[PartOutcome]:
    """Per prefix (a part's transcript message): its JSON answer (``prefix + task``) and its
    prose summary (``prefix + summary_task()``), in part order. ``parallel`` caps the batched
    sequences (1: one after another in the batch context — the reference in tests)."""
    if batches(llm, len(prefixes)):
        try:
            return _batched(llm, system, prefixes, task, schema, max_tokens, summary_tokens, cancel, on_part,
                            parallel)
        except (RuntimeError, ValueError) as e:  # the batch context itself failed: one at a time
            log.warning("batched parts failed (%s); writing them one at a time", e)
    return _sequential(llm, system, prefixes, task, schema, max_tokens, summary_tokens, cancel, on_part)


def _sequential(llm, system, prefixes, task, schema, max_tokens, summary_tokens, cancel, on_part):
    out = []
    for k, prefix in enumerate(prefixes):
        if cancel is not None:
            cancel.raise_if_cancelled()
        o = PartOutcome()
        out.append(o)
        try:
            o.raw, o.text, o.json_usage = llm.complete_json(system, prefix + task, schema, max_tokens,
                                                            salvage_first=True)
        except ExtractionError as e:
            o.error = e
            if on_part is not None:
                on_part(k, o)
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:  # same prefix as the JSON call: llama.cpp evaluates only the new instruction
            o.summary, o.summary_usage = complete_text(llm, system, prefix + summary_task(), summary_tokens)
        except ExtractionError:
            o.summary = ""
        if on_part is not None:
            on_part(k, o)
    return out


def _batched(llm, system, prefixes, task, schema, max_tokens, summary_tokens, cancel, on_part, parallel=None):
    from app.extract.batch import Request

    n = len(prefixes)
    gbnf = llm.gbnf_for(schema)
    jobs = [_JsonJob(JsonRequest(system, p + task, schema, max_tokens, salvage_first=True)) for p in prefixes]
    out = [PartOutcome() for _ in prefixes]
    in_summary = [False] * n

    def json_request(k: int) -> Request:
        prompt, stop = llm.chat_prompt(jobs[k].messages)
        return Request(prompt, gbnf, jobs[k].budget, stop)

    def done(k: int, g) -> Request | None:
        o = out[k]
        u = Usage(prompt_tokens=g.prompt_tokens, completion_tokens=len(g.tokens), seconds=g.seconds, calls=1)
        llm.pick_stats.add(g.pick)
        if in_summary[k]:
            o.summary, o.summary_usage = whole_sentences(g.text), u
            if on_part is not None:
                on_part(k, o)
            return None
        job = jobs[k]
        job.take(g.text, g.finish_reason, u)
        if not job.done:
            return json_request(k)  # the repair request, on the same sequence
        res = job.outcome(raise_error=False)
        if isinstance(res, ExtractionError):
            o.error = res
            if on_part is not None:
                on_part(k, o)
            return None
        o.raw, o.text, o.json_usage = res
        in_summary[k] = True
        prompt, stop = llm.chat_prompt([{"role": "system", "content": system},
                                        {"role": "user", "content": prefixes[k] + summary_task()}])
        return Request(prompt, None, summary_tokens, stop, repeat_penalty=SUMMARY_REPEAT_PENALTY)

    check = cancel.raise_if_cancelled if cancel is not None else None
    with llm._lock:
        reqs = [json_request(k) for k in range(n)]
        llm._batcher(min(n, llm.n_parallel)).run(reqs, check, done, parallel)
    return out
