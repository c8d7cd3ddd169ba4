"""`kith people|companies|search|db|suggestions` through the real entry point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_people_and_companies_verbs(capsys, tmp_path):
    rc, out, _ = run(capsys, "people", "add", "--name", "Maya Fenwick", "--email", "maya@fen.io", "--title", "COO",
                     "--company", "fen.io", "--json")
    assert rc == 0
    maya = json.loads(out)
    assert maya["id"] == 1 and maya["emails"] == ["maya@fen.io"]
    assert run(capsys, "people", "add", "--name", "Raj Patel")[0] == 0
    rc, out, err = run(capsys, "people", "add", "--name", "Clone", "--email", "MAYA@fen.io")
    assert rc == 1 and "already belongs to person 1" in err
    rc, out, _ = run(capsys, "people", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "EMAIL", "TITLE", "COMPANY", "SOURCE"] and len(lines) == 4
    assert lines[2].index("maya@fen.io") == lines[0].index("EMAIL")  # aligned columns
    assert [p["name"] for p in json.loads(run(capsys, "people", "list", "--json")[1])] == ["Maya Fenwick", "Raj Patel"]
    rc, out, _ = run(capsys, "people", "edit", "1", "--title", "CEO", "--add-email", "m@home.net", "--json")
    assert json.loads(out)["title"] == "CEO" and json.loads(out)["emails"] == ["maya@fen.io", "m@home.net"]
    assert [p["id"] for p in json.loads(run(capsys, "people", "search", "CEO", "--json")[1])] == [1]
    rc, out, _ = run(capsys, "people", "show", "1")
    assert "Maya Fenwick" in out and "CEO" in out and "fen.io" in out
    shown = json.loads(run(capsys, "people", "show", "1", "--json")[1])
    assert shown["company"]["domain"] == "fen.io"
    rc, _, err = run(capsys, "people", "show", "99")
    assert rc == 4 and "no person with id 99" in err
    rc, out, _ = run(capsys, "companies", "add", "--name", "Orbit", "--domain", "orbit.space", "--json")
    assert json.loads(out)["domain"] == "orbit.space"
    assert {c["name"] for c in json.loads(run(capsys, "companies", "list", "--json")[1])} == {"fen.io", "Orbit"}
    rc, out, _ = run(capsys, "companies", "list")
    assert "PEOPLE" in out.splitlines()[0]
    assert run(capsys, "companies", "edit", "1", "--name", "Fenwick Labs")[0] == 0
    shown = json.loads(run(capsys, "companies", "show", "1", "--json")[1])
    assert shown["company"]["name"] == "Fenwick Labs" and [p["id"] for p in shown["people"]] == [1]
    rc, _, err = run(capsys, "companies", "add", "--name", "X", "--domain", "not a domain")
    assert rc == 1 and "not a domain" in err
    out_file = tmp_path / "maya.json"
    assert run(capsys, "people", "export", "1", "-o", str(out_file))[0] == 0
    assert json.loads(out_file.read_text())["contact"]["name"] == "Maya Fenwick"
    assert json.loads(run(capsys, "people", "export", "1")[1])["format"] == "kith.person-export/1"


def test_search_suggestions_and_erase(capsys, kith):
    from app.core.domain import Meeting, Segment, Suggestion

    store = kith.store()
    m = store.meetings.add(Meeting(title="Standup", started_at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
    store.segments.add_many(m.id, [Segment(0, 2, "the heliotrope launch slipped", speaker="Them")])
    store.suggestions.add(Suggestion("create_company", {"name": "Heliotrope"}, meeting_id=m.id))
    kith.close()
    rc, out, _ = run(capsys, "search", "heliotrope", "launch")
    assert rc == 0 and "segment" in out and "[heliotrope]" in out
    hits = json.loads(run(capsys, "search", "heliotrope", "--json")[1])
    assert hits[0]["kind"] == "segment" and hits[0]["meeting_id"] == m.id
    rc, _, err = run(capsys, "search", "  ")
    assert rc == 1 and "nothing to search" in err
    sugg = json.loads(run(capsys, "suggestions", "list", "--json")[1])
    assert [s["kind"] for s in sugg] == ["create_company"]
    assert "create_company" in run(capsys, "suggestions", "list", "--status", "all")[1]
    run(capsys, "people", "add", "--name", "Heliotrope Hal")
    rc, _, err = run(capsys, "people", "erase", "1")  # stdin is not a terminal under pytest
    assert rc == 1 and "--yes" in err
    rc, out, _ = run(capsys, "people", "erase", "1", "--yes")
    assert rc == 0 and "erased person 1" in out
    assert json.loads(run(capsys, "people", "list", "--json")[1]) == []


def test_db_verbs(capsys, tmp_path):
    run(capsys, "people", "add", "--name", "Backed Up")
    rc, out, _ = run(capsys, "db", "check")
    assert rc == 0 and "integrity: ok" in out
    assert json.loads(run(capsys, "db", "check", "--json")[1])["ok"] is True
    rc, out, _ = run(capsys, "db", "backup", str(tmp_path / "b.kith"))
    assert rc == 0 and (tmp_path / "b.kith").exists()
    rc, _, err = run(capsys, "db", "backup", str(tmp_path / "b.kith"))
    assert rc == 1 and "already exists" in err
    assert run(capsys, "db", "path")[1].strip().endswith("kith.db")
    rc, out, _ = run(capsys, "db", "rekey")
    assert rc == 0 and "new key" in out
    assert json.loads(run(capsys, "people", "list", "--json")[1])[0]["name"] == "Backed Up"
    with pytest.raises(SystemExit) as e:
        main(["people", "show", "not-a-number"])
    assert e.value.code == 2


def test_installed_console_script_with_kith_passphrase(tmp_path):
    """The real `kith` script in a fresh process: no keyring there, so KITH_PASSPHRASE is the key source."""
    kith = ROOT / ".venv" / "bin" / "kith"
    if not kith.exists():
        kith = Path(sys.executable).with_name("kith")
    env = {**os.environ, "KITH_HOME": str(tmp_path / "home"), "KITH_PASSPHRASE": "ci-secret",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    add = subprocess.run([str(kith), "people", "add", "--name", "Script Sam", "--email", "sam@s.io"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert add.returncode == 0, add.stderr
    ls = subprocess.run([str(kith), "people", "list", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert ls.returncode == 0 and json.loads(ls.stdout)[0]["emails"] == ["sam@s.io"]
    db = tmp_path / "home" / "data" / "kith.db"
    before = db.read_bytes()
    bad = subprocess.run([str(kith), "people", "list"], env={**env, "KITH_PASSPHRASE": "wrong"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 3 and "wrong key or passphrase" in bad.stderr
    assert db.read_bytes() == before
    none = subprocess.run([str(kith), "people", "list"], env={k: v for k, v in env.items() if k != "KITH_PASSPHRASE"},
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert none.returncode != 0 and "KITH_PASSPHRASE" in none.stderr
