"""Fixtures for the extraction tests: the real SmolLM2 (plumbing), the real default model
(quality), the demo meeting's script and its transcript (real Whisper on the committed audio)."""
from __future__ import annotations

import dataclasses
import tomllib

import pytest

from app.core.domain import Segment
from app.core.paths import Paths, resource_path
from extract_helpers import smollm2_path  # noqa: F401 — used by the fixtures below

SAMPLES = resource_path("resources", "samples")


@pytest.fixture(scope="session")
def smol():
    from app.extract import LocalLLM

    # one thread: the test machine is shared, and llama.cpp's spinning worker threads slow
    # down badly when cores are oversubscribed; the tiny model is fast enough on one.
    return LocalLLM(smollm2_path(), n_threads=1, n_ctx=2048)


@pytest.fixture(scope="session")
def session_paths(tmp_path_factory, shared_model_cache) -> Paths:
    home = tmp_path_factory.mktemp("extract-home")
    return dataclasses.replace(Paths.under(home), models_override=shared_model_cache).ensure()


@pytest.fixture(scope="session")
def qwen(session_paths):
    from app.catalog import resolve_llm
    from app.extract import LocalLLM

    # one thread, like the SmolLM2 fixture: on a shared, oversubscribed test machine llama.cpp's
    # spinning worker threads make 2 threads several times SLOWER than 1 (measured: 10x)
    return LocalLLM(resolve_llm(session_paths, "qwen2.5-coder-1.5b"), n_threads=1, hash_cache_dir=session_paths.models)


@pytest.fixture(scope="session")
def demo_spec() -> dict:
    return tomllib.loads((SAMPLES / "demo_sales_call.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_segments(session_paths, demo_spec) -> list[Segment]:
    """The demo call as Kith hears it: the committed audio through the real transcriber."""
    from app.core.config import Settings
    from app.transcribe.file import transcribe_file

    tr = transcribe_file(SAMPLES / demo_spec["audio"], session_paths, Settings().transcribe)
    segs = list(tr.segments)
    for i, s in enumerate(segs, 1):
        s.index = i
    return segs
