"""A damaged database × the main commands: a clear error or a valid result, never a traceback, and the
damaged file byte-identical afterwards. Real SQLCipher files, damaged on disk."""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.cli import main
from app.core.domain import Contact, Meeting, Segment
from app.core.paths import Paths

PAGE = 4096


def _flip(b: bytearray, off: int) -> None:
    b[off] ^= 0x10


def _zero(b: bytearray, start: int, n: int) -> None:
    b[start:start + n] = bytes(n)


DAMAGE = {
    "bit_in_page_2": lambda b, p: _flip(b, PAGE + 100),
    "bit_in_last_page": lambda b, p: _flip(b, len(b) - PAGE + 500),
    "byte_in_page_1": lambda b, p: _flip(b, 200),
    "scrambled_salt": lambda b, p: b.__setitem__(slice(0, 16), bytes(reversed(b[0:16]))),
    "zeroed_header_page": lambda b, p: _zero(b, 0, PAGE),
    "zeroed_middle_page": lambda b, p: _zero(b, (len(b) // PAGE // 2) * PAGE, PAGE),
    "truncated_half": lambda b, p: b.__delitem__(slice((len(b) // PAGE // 2) * PAGE, None)),
    "truncated_mid_page": lambda b, p: b.__delitem__(slice(len(b) - PAGE // 2, None)),
    "under_one_page": lambda b, p: b.__delitem__(slice(1000, None)),
    "garbage_wal": lambda b, p: p.with_name(p.name + "-wal").write_bytes(os.urandom(3 * PAGE + 32)),
}

READ_COMMANDS = [
    ["db", "check"], ["db", "check", "--json"], ["search", "budget"], ["people", "list"], ["meetings", "list"],
    ["minutes", "1"], ["people", "export", "1"], ["db", "backup", "{out}/backup.db"], ["db", "recover", "{out}/recovered.db"],
]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """One healthy database (keyring-less: passphrase mode), copied into each test's profile."""
    home = tmp_path_factory.mktemp("healthy")
    os.environ["KITH_PASSPHRASE"] = "matrix pass"
    try:
        from app.store.db import open_store

        paths = Paths.under(home).ensure()
        import keyring
        from keyring.backends import fail

        prev = keyring.get_keyring()
        keyring.set_keyring(fail.Keyring())
        s = open_store(paths, passphrase="matrix pass")
        for i in range(40):
            s.contacts.add(Contact(name=f"Person {i}", emails=[f"p{i}@example.org"], notes="x" * 300))
        m = s.meetings.add(Meeting(title="Budget call", started_at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
        s.segments.add_many(m.id, [Segment(i, i + 1, f"our budget line {i} " * 12, speaker="Ana") for i in range(200)])
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.close()
        keyring.set_keyring(prev)
    finally:
        os.environ.pop("KITH_PASSPHRASE", None)
    return paths


def _install(healthy: Paths, home: Path, damage: str) -> Paths:
    paths = Paths.under(home).ensure()
    raw = bytearray(healthy.database.read_bytes())
    paths.key_salt_file.write_bytes(healthy.key_salt_file.read_bytes())
    DAMAGE[damage](raw, paths.database)
    paths.database.write_bytes(bytes(raw))
    return paths


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_database_gives_clear_errors_and_stays_untouched(damage, healthy, kith_home, tmp_path, monkeypatch,
                                                                 capsys):
    from keyring.backends import fail
    import keyring

    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("KITH_PASSPHRASE", "matrix pass")
    paths = _install(healthy, kith_home, damage)
    before = _sha(paths.database)
    out = tmp_path / "out"
    out.mkdir()
    outcomes = {}
    for cmd in READ_COMMANDS:
        argv = [a.format(out=out) for a in cmd]
        rc = main(argv)  # an exception escaping main is the traceback a user would see: the test fails
        o = capsys.readouterr()
        assert "Traceback" not in o.err and "Traceback" not in o.out
        if rc != 0:
            errs = [ln for ln in o.err.splitlines() if ln.startswith("kith: error:")]
            assert len(errs) == 1 or argv[:2] == ["db", "check"], (argv, o.err)
            if argv[:2] == ["db", "check"]:
                assert o.out.strip(), "db check always reports"
        outcomes[" ".join(cmd)] = rc
        assert _sha(paths.database) == before, f"{argv} changed the damaged file"
    if damage != "garbage_wal":  # a WAL with a bad header is ignored by SQLite: that file is healthy
        assert outcomes["db check"] != 0 and outcomes["db check --json"] != 0
    if outcomes["db recover {out}/recovered.db"] == 0:  # whatever was salvaged is a valid Kith database
        rec = out / "recovered.db"
        monkeypatch.setenv("KITH_HOME", str(tmp_path / "rec-home"))
        rpaths = Paths.under(tmp_path / "rec-home").ensure()
        rpaths.key_salt_file.write_bytes((out / "recovered.db.salt").read_bytes())
        rpaths.database.write_bytes(rec.read_bytes())
        rc = main(["db", "check"])
        assert rc == 0, capsys.readouterr()
        capsys.readouterr()
        assert main(["people", "list", "--json"]) == 0
        people = json.loads(capsys.readouterr().out)
        assert len(people) > 0


def test_damaged_page_two_is_recovered_with_every_readable_row(healthy, kith_home, tmp_path, monkeypatch, capsys):
    from keyring.backends import fail
    import keyring

    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("KITH_PASSPHRASE", "matrix pass")
    _install(healthy, kith_home, "bit_in_page_2")
    assert main(["db", "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["damaged_pages"] == [2] and report["unreadable_tables"]
    assert main(["db", "recover", str(tmp_path / "new.db"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["integrity"] == "ok" and r["tables"]["contacts"]["rows"] == 40 and r["tables"]["segments"]["rows"] == 200


@pytest.mark.parametrize("damage", ["scrambled_salt", "byte_in_page_1", "zeroed_header_page"])
def test_damaged_first_page_is_not_called_a_wrong_key(damage, healthy, kith_home, monkeypatch, capsys):
    from keyring.backends import fail
    import keyring

    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("KITH_PASSPHRASE", "matrix pass")
    _install(healthy, kith_home, damage)
    assert main(["people", "list"]) != 0
    err = capsys.readouterr().err
    assert "damaged" in err and "wrong key" not in err.split("—")[0]
    monkeypatch.setenv("KITH_PASSPHRASE", "another pass")  # a wrong passphrase on the same damaged file
    assert main(["people", "list"]) == 3
    assert "wrong key or passphrase" in capsys.readouterr().err
