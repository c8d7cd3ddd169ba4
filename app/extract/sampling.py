"""Greedy grammar-constrained sampling that tests the greedy token first.

llama-cpp-python 0.3.16's high-level sampler chain (penalties → grammar → greedy) runs the
GBNF grammar over the whole vocabulary (152k tokens for Qwen) on every step, then takes the
arg-max. :class:`GrammarPicker` takes the arg-max of the raw logits, asks the grammar about
that one token, and runs the full pass only when the grammar rejects it — what llama.cpp's own
``common_sampler`` does. At temperature 0 the result is the same token: an allowed arg-max of
all logits is also the (first) arg-max of the allowed ones; on rejection the full pass is the
old computation. ``full=True`` always does the full pass (the old cost, for benches).

:func:`generate_on` runs one grammar-constrained greedy generation on a ``llama_cpp.Llama``'s
own context — same prompt cache, same stop rules, same ``finish_reason`` as
``Llama.create_completion`` — with the picker in place of the sampler chain.
"""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


@dataclass
class PickStats:
    steps: int = 0
    rejected: int = 0  # steps whose greedy token the grammar refused (full pass run)
    seconds: float = 0.0  # time in picking (arg-max + grammar), not in the model

    def add(self, other: "PickStats") -> None:
        self.steps += other.steps
        self.rejected += other.rejected
        self.seconds += other.seconds


class GrammarPicker:
    """One grammar state (one sequence): ``pick(logits_ptr)`` then ``accept(token)``."""

    def __init__(self, vocab: Any, n_vocab: int, gbnf: str | None, root: str = "root", full: bool = False):
        import llama_cpp

        self._lc = llama_cpp
        self.n_vocab = n_vocab
        self.full = full
        self.stats = PickStats()
        self._smpl = None
        if gbnf is not None:
            self._smpl = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), root.encode("utf-8"))
            if not self._smpl:
                raise ValueError("llama.cpp could not parse the grammar")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_arr = llama_cpp.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)
        self._all: np.ndarray | None = None
        self._ids: np.ndarray | None = None

    def pick(self, logits_ptr) -> int:
        t0 = time.perf_counter()
        logits = np.ctypeslib.as_array(logits_ptr, shape=(self.n_vocab,))
        tok = int(np.argmax(logits))
        self.stats.steps += 1
        if self._smpl is not None:
            if not self.full:
                one = self._one[0]
                one.id, one.logit, one.p = tok, float(logits[tok]), 0.0
                self._one_arr.size, self._one_arr.selected, self._one_arr.sorted = 1, -1, False
                self._lc.llama_sampler_apply(self._smpl, ctypes.byref(self._one_arr))
                if self._one[0].logit == float("-inf"):
                    tok = self._full_pass(logits)
            else:
                tok = self._full_pass(logits)
        self.stats.seconds += time.perf_counter() - t0
        return tok

    def _full_pass(self, logits: np.ndarray) -> int:
        lc = self._lc
        if self._all is None:
            self._all = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
            self._ids = np.arange(self.n_vocab, dtype=np.intc)
        self._all["id"] = self._ids
        self._all["logit"] = logits
        self._all["p"] = 0.0
        arr = lc.llama_token_data_array(
            data=ctypes.cast(self._all.ctypes.data, lc.llama_token_data_p), size=self.n_vocab, selected=-1, sorted=False
        )
        lc.llama_sampler_apply(self._smpl, ctypes.byref(arr))
        if not self.full:
            self.stats.rejected += 1
        return int(self._all["id"][int(np.argmax(self._all["logit"]))])

    def accept(self, token: int) -> None:
        if self._smpl is not None:
            self._lc.llama_sampler_accept(self._smpl, token)

    def close(self) -> None:
        if self._smpl is not None:
            self._lc.llama_sampler_free(self._smpl)
            self._smpl = None

    def __del__(self):  # pragma: no cover - GC timing
        try:
            self.close()
        except Exception:
            pass


@dataclass
class Generation:
    """One finished generation: tokens, text, why it stopped, and its cost."""

    prompt_tokens: int
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: str = "length"
    seconds: float = 0.0
    pick: PickStats = field(default_factory=PickStats)


class Finisher:
    """The stop rules of ``Llama._create_completion`` (non-streaming), token by token: EOG ends
    with "stop"; a stop string in the text cuts it and ends with "stop"; ``max_tokens`` ends
    with "length" — except while a multi-byte UTF-8 character is incomplete (as there)."""

    def __init__(self, llama: Any, prompt: Sequence[int], stop: Sequence[bytes], max_tokens: int, n_ctx: int):
        import llama_cpp

        if len(prompt) >= n_ctx:
            raise ValueError(f"Requested tokens ({len(prompt)}) exceed context window of {n_ctx}")
        if max_tokens is None or max_tokens <= 0:
            max_tokens = n_ctx - len(prompt)
        self.max_tokens = max_tokens if max_tokens + len(prompt) < n_ctx else n_ctx - len(prompt)
        self._llama, self._lc = llama, llama_cpp
        self.prompt = list(prompt)
        self.stop = [s for s in stop]
        self.tokens: list[int] = []
        self.text: bytes = b""
        self.finish_reason: str | None = None
        self._multibyte = 0
        self._bytes = b""
        self._bos = llama.token_bos()

    def push(self, token: int) -> bool:
        """Take one sampled token; True when the generation is over."""
        ll = self._llama
        if self._lc.llama_vocab_is_eog(ll._model.vocab, token):
            self.text = ll.detokenize(self.tokens, prev_tokens=self.prompt)
            self.finish_reason = "stop"
            return True
        self.tokens.append(token)
        if self.tokens[0] == self._bos:  # (the leading-space rule of detokenize)
            all_text = ll.detokenize(self.tokens, prev_tokens=self.prompt)
        else:  # pieces concatenated = detokenize(tokens), without re-reading them every step
            self._bytes += ll.detokenize([token])
            all_text = self._bytes
        for k, char in enumerate(all_text[-3:]):
            k = 3 - k
            for num, pattern in [(2, 192), (3, 224), (4, 240)]:
                if num > k and pattern & char == pattern:
                    self._multibyte = num - k
        if self._multibyte > 0:
            self._multibyte -= 1
            return False
        hits = [s for s in self.stop if s in all_text]
        if hits:
            self.text = all_text[: all_text.index(hits[0])]
            self.finish_reason = "stop"
            return True
        if len(self.tokens) >= self.max_tokens:
            self.text = all_text
            self.finish_reason = "length"
            return True
        return False

    def result(self, seconds: float, pick: PickStats) -> Generation:
        return Generation(len(self.prompt), list(self.tokens), self.text.decode("utf-8", errors="ignore"),
                          self.finish_reason or "length", seconds, pick)


def generate_on(llama: Any, prompt: Sequence[int], gbnf: str | None, max_tokens: int,
                stop: Sequence[bytes] = (), full: bool = False) -> Generation:
    """Greedy, grammar-constrained generation on ``llama``'s own context (its prompt cache
    and KV are kept consistent with ``Llama.generate``, so the two paths can be mixed)."""
    import llama_cpp

    t0 = time.perf_counter()
    fin = Finisher(llama, prompt, stop, max_tokens, llama.n_ctx())
    picker = GrammarPicker(llama._model.vocab, llama.n_vocab(), gbnf, full=full)
    try:
        tokens = list(prompt)
        if llama.n_tokens > 0:  # prompt-cache prefix, as Llama.generate
            common = 0
            for a, b in zip(llama._input_ids, tokens[:-1]):
                if a != b:
                    break
                common += 1
            if common > 0:
                tokens = tokens[common:]
                llama.n_tokens = common
            else:
                llama.reset()
        while True:
            llama.eval(tokens)
            tok = picker.pick(llama_cpp.llama_get_logits_ith(llama.ctx, -1))
            if fin.push(tok):
                break
            picker.accept(tok)
            tokens = [tok]
        return fin.result(time.perf_counter() - t0, picker.stats)
    finally:
        picker.close()
