"""Mark done has an Undo, and a double click does not complete two items."""
from __future__ import annotations

from uihelp import banner_text, db, idle

from app.core.domain import ActionItem


def test_mark_done_undo_and_double_click(window, ctx, qtbot):
    ids = db(ctx, lambda s: [s.actions.add(ActionItem(meeting_id=None, text=t, owner_text="Sam", status="open")).id
                             for t in ("Send the quote", "Book the review call")])
    view = window.go("actions")
    idle(ctx, qtbot)
    view.table.selectRow(0)
    first = view.selected_ids()
    view.done_btn.click()
    view.set_status("done")  # the second click of a double click, before the first one finished
    idle(ctx, qtbot)
    statuses = db(ctx, lambda s: {i: s.actions.get(i).status for i in ids})
    assert sorted(statuses.values()) == ["done", "open"] and statuses[first[0]] == "done", statuses
    assert "Marked 1 action item done." in banner_text(window)
    assert window.banner.action.isVisible() and window.banner.action.text() == "Undo"
    window.banner.action.click()
    idle(ctx, qtbot)
    assert db(ctx, lambda s: [s.actions.get(i).status for i in ids]) == ["open", "open"]
    # Today's Done button acts once and can be undone the same way
    today = window.go("today")
    idle(ctx, qtbot)
    done = [b for b in today.findChildren(type(view.done_btn)) if b.accessibleName() == "Mark done: Send the quote"][0]
    done.click()
    done.click()
    idle(ctx, qtbot)
    assert db(ctx, lambda s: s.actions.get(ids[0]).status) == "done"
    assert window.banner.action.isVisible()


def test_review_selection_moves_to_the_next_and_a_double_click_decides_once(window, ctx, qtbot):
    from app.core.domain import Suggestion

    for name in ("Alpha Co", "Beta Co", "Gamma Co"):
        db(ctx, lambda s, n=name: s.suggestions.add(Suggestion(kind="create_company", payload={"name": n})))
    review = window.go("review")
    idle(ctx, qtbot)
    assert review.list.count() == 3
    review.list.setCurrentRow(1)
    middle = review.current()
    review.reject_btn.click()
    review.reject_btn.click()  # second click of a double click
    idle(ctx, qtbot)
    pending = db(ctx, lambda s: s.suggestions.list(status="pending"))
    assert len(pending) == 2 and middle not in [p.id for p in pending]
    assert review.list.currentRow() == 1 and review.current() == pending[1].id  # the next one, not the top
