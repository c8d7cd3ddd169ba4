"""Shared, session-cached fixtures: the encoder, scripted espeak-ng meetings (rendered once per
session into a temp dir), and the tiny.en transcriber for the naming tests."""
from __future__ import annotations

import dataclasses

import pytest

from .scripts import ADDRESS_MEETING, DER_MEETINGS, GREETING_MEETING, INTRO_MEETING
from .synth import render, write


@pytest.fixture(scope="session")
def encoder():
    from app.speakers.encoder import VoiceEncoder

    return VoiceEncoder()


@pytest.fixture(scope="session")
def meetings_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speaker-meetings")


@pytest.fixture(scope="session")
def der_meetings(meetings_dir):
    """name → (wav path, audio, reference turns)."""
    out = {}
    for name, m in DER_MEETINGS.items():
        audio, ref = render(m["script"], overlap_every=m.get("overlap_every", 0))
        path = meetings_dir / f"{name}.wav"
        write(path, audio)
        out[name] = (path, audio, [(s, e, spk) for s, e, spk, _ in ref])
    return out


@pytest.fixture(scope="session")
def session_paths(shared_model_cache, tmp_path_factory):
    from app.core.paths import Paths

    return dataclasses.replace(Paths.under(tmp_path_factory.mktemp("kith-spk")), models_override=shared_model_cache)


@pytest.fixture(scope="session")
def transcribe(session_paths):
    """path → transcript segments (real faster-whisper tiny.en, word timings, You/Them channels)."""
    from app.core.config import TranscribeSettings
    from app.transcribe.engine import WhisperCache
    from app.transcribe.file import transcribe_file

    model = WhisperCache(session_paths).get("tiny.en", 2)
    done = {}

    def run(path):
        if path not in done:
            done[path] = list(transcribe_file(path, session_paths, TranscribeSettings(), model=model).segments)
        return [dataclasses.replace(s) for s in done[path]]

    return run


def _two_channel(meetings_dir, name, script):
    audio, ref = render(script, channels=2)
    path = meetings_dir / f"{name}.wav"
    write(path, audio)
    return path, ref


@pytest.fixture(scope="session")
def intro_meeting(meetings_dir):
    return _two_channel(meetings_dir, "intro", INTRO_MEETING)


@pytest.fixture(scope="session")
def address_meeting(meetings_dir):
    return _two_channel(meetings_dir, "address", ADDRESS_MEETING)


@pytest.fixture(scope="session")
def greeting_meeting(meetings_dir):
    return _two_channel(meetings_dir, "greeting", GREETING_MEETING)
