"""Paths, settings and the CLI shell: KITH_HOME isolation, validated TOML settings, `kith
config`, `kith doctor`, `python -m app`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.core.config import Settings, SettingsError, load_settings, set_value
from app.core.paths import Paths

ROOT = Path(__file__).resolve().parents[2]


def test_kith_home_holds_every_directory(kith_home):
    p = Paths.from_env()
    for d in (p.data, p.config, p.cache, p.logs):
        assert kith_home in d.parents or d == kith_home


def test_missing_settings_file_means_defaults(tmp_path):
    s = load_settings(tmp_path / "none.toml")
    assert s == Settings() and s.transcribe.model == "tiny.en"


@pytest.mark.parametrize("text, key", [
    ("[llm]\nthreads = 0\n", "llm.threads"),
    ("[transcribe]\nmodle = 'base'\n", "transcribe.modle"),
    ("[crm]\ndefault_template = 'party'\n", "crm.default_template"),
])
def test_a_bad_value_names_its_key(tmp_path, text, key):
    f = tmp_path / "settings.toml"
    f.write_text(text)
    before = f.read_bytes()
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    assert key in str(e.value)
    assert f.read_bytes() == before, "a bad file is never rewritten"


def test_broken_toml_is_a_clear_error(tmp_path):
    f = tmp_path / "settings.toml"
    f.write_text("[llm\nthreads = 2")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(f)


def test_set_value_validates():
    s = set_value(Settings(), "llm.threads", "4")
    assert s.llm.threads == 4
    assert set_value(s, "crm.auto_accept", "create_contact, action_item").crm.auto_accept == ["create_contact", "action_item"]
    with pytest.raises(SettingsError, match="llm.threads"):
        set_value(s, "llm.threads", "lots")
    with pytest.raises(SettingsError, match="unknown setting"):
        set_value(s, "llm.colour", "red")


def test_kith_config_set_show_and_errors(capsys):
    assert main(["config", "set", "llm.threads", "3"]) == 0
    path = Paths.from_env().settings_file
    assert "threads = 3" in path.read_text()
    capsys.readouterr()
    assert main(["config", "show", "llm", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["llm.threads"] == 3 and "transcribe.model" not in shown
    assert main(["config", "set", "llm.threads", "0"]) == 1
    assert "llm.threads" in capsys.readouterr().err
    assert "threads = 3" in path.read_text(), "a refused value leaves the file as it was"


def test_doctor_reports_each_check_with_a_fix(capsys):
    rc = main(["doctor", "--json"])
    checks = json.loads(capsys.readouterr().out)
    names = {c["name"] for c in checks}
    assert {"data", "keyring", "database", "free disk"} <= names
    assert {"speech model", "LLM model", "voice encoder"} <= names
    assert rc == (0 if all(c["ok"] for c in checks) else 1)
    for c in checks:
        assert c["ok"] or c["fix"], f"{c['name']} fails without saying what to do"


def test_python_dash_m_app_and_usage_errors(kith_home):
    env = {**os.environ, "KITH_HOME": str(kith_home)}
    r = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0 and "process" in r.stdout and "doctor" in r.stdout
    r = subprocess.run([sys.executable, "-m", "app", "frobnicate"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 2 and "invalid choice" in r.stderr
