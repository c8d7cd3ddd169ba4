"""Regression: sqlite-utils on the encrypted connection catches SQLCipher's exceptions (DESIGN.md §6)."""
from __future__ import annotations

import subprocess
import sys

import sqlcipher3


def test_alter_and_drop_ignore_work_on_the_encrypted_connection(store):
    db = store.db
    import sqlite_utils.utils

    assert sqlite_utils.utils.OperationalError is sqlcipher3.dbapi2.OperationalError
    t = db["scratch"]
    t.insert({"id": 1, "a": "x"}, pk="id")
    t.insert({"id": 2, "a": "y", "b": 3}, alter=True)  # needs the shim: a new column via OperationalError
    assert set(t.columns_dict) == {"id", "a", "b"}
    assert list(t.rows_where("id = 2")) == [{"id": 2, "a": "y", "b": 3}]
    db["scratch"].drop()
    db["scratch"].drop(ignore=True)  # raises without the shim
    db["never_existed"].drop(ignore=True)
    assert "scratch" not in db.table_names()


def test_without_the_shim_sqlite_utils_breaks_on_sqlcipher(tmp_path):
    """Proves the shim still matters with this sqlite-utils version: a fresh interpreter, no shim."""
    code = f"""
import sqlcipher3, sqlite_utils
conn = sqlcipher3.connect({str(tmp_path / 'x.db')!r})
conn.execute("PRAGMA key = \\"x'{'ab' * 32}'\\"")
db = sqlite_utils.Database(conn)
try:
    db["nothing"].drop(ignore=True)
except sqlcipher3.OperationalError:
    print("BROKEN")
else:
    print("WORKS")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "BROKEN"


def test_shim_in_a_fresh_interpreter(tmp_path):
    code = f"""
import sqlcipher3
from app.store.shim import database
conn = sqlcipher3.connect({str(tmp_path / 'y.db')!r})
conn.execute("PRAGMA key = \\"x'{'cd' * 32}'\\"")
db = database(conn)
db["nothing"].drop(ignore=True)
db["t"].insert({{"a": 1}})
db["t"].insert({{"a": 2, "b": 1}}, alter=True)
print(sorted(db["t"].columns_dict))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2])).stdout.strip()
    assert out == "['a', 'b']"
