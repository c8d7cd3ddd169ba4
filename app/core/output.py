"""Printing helpers for the CLI: JSON for machines, aligned tables for people."""
from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    return obj


def print_json(obj: Any, file=None) -> None:
    json.dump(to_jsonable(obj), file or sys.stdout, indent=2, ensure_ascii=False)
    (file or sys.stdout).write("\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], file=None) -> None:
    out = file or sys.stdout
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    if not rows:
        out.write("(none)\n")
        return
    widths = [len(h) for h in headers]
    for r in rows:
        for i, v in enumerate(r):
            widths[i] = min(max(widths[i], len(v)), 60)

    def fmt(r: Sequence[str]) -> str:
        cells = [(v if len(v) <= 60 else v[:59] + "…").ljust(widths[i]) for i, v in enumerate(r)]
        return "  ".join(cells).rstrip()

    out.write(fmt(list(headers)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write(fmt(r) + "\n")


def color(text: str, code: str, file=None) -> str:
    stream = file or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return text
    return f"\033[{code}m{text}\033[0m"


def ok_mark(ok: bool, file=None) -> str:
    return color("✔", "32", file) if ok else color("✘", "31", file)
