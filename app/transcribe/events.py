"""Typed events of the speech engine (subclasses of app.core.events.Event).

File transcription reports :class:`app.core.events.Progress` (task ``"transcribe"``,
``done``/``total`` in audio seconds). Live transcription emits the events below.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.core.domain import Segment
from app.core.events import Event


@dataclass(frozen=True)
class PartialSegment(Event):
    """Provisional text of the utterance still being spoken (replaced by the next partial
    of the same channel, and finally by a FinalSegment)."""

    channel: int
    speaker: str
    start: float  # seconds from the start of the stream
    end: float
    text: str


@dataclass(frozen=True)
class FinalSegment(Event):
    """A finished utterance; ``segment`` carries words with timestamps."""

    segment: Segment = field(default_factory=lambda: Segment(0.0, 0.0, ""))

    @property
    def channel(self) -> int:
        return self.segment.channel


@dataclass(frozen=True)
class Lagging(Event):
    """The CPU is not keeping up: this much audio is waiting. Nothing is dropped; partials
    pause and finals are computed on larger batches until CaughtUp."""

    behind_seconds: float


@dataclass(frozen=True)
class CaughtUp(Event):
    behind_seconds: float = 0.0


@dataclass(frozen=True)
class StreamError(Event):
    """The live transcriber's worker failed; ``message`` says why (no transcript text)."""

    message: str
