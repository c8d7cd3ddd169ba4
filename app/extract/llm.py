"""A local GGUF model behind one small interface: JSON out, validated against a pydantic schema.

``LocalLLM`` wraps ``llama_cpp.Llama`` (imported lazily, loaded once on first use, one
instance reused for every call). ``complete_json`` constrains the output with a GBNF grammar
built from the pydantic model's JSON schema, parses it leniently (llama.cpp's grammar lets
raw newlines into strings), and retries once on truncation or junk before raising
:class:`ExtractionError`.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.errors import KithError
from app.extract.salvage import salvage
from app.extract.sampling import Generation, PickStats, generate_on

M = TypeVar("M", bound=BaseModel)

_HASH_INDEX = "sha256-index.json"


class ExtractionError(KithError):
    """The model could not produce usable structured output."""


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    calls: int = 0
    retries: int = 0
    truncated: int = 0
    salvaged: int = 0  # cut-off answers whose complete part was kept

    def add(self, other: "Usage") -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds
        self.calls += other.calls
        self.retries += other.retries
        self.truncated += other.truncated
        self.salvaged += other.salvaged

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _max_lengths(node) -> set[int]:
    out: set[int] = set()
    if isinstance(node, dict):
        if isinstance(node.get("maxLength"), int):
            out.add(node["maxLength"])
        for v in node.values():
            out |= _max_lengths(v)
    elif isinstance(node, list):
        for v in node:
            out |= _max_lengths(v)
    return out


def schema_to_gbnf(json_schema: dict) -> str:
    """GBNF for a JSON schema, tuned: ``maxLength: N`` becomes GBNF's ``char{0,N}`` (the
    converter spells it as N nested optionals), whitespace is one optional space, and
    integers are short (segment numbers)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(json_schema))
    for n in sorted(_max_lengths(json_schema), reverse=True):
        probe = json_schema_to_gbnf(json.dumps({"type": "object", "properties": {"a": {"type": "string", "maxLength": n}},
                                                 "required": ["a"]}))
        m = re.search(r'^a ::= "\\"" (.*) "\\"" space$', probe, re.M)
        if m:
            gbnf = gbnf.replace(m.group(1), f"char{{0,{n}}}")
    return _compact_gbnf(gbnf)


def _compact_gbnf(gbnf: str) -> str:
    """At most one optional space between JSON tokens (not newlines and indentation: each is a
    generated token, a full forward pass). Not zero: forced ``[{`` / ``":[`` token boundaries
    steer Qwen into empty lists (measured: 0 actions instead of 4 on the demo call)."""
    gbnf = re.sub(r'(?m)^space ::= .*$', 'space ::= " "?', gbnf)
    # segment numbers: small non-negative integers (no 20-digit runaways)
    return re.sub(r"(?m)^integer ::= .*$", "integer ::= [0-9]{1,4} space", gbnf)


def _file_sha256(path: Path, cache_dir: Path | None) -> str:
    """sha256 of a (large) file, remembered by path+size+mtime so a 1 GB model is hashed once."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    index_file = cache_dir / _HASH_INDEX if cache_dir else None
    index: dict[str, str] = {}
    if index_file and index_file.exists():
        try:
            index = json.loads(index_file.read_text())
        except (OSError, ValueError):
            index = {}
    if key in index:
        return index[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    if index_file:
        try:
            index_file.parent.mkdir(parents=True, exist_ok=True)
            index[key] = digest
            tmp = index_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(index, indent=1))
            tmp.replace(index_file)
        except OSError:
            pass
    return digest


class _Captured(Exception):
    def __init__(self, prompt, stop, stopping_criteria):
        super().__init__("prompt captured")
        self.prompt, self.stop, self.stopping_criteria = prompt, stop, stopping_criteria


class _PromptProbe:
    """Stands in for the Llama a chat handler is given: tokenizes with the real model and
    hands back the prompt the handler would complete, instead of completing it."""

    verbose = False

    def __init__(self, llama):
        self._llama = llama

    def tokenize(self, *a, **kw):
        return self._llama.tokenize(*a, **kw)

    def create_completion(self, prompt=None, stop=None, stopping_criteria=None, **_kw):
        raise _Captured(prompt, stop, stopping_criteria)

    def __getattr__(self, name):
        return getattr(self._llama, name)


def chat_prompt(llama, messages: list[dict]) -> tuple[list[int], list[bytes]]:
    """Prompt tokens and stop strings of ``llama.create_chat_completion(messages)``."""
    from llama_cpp import llama_chat_format

    handler = (llama.chat_handler or llama._chat_handlers.get(llama.chat_format)
               or llama_chat_format.get_chat_completion_handler(llama.chat_format))
    try:
        handler(llama=_PromptProbe(llama), messages=messages, max_tokens=1)
    except _Captured as c:
        # Jinja templates stop when the last evaluated token is the eos id: an EOG token, which
        # ends a generation before it is evaluated — already covered by the EOG rule
        import llama_cpp

        if c.stopping_criteria is not None and not llama_cpp.llama_vocab_is_eog(llama._model.vocab, llama.token_eos()):
            raise ExtractionError("this model's chat format needs llama-cpp-python's own sampler",
                                  hint="use LocalLLM(sampling='library')") from None
        prompt = c.prompt if isinstance(c.prompt, list) else llama.tokenize(c.prompt.encode("utf-8"), special=True)
        stop = c.stop if isinstance(c.stop, list) else [c.stop] if isinstance(c.stop, str) else []
        return list(prompt), [x.encode("utf-8") for x in stop]
    raise ExtractionError("could not build the chat prompt", hint="the model's chat template may be unsupported")


def _free_model(llama, batch_box: list) -> None:
    """Free a loaded model: its batch context (which uses the weights) before the weights."""
    batch, batch_box[0] = batch_box[0], None
    if batch is not None:
        batch.close()
    llama.close()


@dataclass
class LocalLLM:
    """A local GGUF chat model. Cheap to construct; the weights load on first use."""

    model_path: Path
    n_threads: int = 2
    n_ctx: int = 4096
    seed: int = 0
    # where to remember file hashes (e.g. paths.models); None = hash in memory only
    hash_cache_dir: Path | None = None
    # known digest (e.g. from the model catalog) saves hashing entirely
    known_sha256: str | None = None
    _llama: Any = field(default=None, init=False, repr=False)
    _sha: str | None = field(default=None, init=False, repr=False)
    # "greedy-first": Kith's sampler (grammar checks the greedy token, full pass on rejection);
    # "library": llama-cpp-python's own sampler chain (the fbb798a path, for benches/tests)
    sampling: str = "greedy-first"
    # most independent calls decoded together by ``complete_json_many`` (1 = one at a time)
    n_parallel: int = 4
    # batched decoding: one KV stream per sequence + flash attention make every sequence's
    # tokens independent of its neighbours (measured: a unified buffer changes some outputs)
    kv_unified: bool = False
    # the minutes' parts decoded together (app.extract.parts). Off by default: measured on the
    # default model (2026-12-03), the batch context's tokens are the same one at a time as in
    # parallel, but not always the model's own context's (first difference after 34 tokens on
    # one of three prompts; flash attention and the KV layout differ) — so it would change
    # today's minutes, not only their speed
    batch_parts: bool = False
    _grammars: dict = field(default_factory=dict, init=False, repr=False)
    _gbnf: dict = field(default_factory=dict, init=False, repr=False)
    _batch: Any = field(default=None, init=False, repr=False)
    # the batch context lives on the model's weights: freed first, by close() or the finalizer
    _batch_box: list = field(default_factory=lambda: [None], init=False, repr=False)
    pick_stats: PickStats = field(default_factory=PickStats, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _log_cb: Any = field(default=None, init=False, repr=False)  # llama.cpp log callback, kept alive
    _closer: Any = field(default=None, init=False, repr=False)  # weakref.finalize: frees before shutdown

    def __post_init__(self) -> None:
        self.model_path = Path(self.model_path)
        if not self.model_path.is_file():
            raise ExtractionError(
                f"language model not found: {self.model_path}",
                hint="run `kith models list` to see installed models, or pass the path of a .gguf file",
            )

    # -- identity -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model_path.stem

    @property
    def sha256(self) -> str:
        if self._sha is None:
            self._sha = self.known_sha256 or _file_sha256(self.model_path, self.hash_cache_dir)
        return self._sha

    # -- the model ------------------------------------------------------------------------
    @property
    def llama(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:  # pragma: no cover - depends on the install
                raise ExtractionError(
                    "llama-cpp-python is not installed", hint="run scripts/setup.sh (it compiles llama-cpp-python)"
                ) from e
            from app.core.native import route_llama_logs

            self._log_cb = route_llama_logs()  # llama.cpp's own lines go to Kith's log, not stderr
            try:
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_batch=512,
                    seed=self.seed,
                    verbose=False,
                )
                # freed at the latest at exit, while ctypes is intact (not in Llama.__del__ at teardown)
                self._closer = weakref.finalize(self, _free_model, self._llama, self._batch_box)
            except (ValueError, RuntimeError) as e:
                raise ExtractionError(
                    f"could not load the language model {self.model_path.name}: {e}",
                    hint="the file may be damaged or not a GGUF model; re-install it with `kith models`",
                ) from e
        return self._llama

    def close(self) -> None:
        """Free the weights now (not in ``Llama.__del__`` during interpreter shutdown)."""
        closer, self._closer, self._llama = self._closer, None, None
        self._grammars.clear()
        self._batch = None
        if closer is not None:
            closer()  # the batch context first, then the model

    @property
    def batches(self) -> bool:
        """A meeting's parts are decoded together (``batch_parts``, Kith's sampler, ``n_parallel > 1``)."""
        return self.sampling != "library" and self.n_parallel > 1 and self.batch_parts

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def gbnf_for(self, schema: type[BaseModel]) -> str:
        key = (schema.__module__, schema.__qualname__, json.dumps(schema.model_json_schema(), sort_keys=True))
        g = self._gbnf.get(key)
        if g is None:
            g = self._gbnf[key] = schema_to_gbnf(schema.model_json_schema())
        return g

    def _grammar(self, schema: type[BaseModel]):
        key = (schema.__module__, schema.__qualname__, json.dumps(schema.model_json_schema(), sort_keys=True))
        g = self._grammars.get(key)
        if g is None:
            from llama_cpp.llama_grammar import LlamaGrammar

            g = LlamaGrammar.from_string(self.gbnf_for(schema), verbose=False)
            self._grammars[key] = g
        return g

    def chat_prompt(self, messages: list[dict]) -> tuple[list[int], list[bytes]]:
        """The prompt tokens and stop strings ``create_chat_completion`` would use for
        ``messages`` (the model's own chat template)."""
        return chat_prompt(self.llama, messages)

    def generate(self, messages: list[dict], gbnf: str | None, max_tokens: int) -> Generation:
        """One greedy generation (temperature 0), constrained by ``gbnf`` when given."""
        prompt, stop = self.chat_prompt(messages)
        g = generate_on(self.llama, prompt, gbnf, max_tokens, stop)
        self.pick_stats.add(g.pick)
        return g

    def _chat(self, messages: list[dict], schema: type[BaseModel], max_tokens: int) -> tuple[str, str, Usage]:
        if self.sampling != "library":
            g = self.generate(messages, self.gbnf_for(schema), max_tokens)
            u = Usage(prompt_tokens=g.prompt_tokens, completion_tokens=len(g.tokens), seconds=g.seconds, calls=1)
            return g.text, g.finish_reason, u
        t0 = time.perf_counter()
        out = self.llama.create_chat_completion(
            messages=messages,
            grammar=self._grammar(schema),
            max_tokens=max_tokens,
            temperature=0.0,
            top_k=1,
            repeat_penalty=1.0,
            seed=self.seed,
        )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        u = Usage(
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=time.perf_counter() - t0,
            calls=1,
        )
        return choice["message"].get("content") or "", choice.get("finish_reason") or "", u

    def generate_many(self, calls: Sequence[tuple[list[dict], str | None, int]],
                      check: Callable[[], None] | None = None,
                      on_done: Callable[[int, Generation], None] | None = None,
                      parallel: int | None = None) -> list[Generation]:
        """Independent greedy generations ``(messages, gbnf, max_tokens)``, decoded together as
        parallel sequences in a second context (at most ``n_parallel`` at a time; ``parallel=1``
        runs them one by one through that same context — the same tokens). ``check()`` runs
        between steps (raise to cancel); ``on_done(i, g)`` as each ends. A single call goes
        through :meth:`generate` (the model's own context and prompt cache)."""
        if not calls:
            return []
        if self.sampling == "library" or self.n_parallel <= 1 or (len(calls) == 1 and parallel is None):
            out = []
            for i, (messages, gbnf, max_tokens) in enumerate(calls):
                if check is not None:
                    check()
                g = self.generate(messages, gbnf, max_tokens)
                out.append(g)
                if on_done is not None:
                    on_done(i, g)
            return out
        from app.extract.batch import Request

        reqs = []
        for messages, gbnf, max_tokens in calls:
            prompt, stop = self.chat_prompt(messages)
            reqs.append(Request(prompt, gbnf, max_tokens, stop))
        out = self._batcher(min(len(reqs), parallel or self.n_parallel)).run(reqs, check, on_done, parallel)
        for g in out:
            self.pick_stats.add(g.pick)
        return out

    def _batcher(self, slots: int):
        """The batch context, with room for ``slots`` sequences (memory grows with the slots:
        one n_ctx KV stream each, plus one for the kept prefix); rebuilt only to grow."""
        slots = max(1, min(slots, self.n_parallel))
        if self._batch is None or self._batch.slots_n < slots:
            from app.extract.batch import BatchDecoder

            if self._batch is not None:
                self._batch.close()
            self._batch = BatchDecoder(self.llama, slots, self.n_ctx, unified=self.kv_unified)
            self._batch_box[0] = self._batch
        return self._batch

    def complete_json(
        self, system: str, user: str, schema: type[M], max_tokens: int = 512, salvage_first: bool = False
    ) -> tuple[M, str, Usage]:
        """Ask for one JSON object matching ``schema``. Returns (instance, raw text, usage).

        A truncated answer (``finish_reason == "length"``) is retried once with more room and a
        request for shorter values; unparseable output is retried once; then ExtractionError.
        A twice-truncated answer keeps its complete values (:mod:`app.extract.salvage`); with
        ``salvage_first`` the first cut-off answer does, when it holds anything (saves a whole
        second pass over the transcript; the caller fills what is missing).
        """
        job = _JsonJob(JsonRequest(system, user, schema, max_tokens, salvage_first))
        with self._lock:
            while not job.done:
                raw, finish, u = self._chat(job.messages, schema, job.budget)
                job.take(raw, finish, u)
        return job.outcome()

    def complete_json_many(
        self, requests: Sequence["JsonRequest"], cancel: Any = None,
        on_done: Callable[[int, Any], None] | None = None,
    ) -> list[tuple[BaseModel, str, Usage] | ExtractionError]:
        """``complete_json`` for independent requests, decoded together (see
        :meth:`generate_many`). Returns, in order, (instance, raw, usage) or the
        ExtractionError of that request. ``cancel.raise_if_cancelled()`` runs between steps;
        ``on_done(i, outcome)`` as each request is final (retries run as a second round)."""
        jobs = [_JsonJob(r) for r in requests]
        check = cancel.raise_if_cancelled if cancel is not None else None
        with self._lock:
            while True:
                todo = [j for j in jobs if not j.done]
                if not todo:
                    break
                calls = [(j.messages, self.gbnf_for(j.req.schema), j.budget) for j in todo]

                def done(k: int, g: Generation, todo=todo) -> None:
                    j = todo[k]
                    j.take(g.text, g.finish_reason, Usage(prompt_tokens=g.prompt_tokens,
                                                          completion_tokens=len(g.tokens), seconds=g.seconds, calls=1))
                    if j.done and on_done is not None:
                        on_done(jobs.index(j), j.outcome(raise_error=False))

                if self.sampling == "library":
                    for k, j in enumerate(todo):
                        if check is not None:
                            check()
                        raw, finish, u = self._chat(j.messages, j.req.schema, j.budget)
                        j.take(raw, finish, u)
                        if j.done and on_done is not None:
                            on_done(jobs.index(j), j.outcome(raise_error=False))
                else:
                    self.generate_many(calls, check, done)
        return [j.outcome(raise_error=False) for j in jobs]


@dataclass
class JsonRequest:
    system: str
    user: str
    schema: type[BaseModel]
    max_tokens: int = 512
    salvage_first: bool = False


class _JsonJob:
    """The answer-judging of ``complete_json``: at most two attempts, the second a repair
    request with twice the budget; a cut-off answer may be salvaged."""

    def __init__(self, req: JsonRequest):
        self.req = req
        self.messages = [{"role": "system", "content": req.system}, {"role": "user", "content": req.user}]
        self.budget = req.max_tokens
        self.attempt = 0
        self.total = Usage()
        self.problem = ""
        self.result: tuple | None = None
        self.done = False

    def take(self, raw: str, finish: str, u: Usage) -> None:
        req, schema = self.req, self.req.schema
        self.total.add(u)
        if finish == "length":
            self.total.truncated += 1
            self.problem = f"the answer was cut off after {u.completion_tokens} tokens"
            if self.attempt == 1 or req.salvage_first:  # keep the complete part rather than start over
                kept = salvage(raw, schema)
                if kept is not None:
                    self.total.salvaged += 1
                    self.result, self.done = (kept, raw, self.total), True
                    return
        else:
            try:
                self.result = (schema.model_validate(json.loads(raw, strict=False)), raw, self.total)
                self.done = True
                return
            except (ValueError, ValidationError) as e:
                self.problem = f"the answer was not valid JSON for the schema ({type(e).__name__})"
        if self.attempt == 1:
            self.done = True
            return
        self.attempt = 1
        self.total.retries += 1
        # repair request: same data, explicit note, more room for the answer
        self.messages = [
            {"role": "system", "content": req.system},
            {"role": "user", "content": req.user + "\n\nYour previous answer was unusable (" + self.problem
             + "). Answer again with shorter values and fewer items."},
        ]
        self.budget = req.max_tokens * 2

    def outcome(self, raise_error: bool = True):
        if self.result is not None:
            return self.result
        err = ExtractionError(
            f"the language model gave no usable answer: {self.problem}",
            hint="try again, or choose a larger model with `--model` (see `kith models list`)",
        )
        if raise_error:
            raise err
        return err
