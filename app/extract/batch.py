"""Several independent greedy generations decoded together in one llama.cpp context.

On a CPU a generation step is bound by reading the weights; a ``llama_batch`` holding one
token of each of N sequences reads them once for all N. :class:`BatchDecoder` owns a second
context on the same (already loaded) model with ``n_seq_max = slots + 1``: one sequence per
slot, each with its own grammar (:class:`~app.extract.sampling.GrammarPicker`), plus one that
keeps the shared prompt prefix (the system prompt): the prefix is evaluated once and its KV
copied to each slot (``llama_memory_seq_cp``; free in a unified KV cache), and it is kept
between calls, so the next meeting with the same template skips it too.

More requests than slots are queued: a finished slot takes the next request (its prompt is
evaluated on its own, then it joins the other slots' steps). ``check`` is called between steps
(cancellation); ``on_done(i, generation)`` as each request finishes — and it may return a
follow-up :class:`Request`, which continues on the same sequence: its KV is cut back to the
tokens the two prompts share (``llama_memory_seq_rm``) and only the rest is evaluated, as
``Llama.generate``'s prompt cache does for consecutive calls on one context (a part's prose
summary after its JSON, on the same transcript). A request with ``repeat_penalty`` is sampled
by llama.cpp's own chain (penalties over the last 64 tokens → greedy), as llama-cpp-python's
``create_chat_completion(temperature=0, repeat_penalty=…)`` does.
"""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from app.extract.sampling import Finisher, Generation, GrammarPicker, PickStats


@dataclass
class Request:
    prompt: list[int]
    gbnf: str | None
    max_tokens: int
    stop: Sequence[bytes] = ()
    repeat_penalty: float = 1.0  # != 1: plain text through llama.cpp's penalties → greedy chain (no grammar)


class PenaltyPicker:
    """The sampler chain of ``Llama._init_sampler`` for ``temperature=0`` without a grammar:
    penalties (last ``last_n`` generated tokens, llama-cpp-python's default 64) then greedy,
    run by llama.cpp itself on a context's logits (``llama_sampler_sample`` accepts the token)."""

    def __init__(self, penalty: float, last_n: int = 64, n_vocab: int = 0):
        import llama_cpp as lc

        self._lc = lc
        self.stats = PickStats()
        self._chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        args: tuple = (last_n, penalty, 0.0, 0.0)
        if len(getattr(lc.llama_sampler_init_penalties, "argtypes", None) or ()) == 5:
            args = (n_vocab, *args)  # llama-cpp-python >= 0.3.2x's llama.h takes the vocabulary size first
        lc.llama_sampler_chain_add(self._chain, lc.llama_sampler_init_penalties(*args))
        lc.llama_sampler_chain_add(self._chain, lc.llama_sampler_init_greedy())

    def pick_at(self, ctx, idx: int) -> int:
        t0 = time.perf_counter()
        tok = int(self._lc.llama_sampler_sample(self._chain, ctx, idx))
        self.stats.steps += 1
        self.stats.seconds += time.perf_counter() - t0
        return tok

    def accept(self, token: int) -> None:  # (llama_sampler_sample did)
        pass

    def close(self) -> None:
        if self._chain is not None:
            self._lc.llama_sampler_free(self._chain)
            self._chain = None


class _Slot:
    def __init__(self, seq: int):
        self.seq = seq
        self.req_i = -1
        self.pending: list[int] = []  # tokens to evaluate next
        self.pos = 0  # position of pending[0]
        self.fin: Finisher | None = None
        self.picker: GrammarPicker | PenaltyPicker | None = None
        self.t0 = 0.0
        self.req: Request | None = None
        self.fresh = False  # a prompt to evaluate before the next step
        self.kv: list[int] = []  # the tokens this slot's sequence holds

    @property
    def busy(self) -> bool:
        return self.req_i >= 0


def common_prefix(prompts: Sequence[Sequence[int]]) -> int:
    if not prompts:
        return 0
    n = min(len(p) for p in prompts) - 1  # every prompt keeps at least one token to evaluate
    first = prompts[0]
    k = 0
    while k < n and all(p[k] == first[k] for p in prompts):
        k += 1
    return max(k, 0)


class BatchDecoder:
    """Decode requests in parallel on ``llama``'s model (``llama_cpp.Llama``, loaded)."""

    def __init__(self, llama: Any, slots: int, per_seq_ctx: int, n_batch: int = 512, unified: bool = False,
                 flash_attn: bool = True):
        import llama_cpp

        self._lc = lc = llama_cpp
        self.llama = llama
        self.slots_n = max(1, slots)
        self.per_seq_ctx = per_seq_ctx  # the context one request may use (same limits as LocalLLM.n_ctx)
        self.n_batch = n_batch
        self.unified = unified
        self.cache_seq = self.slots_n
        params = lc.llama_context_params()
        ctypes.memmove(ctypes.byref(params), ctypes.byref(llama.context_params), ctypes.sizeof(params))
        # unified: the kept prefix shares its cells with the slots, which each use at most
        # per_seq_ctx; split (one stream per sequence): the prefix needs a stream of its own
        params.n_ctx = per_seq_ctx * (self.slots_n + (0 if unified else 1))
        params.n_seq_max = self.slots_n + 1
        params.n_batch = params.n_ubatch = n_batch
        params.kv_unified = unified
        params.embeddings = False
        params.flash_attn = flash_attn
        self.n_ctx_total = params.n_ctx
        self.ctx = lc.llama_init_from_model(llama._model.model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create the batch context")
        self.mem = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(n_batch, 0, 1)
        self.cached: list[int] = []  # tokens held by the prefix sequence
        # cost counters (benches): prompt tokens evaluated and time; generation steps, tokens, time
        self.stats = {"prompt_tokens": 0, "prompt_s": 0.0, "steps": 0, "gen_tokens": 0, "gen_s": 0.0}
        self.n_vocab = llama.n_vocab()

    def close(self) -> None:
        if self.ctx:
            self._lc.llama_batch_free(self.batch)
            self._lc.llama_free(self.ctx)
            self.ctx = None

    def __del__(self):  # pragma: no cover - GC timing
        try:
            self.close()
        except Exception:
            pass

    # -- KV -----------------------------------------------------------------------------------
    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> float:
        """entries: (token, pos, seq, wants_logits) → one llama_decode; returns its seconds."""
        b = self.batch
        for i, (tok, pos, seq, logits) in enumerate(entries):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if logits else 0
        b.n_tokens = len(entries)
        t0 = time.perf_counter()
        rc = self._lc.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed ({rc}): the batch context is full")
        return time.perf_counter() - t0

    def _count_prompt(self, n: int, seconds: float) -> None:
        self.stats["prompt_tokens"] += n
        self.stats["prompt_s"] += seconds

    def _prefix(self, tokens: list[int]) -> None:
        """Make the prefix sequence hold exactly ``tokens`` (reusing what it already has)."""
        lc, mem = self._lc, self.mem
        keep = 0
        for a, b in zip(self.cached, tokens):
            if a != b:
                break
            keep += 1
        lc.llama_memory_seq_rm(mem, self.cache_seq, keep, -1)
        rest = tokens[keep:]
        for i in range(0, len(rest), self.n_batch):
            part = rest[i:i + self.n_batch]
            self._count_prompt(len(part), self._decode([(t, keep + i + j, self.cache_seq, False)
                                                        for j, t in enumerate(part)]))
        self.cached = list(tokens)

    # -- the loop -----------------------------------------------------------------------------
    def run(self, requests: Sequence[Request], check: Callable[[], None] | None = None,
            on_done: Callable[[int, Generation], None] | None = None,
            parallel: int | None = None) -> list[Generation]:
        """Generations for ``requests``, in order (of a chain of follow-ups, the last);
        ``parallel`` caps the running sequences (1 = one after another through this same
        context: the reference for batching)."""
        lc, mem = self._lc, self.mem
        n_pre = common_prefix([r.prompt for r in requests])
        self._prefix(list(requests[0].prompt[:n_pre]))  # (nothing shared: drop it, free its cells)
        results: list[Generation | None] = [None] * len(requests)
        queue = list(range(len(requests)))
        width = min(self.slots_n, len(requests), parallel or self.slots_n)
        slots = [_Slot(s) for s in range(width)]

        def begin(slot: _Slot, i: int, r: Request) -> None:
            """``r`` on ``slot``, whose sequence holds ``slot.kv`` (a prefix of r.prompt)."""
            slot.fin = Finisher(self.llama, r.prompt, r.stop, r.max_tokens, self.per_seq_ctx)
            if r.repeat_penalty != 1.0:
                slot.picker = PenaltyPicker(r.repeat_penalty, n_vocab=self.n_vocab)
            else:
                slot.picker = GrammarPicker(self.llama._model.vocab, self.n_vocab, r.gbnf)
            slot.req_i, slot.req, slot.t0 = i, r, time.perf_counter()
            slot.pending, slot.pos, slot.fresh = list(r.prompt[len(slot.kv):]), len(slot.kv), True

        def start(slot: _Slot, i: int) -> None:
            lc.llama_memory_seq_rm(mem, slot.seq, -1, -1)
            if n_pre:
                lc.llama_memory_seq_cp(mem, self.cache_seq, slot.seq, -1, -1)  # it holds exactly the prefix
            slot.kv = list(requests[i].prompt[:n_pre])
            begin(slot, i, requests[i])

        def finish(slot: _Slot) -> None:
            g = slot.fin.result(time.perf_counter() - slot.t0, slot.picker.stats)
            slot.picker.close()
            results[slot.req_i] = g
            i = slot.req_i
            slot.req_i, slot.fin, slot.picker, slot.pending, slot.req = -1, None, None, [], None
            nxt = on_done(i, g) if on_done is not None else None
            if nxt is None:
                lc.llama_memory_seq_rm(mem, slot.seq, -1, -1)
                slot.kv = []
                return
            # the follow-up keeps what its prompt shares with this sequence (as Llama.generate:
            # the longest common prefix with prompt[:-1], so at least one token is evaluated)
            keep = 0
            for a, b in zip(slot.kv, nxt.prompt[:-1]):
                if a != b:
                    break
                keep += 1
            lc.llama_memory_seq_rm(mem, slot.seq, keep, -1)
            del slot.kv[keep:]
            begin(slot, i, nxt)

        def sample(s: _Slot, idx: int) -> None:
            if isinstance(s.picker, PenaltyPicker):
                tok = s.picker.pick_at(self.ctx, idx)
            else:
                tok = s.picker.pick(lc.llama_get_logits_ith(self.ctx, idx))
            if s.fin.push(tok):
                finish(s)
                return
            s.picker.accept(tok)
            s.pending = [tok]

        def prompt(s: _Slot) -> None:
            """Evaluate a new request's prompt on its own (as when alone), then its first pick."""
            s.fresh = False
            while len(s.pending) > self.n_batch:
                part, s.pending = s.pending[:self.n_batch], s.pending[self.n_batch:]
                self._count_prompt(len(part), self._decode([(t, s.pos + j, s.seq, False)
                                                            for j, t in enumerate(part)]))
                s.pos += len(part)
                s.kv += part
            part, s.pending = s.pending, []
            self._count_prompt(len(part), self._decode([(t, s.pos + j, s.seq, j == len(part) - 1)
                                                        for j, t in enumerate(part)]))
            s.pos += len(part)
            s.kv += part
            sample(s, len(part) - 1)

        try:
            while queue or any(s.busy for s in slots):
                if check is not None:
                    check()
                for s in slots:
                    while True:
                        if not s.busy:
                            if not queue:
                                break
                            start(s, queue.pop(0))
                        if not s.fresh:
                            break
                        prompt(s)  # (may finish at once, and a follow-up may start)
                        if check is not None:
                            check()
                gen = [s for s in slots if s.busy]
                if not gen:
                    continue
                # one step: the next token of every running sequence, one weight read for all
                self.stats["gen_s"] += self._decode([(s.pending[0], s.pos, s.seq, True) for s in gen])
                self.stats["steps"] += 1
                self.stats["gen_tokens"] += len(gen)
                for k, s in enumerate(gen):
                    s.kv.append(s.pending[0])
                    s.pos += 1
                    sample(s, k)
        finally:
            for s in slots:
                if s.picker is not None:
                    s.picker.close()
                lc.llama_memory_seq_rm(mem, s.seq, -1, -1)
                s.kv = []
        return [g for g in results if g is not None]
