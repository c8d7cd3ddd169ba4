"""Typed events of a recording session (emitted on the Kith event bus from the writer thread).

Channels: 0 = You (microphone), 1 = Them (system audio).
"""
from __future__ import annotations

from dataclasses import dataclass

from app.core.events import Event


@dataclass(frozen=True)
class RecordingStarted(Event):
    recording_id: str
    path: str
    sample_rate: int
    mic: str = ""  # device names; "" = channel absent
    system: str = ""


@dataclass(frozen=True)
class RecordingPaused(Event):
    recording_id: str
    at_frame: int


@dataclass(frozen=True)
class RecordingResumed(Event):
    recording_id: str
    at_frame: int


@dataclass(frozen=True)
class RecordingStopped(Event):
    recording_id: str
    path: str
    frames: int
    seconds: float
    reason: str = "user"  # user | disk_low | devices_lost | error


@dataclass(frozen=True)
class Levels(Event):
    """RMS and peak (0..1 of full scale) per channel over the last ~50 ms; ``t`` = seconds into the recording."""

    t: float
    rms: tuple[float, float]
    peak: tuple[float, float]


@dataclass(frozen=True)
class SilenceWarning(Event):
    channel: int
    seconds: float
    message: str = ""


@dataclass(frozen=True)
class DiskLow(Event):
    free_mb: float
    min_free_mb: float
    stopping: bool


@dataclass(frozen=True)
class DeviceLost(Event):
    channel: int
    device: str
    reason: str = ""
    at_frame: int = 0


@dataclass(frozen=True)
class CaptureWarning(Event):
    """Anything else worth telling the user (a gap padded with silence, a failing subscriber)."""

    message: str
