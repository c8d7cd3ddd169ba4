"""Meeting operations: `kith actions --done/--dismiss` and the app's buttons are one function."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.cli import main
from app.context import Kith
from app.core.domain import ActionItem, Meeting
from app.core.errors import KithError
from app.ops.changes import Kind
from app.ops.meetings import set_action_status, store_live_meeting


def _seed(store):
    m = store.meetings.add(Meeting(title="Renewal", started_at=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)))
    a = store.actions.add(ActionItem(meeting_id=m.id, text="Send the security overview", owner_text="Dana"))
    b = store.actions.add(ActionItem(meeting_id=m.id, text="Book the pilot kickoff", owner_text="Ana"))
    return a.id, b.id


def test_cli_and_app_mark_action_items_the_same(tmp_path, monkeypatch):
    seen = []
    for name in ("cli", "app"):
        monkeypatch.setenv("KITH_HOME", str(tmp_path / name))
        kith = Kith.from_env()
        store = kith.store()
        a, b = _seed(store)
        if name == "cli":
            kith.close()
            assert main(["actions", "--done", str(a), "--dismiss", str(b)]) == 0
            store = Kith.from_env().store()
        else:
            res = set_action_status(store, {a: "done", b: "dismissed"})
            assert res.changes.touches(Kind.ACTIONS) and not res.changes.touches(Kind.CONTACTS)
            assert set(res.value) == {a, b}  # the statuses before, for Undo
        seen.append([(x.id, x.status) for x in store.actions.list(status=["proposed", "open", "done", "dismissed"])])
    assert seen[0] == seen[1]
    assert dict(seen[0]) == {a: "done", b: "dismissed"}


def test_action_status_undo_and_bad_status(kith):
    store = kith.store()
    a, _b = _seed(store)
    before = store.actions.get(a).status
    undo = set_action_status(store, {a: "done"}).value
    assert undo == {a: before}
    set_action_status(store, undo)
    assert store.actions.get(a).status == before
    with pytest.raises(KithError):
        set_action_status(store, {a: "finished"})
    assert store.actions.get(a).status == before  # nothing changed


def test_store_live_meeting_keeps_transcript_notes_and_reports_changes(kith):
    from app.core.domain import Segment

    store = kith.store()
    segs = [Segment(0.0, 2.0, "Let's start with the renewal.", "You", 0),
            Segment(2.0, 4.5, "We need the security overview first.", "Them", 1)]
    res = store_live_meeting(kith, store, title="Live call", started_at=datetime(2026, 11, 2, 15, tzinfo=timezone.utc),
                             ended_at=datetime(2026, 11, 2, 15, 5, tzinfo=timezone.utc), recording=None,
                             segments=segs, notes="pilot in Q1")
    meeting, stored = res.value
    assert [s.text for s in store.segments.for_meeting(meeting.id)] == [s.text for s in segs]
    assert len(stored) == 2 and meeting.status == "transcribed"
    assert [n.body for n in store.notes.user_notes(meeting.id)] == ["pilot in Q1"]
    assert res.changes.touches(Kind.MEETINGS)
