"""Greedy-first grammar sampling and batched decoding on the real models: the same tokens as
llama-cpp-python's own sampler chain, and batched sequences the same as one at a time."""
from __future__ import annotations

import pytest

from app.core.errors import KithError
from app.extract import LocalLLM
from app.extract.llm import JsonRequest
from app.extract.prompt import SUMMARY_SYSTEM, system_prompt
from app.extract.schema import RawAnswer, RawSummary, raw_schema_for
from app.extract.templates import load_template
from extract_helpers import smollm2_path

LINES = ["[S1] Them: We spent forty hours on the invoice backlog last month.",
         "[S2] You: I will send the notes on the audit by Friday.",
         "[S3] Them: Maria, can you share the fuel cost numbers by next Tuesday?",
         "[S4] You: Sounds good. The pilot starts in March with two warehouses."]


def _cases():
    """(messages, schema, max_tokens): three templates' system prompts, short and long inputs,
    answers that end by themselves and answers cut off by the budget."""
    out = []
    for name, n_lines in (("sales", 4), ("general", 40), ("one_on_one", 2)):
        t = load_template(name)
        schema = raw_schema_for(t.signal_keys, (3, 3, 3, 3, 3))
        user = "<<<TRANSCRIPT\n" + "\n".join((LINES * 10)[:n_lines]) + "\nTRANSCRIPT>>>"
        out.append(([{"role": "system", "content": system_prompt(t)}, {"role": "user", "content": user}], schema, 48))
    out.append(([{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": "\n".join(LINES)}],
                RawSummary, 40))
    out.append(([{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Who sends the notes?"}],
                RawAnswer, 30))
    return out


def _library_tokens(llm: LocalLLM, messages, schema, max_tokens) -> list[int]:
    """Tokens from llama-cpp-python's own sampler chain (Llama.generate, as create_completion)."""
    import llama_cpp

    ll = llm.llama
    prompt, _stop = llm.chat_prompt(messages)
    out = []
    for tok in ll.generate(prompt, top_k=1, temp=0.0, repeat_penalty=1.0, grammar=llm._grammar(schema)):
        if llama_cpp.llama_token_is_eog(ll._model.vocab, tok) or len(out) >= max_tokens:
            break
        out.append(tok)
    return out


def _assert_same_as_library(llm: LocalLLM, cases) -> None:
    # each from an empty prompt cache: how a prompt is split between cache and new tokens
    # changes llama.cpp's arithmetic (and, for a tiny model, sometimes the tokens)
    for messages, schema, max_tokens in cases:
        llm.llama.reset()
        ref = _library_tokens(llm, messages, schema, max_tokens)
        llm.llama.reset()
        g = llm.generate(messages, llm.gbnf_for(schema), max_tokens)
        assert g.tokens == ref
        lib = LocalLLM(llm.model_path, n_threads=llm.n_threads, n_ctx=llm.n_ctx, sampling="library")
        lib._llama = llm.llama  # same weights and context
        llm.llama.reset()
        raw, finish, usage = lib._chat(messages, schema, max_tokens)
        assert (raw, finish, usage.completion_tokens) == (g.text, g.finish_reason, len(g.tokens))


def test_greedy_first_gives_the_library_samplers_tokens(smol):
    before = smol.pick_stats.steps, smol.pick_stats.rejected
    _assert_same_as_library(smol, _cases())
    steps, rejected = smol.pick_stats.steps - before[0], smol.pick_stats.rejected - before[1]
    assert 0 < rejected < steps  # both branches ran: greedy token accepted, and refused → full pass


@pytest.mark.slow
def test_greedy_first_gives_the_library_samplers_tokens_on_the_default_model(qwen):
    _assert_same_as_library(qwen, _cases()[:3])


@pytest.fixture(scope="module")
def batched():
    return LocalLLM(smollm2_path(), n_threads=1, n_ctx=2048, n_parallel=3)


def _calls(llm):
    return [(m, llm.gbnf_for(s), n) for m, s, n in _cases()]


def test_batched_sequences_give_the_same_tokens_as_one_at_a_time(batched):
    calls = _calls(batched)  # 5 calls on 3 slots: two wait for a free slot
    done = []
    par = batched.generate_many(calls, on_done=lambda i, g: done.append(i))
    seq = batched.generate_many(calls, parallel=1)
    assert [g.tokens for g in par] == [g.tokens for g in seq]
    assert sorted(done) == list(range(len(calls)))
    assert all(g.tokens for g in par) and {g.finish_reason for g in par} <= {"stop", "length"}
    # the shared prefix (chat template start) stays in the context for the next call
    assert batched._batch.cached


class Cancelled(KithError):
    pass


def test_cancel_between_steps_then_the_context_is_reusable(batched):
    calls = _calls(batched)[:3]
    steps = []

    def check():
        steps.append(1)
        if len(steps) == 5:
            raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        batched.generate_many(calls, check=check)
    again = batched.generate_many(calls)
    assert [g.tokens for g in again] == [g.tokens for g in batched.generate_many(calls, parallel=1)]


def test_complete_json_many_validates_each_and_reports_failures(batched):
    reqs = [JsonRequest("Reply with JSON.", "Summarise: we ship on Friday.", RawSummary, 60),
            JsonRequest("Reply with JSON.", "Write a very long story in the summary.", RawSummary, 3),
            JsonRequest("Answer in JSON.", "Who sends the notes? Tom will.", RawAnswer, 60)]
    finished = []
    out = batched.complete_json_many(reqs, on_done=lambda i, o: finished.append(i))
    assert isinstance(out[0][0], RawSummary) and isinstance(out[2][0], RawAnswer)
    assert isinstance(out[1], KithError) and "cut off" in str(out[1]) and out[1].hint
    assert sorted(finished) == [0, 1, 2]
    # the same answers as complete_json one by one
    one = LocalLLM(smollm2_path(), n_threads=1, n_ctx=2048, n_parallel=1)
    assert one.complete_json(reqs[0].system, reqs[0].user, RawSummary, 60)[0].summary  # valid alone too


@pytest.mark.slow
def test_batched_sequences_match_one_at_a_time_on_the_default_model(qwen):
    calls = [(m, qwen.gbnf_for(s), n) for m, s, n in _cases()[:3]]
    par = qwen.generate_many(calls)
    assert [g.tokens for g in par] == [g.tokens for g in qwen.generate_many(calls, parallel=1)]
