from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core.config import TranscribeSettings
from app.core.paths import Paths
from app.transcribe.engine import WhisperCache

from .speech import SR, STORY, dialogue, monologue

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def session_paths(shared_model_cache, tmp_path_factory) -> Paths:
    import dataclasses

    return dataclasses.replace(Paths.under(tmp_path_factory.mktemp("kith")), models_override=shared_model_cache)


@pytest.fixture(scope="session")
def whisper_cache(session_paths) -> WhisperCache:
    """Loaded models shared by the tests of this package (loading is not what we test)."""
    return WhisperCache(session_paths)


@pytest.fixture(scope="session")
def tiny(whisper_cache):
    return whisper_cache.get("tiny.en", 2)


@pytest.fixture
def settings() -> TranscribeSettings:
    return TranscribeSettings()


@pytest.fixture
def paths(kith_home) -> Paths:
    return Paths.from_env(dict(os.environ))


@pytest.fixture(scope="session")
def jfk_ref() -> str:
    return (DATA / "jfk.txt").read_text().strip()


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def dialogue_wav(audio_dir):
    turns = [
        (0, "en-us+m3", "Hi, thanks for taking the time to talk today."),
        (1, "en-gb+f2", "Of course, I was looking forward to it."),
        (0, "en-us+m3", "Let us start with the price of the new service."),
        (1, "en-gb+f2", "We think the price is too high for a small team."),
        (0, "en-us+m3", "I understand. We can offer a discount of ten percent."),
        (1, "en-gb+f2", "That sounds reasonable. Can you send me a written offer?"),
        (0, "en-us+m3", "Yes, I will send it by email tomorrow morning."),
        (1, "en-gb+f2", "Great. Then we can sign the contract next week."),
        (0, "en-us+m3", "Perfect, thank you very much."),
        (1, "en-gb+f2", "Thank you, goodbye."),
    ]
    stereo, truth = dialogue(turns)
    path = audio_dir / "dialogue.wav"
    sf.write(path, stereo, SR, subtype="PCM_16")
    return path, truth


@pytest.fixture(scope="session")
def story(audio_dir):
    """~60 s of one voice reading STORY, mono 16 kHz."""
    audio, truth = monologue(STORY)
    path = audio_dir / "story.wav"
    sf.write(path, audio, SR, subtype="PCM_16")
    return path, audio, truth


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)
