"""`kith review`: the approval queue. Nothing the AI proposes touches the CRM until a person
accepts it here (or in the app), or the user turned on auto-accept for that kind."""
from __future__ import annotations

import json
import sys

from app.core.domain import AuditEntry
from app.core.errors import KithError
from app.core.output import print_json, to_jsonable
from app.meetings.minutes import clock, evidence_of, suggestion_line


def _accept(store, sid: int, payload=None):
    result = store.suggestions.accept(sid, payload)
    store.audit.record(AuditEntry(actor="user", action="suggestion:accept", output={"suggestion_id": sid}))
    return result


def _reject(store, sid: int):
    store.suggestions.reject(sid)
    store.audit.record(AuditEntry(actor="user", action="suggestion:reject", output={"suggestion_id": sid}))


def _show(store, s) -> None:
    print(suggestion_line(s))
    for ev in evidence_of(store, s.evidence):
        print(f"    > “{ev['quote']}” — {ev['speaker'] or 'speaker'}, {clock(ev['start'])}")
    if not s.evidence:
        print("    > (no source line)")


def _edit(payload: dict) -> dict:
    print("  edit fields (Enter keeps the value):")
    out = dict(payload)
    for k, v in payload.items():
        if isinstance(v, (dict, list)):
            continue
        new = input(f"    {k} [{'' if v is None else v}]: ").strip()
        if new:
            out[k] = new
    return out


def review(kith, accept=None, reject=None, accept_all=False, as_json=False, meeting_id=None) -> int:
    store = kith.store()
    for sid in accept or []:
        _accept(store, sid)
        print(f"accepted #{sid}")
    for sid in reject or []:
        _reject(store, sid)
        print(f"rejected #{sid}")
    pending = store.suggestions.list(status="pending", meeting_id=meeting_id)
    if as_json:
        print_json([dict(to_jsonable(s), evidence_lines=evidence_of(store, s.evidence)) for s in pending])
        return 0
    if accept_all:
        for s in pending:
            _accept(store, s.id)
        print(f"accepted {len(pending)} suggestion(s)")
        return 0
    if accept or reject:
        return 0
    if not pending:
        print("Nothing to review.")
        return 0
    if not sys.stdin.isatty():
        for s in pending:
            _show(store, s)
        print(f"\n{len(pending)} pending. Accept or reject with `kith review --accept ID` / `--reject ID` (or run in a terminal).")
        return 0
    print(f"{len(pending)} suggestion(s) to review. [a]ccept  [e]dit  [r]eject  [s]kip  [q]uit")
    for s in pending:
        print()
        _show(store, s)
        while True:
            choice = input("  > ").strip().lower()[:1]
            if choice == "a":
                _accept(store, s.id)
                print("  accepted")
            elif choice == "e":
                _accept(store, s.id, _edit(s.payload))
                print("  accepted with your edits")
            elif choice == "r":
                _reject(store, s.id)
                print("  rejected")
            elif choice == "s":
                print("  skipped")
            elif choice == "q":
                return 0
            else:
                print("  a / e / r / s / q ?")
                continue
            break
    return 0
