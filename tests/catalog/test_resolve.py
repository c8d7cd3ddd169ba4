"""resolve_whisper / resolve_llm / install_model on the real bundled packages and on small
packages made on the fly (a real package dir on sys.path, located with find_spec)."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import app.catalog.install as install_mod
from app.catalog import (import_model, install_model, load_catalog, model_status, resolve_llm, resolve_whisper,
                         verify_model)
from app.cli import main
from app.core.errors import Cancelled, KithError
from app.core.events import CancelToken, EventBus, Progress
from app.core.paths import Paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def paths(kith_home):
    return Paths.from_env(dict(os.environ))


def test_bundled_catalog_is_complete():
    cat = load_catalog()
    assert cat.default("whisper").name == "tiny.en"
    assert cat.default("llm").name == "qwen2.5-coder-1.5b"
    for name in ("base", "small", "medium", "large-v3-turbo", "smollm2-135m", "qwen2.5-3b", "qwen2.5-7b", "llama-3.2-3b"):
        m = cat.get(name)
        assert m.size > 0 and m.source.main
        assert m.sha256 == "" or len(m.sha256) == 64
    assert len(cat.get("qwen2.5-coder-1.5b").source.parts) == 22
    for m in cat:
        for f in m.source.files:
            assert f.url.startswith("https://") and "/resolve/" in f.url  # pinned, real URLs


def test_tiny_en_is_used_in_place_and_verified_once(paths, monkeypatch):
    d = resolve_whisper(paths, "tiny.en")
    assert (d / "model.bin").is_file() and (d / "config.json").is_file()
    assert "site-packages" in str(d)

    def boom(*a, **k):
        raise AssertionError("re-hashed a verified model")

    monkeypatch.setattr(install_mod, "sha256_file", boom)
    assert resolve_whisper(paths, "tiny.en") == d


def test_base_is_joined_into_model_cache_once(paths, monkeypatch):
    seen = []
    d = resolve_whisper(paths, "base", progress=lambda done, total: seen.append((done, total)))
    assert d == paths.models / "base"
    for f in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        assert (d / f).is_file()
    assert (d / "model.bin").stat().st_size == 145217607
    assert not list(d.glob("*.part"))
    if seen:  # first joiner in this session reports progress to the end
        assert seen[-1][0] == seen[-1][1]
    monkeypatch.setattr(install_mod, "sha256_file", lambda *a, **k: pytest.fail("re-hashed"))
    assert resolve_whisper(paths, "base") == d


def test_llm_models_resolve(paths):
    events = []
    bus = EventBus()
    bus.subscribe(Progress, events.append)
    small = resolve_llm(paths, "smollm2-135m", bus=bus)
    assert small.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and small.read_bytes()[:4] == b"GGUF"
    assert "llm" not in sys.modules  # the package (which imports `llm`) was never executed
    qwen = resolve_llm(paths, "qwen2.5-coder-1.5b", bus=bus)
    assert qwen.stat().st_size == 1117320768
    assert qwen.open("rb").read(4) == b"GGUF"
    assert verify_model(paths, "qwen2.5-coder-1.5b").state == "ready"


def test_kind_and_name_errors(paths):
    with pytest.raises(KithError, match="not a whisper model"):
        resolve_whisper(paths, "smollm2-135m")
    with pytest.raises(KithError, match="unknown llm model") as e:
        resolve_llm(paths, "gpt-17")
    assert "qwen2.5-coder-1.5b" in e.value.hint
    with pytest.raises(KithError, match="does not exist"):
        resolve_whisper(paths, "/no/such/folder")


def test_url_model_not_downloaded_names_install_command(paths, http_server):
    with pytest.raises(KithError) as e:
        resolve_llm(paths, "qwen2.5-3b")
    assert "kith models install qwen2.5-3b" in str(e.value)
    assert http_server.requests == []  # resolving never touches the network


def test_local_paths(paths, tmp_path):
    with pytest.raises(KithError, match="missing model.bin"):
        resolve_whisper(paths, str(tmp_path))
    fake = tmp_path / "x.gguf"
    fake.write_bytes(b"NOTGGUF" * 10)
    with pytest.raises(KithError, match="not a GGUF"):
        resolve_llm(paths, str(fake))
    good = tmp_path / "ok.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 60)
    assert resolve_llm(paths, str(good)) == good.resolve()
    tiny = resolve_whisper(paths, "tiny.en")
    assert resolve_whisper(paths, str(tiny)) == tiny.resolve()


# -- synthetic packages, to exercise joining, corruption and concurrency on small data ----------
def _make_pkgs(root: Path, parts: list[bytes]) -> list[str]:
    refs = []
    for i, data in enumerate(parts, 1):
        pkg = root / f"kithtest_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('must never be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        refs.append(f"kithtest_part{i}/data/part{i:02d}.bin")
    return refs


def _catalog_file(path: Path, refs: list[str], sha: str, extra: str = "") -> Path:
    parts = ", ".join(f'"{r}"' for r in refs)
    path.write_text(textwrap.dedent(f"""
        [[model]]
        name = "joined"
        kind = "llm"
        size = 1
        sha256 = "{sha}"
        [model.source]
        type = "join"
        packages = ["kithtest-part1==1"]
        main = "joined.gguf"
        parts = [{parts}]
        {extra}
    """))
    return path


@pytest.fixture
def joinable(tmp_path, monkeypatch):
    parts = [b"GGUF" + os.urandom(300_000), os.urandom(300_000), os.urandom(1234)]
    pkgroot = tmp_path / "site"
    refs = _make_pkgs(pkgroot, parts)
    monkeypatch.syspath_prepend(str(pkgroot))
    whole = b"".join(parts)
    cat_file = _catalog_file(tmp_path / "catalog.toml", refs, hashlib.sha256(whole).hexdigest())
    return load_catalog(file=cat_file), whole, pkgroot, cat_file


def test_join_is_atomic_and_cached(paths, joinable):
    cat, whole, pkgroot, _ = joinable
    seen = []
    f = resolve_llm(paths, "joined", progress=lambda d, t: seen.append((d, t)), catalog=cat)
    assert f.read_bytes() == whole
    assert seen[-1] == (len(whole), len(whole))
    assert [p.name for p in f.parent.iterdir()] == ["joined.gguf"]
    assert not any(m.startswith("kithtest") for m in sys.modules)


def test_corrupt_part_gives_checksum_error_and_leaves_no_file(paths, joinable):
    cat, whole, pkgroot, _ = joinable
    p = pkgroot / "kithtest_part2" / "data" / "part02.bin"
    data = bytearray(p.read_bytes())
    data[100] ^= 1
    p.write_bytes(bytes(data))
    with pytest.raises(KithError, match="checksum mismatch") as e:
        resolve_llm(paths, "joined", catalog=cat)
    assert "force-reinstall" in e.value.hint
    folder = paths.models / "joined"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_damaged_joined_file_is_rebuilt_from_parts(paths, joinable):
    cat, whole, _, _ = joinable
    f = resolve_llm(paths, "joined", catalog=cat)
    with open(f, "r+b") as fh:  # same size, one flipped byte, new mtime
        fh.seek(5000)
        b = fh.read(1)
        fh.seek(5000)
        fh.write(bytes([b[0] ^ 0xFF]))
    st = verify_model(paths, "joined", catalog=cat)
    assert st.state == "corrupt" and "checksum mismatch" in st.message
    assert not f.exists()  # never left where it would be used
    assert resolve_llm(paths, "joined", catalog=cat).read_bytes() == whole


def test_missing_package_names_install_command(paths, joinable):
    cat, _, pkgroot, _ = joinable
    import shutil

    shutil.rmtree(pkgroot / "kithtest_part3")
    with pytest.raises(KithError) as e:
        resolve_llm(paths, "joined", catalog=cat)
    assert "kith models install joined" in str(e.value) and "kithtest-part1==1" in str(e.value)


def test_cancelled_join_leaves_nothing(paths, joinable):
    cat, _, _, _ = joinable
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        resolve_llm(paths, "joined", progress=lambda d, t: cancel.cancel(), cancel=cancel, catalog=cat)
    folder = paths.models / "joined"
    assert list(folder.iterdir()) == []


def test_concurrent_processes_join_once_without_corruption(paths, joinable):
    cat, whole, pkgroot, cat_file = joinable
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(pkgroot)!r})
        from pathlib import Path
        from app.catalog import load_catalog, resolve_llm
        from app.core.paths import Paths
        p = Paths.under(Path({str(paths.data.parent)!r}))
        import dataclasses; p = dataclasses.replace(p, models_override=Path({str(paths.models)!r}))
        f = resolve_llm(p, "joined", catalog=load_catalog(file=Path({str(cat_file)!r})))
        print(f)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o[0].strip() for o in outs}) == 1
    f = Path(outs[0][0].strip())
    assert f.read_bytes() == whole
    assert [x.name for x in f.parent.iterdir()] == ["joined.gguf"]


def test_url_model_install_then_resolve(paths, tmp_path, http_server):
    data = b"GGUF" + os.urandom(200_000)
    http_server.files["/m/model.gguf"] = data
    cat_file = tmp_path / "c.toml"
    cat_file.write_text(textwrap.dedent(f"""
        [[model]]
        name = "remote"
        kind = "llm"
        size = {len(data)}
        sha256 = "{hashlib.sha256(data).hexdigest()}"
        [model.source]
        type = "url"
        main = "model.gguf"
        files = [{{ path = "model.gguf", url = "{http_server.base}/m/model.gguf" }}]
    """))
    cat = load_catalog(file=cat_file)
    with pytest.raises(KithError, match="kith models install remote"):
        resolve_llm(paths, "remote", catalog=cat)
    f = install_model(paths, "remote", catalog=cat)
    assert f.read_bytes() == data
    assert resolve_llm(paths, "remote", catalog=cat) == f
    assert [s.state for s in model_status(paths, cat)] == ["ready"]


def test_import_copy_and_link(paths, tmp_path):
    gguf = tmp_path / "my model.gguf"
    gguf.write_bytes(b"GGUF" + os.urandom(1000))
    e = import_model(paths, gguf)
    assert e["name"] == "my-model" and "copied" in e["description"]
    copied = resolve_llm(paths, "my-model")
    assert copied.parent.parent == paths.models and copied.read_bytes() == gguf.read_bytes()
    tiny = resolve_whisper(paths, "tiny.en")
    e2 = import_model(paths, tiny, name="tiny-link", link=True)
    assert resolve_whisper(paths, "tiny-link") == tiny
    with pytest.raises(KithError, match="already exists"):
        import_model(paths, gguf)
    names = {s.name: s.state for s in model_status(paths)}
    assert names["my-model"] == "ready" and names["tiny-link"] in ("ready", "installed")


def test_cli_models_list_json_and_verify(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {r["name"]: r for r in rows}
    assert by["tiny.en"]["installed"] and by["tiny.en"]["default"]
    assert by["qwen2.5-7b"]["state"] == "missing"
    assert main(["models", "verify", "tiny.en"]) == 0
    assert "tiny.en: ready" in capsys.readouterr().out
    assert main(["models", "install", "small"]) == 1  # no checksum → refused without --allow-unverified
    assert "--allow-unverified" in capsys.readouterr().err
