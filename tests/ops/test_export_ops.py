"""Meeting export and rekey: one operation each for the CLI and the app (issue 17)."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from app.cli import main
from app.core.domain import Contact, Meeting, Segment
from app.core.errors import KithError
from app.ops.changes import Kind
from app.ops.export import export_files, rekey


def _meeting(store) -> int:
    m = store.meetings.add(Meeting(title="Acme renewal", started_at=datetime(2026, 11, 3, 15, tzinfo=timezone.utc), status="processed"))
    store.segments.add_many(m.id, [Segment(0.0, 2.0, "Our main blocker is the security review.", "Dana", 1),
                                   Segment(2.0, 4.0, "I will send the questionnaire by Friday.", "You", 0)])
    return m.id


def test_the_cli_and_the_op_export_the_same_meeting_file_with_its_transcript(kith, tmp_path, capsys):
    mid = _meeting(kith.store())
    res = export_files(kith.store(), "markdown", tmp_path / "op", meeting_id=mid)
    assert not res.changes and len(res.value) == 1
    kith.close()
    assert main(["export", "markdown", "--meeting", str(mid), "--out", str(tmp_path / "cli")]) == 0
    capsys.readouterr()
    [via_cli] = list((tmp_path / "cli").iterdir())
    assert via_cli.read_text() == res.value[0].read_text()
    assert "security review" in via_cli.read_text(), "the meeting's file carries its transcript"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(KithError, match="not a folder"):
        export_files(kith.store(), "markdown", tmp_path / "afile", meeting_id=mid)
    assert (tmp_path / "afile").read_text() == "x"


def test_rekey_refuses_a_weak_or_mistyped_passphrase_and_changes_nothing(kith, memory_keyring, kith_home):
    store = kith.store()
    store.contacts.add(Contact(name="Kept Safe"))
    with pytest.raises(KithError, match="at least"):
        rekey(store, "short", "short")
    with pytest.raises(KithError, match="differ"):
        rekey(store, "long enough one", "long enough two")
    assert [c.name for c in store.contacts.list()] == ["Kept Safe"]
    res = rekey(store, "long enough one", "long enough one")
    assert res.value == "passphrase" and Kind.KEYS in res.changes
    kith.close()
    from app.context import Kith

    again = Kith.from_env({**os.environ, "KITH_HOME": str(kith_home), "KITH_PASSPHRASE": "long enough one"})
    try:
        assert [c.name for c in again.store().contacts.list()] == ["Kept Safe"]
    finally:
        again.close()
