"""The layering and the table owners, checked on every test run (docs/ARCHITECTURE.md).

- ``lint-imports`` runs the import-linter contracts of pyproject.toml (the source of truth).
- SQL that names a table may only appear in that table's owner module.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# table -> modules allowed to write SQL against it. Every table has one owner; migrations (the
# schema), the data-rights module (export / erase a person across every table, by design) and the
# store's own maintenance code (db.py) are the only cross-table places.
EVERYWHERE = {"app/store/migrations.py", "app/store/rights.py", "app/store/db.py"}
OWNERS: dict[str, set[str]] = {
    "contacts": {"app/store/crm.py"},
    "contact_emails": {"app/store/crm.py"},
    "companies": {"app/store/crm.py"},
    "deals": {"app/store/crm.py"},
    "meetings": {"app/store/meetings.py"},
    "meeting_participants": {"app/store/meetings.py"},
    "segments": {"app/store/meetings.py"},
    "notes": {"app/store/meetings.py"},
    "_fts_bulk": {"app/store/meetings.py"},
    "action_items": {"app/store/work.py"},
    "audit_log": {"app/store/work.py"},
    "exports": {"app/store/work.py"},
    "suggestions": {"app/store/suggestions.py"},
    "recordings": {"app/store/recordings.py"},
    "voice_profiles": {"app/speakers/profiles.py"},
    "calendar_events": {"app/calendar/repo.py"},
    "calendar_sources": {"app/calendar/repo.py"},
    "briefs": {"app/calendar/repo.py"},
    "sqlite_master": set(),
    "_migrations": set(),
}
# A JOIN that reads another table is allowed (a repository may join the rows its own rows point at);
# FROM / INTO / UPDATE / DELETE / CREATE name the table a statement is about: only its owner does that.
# search reads the full-text indexes (and joins the rows they point at); it writes nothing
READERS = {"app/store/search.py": {"contacts", "meetings", "segments", "notes", "action_items"}}

SQL = re.compile(r"\b(?:FROM|INTO|UPDATE|TABLE(?:\s+IF\s+NOT\s+EXISTS)?)\s+\"?([a-z_][a-z0-9_]*)", re.I)
KEYWORD = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|REPLACE)\b", re.I)


def _sql_strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            yield node.lineno, text


def _table_uses():
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for lineno, text in _sql_strings(ast.parse(path.read_text(encoding="utf-8"))):
            if not KEYWORD.match(text):
                continue
            for table in SQL.findall(text):
                base = table.lower()
                base = base[: -len("_fts")] if base.endswith("_fts") else base
                base = re.sub(r"_fts_(data|idx|content|docsize|config)$", "", base)
                yield rel, lineno, base


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "broken" not in r.stdout.split("Contracts:")[-1].lower() or " 0 broken" in r.stdout


def test_sql_only_in_the_tables_owner():
    wrong = []
    for rel, lineno, table in _table_uses():
        if rel in EVERYWHERE or table not in OWNERS:
            continue
        if rel in OWNERS[table] or table in READERS.get(rel, set()):
            continue
        wrong.append(f"{rel}:{lineno} uses table {table!r} (owner: {', '.join(sorted(OWNERS[table])) or 'the store'})")
    assert not wrong, "SQL outside the table's owner:\n" + "\n".join(wrong)


def test_the_ownership_check_sees_sql():
    uses = {(rel, t) for rel, _, t in _table_uses()}
    assert ("app/store/meetings.py", "segments") in uses
    assert ("app/store/recordings.py", "recordings") in uses
