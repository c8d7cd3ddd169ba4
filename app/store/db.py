"""Opening the encrypted CRM: key resolution, SQLCipher pragmas, migrations, the Store.

``open_store(paths, passphrase=None, ask_passphrase=None)`` never creates a database
beside one it cannot open, and never writes to a file it could not decrypt.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from app.core.errors import KithError
from app.core.paths import Paths
from app.store import keys as K
from app.store import migrations


@dataclass
class SearchHit:
    kind: str  # 'contact' | 'note' | 'segment' | 'action'
    id: int
    meeting_id: int | None
    title: str
    snippet: str
    rank: float


def _connect(path: Path, key: bytes, *, create: bool, readonly: bool = False):
    """Open and verify a key. Raises WrongKey (the file untouched) if it does not decrypt."""
    import sqlcipher3

    if readonly:
        conn = sqlcipher3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, isolation_level=None,
                                  check_same_thread=False, timeout=30)
    elif create:
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    else:  # mode=rw: never create a file that is not there
        conn = sqlcipher3.connect(
            f"file:{path.as_posix()}?mode=rw", uri=True, isolation_level=None, check_same_thread=False, timeout=30
        )
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(K.raw_key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as e:
        conn.close()
        from app.store.repair import diagnose

        damage = diagnose(path, key, e)
        if damage is not None:
            raise damage from None
        if "not a database" in str(e) or "encrypt" in str(e):
            raise K.WrongKey(
                f"cannot decrypt {path}: wrong key or passphrase (or not a Kith database)",
                hint="check the passphrase / keyring entry; the file was not changed",
            ) from None
        raise KithError(f"cannot open {path}: {e}") from e
    return conn


def _configure(conn) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL: a commit survives a process crash (kill -9); a power cut may drop the last
    # transactions but never corrupts the file. FULL would fsync on every commit.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")  # no temp files on disk, even encrypted ones
    # 64 MiB of decrypted pages: SQLCipher decrypts on every cache miss, so a warm cache is what
    # keeps FTS queries on 1M segments fast (2000-page default = 8 MiB).
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA busy_timeout = 30000")


def _try_keys(path: Path, candidates: list[tuple[bytes, str]]):
    last: Exception | None = None
    for key, label in candidates:
        try:
            return _connect(path, key, create=False), key, label
        except K.WrongKey as e:
            last = e
    assert last is not None
    raise last


def _open_existing(paths: Paths, passphrase, ask) -> tuple[object, K.MasterKey]:
    path = paths.database
    salt = K.read_salt(paths.key_salt_file)
    if salt is not None:
        pp = K.get_passphrase(passphrase, ask, f"{path} is protected with a passphrase", new=False)
        pending = K.read_salt(paths.key_salt_file.with_name(paths.key_salt_file.name + ".new"))
        cands = [(K.passphrase_key(pp, salt), "salt")]
        if pending is not None:  # a passphrase change was interrupted between the rekey and the salt swap
            cands.append((K.passphrase_key(pp, pending), "salt.new"))
        # created before passphrases were NFC-normalised: the forms as typed (re-keyed to NFC once open)
        cands += [(k, "salt:legacy") for k in K.legacy_passphrase_keys(pp, salt)]
        if pending is not None:
            cands += [(k, "salt.new:legacy") for k in K.legacy_passphrase_keys(pp, pending)]
        try:
            conn, key, label = _try_keys(path, cands)
        except K.WrongKey as wrong:
            # a move from passphrase to keyring may have died after the rekey, before the salt was removed
            kr = K.Keyring()
            moved = [(k, "keyring") for k in ((kr.get(K.PENDING_USERNAME), kr.get()) if kr.usable else ()) if k]
            if not moved:
                if pending is not None:
                    raise K.WrongKey(
                        f"cannot decrypt {path} with this passphrase — a passphrase change (`kith db rekey "
                        "--passphrase`) was interrupted, so the database may already use the NEW passphrase",
                        hint="try the new passphrase you chose then (or the old one, if you typed the new); "
                             "the file was not changed") from None
                raise wrong
            conn, key, label = _try_keys(path, moved)
            kr.set(key)
            kr.delete(K.PENDING_USERNAME)
            paths.key_salt_file.unlink()
            return conn, K.MasterKey(key, "keyring")
        if label.endswith(":legacy"):  # move to the NFC key; a crash here leaves either key, both are tried
            key = K.passphrase_key(pp, pending if label.startswith("salt.new") else salt)
            conn.execute(K.raw_key_pragma(key, "rekey"))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if label.startswith("salt.new"):
            K.write_salt(paths.key_salt_file, pending)
            paths.key_salt_file.with_name(paths.key_salt_file.name + ".new").unlink(missing_ok=True)
        return conn, K.MasterKey(key, "passphrase")
    kr = K.Keyring()
    if not kr.usable:
        raise K.KeyError_(
            f"{path} is encrypted with a key kept in the OS keyring, but {kr.problem}",
            hint="unlock or install the keyring this database was created with "
            "(KITH_PASSPHRASE only opens databases created with a passphrase)",
        )
    key = kr.get()
    pending = kr.get(K.PENDING_USERNAME)
    if key is None and pending is None:
        if kr.problem:
            raise K.KeyError_(f"cannot read the key of {path}: {kr.problem}", hint="unlock the keyring and try again")
        raise K.KeyError_(
            f"{path} exists but the keyring holds no key for it (service '{K.SERVICE}', user '{K.USERNAME}')",
            hint="restore that keyring entry (a new key cannot open this file); or move the file aside to start "
            "an empty database",
        )
    cands = [(k, lbl) for k, lbl in ((key, "main"), (pending, "pending")) if k is not None]
    conn, key, label = _try_keys(path, cands)
    if label == "pending":  # a rotation died after the rekey: finish it
        kr.set(key)
    if pending is not None:
        kr.delete(K.PENDING_USERNAME)
    return conn, K.MasterKey(key, "keyring")


def _create_new(paths: Paths, passphrase, ask) -> tuple[object, K.MasterKey]:
    path = paths.database
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = K.read_salt(paths.key_salt_file)
    kr = K.Keyring() if salt is None else None
    key = None
    if kr is not None and kr.usable:
        key = kr.get()
        if key is None and kr.problem is None:
            key = K.new_master_key()
            kr.set(key)
    if key is not None:
        master = K.MasterKey(key, "keyring")
    else:
        reason = kr.problem if kr is not None else None
        why = f"no usable keyring ({reason})" if reason else "this profile uses a passphrase"
        pp = K.get_passphrase(passphrase, ask, why, new=salt is None)
        if salt is None:
            salt = K.new_master_key()[: K.SALT_BYTES]
            K.write_salt(paths.key_salt_file, salt)
        master = K.MasterKey(K.passphrase_key(pp, salt), "passphrase")
    try:
        conn = _connect(path, master.key, create=True)
    except BaseException:
        if path.exists() and path.stat().st_size == 0:
            path.unlink()
        raise
    return conn, master


def open_store(paths: Paths, passphrase: str | None = None, ask_passphrase: Callable[[str], str] | None = None,
               *, damaged_ok: bool = False) -> "Store":
    """``damaged_ok`` (for `kith db check|recover`): a file whose key opens but whose schema state cannot be
    read is returned as is — not configured, not migrated, nothing written — with ``store.damage`` set."""
    path = paths.database
    exists = path.exists() and path.stat().st_size > 0
    conn, master = (_open_existing if exists else _create_new)(paths, passphrase, ask_passphrase)
    try:
        try:
            migrations.check_not_newer(conn, str(path))  # before any write (journal mode included)
        except Exception as e:  # noqa: BLE001
            from app.store.repair import damage_error

            damage = damage_error(e)
            if damage is None:
                raise
            if not damaged_ok:
                raise damage from None
            store = Store(conn, master, paths)
            store.damage = damage
            return store
        _configure(conn)
        migrations.migrate(conn, str(path))
        try:
            path.chmod(0o600)
        except OSError:
            pass
    except BaseException:
        conn.close()
        raise
    return Store(conn, master, paths)


class Store:
    """The open, encrypted CRM. Use from one thread at a time (the UI's serial DB worker)."""

    def __init__(self, conn, master: K.MasterKey, paths: Paths):
        from app.store.crm import Companies, Contacts, Deals
        from app.store.meetings import Meetings, Notes, Segments
        from app.store.work import Actions, Audit, Exports
        from app.store.suggestions import Suggestions
        from app.store.vectors import Vectors

        self.conn = conn
        self._master = master
        self.paths = paths
        self.path = paths.database
        self._lock = threading.RLock()
        self.damage: KithError | None = None  # set when opened with damaged_ok on an unreadable schema
        self._sp = itertools.count(1)
        self._db = None
        self.contacts = Contacts(self)
        self.companies = Companies(self)
        self.deals = Deals(self)
        self.meetings = Meetings(self)
        self.segments = Segments(self)
        self.notes = Notes(self)
        self.actions = Actions(self)
        self.suggestions = Suggestions(self)
        self.audit = Audit(self)
        self.exports = Exports(self)
        self.vectors = Vectors(self)

    @property
    def master_key(self) -> bytes:
        return self._master.key

    @property
    def key_mode(self) -> str:
        return self._master.mode

    @property
    def db(self):
        """``sqlite_utils.Database`` on the encrypted connection (through the shim)."""
        if self._db is None:
            from app.store.shim import database

            self._db = database(self.conn)
        return self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """One atomic unit of writes; nests with savepoints."""
        with self._lock:
            if self.conn.in_transaction:
                sp = f"kith_sp{next(self._sp)}"
                self.conn.execute(f"SAVEPOINT {sp}")
                try:
                    yield self
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO {sp}")
                        self.conn.execute(f"RELEASE {sp}")
                    raise
                else:
                    self.conn.execute(f"RELEASE {sp}")
            else:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                else:
                    self.conn.execute("COMMIT")

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def search(self, query: str, limit: int = 20, prefix: bool = True, match: str = "all",
               kinds: tuple[str, ...] | None = None, meeting_ids=None) -> list[SearchHit]:
        """FTS5 over people, notes and transcripts (and action items when asked); with match="all" every word
        must match (the last also as a prefix), with match="any" the question's content words rank by bm25."""
        from app.store.search import KINDS, search

        return search(self, query, limit, prefix, match, kinds or KINDS, meeting_ids)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # noqa: BLE001 — closing must not fail
                pass
            self.conn.close()
            self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
