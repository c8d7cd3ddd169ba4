"""Local-LLM intelligence: minutes, action items, people and deal signals — with sources.

Public API (imports are lazy so ``kith --help`` stays fast)::

    from app.extract import extract_meeting, MeetingContext, ExtractionResult, LocalLLM
    llm = LocalLLM(model_path)                      # weights load on first use
    result = extract_meeting(segments, MeetingContext(title, date, attendees), llm, bus, cancel)
    answer = answer_question(question, [(title, date, segment), ...], llm)
"""
from __future__ import annotations

from typing import Any

_EXPORTS = {
    "extract_meeting": "app.extract.extractor",
    "MeetingContext": "app.extract.extractor",
    "ExtractOptions": "app.extract.extractor",
    "LocalLLM": "app.extract.llm",
    "ExtractionError": "app.extract.llm",
    "ExtractionResult": "app.extract.schema",
    "ActionItemResult": "app.extract.schema",
    "Answer": "app.extract.schema",
    "answer_question": "app.extract.ask",
    "load_template": "app.extract.templates",
    "list_templates": "app.extract.templates",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(mod), name)
