"""The numpy GE2E encoder against the torch implementation, and the weights reader."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core.errors import KithError
from app.speakers.weights import find_pretrained, load_legacy_torch

DATA = Path(__file__).resolve().parent / "data"
JFK = Path(__file__).resolve().parents[1] / "data" / "jfk.wav"
SPANS = [(0.0, 3.0), (3.0, 6.5), (6.5, 11.0)]


def test_matches_torch_reference(encoder):
    """``data/ge2e_torch_jfk.npy`` holds [utterance embeddings, first-partial embeddings] of three
    spans of tests/data/jfk.wav, computed once by ``data/make_reference.py`` with the original
    ``resemblyzer.VoiceEncoder`` (resemblyzer 0.1.4 on torch 2.13.0 CPU, in a scratch venv;
    rate=1.25, min_coverage=0.75, no volume normalisation). Measured max |diff| ≈ 2e-7."""
    ref = np.load(DATA / "ge2e_torch_jfk.npy")
    wav, sr = sf.read(JFK, dtype="float32")
    for i, (s, e) in enumerate(SPANS):
        w = wav[int(s * sr):int(e * sr)]
        emb = encoder.embed_utterance(w, normalize=False)
        assert np.abs(emb - ref[0, i]).max() < 1e-4
        mel = encoder.mel_frames(np.pad(w, (0, max(0, 25600 - len(w)))))
        first = encoder.embed_windows(mel, np.array([0]))[0]
        assert np.abs(first - ref[1, i]).max() < 1e-4
    # and the embeddings really discriminate: unrelated directions are far from these
    assert float(ref[0, 0] @ ref[0, 1]) > 0.8


def test_weights_are_found_without_importing_the_package():
    import sys

    p = find_pretrained()
    assert p.name == "pretrained.pt" and p.stat().st_size > 10_000_000
    assert "resemblyzer" not in sys.modules and "torch" not in sys.modules


def test_restricted_unpickler_refuses_code(tmp_path):
    bad = tmp_path / "evil.pt"
    with bad.open("wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(obj, f, protocol=2)
        f.write(pickle.dumps(print, protocol=2))  # a global outside the allow-list
    with pytest.raises(KithError, match="cannot read"):
        load_legacy_torch(bad)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(KithError):
        load_legacy_torch(junk)
