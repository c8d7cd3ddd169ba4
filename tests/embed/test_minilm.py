"""The packaged all-MiniLM-L6-v2 run in numpy: the reference embedding, and meaning over wording."""
from __future__ import annotations

import numpy as np
import pytest

from app.embed import DIM, MiniLM, window


@pytest.fixture(scope="module")
def model():
    return MiniLM()


def test_matches_the_sentence_transformers_reference(model):
    # sentence-transformers' all-MiniLM-L6-v2 gives 0.0677, 0.0635, 0.0487, 0.0799, 0.0374 for this sentence
    v = model.encode(["This is an example sentence"])[0]
    assert v.shape == (DIM,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-4
    assert np.allclose(v[:5], [0.0677, 0.0635, 0.0487, 0.0799, 0.0374], atol=2e-3)


def test_a_paraphrase_is_closer_than_a_shared_word(model):
    q, para, other = model.encode(["Does the product support SSO?",
                                   "Security will ask whether you support single sign-on with Okta.",
                                   "The product council reviewed the roadmap."])
    assert q @ para > q @ other + 0.1


def test_batches_and_padding_do_not_change_a_vector(model):
    texts = ["short", "a much longer line about the budget of the pilot and the timeline of the rollout", ""]
    together = model.encode(texts)
    alone = np.stack([model.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert model.encode([]).shape == (0, DIM)


def test_a_vector_encodes_the_previous_line_too():
    assert window("How much runway do we have?", "About twenty-two months.") == \
        "How much runway do we have? About twenty-two months."
    assert window("", "First line.") == "First line."
