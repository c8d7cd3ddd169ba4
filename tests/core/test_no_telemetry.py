"""Nothing outside Kith's folders, and only Kith's own lines on the terminal.

Real runs of the CLI in a fresh, empty ``HOME`` (Kith's profile and the model cache elsewhere):
onnxruntime (faster-whisper's VAD) would create ``~/.cache/Microsoft/DeveloperTools/.onnxruntime``
with a device id and a telemetry queue; llama.cpp would print ``llama_context: …`` lines and an
``Exception ignored in: Llama.__del__`` traceback at exit."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JFK = ROOT / "tests" / "data" / "jfk.wav"


def _run(tmp_path: Path, *argv: str, models: Path) -> tuple[subprocess.CompletedProcess, Path]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), KITH_HOME=str(tmp_path / "kith"), KITH_MODELS=str(models),
               KITH_PASSPHRASE="telemetry-test", PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "app", *argv], env=env, capture_output=True, text=True, timeout=1500,
                       cwd=tmp_path)
    return r, home


def _written(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def test_transcribe_writes_nothing_outside_kiths_folders(tmp_path, shared_model_cache):
    r, home = _run(tmp_path, "transcribe", str(JFK), "--no-progress", models=shared_model_cache)
    assert r.returncode == 0, r.stderr
    assert "country" in r.stdout.lower()
    assert _written(home) == []


def test_quiet_onnxruntime_before_import_leaves_home_empty(tmp_path):
    """The switch itself, in a fresh interpreter: the VAD session is created, HOME stays empty."""
    home = tmp_path / "home"
    home.mkdir()
    code = ("from app.core.native import quiet_onnxruntime; assert quiet_onnxruntime();"
            "from faster_whisper.vad import get_vad_model; get_vad_model()")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    assert _written(home) == []


@pytest.mark.slow
@pytest.mark.timeout(2400)  # 14 min were seen on the shared, overloaded 2-core build machine
def test_process_writes_nothing_outside_kith_and_prints_only_kiths_lines(tmp_path, shared_model_cache):
    """The whole job: transcription, speakers, the LLM, the store."""
    r, home = _run(tmp_path, "process", str(JFK), "--llm", "smollm2-135m", "--quiet", models=shared_model_cache)
    assert r.returncode == 0, r.stderr
    assert "stored" in r.stdout
    assert _written(home) == []
    noise = [ln for ln in r.stderr.splitlines() if not ln.startswith("kith: ")]
    assert noise == [], r.stderr  # no llama_context lines, no "Exception ignored in: Llama.__del__"


def test_llama_logs_go_to_kiths_log_and_the_model_closes(tmp_path, shared_model_cache, caplog):
    """In a fresh interpreter: loading the model prints nothing on stderr, and exit is clean."""
    code = ("import logging; logging.basicConfig(level=logging.DEBUG, filename='kith.log');"
            "from app.catalog import resolve_llm; from app.core.paths import Paths; from app.extract.llm import LocalLLM;"
            "llm = LocalLLM(resolve_llm(Paths.from_env(), 'smollm2-135m'), n_ctx=4096);"
            "print(llm.count_tokens('hello world'));"
            "import app.core.native as n; n.KEEP = llm")  # still referenced at interpreter shutdown
    env = dict(os.environ, PYTHONPATH=str(ROOT), KITH_MODELS=str(shared_model_cache), KITH_HOME=str(tmp_path / "k"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    log = (tmp_path / "kith.log").read_text()
    assert "kith.native.llama" in log and "n_ctx_per_seq" in log


def test_a_freed_model_leaves_llama_cpp_a_live_log_callback(tmp_path, shared_model_cache):
    """Regression (the default-model batching test's segfault): a second model loaded and
    freed used to take the process-wide log callback with it, so the next line llama.cpp
    logged — creating the batch context on the first, live model — jumped into freed memory."""
    code = ("import gc; from app.catalog import resolve_llm; from app.core.paths import Paths;"
            "from app.extract.llm import LocalLLM; p = resolve_llm(Paths.from_env(), 'smollm2-135m');"
            "a = LocalLLM(p, n_threads=1, n_ctx=1024, n_parallel=2); a.count_tokens('x');"
            "b = LocalLLM(p, n_threads=1, n_ctx=1024); b.count_tokens('x'); b.close(); del b; gc.collect();"
            "junk = [bytearray(4096) for _ in range(2000)];"  # reuse the freed memory
            "a._batcher(2); print('ok')")
    env = dict(os.environ, PYTHONPATH=str(ROOT), KITH_MODELS=str(shared_model_cache), KITH_HOME=str(tmp_path / "k"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert r.stdout.strip() == "ok"
