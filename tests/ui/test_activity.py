"""Work that waits says so: the sidebar lists queued and running model-lane tasks with progress
and a cancel; recording (Ctrl+R) starts while the model lane is busy, also while the previous
meeting's minutes wait to be written — a back-to-back meeting can be recorded."""
from __future__ import annotations

import time

from uihelp import db, idle


def slow(kith, h):
    for i in range(3000):
        h.cancel_token.raise_if_cancelled()
        h.progress(i, 3000, f"step {i}")
        time.sleep(0.01)
    return "finished"


def test_activity_lists_waiting_and_running_model_work_with_cancel(window, ctx, qtbot):
    panel = window.activity
    assert not panel.isVisible()
    a = ctx.tasks.model(slow, name="import")
    b = ctx.tasks.model(lambda k, h: "answer", name="ask")
    qtbot.waitUntil(lambda: a.state == "running" and len(panel.rows) == 2, timeout=10000)
    assert panel.isVisible()
    qtbot.waitUntil(lambda: any("step" in t for t in panel.labels()), timeout=10000)
    texts = panel.labels()
    assert texts[0].startswith("Importing — step") and texts[1] == "Answering your question — waiting for the model…", texts
    panel.rows[a.id].cancel.click()  # × on the running row
    idle(ctx, qtbot)
    assert a.state == "cancelled" and b.state == "done" and panel.rows == {} and not panel.isVisible()


def test_ctrl_r_records_back_to_back_while_the_minutes_wait(window, ctx, qtbot):
    ctx.settings.llm.model = "no-such-model"  # the minutes fail fast once their turn comes
    live = window.go("live")
    live.title.setText("First call")
    window.toggle_recording()  # Ctrl+R
    qtbot.waitUntil(lambda: live.session.state == "recording", timeout=120000)
    qtbot.waitUntil(lambda: live.session.seconds >= 3, timeout=60000)
    blocker = ctx.tasks.model(slow, name="import")  # the model lane is busy (an import, say)
    qtbot.waitUntil(lambda: blocker.state == "running", timeout=10000)
    live.notes.setPlainText("first call notes")
    window.toggle_recording()  # stop → the minutes wait behind the import
    qtbot.waitUntil(lambda: live.session.state == "processing", timeout=60000)
    qtbot.waitUntil(lambda: any(t.startswith("Writing minutes: First call") for t in window.activity.labels()), timeout=10000)
    assert live.title.isEnabled()
    live.title.setText("Second call")
    window.toggle_recording()  # Ctrl+R again: the next meeting records at once
    qtbot.waitUntil(lambda: live.session.state == "recording", timeout=60000)
    assert blocker.state == "running"
    assert live.notes.toPlainText() == ""  # the first meeting's notes went with it
    blocker.cancel()
    # the first meeting is stored (its minutes then fail: no such model) without touching the recording
    qtbot.waitUntil(lambda: [m.title for m in db(ctx, lambda s: s.meetings.list())] == ["First call"], timeout=120000)
    qtbot.waitUntil(lambda: not any(h.name == "live-process" for h in ctx.tasks.active()), timeout=120000)
    assert live.session.state == "recording" and window.current_key() == "live"
    qtbot.waitUntil(lambda: live.session.seconds >= 2, timeout=60000)
    live.stop(process=False)
    qtbot.waitUntil(lambda: live.session.state == "idle", timeout=120000)
    idle(ctx, qtbot)
    meetings = db(ctx, lambda s: s.meetings.list())
    assert sorted(m.title for m in meetings) == ["First call", "Second call"]
    first = next(m for m in meetings if m.title == "First call")
    assert [n.body for n in db(ctx, lambda s: s.notes.for_meeting(first.id)) if n.author == "user"] == ["first call notes"]
