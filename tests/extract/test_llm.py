"""LocalLLM at the model boundary: the real SmolLM2 for plumbing, a fake llama object only to
produce junk on demand (a real model cannot be made to emit junk reliably)."""
from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from app.core.errors import KithError
from app.extract import ExtractionError, LocalLLM
from app.extract.schema import RawAnswer
from extract_helpers import smollm2_path


class Pair(BaseModel):
    name: str
    count: int


def test_complete_json_returns_a_validated_instance(smol):
    obj, raw, usage = smol.complete_json("Reply with JSON.", "Name a fruit and how many you have.", Pair, 60)
    assert isinstance(obj, Pair)
    assert json.loads(raw, strict=False)["name"] == obj.name
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0 and usage.calls >= 1


def test_truncation_is_retried_then_a_clear_error(smol):
    with pytest.raises(ExtractionError) as e:
        smol.complete_json("Reply with JSON.", "Write a long story in the name field.", Pair, max_tokens=4)
    assert "cut off" in str(e.value) and e.value.hint  # says what happened and what to do


def test_count_tokens_and_identity(smol):
    assert smol.count_tokens("") == 0
    assert 3 <= smol.count_tokens("Northwind Ledger and Acme Freight") <= 15
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1"
    assert len(smol.sha256) == 64


def test_sha256_is_remembered_by_size_and_mtime(tmp_path):
    cache = tmp_path / "hashes"
    a = LocalLLM(smollm2_path(), hash_cache_dir=cache)
    digest = a.sha256
    assert (cache / "sha256-index.json").exists()
    b = LocalLLM(smollm2_path(), hash_cache_dir=cache)
    index = json.loads((cache / "sha256-index.json").read_text())
    assert list(index.values()) == [digest]
    assert b.sha256 == digest  # read from the index (same size+mtime)


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(KithError) as e:
        LocalLLM(tmp_path / "nope.gguf")
    assert "not found" in str(e.value) and e.value.hint


class JunkLlama:
    """Stands in for llama_cpp.Llama.create_chat_completion: replies from a script."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.calls = []

    def create_chat_completion(self, messages, **kw):
        self.calls.append((messages, kw))
        text, finish = self.replies.pop(0)
        return {"choices": [{"message": {"content": text}, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5}}


def _with_fake(replies) -> tuple[LocalLLM, JunkLlama]:
    llm = LocalLLM(smollm2_path(), sampling="library")  # the fake stands in for create_chat_completion
    fake = JunkLlama(replies)
    llm._llama = fake
    llm._grammar = lambda schema: None  # the fake ignores grammars
    return llm, fake


def test_junk_then_valid_is_retried_once():
    llm, fake = _with_fake([("}{ not json", "stop"), ('{"answer": "x\ny", "cite": [1]}', "stop")])
    obj, raw, usage = llm.complete_json("s", "u", RawAnswer, 50)
    assert obj.answer == "x\ny"  # a raw newline inside a string is accepted (strict=False)
    assert usage.retries == 1 and len(fake.calls) == 2
    assert "unusable" in fake.calls[1][0][-1]["content"]  # the repair request says why


def test_junk_twice_is_an_extraction_error():
    llm, fake = _with_fake([("garbage", "stop"), ('{"answer": 7}', "stop")])
    with pytest.raises(ExtractionError) as e:
        llm.complete_json("s", "u", RawAnswer, 50)
    assert "not valid JSON for the schema" in str(e.value)


def test_truncated_then_complete_uses_a_bigger_budget():
    llm, fake = _with_fake([('{"answer": "an unfinished', "length"), ('{"answer": "", "cite": []}', "stop")])
    obj, _, usage = llm.complete_json("s", "u", RawAnswer, 40)
    assert obj.known is False and usage.truncated == 1
    assert fake.calls[0][1]["max_tokens"] == 40 and fake.calls[1][1]["max_tokens"] == 80
