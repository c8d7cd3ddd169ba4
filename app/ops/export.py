"""Export files and change the database key: one implementation for `kith export FMT --out`,
`kith db rekey` and the app (meeting page Export, Settings → Privacy)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from app.ops.changes import NOTHING, Kind, OpChanges, OpResult


def export_files(store, fmt: str, out: Path | str, meeting_id: int | None = None,
                 since: date | None = None) -> OpResult[list[Path]]:
    """Write ``fmt`` files (a meeting's with its whole transcript, a period's, or ``all``) into the
    folder ``out`` (created if missing; a file there is refused). Nothing in the store changes."""
    from app.core.errors import KithError
    from app.export.service import write_files

    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise KithError(f"{out} is a file, not a folder", hint="give a folder (it is created if missing)")
    return OpResult(write_files(store, fmt, out, meeting_id=meeting_id, since=since), NOTHING)


def rekey(store, new_passphrase: str | None = None, repeated: str | None = None) -> OpResult[str]:
    """Re-encrypt the database under a new key (see ``store.rights.rekey``); a new passphrase must
    pass the one passphrase rule (typed twice when ``repeated`` is given). Returns the key mode."""
    from app.core.errors import KithError
    from app.store.keys import new_passphrase_problem
    from app.store.rights import rekey as re_encrypt

    if new_passphrase is not None:
        problem = new_passphrase_problem(new_passphrase, repeated)
        if problem:
            raise KithError(f"{problem}; nothing was changed")
    return OpResult(re_encrypt(store, new_passphrase), OpChanges.of(Kind.KEYS))
