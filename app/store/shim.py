"""The one place that makes sqlite-utils speak SQLCipher (DESIGN.md §6).

sqlite-utils picks its driver at import time: ``pysqlite3`` if importable, else the
stdlib ``sqlite3``. It then catches *that* driver's ``OperationalError`` (for
``insert(..., alter=True)``, ``drop(ignore=True)``, ``table.exists`` …). On a
``sqlcipher3`` connection the stdlib class never matches, so those calls raise.
Registering ``sqlcipher3`` under the ``pysqlite3`` names before sqlite-utils is first
imported makes it catch the right exceptions. This is done lazily, by
:func:`load_sqlite_utils`, never at import time of this module.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

from app.core.errors import KithError


def load_sqlite_utils() -> ModuleType:
    """Return the ``sqlite_utils`` module bound to sqlcipher3's exception classes."""
    import sqlcipher3
    import sqlcipher3.dbapi2

    already = sys.modules.get("sqlite_utils")
    if already is None:
        current = sys.modules.get("pysqlite3")
        if current is not None and current is not sqlcipher3:
            raise KithError(
                "another pysqlite3 module is loaded; sqlite-utils cannot be bound to SQLCipher",
                hint="uninstall pysqlite3 from Kith's virtualenv",
            )
        sys.modules["pysqlite3"] = sqlcipher3
        sys.modules["pysqlite3.dbapi2"] = sqlcipher3.dbapi2
    module = importlib.import_module("sqlite_utils")
    utils = importlib.import_module("sqlite_utils.utils")
    if utils.OperationalError is not sqlcipher3.dbapi2.OperationalError:
        raise KithError(
            "sqlite_utils was imported before Kith's SQLCipher shim and uses the stdlib sqlite3",
            hint="import app.store.shim.load_sqlite_utils() before anything imports sqlite_utils",
        )
    return module


def database(conn) -> "object":
    """A ``sqlite_utils.Database`` on an (encrypted) sqlcipher3 connection."""
    return load_sqlite_utils().Database(conn, execute_plugins=False, recursive_triggers=False)


def dump_tables(conn) -> dict[str, list[dict]]:
    """Every table the user owns, row by row, read through sqlite-utils (FTS indexes and their
    shadow tables, and the store's own bookkeeping — tables named ``_…`` — are derived data and
    left out). Bytes become base64 text. Used by ``kith export all``."""
    import base64

    db = database(conn)
    fts = set(db.table_names(fts4=True)) | set(db.table_names(fts5=True))
    out: dict[str, list[dict]] = {}
    for name in sorted(db.table_names()):
        if name.startswith(("_", "sqlite_")) or any(name == f or name.startswith(f + "_") for f in fts):
            continue
        out[name] = [{c: (base64.b64encode(v).decode("ascii") if isinstance(v, (bytes, bytearray, memoryview)) else v)
                      for c, v in row.items()} for row in db[name].rows]
    return out
