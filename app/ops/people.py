"""A person across meetings: rename a voice in a meeting, export or erase everything about a
person. One implementation for `kith speakers rename`, `kith people export|erase` and the app."""
from __future__ import annotations

import json
from pathlib import Path

from app.ops.changes import Kind, OpChanges, OpResult


def rename_speaker(store, meeting_id: int, old: str, new: str, contact_id: int | None = None,
                   audio_path=None) -> OpResult:
    """Rename speaker ``old`` to ``new`` in a meeting: its lines, minutes, action-item owners, the
    contact as participant and their voice profile (``app.speakers.api.rename_speaker``)."""
    from app.speakers.api import rename_speaker as rename

    res = rename(store, meeting_id, old, new, contact_id=contact_id, audio_path=audio_path)
    return OpResult(res, OpChanges.of(Kind.MEETINGS, Kind.ACTIONS, Kind.CONTACTS, Kind.VOICES))


def export_person(store, contact_id: int, out: Path | str | None = None, overwrite: bool = False) -> OpResult[dict]:
    """Every record about a person (a data access request). With ``out``: written there as JSON,
    readable by the user only (0600) — it is unencrypted."""
    from app.core.errors import KithError
    from app.core.output import to_jsonable
    from app.store.rights import export_person as gather

    data = gather(store, contact_id)
    if out is not None:
        out = Path(out).expanduser()
        if out.exists() and not overwrite:
            raise KithError(f"{out} already exists", hint="choose another file or pass --force")
        if not out.parent.is_dir():
            raise KithError(f"{out.parent} is not a folder", hint="choose a file in an existing folder")
        out.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.chmod(0o600)
    return OpResult(data)


def erase_person(store, contact_id: int) -> OpResult[dict]:
    """Erase a person and every trace of them; the counts of what was changed."""
    from app.store.rights import erase_person as erase

    return OpResult(erase(store, contact_id), OpChanges.of(Kind.CONTACTS, Kind.MEETINGS, Kind.ACTIONS,
                                                           Kind.SUGGESTIONS, Kind.VOICES))
