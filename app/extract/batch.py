"""Several independent greedy generations decoded together in one llama.cpp context.

On a CPU a generation step is bound by reading the weights; a ``llama_batch`` holding one
token of each of N sequences reads them once for all N. :class:`BatchDecoder` owns a second
context on the same (already loaded) model with ``n_seq_max = slots + 1``: one sequence per
slot, each with its own grammar (:class:`~app.extract.sampling.GrammarPicker`), plus one that
keeps the shared prompt prefix (the system prompt): the prefix is evaluated once and its KV
copied to each slot (``llama_memory_seq_cp``; free in a unified KV cache), and it is kept
between calls, so the next meeting with the same template skips it too.

More requests than slots are queued: a finished slot takes the next request in the same step
(its prompt goes into the same batch as the other slots' next tokens). ``check`` is called
between steps (cancellation); ``on_done(i, generation)`` as each request finishes.
"""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from app.extract.sampling import Finisher, Generation, GrammarPicker


@dataclass
class Request:
    prompt: list[int]
    gbnf: str | None
    max_tokens: int
    stop: Sequence[bytes] = ()


class _Slot:
    def __init__(self, seq: int):
        self.seq = seq
        self.req_i = -1
        self.pending: list[int] = []  # tokens to evaluate next
        self.pos = 0  # position of pending[0]
        self.fin: Finisher | None = None
        self.picker: GrammarPicker | None = None
        self.t0 = 0.0

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
        """Generations for ``requests``, in order; ``parallel`` caps the running sequences
        (1 = one after another through this same context: the reference for batching)."""
        lc, mem = self._lc, self.mem
        n_pre = common_prefix([r.prompt for r in requests])
        self._prefix(list(requests[0].prompt[:n_pre]))  # (nothing shared: drop it, free its cells)
        results: list[Generation | None] = [None] * len(requests)
        queue = list(range(len(requests)))
        width = min(self.slots_n, len(requests), parallel or self.slots_n)
        slots = [_Slot(s) for s in range(width)]

        def start(slot: _Slot, i: int) -> None:
            r = requests[i]
            slot.fin = Finisher(self.llama, r.prompt, r.stop, r.max_tokens, self.per_seq_ctx)
            slot.picker = GrammarPicker(self.llama._model.vocab, self.n_vocab, r.gbnf)
            slot.req_i, slot.t0 = i, time.perf_counter()
            lc.llama_memory_seq_rm(mem, slot.seq, -1, -1)
            if n_pre:
                lc.llama_memory_seq_cp(mem, self.cache_seq, slot.seq, -1, -1)  # it holds exactly the prefix
            slot.pending, slot.pos = list(r.prompt[n_pre:]), n_pre

        def finish(slot: _Slot) -> None:
            g = slot.fin.result(time.perf_counter() - slot.t0, slot.picker.stats)
            slot.picker.close()
            results[slot.req_i] = g
            i = slot.req_i
            slot.req_i, slot.fin, slot.picker, slot.pending = -1, None, None, []
            lc.llama_memory_seq_rm(mem, slot.seq, -1, -1)
            if on_done is not None:
                on_done(i, g)

        def sample(s: _Slot, idx: int) -> None:
            tok = s.picker.pick(lc.llama_get_logits_ith(self.ctx, idx))
            if s.fin.push(tok):
                finish(s)
                return
            s.picker.accept(tok)
            s.pending = [tok]

        try:
            while queue or any(s.busy for s in slots):
                if check is not None:
                    check()
                for s in slots:  # a new request's prompt: decoded on its own, as when alone
                    if not s.busy and queue:
                        start(s, queue.pop(0))
                        while len(s.pending) > self.n_batch:
                            part, s.pending = s.pending[:self.n_batch], s.pending[self.n_batch:]
                            self._count_prompt(len(part), self._decode([(t, s.pos + j, s.seq, False)
                                                                        for j, t in enumerate(part)]))
                            s.pos += len(part)
                        part, s.pending = s.pending, []
                        self._count_prompt(len(part), self._decode([(t, s.pos + j, s.seq, j == len(part) - 1)
                                                                    for j, t in enumerate(part)]))
                        s.pos += len(part)
                        sample(s, len(part) - 1)
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
                    s.pos += 1
                    sample(s, k)
        finally:
            for s in slots:
                if s.picker is not None:
                    s.picker.close()
                lc.llama_memory_seq_rm(mem, s.seq, -1, -1)
        return [g for g in results if g is not None]
