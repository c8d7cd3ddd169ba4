"""The names a meeting's context tells the speech model to expect.

The list goes into the decoder's "previous text" slot at the start of every block the file
transcriber decodes (whisper's ``initial_prompt``), which biases it toward those spellings: on
espeak-ng speech tiny.en hears "Kofi" as "Coffee", "Tove" as "Tom", "Zoe" as "Loli" without it, and
gets them right with it (bench/names_bench.py). faster-whisper's own ``hotwords`` (the same text
in every 30 s window) helps names as much, but with greedy decoding it made the decoder skip a
whole window of speech on a scripted call — words lost — so it is not used. The list is bounded (whisper keeps at most half its 448-token context for
the prompt; a long list also dilutes the bias), deduplicated, attendees first.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

MAX_NAMES = 24
MAX_CHARS = 240  # ~60 tokens: well under whisper's prompt half (223 tokens)


def _clean(name: str) -> str:
    name = re.sub(r"\s+", " ", (name or "").strip())
    if "@" in name:  # an email where a name should be: its local part reads as a name
        name = re.sub(r"[._-]+", " ", name.split("@")[0]).title()
    return name.strip(" ,;.")


def hotwords(*groups: Iterable[str], max_names: int = MAX_NAMES, max_chars: int = MAX_CHARS) -> str | None:
    """A comma-separated list of the names in ``groups`` (in order: e.g. attendees, the user,
    companies), each once, within the bounds; None when there is nothing to say."""
    seen: set[str] = set()
    out: list[str] = []
    size = 0
    for group in groups:
        for raw in group or ():
            name = _clean(raw)
            key = name.casefold()
            if len(name) < 2 or key in seen or not any(ch.isalpha() for ch in name):
                continue
            if len(out) >= max_names or size + len(name) + 2 > max_chars:
                return ", ".join(out) or None
            seen.add(key)
            out.append(name)
            size += len(name) + 2
    return ", ".join(out) or None


def names_prompt(names: str | None) -> str | None:
    """The names as a decoder prompt (whisper's ``initial_prompt``): a plain list ending like a
    sentence, so the transcript that follows starts fresh."""
    return f"{names}." if names else None
