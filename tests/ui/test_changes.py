"""How a change reaches the screen: an operation run as a task returns its OpChanges, and the
views subscribed to those kinds of records redraw — the others don't."""
from __future__ import annotations

from uihelp import db, idle

from app.core.domain import ActionItem
from app.ops.changes import Kind, OpChanges
from app.ops.meetings import set_action_status


def test_an_operation_as_a_task_redraws_only_the_views_of_what_it_changed(window, ctx, qtbot):
    seen: dict[str, list[OpChanges]] = {"actions": [], "contacts": []}
    ctx.on_change((Kind.ACTIONS,), seen["actions"].append)
    ctx.on_change((Kind.CONTACTS, Kind.COMPANIES), seen["contacts"].append)
    item = db(ctx, lambda s: s.actions.add(ActionItem(meeting_id=None, text="Send the quote", owner_text="Sam",
                                                       status="open")))
    view = window.go("actions")
    idle(ctx, qtbot)
    assert view.table.rowCount() == 1
    ctx.tasks.db(lambda s: set_action_status(s, {item.id: "done"}), name="done")
    idle(ctx, qtbot)
    assert len(seen["actions"]) == 1 and Kind.ACTIONS in seen["actions"][0]
    assert seen["contacts"] == [], "a view of other records is not redrawn"
    # the actions view itself redrew from the change set: the item left the open list
    qtbot.waitUntil(lambda: view.table.rowCount() == 0, timeout=10000)
    # a plain query returns no change set and redraws nothing
    ctx.tasks.db(lambda s: s.actions.list(), name="read")
    idle(ctx, qtbot)
    assert len(seen["actions"]) == 1
