"""Passphrases are NFC-normalised (an older, un-normalised one still opens and is moved to NFC); an
interrupted passphrase change says which passphrase to try."""
from __future__ import annotations

import unicodedata

import pytest

from app.core.domain import Contact
from app.store import keys as K
from app.store.db import _connect, open_store
from tests.store.conftest import FailKeyring, sha256

COMPOSED = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"  # é, è, û as single code points
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def _make(paths, pp):
    s = open_store(paths, passphrase=pp)
    s.contacts.add(Contact(name="Keyed Person", emails=["k@p.io"]))
    s.close()


def test_composed_and_decomposed_passphrases_open_the_same_database(paths):
    FailKeyring.install()
    assert COMPOSED != DECOMPOSED
    _make(paths, COMPOSED)
    s = open_store(paths, passphrase=DECOMPOSED)
    assert s.contacts.find_by_email("k@p.io")
    s.close()


def test_an_unnormalised_legacy_passphrase_opens_and_is_moved_to_nfc(paths):
    FailKeyring.install()
    _make(paths, COMPOSED)
    salt = K.read_salt(paths.key_salt_file)
    # as an older Kith made it: scrypt over the bytes as typed (here NFD)
    s = open_store(paths, passphrase=COMPOSED)
    s.conn.execute(K.raw_key_pragma(K.passphrase_key(DECOMPOSED, salt, normalize=False), "rekey"))
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    with pytest.raises(K.WrongKey):  # the NFC key no longer opens it (so the test can fail)
        _connect(paths.database, K.passphrase_key(COMPOSED, salt), create=False).close()
    s = open_store(paths, passphrase=DECOMPOSED)
    assert s.contacts.find_by_email("k@p.io")
    s.close()
    _connect(paths.database, K.passphrase_key(COMPOSED, salt), create=False).close()  # migrated to NFC
    s = open_store(paths, passphrase=COMPOSED)
    assert s.contacts.find_by_email("k@p.io")
    s.close()


def test_interrupted_passphrase_change_names_the_new_passphrase(paths):
    FailKeyring.install()
    _make(paths, "old passphrase")
    # the state a kill -9 leaves after the rekey, before the salt swap (app.store.rights.rekey's order)
    salt_new = paths.key_salt_file.with_name(paths.key_salt_file.name + ".new")
    new_salt = K.new_master_key()[: K.SALT_BYTES]
    K.write_salt(salt_new, new_salt)
    s = open_store(paths, passphrase="old passphrase")
    s.conn.execute(K.raw_key_pragma(K.passphrase_key("new passphrase", new_salt), "rekey"))
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    before = sha256(paths.database)
    with pytest.raises(K.WrongKey) as e:
        open_store(paths, passphrase="old passphrase")
    assert "interrupted" in str(e.value) and "NEW passphrase" in str(e.value)
    assert sha256(paths.database) == before
    s = open_store(paths, passphrase="new passphrase")  # finishes the change
    assert s.contacts.find_by_email("k@p.io")
    s.close()
    assert not salt_new.exists() and K.read_salt(paths.key_salt_file) == new_salt
    with pytest.raises(K.WrongKey) as e:
        open_store(paths, passphrase="old passphrase")
    assert "NEW passphrase" not in str(e.value)
