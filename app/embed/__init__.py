"""Sentence embeddings of transcript lines for Ask (semantic retrieval), computed on this device.

``load_embedder()`` → the packaged all-MiniLM-L6-v2 (numpy forward pass, see app.embed.minilm);
``index(store, embedder, meeting_id=None, progress=None)`` embeds every line that has no vector
yet (one meeting, or the whole store: the backfill of ``kith ask --reindex``)."""
from __future__ import annotations

from typing import Callable

from app.embed.minilm import DIM, MODEL_NAME, MiniLM, find_model_dir

__all__ = ["DIM", "MODEL_NAME", "MiniLM", "find_model_dir", "load_embedder", "index", "available", "window"]


def available() -> bool:
    try:
        find_model_dir()
        return True
    except Exception:  # noqa: BLE001 — a missing optional model means keyword-only Ask
        return False


def load_embedder() -> MiniLM:
    return MiniLM()


def window(previous: str, text: str) -> str:
    """What a line's vector encodes: the line before it, then the line. In a conversation an answer
    follows its question ("How much runway…?" / "About twenty-two months."), so the pair matches a
    question worded like neither line alone."""
    return f"{previous.strip()} {text.strip()}".strip()


def index(store, embedder, meeting_id: int | None = None, progress: Callable[[int, int], None] | None = None,
          batch: int = 256, cancel=None) -> int:
    """Embed the lines without a vector (of ``meeting_id``, or all). Returns how many were embedded."""
    total = store.vectors.count_missing(embedder.name) if meeting_id is None else None
    done = 0
    while True:
        rows = store.vectors.missing(embedder.name, meeting_id, limit=batch)
        if not rows:
            break
        if cancel is not None:
            cancel.raise_if_cancelled()
        vecs = embedder.encode([window(r[3], r[2]) for r in rows])
        store.vectors.put_many(embedder.name, [(r[0], r[1], v) for r, v in zip(rows, vecs)])
        done += len(rows)
        if progress is not None:
            progress(done, total if total is not None else done)
        if len(rows) < batch:
            break
    return done
