"""Passphrase without a keyring: a new one is chosen in a dialog that asks twice and warns it
cannot be recovered (the store says structurally that it wants a NEW one); a wrong one at
start-up asks again ("wrong passphrase, try again") up to a limit, then the app shows a
locked page — never pages that look empty as if the data were gone."""
from __future__ import annotations

import keyring
import pytest
from uihelp import db, idle
from keyring.backends import fail

RIGHT = "correct horse battery"


def _passphrase_profile(kith):
    from app.store.db import open_store
    from app.store.rights import rekey

    from datetime import datetime, timezone

    from app.core.domain import Meeting

    s = open_store(kith.paths)
    s.meetings.add(Meeting(title="Acme pricing call", started_at=datetime.now(timezone.utc)))
    rekey(s, RIGHT)
    s.close()


def _window(ctx, qtbot):
    from app.ui.main_window import MainWindow

    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.offer_recovery = lambda: None
    w.show()
    return w


@pytest.fixture
def scripted(qapp, fast_kith):
    """A context whose passphrase dialogs answer from a script (and record what they were asked)."""
    from app.ui.application import build_context
    from app.ui.tasks import PassphraseBroker

    answers: list = []
    asked: list[tuple[str, str]] = []

    def old(prompt):
        asked.append(("existing", prompt))
        return answers.pop(0) if answers else None

    def new(reason):
        asked.append(("new", reason))
        return answers.pop(0) if answers else None

    fast_kith.ask_passphrase = PassphraseBroker(old, ask_new_gui=new)
    ctx = build_context(fast_kith)
    yield ctx, answers, asked
    ctx.tasks.shutdown(wait=True)
    ctx.bridge.close()


def test_wrong_passphrase_asks_again_then_opens(scripted, fast_kith, qtbot):
    ctx, answers, asked = scripted
    _passphrase_profile(fast_kith)
    answers += ["typo one", "typo two", RIGHT]
    w = _window(ctx, qtbot)
    page = w.go("meetings")
    idle(ctx, qtbot)
    assert [k for k, _ in asked] == ["existing"] * 3
    assert "Wrong passphrase, try again (4 tries left)" in asked[1][1] and "3 tries left" in asked[2][1]
    assert not w.locked.isVisible() and w.stack.isVisible()
    qtbot.waitUntil(lambda: page.list.count() == 1, timeout=10000)
    assert "Acme pricing call" in page.list.item(0).text()


def test_too_many_wrong_passphrases_lock_the_app_instead_of_empty_pages(scripted, fast_kith, qtbot):
    from app.ui.tasks import MAX_PASSPHRASE_TRIES

    ctx, answers, asked = scripted
    _passphrase_profile(fast_kith)
    answers += ["wrong"] * 10
    w = _window(ctx, qtbot)
    w.go("meetings")
    idle(ctx, qtbot)
    assert len(asked) == MAX_PASSPHRASE_TRIES  # then no more dialogs
    assert w.locked.isVisible() and not w.stack.isVisible()
    assert "wrong passphrase" in w.locked.message.text() and "Nothing is lost" in w.locked.message.text()
    w.go("people")  # navigating does not reveal empty pages
    idle(ctx, qtbot)
    assert not w.stack.isVisible() and len(asked) == MAX_PASSPHRASE_TRIES
    # Try again with the right one: the data is there
    answers[:] = [RIGHT]
    w.locked.retry.click()
    idle(ctx, qtbot)
    assert not w.locked.isVisible() and w.stack.isVisible()
    assert [m.title for m in db(ctx, lambda s: s.meetings.list())] == ["Acme pricing call"]


def test_a_new_passphrase_is_asked_as_new_without_a_keyring(scripted, fast_kith, qtbot):
    ctx, answers, asked = scripted
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        answers += [RIGHT]
        assert db(ctx, lambda s: s.key_mode) == "passphrase"
        assert [k for k, _ in asked] == ["new"], asked  # structurally NEW, not guessed from the prompt text
        fast_kith.close()
        from app.store.db import open_store

        open_store(fast_kith.paths, passphrase=RIGHT).close()
    finally:
        keyring.set_keyring(previous)


def test_the_new_passphrase_dialog_warns_and_asks_twice(qapp, qtbot):
    from app.ui.views.settings_privacy import PassphraseDialog

    dlg = PassphraseDialog(None, reason="no usable keyring")
    qtbot.addWidget(dlg)
    assert "cannot be recovered" in dlg.warning.text()
    dlg.first.setText(RIGHT)
    dlg.second.setText(RIGHT + "x")
    dlg.accept()
    assert "differ" in dlg.problem.text()
