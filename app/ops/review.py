"""Accepting and rejecting what the AI proposes — one implementation for `kith review` and the
app's Review page. The suggestions repository records the audit row (one per decision)."""
from __future__ import annotations

import copy

from app.ops.changes import Kind, OpChanges, OpResult

# what accepting a suggestion of each kind can change
_TOUCHES = {
    "create_contact": (Kind.CONTACTS, Kind.MEETINGS, Kind.ACTIONS),
    "link_contact": (Kind.CONTACTS, Kind.MEETINGS, Kind.ACTIONS),
    "update_contact": (Kind.CONTACTS,),
    "create_company": (Kind.COMPANIES, Kind.CONTACTS, Kind.SUGGESTIONS),
    "update_deal": (Kind.DEALS, Kind.COMPANIES),
    "action_item": (Kind.ACTIONS,),
}


def accept(store, sid: int, payload: dict | None = None) -> OpResult[dict]:
    """Apply suggestion ``sid`` (with the person's edits in ``payload``, if any).

    A person accepted from a meeting becomes one of its participants and owner of the items the
    meeting gave to their name; a company renamed while accepting carries its new name into the
    meeting's pending suggestions that refer to it."""
    s = store.suggestions.get(sid)
    with store.transaction():
        result = store.suggestions.accept(sid, payload)
        if s.meeting_id and result.get("entity") == "contact" and result.get("id"):
            _join_meeting(store, s.meeting_id, int(result["id"]))
        if s.kind == "create_company" and payload is not None:
            _rename_company_in_pending(store, s, payload)
    return OpResult(result, OpChanges.of(Kind.SUGGESTIONS, *_TOUCHES.get(s.kind, ())))


def _join_meeting(store, meeting_id: int, contact_id: int) -> None:
    c = store.contacts.get(contact_id)
    if contact_id not in store.meetings.participant_roles(meeting_id):
        store.meetings.add_participant(meeting_id, contact_id)
    full = c.name.strip().casefold()
    first = full.split()[0] if full else ""
    for a in store.actions.list(meeting_id=meeting_id):
        owner = (a.owner_text or "").strip().casefold()
        if a.owner_contact_id is None and owner and owner in (full, first):
            a.owner_contact_id = contact_id
            store.actions.update(a)


def _rename_company_in_pending(store, s, payload: dict) -> None:
    old, new = (s.payload.get("name") or "").strip(), (payload.get("name") or "").strip()
    if not old or not new or old == new:
        return
    for other in store.suggestions.list(status="pending", meeting_id=s.meeting_id):
        if other.kind in ("create_contact", "update_contact", "update_deal") and (other.payload.get("company") or "").strip() == old:
            store.suggestions.update_payload(other.id, {**other.payload, "company": new})


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
        if k in ("action_item_id", "contact_id", "template", "owner_match"):
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
