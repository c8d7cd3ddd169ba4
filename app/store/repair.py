"""A damaged database: tell damage from a wrong key, report what is readable, salvage into a new file.

Nothing here writes to the damaged file. SQLCipher 4 page layout (Kith's defaults): 4096-byte
pages, each [ciphertext][IV 16][HMAC-SHA512 64]; page 1 starts with the 16-byte file salt.
"""
from __future__ import annotations

from pathlib import Path

from app.core.errors import KithError

PAGE = 4096
RESERVE = 80
RECOVER_HINT = "run `kith db check` to see what is readable; `kith db recover NEW.db` copies what can be read " \
               "into a new encrypted database (the damaged file is never changed)"


class DamagedDatabase(KithError):
    exit_code = 1


def _plausible_btree(plain: bytes) -> bool:
    """Does a decrypted page (not page 1) start like an SQLite b-tree page?"""
    if len(plain) < 12 or plain[0] not in (2, 5, 10, 13):
        return False
    usable = PAGE - RESERVE
    freeblock = int.from_bytes(plain[1:3], "big")
    ncells = int.from_bytes(plain[3:5], "big")
    content = int.from_bytes(plain[5:7], "big") or 65536
    hdr = 12 if plain[0] in (2, 5) else 8
    return (freeblock == 0 or hdr <= freeblock < usable) and ncells < usable // 4 and \
        hdr + 2 * ncells <= content <= usable and plain[7] <= 60


def key_fits_pages(path: Path, key: bytes, max_pages: int = 16) -> bool | None:
    """True when ``key`` decrypts pages after the first into b-tree pages (so the key is right and page 1
    is what is damaged); False when none does; None when the file has no page to tell by."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            f.seek(PAGE)
            data = f.read(PAGE * max_pages)
    except OSError:
        return None
    pages = [data[i:i + PAGE] for i in range(0, len(data) - PAGE + 1, PAGE)]
    if not pages or size < 2 * PAGE:
        return None
    for page in pages:
        iv = page[PAGE - RESERVE:PAGE - RESERVE + 16]
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = dec.update(page[:PAGE - RESERVE]) + dec.finalize()
        if _plausible_btree(plain):
            return True
    return False


def diagnose(path: Path, key: bytes, error: Exception) -> KithError | None:
    """A clear error for a file that would not open with ``key``, when it is damage rather than a wrong key."""
    size = path.stat().st_size if path.exists() else 0
    if "malformed" in str(error) or size % PAGE:
        return DamagedDatabase(f"{path} is damaged: {size:,} bytes is not a whole number of pages (truncated?)"
                               if size % PAGE else f"{path} is damaged ({error})", hint=RECOVER_HINT)
    if key_fits_pages(path, key):
        return DamagedDatabase(
            f"{path} is damaged: its first page (header and salt) does not authenticate, but the key decrypts "
            "the other pages — this is damage, not a wrong key or passphrase",
            hint="restore the file from a backup (`kith db backup` makes them); the damaged file was not changed")
    return None


def damage_error(e: BaseException) -> KithError | None:
    """An SQLCipher error met by an ordinary command on a damaged file → one clear Kith error."""
    mod = type(e).__module__ or ""
    if not (mod.startswith("sqlcipher3") or mod.startswith("sqlite3")) or type(e).__name__ not in (
            "DatabaseError", "IntegrityError", "OperationalError"):
        return None
    text = str(e)
    if any(s in text for s in ("malformed", "not a database", "HMAC", "corrupt", "vtable constructor failed")):
        return DamagedDatabase(f"the database is damaged ({text})", hint=RECOVER_HINT)
    return None


# -- reporting ---------------------------------------------------------------------------------
def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def reader(store):
    """A factory of fresh read-only connections to the store's file: after SQLCipher meets a page that fails
    its HMAC, that connection keeps failing, so each probe (and each retry) opens its own."""
    from app.store.db import _connect

    return lambda: _connect(Path(store.path), store.master_key, create=False, readonly=True)


def probe(open_conn, fn):
    """fn(conn) on a fresh connection; an error becomes ("error", text)."""
    try:
        conn = open_conn()
    except Exception as e:  # noqa: BLE001
        return "error", str(getattr(e, "message", e))
    try:
        return "ok", fn(conn)
    except Exception as e:  # noqa: BLE001
        return "error", str(e)
    finally:
        conn.close()


def readable_tables(open_conn) -> dict[str, dict]:
    """For each table: rows read by a full scan, or the error that stopped it."""
    status, names = probe(open_conn, _tables)
    if status != "ok":
        return {"sqlite_master": {"ok": False, "error": names}}
    out: dict[str, dict] = {}
    for t in names:
        def scan(conn, t=t):
            return sum(1 for _ in conn.execute(f'SELECT * FROM "{t}"'))
        status, v = probe(open_conn, scan)
        out[t] = {"ok": True, "rows": v} if status == "ok" else {"ok": False, "error": v}
    return out


def safe_rows(open_conn, sql: str) -> list[str]:
    status, v = probe(open_conn, lambda c: [str(r[0]) for r in c.execute(sql)])
    return v if status == "ok" else [f"error: {v}"]


# -- salvage -----------------------------------------------------------------------------------
def _salvage_table(open_conn, dst, table: str, cols: list[str]) -> dict:
    """Copy the rows of ``table`` that can be read, seeking past unreadable pages by rowid (a fresh
    connection after every error)."""
    names = ", ".join(f'"{c}"' for c in cols)
    ins = f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(cols))})'
    last, copied, skipped_ranges, step, batch, errors = -(2 ** 63), 0, 0, 1, 500, 0
    src = open_conn()
    try:
        while errors < 200:
            try:
                rows = src.execute(f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT ?',
                                   (last, batch)).fetchall()
            except Exception:  # noqa: BLE001 — a damaged page: read one by one, then jump ahead
                errors += 1
                src.close()
                src = open_conn()
                if batch > 1:
                    batch = 1
                    continue
                if last > 2 ** 62 or step > 2 ** 62:
                    break
                skipped_ranges += 1 if step == 1 else 0
                last = max(last, 0) + step
                step *= 2
                continue
            if not rows:
                break
            dst.executemany(ins, [r[1:] for r in rows])
            copied += len(rows)
            last, step, batch = rows[-1][0], 1, 500
    finally:
        src.close()
    return {"rows": copied, "damaged_ranges": skipped_ranges}


def salvage(open_conn, dst) -> dict:
    """Copy every readable row of the source (``open_conn()`` gives a fresh connection) into ``dst``
    (a fresh Kith schema). Returns a report per table."""
    from app.store import migrations

    status, src_tables = probe(open_conn, _tables)
    if status != "ok":
        raise DamagedDatabase(f"the damaged database's schema cannot be read ({src_tables})",
                              hint="restore a backup; nothing was written")
    src_tables = set(src_tables)
    skip = {"_migrations", "_fts_bulk", "sqlite_sequence"}
    shadow = {f"{t}_fts{s}" for t in migrations.FTS_TABLES for s in ("", "_data", "_idx", "_docsize", "_config", "_content")}
    report: dict[str, dict] = {}
    dst.execute("PRAGMA foreign_keys = OFF")
    dst.execute("BEGIN IMMEDIATE")
    try:
        for t in _tables(dst):
            if t in skip or t in shadow or t.startswith("sqlite_"):
                continue
            if t not in src_tables:
                report[t] = {"rows": 0, "missing": True}
                continue
            status, src_cols = probe(open_conn, lambda c, t=t: [r[1] for r in c.execute(f'PRAGMA table_info("{t}")')])
            if status != "ok":
                report[t] = {"rows": 0, "error": src_cols}
                continue
            cols = [c for c in (r[1] for r in dst.execute(f'PRAGMA table_info("{t}")')) if c in src_cols]
            report[t] = _salvage_table(open_conn, dst, t, cols)
        for t in migrations.FTS_TABLES:  # the search index is rebuilt from the salvaged rows
            dst.execute(f"INSERT INTO {t}_fts({t}_fts) VALUES ('rebuild')")
        dst.execute("COMMIT")
    except BaseException:
        dst.execute("ROLLBACK")
        raise
    dst.execute("PRAGMA foreign_keys = ON")
    report["_foreign_key_violations"] = {"rows": len(dst.execute("PRAGMA foreign_key_check").fetchall())}
    return report


def recover(store, out: Path | str) -> dict:
    """Salvage what the open (damaged) ``store`` can read into a NEW database ``out``, same key."""
    from app.store import keys as K
    from app.store import migrations
    from app.store.db import _configure, _connect

    out = Path(out).expanduser().resolve()
    if out == Path(store.path).resolve() or out.exists():
        raise KithError(f"{out} already exists", hint="choose a new file name: recovery never overwrites a file")
    if not out.parent.is_dir():
        raise KithError(f"{out.parent} is not a folder", hint="choose a file in an existing folder")
    part = out.with_name(out.name + ".partial")
    part.unlink(missing_ok=True)
    dst = _connect(part, store.master_key, create=True)
    try:
        _configure(dst)
        migrations.migrate(dst, str(part))
        report = salvage(reader(store), dst)
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dst.execute("PRAGMA journal_mode = DELETE")
    except BaseException:
        dst.close()
        for f in (part, part.with_name(part.name + "-wal"), part.with_name(part.name + "-shm")):
            f.unlink(missing_ok=True)
        raise
    dst.close()
    part.replace(out)
    out.chmod(0o600)
    result = {"path": str(out), "integrity": ok, "tables": report, "key_mode": store.key_mode}
    if store.key_mode == "passphrase":
        salt_copy = out.with_name(out.name + ".salt")
        K.write_salt(salt_copy, K.read_salt(store.paths.key_salt_file))
        result["salt"] = str(salt_copy)
    return result
