"""Hand-made meeting helpers for the extraction tests."""
from __future__ import annotations

from datetime import date

from app.core.domain import Segment


def seg(i: int, text: str, channel: int = 1, speaker: str | None = None) -> Segment:
    return Segment(start=i * 5.0, end=i * 5.0 + 4.5, text=text, channel=channel,
                   speaker=speaker if speaker is not None else ("You" if channel == 0 else "Them"), index=i)


def meeting(lines: list[tuple[int, str]]) -> list[Segment]:
    return [seg(i, text, ch) for i, (ch, text) in enumerate(lines, 1)]


DEMO_DATE = date(2026, 3, 4)
