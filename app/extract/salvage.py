"""Keep the complete part of a JSON answer that ran out of tokens.

Under a JSON grammar a cut-off answer is a valid *prefix*: every value before the cut is whole.
:func:`salvage` cuts back to the last complete value, closes the open containers, fills the
top-level fields the model never reached with empty values, and validates against the schema.
Half-written list items are dropped, never completed by guesswork.
"""
from __future__ import annotations

import json
from typing import get_origin

from pydantic import BaseModel, ValidationError

_CLOSE = {"{": "}", "[": "]"}


def _cut_points(raw: str, limit: int) -> list[tuple[int, str]]:
    """(end offset, closing text) for prefixes that end after a complete value, last first."""
    points: list[tuple[int, str]] = []
    stack: list[str] = []
    in_str = esc = False
    for i, ch in enumerate(raw):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            if stack:
                points.append((i + 1, "".join(_CLOSE[c] for c in reversed(stack))))
        elif ch == "," and stack:
            points.append((i, "".join(_CLOSE[c] for c in reversed(stack))))
    return points[::-1][:limit]


def _fill(obj: dict, model: type[BaseModel]) -> dict:
    """Give required fields the model never wrote an empty value (recursing into objects)."""
    for name, f in model.model_fields.items():
        ann = f.annotation
        sub = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if name in obj:
            if sub is not None and isinstance(obj[name], dict):
                _fill(obj[name], sub)
            continue
        if not f.is_required():
            continue
        if get_origin(ann) is list:
            obj[name] = []
        elif ann is str:
            obj[name] = ""
        elif sub is not None:
            obj[name] = _fill({}, sub)
    return obj


def salvage(raw: str, schema: type[BaseModel], limit: int = 80):
    """The schema instance made of the complete values in a cut-off answer, or None."""
    for end, closing in _cut_points(raw, limit):
        try:
            data = json.loads(raw[:end] + closing, strict=False)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        try:
            return schema.model_validate(_fill(data, schema))
        except ValidationError:
            continue
    return None
