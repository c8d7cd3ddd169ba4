"""Accepting and rejecting what the AI proposes — one implementation for `kith review` and the
app's Review page. The suggestions repository records the audit row (one per decision)."""
from __future__ import annotations

import copy

from app.ops.changes import Kind, OpChanges, OpResult

# what accepting a suggestion of each kind can change
_TOUCHES = {
    "create_contact": (Kind.CONTACTS, Kind.MEETINGS, Kind.ACTIONS),
    "update_contact": (Kind.CONTACTS,),
    "create_company": (Kind.COMPANIES, Kind.CONTACTS),
    "update_deal": (Kind.DEALS, Kind.COMPANIES),
    "action_item": (Kind.ACTIONS,),
}


def accept(store, sid: int, payload: dict | None = None) -> OpResult[dict]:
    """Apply suggestion ``sid`` (with the person's edits in ``payload``, if any)."""
    kind = store.suggestions.get(sid).kind
    result = store.suggestions.accept(sid, payload)
    return OpResult(result, OpChanges.of(Kind.SUGGESTIONS, *_TOUCHES.get(kind, ())))


def reject(store, sid: int) -> OpResult[None]:
    store.suggestions.reject(sid)
    return OpResult(None, OpChanges.of(Kind.SUGGESTIONS))


def decide(store, ids: list[int], accept_them: bool, payload: dict | None = None) -> OpResult[list]:
    """Accept or reject several at once (``payload`` edits apply only to a single suggestion)."""
    results, changes = [], OpChanges.of(Kind.SUGGESTIONS)
    with store.transaction():
        for sid in ids:
            r = accept(store, sid, payload if len(ids) == 1 else None) if accept_them else reject(store, sid)
            results.append(r.value)
            changes = changes | r.changes
    return OpResult(results, changes)


def editable_fields(payload: dict) -> list[tuple[str, object]]:
    """The payload's user-editable fields as ("key" or "key.sub", value) pairs."""
    rows = []
    for k, v in payload.items():
        if k in ("action_item_id", "contact_id", "template"):
            continue
        if isinstance(v, dict):
            for k2, v2 in v.items():
                val = v2.get("value") if isinstance(v2, dict) else v2
                if not isinstance(val, (dict, list)):
                    rows.append((f"{k}.{k2}", val))
        elif not isinstance(v, list):
            rows.append((k, v))
    return rows


def apply_edits(payload: dict, edits: dict[str, str]) -> dict:
    """A copy of ``payload`` with the person's edits (keys as :func:`editable_fields` gives them)."""
    out = copy.deepcopy(payload)
    for key, text in edits.items():
        if "." in key:
            k, k2 = key.split(".", 1)
            cur = out[k].get(k2)
            if isinstance(cur, dict):
                cur["value"] = text
            else:
                out[k][k2] = text
        else:
            out[key] = text or None
    return out
