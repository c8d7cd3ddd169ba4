"""Plain-prose answers from the local model (no grammar) — for summaries, where JSON only costs
tokens and makes a small model copy field names and instructions.

The text is cut back to its last complete sentence (a summary never ends mid-sentence) and
checked for leaked prompt words; a model without a llama.cpp handle (a test double) may offer
``complete_text`` itself.
"""
from __future__ import annotations

import re
import time

from app.extract.llm import ExtractionError, Usage

_END = re.compile(r"[.!?](?:[\"')\]]+)?(?=\s|$)")
_LEADS = re.compile(r"^\s*(?:\*\*)?(?:summary|meeting summary|here is (?:a|the) summary[^:]*)(?:\*\*)?\s*:\s*",
                    re.IGNORECASE)


def whole_sentences(text: str) -> str:
    """The text up to its last sentence end; markdown and list markers flattened."""
    t = _LEADS.sub("", text or "")
    t = re.sub(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+", "", t)
    t = t.replace("**", "").replace("#", "")
    t = " ".join(t.split())
    ends = [m.end() for m in _END.finditer(t)]
    if not ends:
        return ""
    return t[: ends[-1]].strip()


def complete_text(llm, system: str, user: str, max_tokens: int = 200) -> tuple[str, Usage]:
    """One plain-text chat completion (greedy). Returns (whole-sentence text, usage)."""
    own = getattr(llm, "complete_text", None)
    if callable(own):
        return own(system, user, max_tokens)
    t0 = time.perf_counter()
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    lock = getattr(llm, "_lock", None)
    try:
        if lock is not None:
            with lock:
                out = llm.llama.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                       top_k=1, repeat_penalty=1.1, seed=getattr(llm, "seed", 0))
        else:
            out = llm.llama.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, top_k=1,
                                                   repeat_penalty=1.1)
    except (ValueError, RuntimeError) as e:
        raise ExtractionError(f"the language model failed: {e}", hint="try again, or choose another model") from e
    usage = out.get("usage") or {}
    u = Usage(prompt_tokens=int(usage.get("prompt_tokens", 0)), completion_tokens=int(usage.get("completion_tokens", 0)),
              seconds=time.perf_counter() - t0, calls=1)
    return whole_sentences(out["choices"][0]["message"].get("content") or ""), u
