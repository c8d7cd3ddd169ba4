"""Keys, passphrases and refusing to open what we must not touch."""
from __future__ import annotations

import os

import keyring
import pytest
import sqlcipher3
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from app.store import keys as K
from app.store.db import open_store
from app.store.migrations import NewerSchema
from tests.store.conftest import FailKeyring, sha256

from app.core.domain import Contact


def _listing(paths):
    return sorted(p.name for p in paths.data.iterdir())


def _make(paths, **kw):
    s = open_store(paths, **kw)
    s.contacts.add(Contact(name="Keyed Person", emails=["k@p.io"]))
    s.close()
    return paths.database


def test_first_run_creates_a_random_key_in_the_keyring(paths, memory_keyring):
    s = open_store(paths)
    try:
        hexkey = memory_keyring.store[("kith", "database-key")]
        assert bytes.fromhex(hexkey) == s.master_key and len(s.master_key) == 32 and s.key_mode == "keyring"
        assert not paths.key_salt_file.exists()
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert hexkey not in repr(s._master)
    finally:
        s.close()
    assert oct(paths.database.stat().st_mode & 0o777) == "0o600"


def test_wrong_keyring_key_is_refused_and_nothing_changes(paths, memory_keyring):
    db = _make(paths)
    before, files = sha256(db), _listing(paths)
    memory_keyring.store[("kith", "database-key")] = os.urandom(32).hex()
    with pytest.raises(K.WrongKey, match="wrong key"):
        open_store(paths)
    assert sha256(db) == before and _listing(paths) == files


def test_wrong_passphrase_is_refused_and_nothing_changes(paths):
    FailKeyring.install()
    db = _make(paths, passphrase="correct horse")
    assert paths.key_salt_file.stat().st_size == K.SALT_BYTES
    before, files = sha256(db), _listing(paths)
    with pytest.raises(K.WrongKey) as e:
        open_store(paths, passphrase="battery staple")
    assert "wrong key or passphrase" in str(e.value) and "not changed" in str(e.value)
    assert sha256(db) == before and _listing(paths) == files
    s = open_store(paths, passphrase="correct horse")
    assert s.key_mode == "passphrase" and s.contacts.find_by_email("k@p.io")
    s.close()


def test_no_keyring_and_no_passphrase_explains_and_creates_nothing(paths):
    FailKeyring.install()
    with pytest.raises(K.KeyError_) as e:
        open_store(paths)
    msg = str(e.value)
    assert "no usable keyring" in msg and "KITH_PASSPHRASE" in msg
    assert not paths.database.exists() and not paths.key_salt_file.exists()


def test_no_keyring_asks_for_a_new_passphrase_twice(paths):
    FailKeyring.install()
    answers = iter(["s3cret-pass", "typo"])
    with pytest.raises(Exception, match="differ"):
        open_store(paths, ask_passphrase=lambda prompt: next(answers))
    assert not paths.database.exists()
    with pytest.raises(Exception, match="at least 8 characters"):  # the one policy: keys.new_passphrase_problem
        open_store(paths, ask_passphrase=lambda prompt: "short")
    assert not paths.database.exists()
    prompts = []
    s = open_store(paths, ask_passphrase=lambda prompt: prompts.append(prompt) or "s3cret-pass")
    s.close()
    assert len(prompts) == 2
    prompts.clear()
    s = open_store(paths, ask_passphrase=lambda prompt: prompts.append(prompt) or "s3cret-pass")
    s.close()
    assert len(prompts) == 1  # an existing database asks once


class LockedKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise KeyringLocked("locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("locked")

    def delete_password(self, service, username):
        raise KeyringLocked("locked")


class PromptingFileKeyring(LockedKeyring):
    """Stands for keyrings.alt's file backends (which would prompt on stdin)."""

    def get_password(self, service, username):  # pragma: no cover - must never be called
        raise AssertionError("a file backend must not be used")


PromptingFileKeyring.__module__ = "keyrings.alt.file"


@pytest.mark.parametrize("backend", [LockedKeyring, PromptingFileKeyring])
def test_locked_or_file_keyring_falls_back_to_the_passphrase(paths, backend):
    keyring.set_keyring(backend())
    s = open_store(paths, passphrase="pw-for-ci")
    assert s.key_mode == "passphrase"
    s.close()
    assert paths.key_salt_file.exists()


def test_a_chainer_uses_its_good_backend_and_never_the_file_one(paths, memory_keyring):
    class Chainer(LockedKeyring):
        backends = [PromptingFileKeyring(), memory_keyring]

    Chainer.__module__ = "keyring.backends.chainer"
    keyring.set_keyring(Chainer())
    kr = K.Keyring()
    assert kr.usable and kr.backend is memory_keyring
    s = open_store(paths)
    assert s.key_mode == "keyring" and ("kith", "database-key") in memory_keyring.store
    s.close()
    Chainer.backends = [PromptingFileKeyring()]
    assert "file" in K.Keyring().problem


def test_existing_database_without_its_keyring_entry_is_not_given_a_new_key(paths, memory_keyring):
    db = _make(paths)
    before = sha256(db)
    memory_keyring.store.clear()
    with pytest.raises(K.KeyError_, match="holds no key"):
        open_store(paths)
    assert memory_keyring.store == {} and sha256(db) == before
    FailKeyring.install()
    with pytest.raises(K.KeyError_, match="keyring"):
        open_store(paths, passphrase="irrelevant")  # a keyring database is not opened by a passphrase
    assert sha256(db) == before and not paths.key_salt_file.exists()


def test_newer_schema_is_refused_untouched(paths, memory_keyring):
    db = _make(paths)
    key = bytes.fromhex(memory_keyring.store[("kith", "database-key")])
    conn = sqlcipher3.connect(str(db), isolation_level=None)
    conn.execute(K.raw_key_pragma(key))
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before, files = sha256(db), _listing(paths)
    with pytest.raises(NewerSchema, match="newer version of Kith"):
        open_store(paths)
    assert sha256(db) == before and _listing(paths) == files
    conn = sqlcipher3.connect(str(db), isolation_level=None)
    conn.execute(K.raw_key_pragma(key))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO _migrations VALUES ('m099_from_the_future', '2030-01-01')")
    conn.close()
    before = sha256(db)
    with pytest.raises(NewerSchema, match="m099_from_the_future"):
        open_store(paths)
    assert sha256(db) == before


def test_derive_subkey():
    master = bytes(range(32))
    a, b = K.derive_subkey(master, "recordings"), K.derive_subkey(master, "other")
    assert len(a) == 32 and a != b and a == K.derive_subkey(master, "recordings") and a != master
    with pytest.raises(ValueError):
        K.derive_subkey(master, "")


def test_rekey_rotation_and_passphrase_moves(paths, memory_keyring):
    from app.store.rights import rekey

    s = open_store(paths)
    s.contacts.add(Contact(name="Rotated"))
    old = s.master_key
    assert rekey(s) == "keyring"
    assert s.master_key != old and memory_keyring.store[("kith", "database-key")] == s.master_key.hex()
    assert ("kith", K.PENDING_USERNAME) not in memory_keyring.store
    s.close()
    s = open_store(paths)
    assert [c.name for c in s.contacts.list()] == ["Rotated"]
    assert rekey(s, "new passphrase") == "passphrase"
    s.close()
    assert ("kith", "database-key") not in memory_keyring.store
    with pytest.raises(K.WrongKey):
        open_store(paths, passphrase="old guess")
    s = open_store(paths, passphrase="new passphrase")
    assert rekey(s) == "keyring" and not paths.key_salt_file.exists()
    s.close()
    s = open_store(paths)
    assert [c.name for c in s.contacts.list()] == ["Rotated"]
    s.close()


def test_interrupted_rotation_is_finished_on_open(paths, memory_keyring):
    """Crash after PRAGMA rekey but before the keyring entry was swapped: the pending key opens it."""
    s = open_store(paths)
    new = K.new_master_key()
    memory_keyring.store[("kith", K.PENDING_USERNAME)] = new.hex()
    s.conn.execute(K.raw_key_pragma(new, "rekey"))
    s.close()
    s = open_store(paths)
    assert s.master_key == new and memory_keyring.store[("kith", "database-key")] == new.hex()
    assert ("kith", K.PENDING_USERNAME) not in memory_keyring.store
    s.close()


def test_one_passphrase_policy_for_the_cli_and_the_app():
    assert K.new_passphrase_problem("") == "the passphrase is empty"
    assert "at least" in K.new_passphrase_problem("1234567")
    assert K.new_passphrase_problem("12345678", "12345679") == "the two passphrases differ"
    assert K.new_passphrase_problem("caf\u00e9-latte", "cafe\u0301-latte") is None  # NFC: the same passphrase
    assert K.new_passphrase_problem("correct horse") is None
