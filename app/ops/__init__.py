"""Operations: every user action as one plain function (no printing, no Qt).

Each returns an :class:`~app.ops.changes.OpResult` — the action's result and an
:class:`~app.ops.changes.OpChanges` saying which kinds of records changed. The CLI parses
arguments, calls the operation and prints; the desktop app calls the same function through
``ui/tasks.py`` and redraws the views whose kinds are in the change set (docs/ARCHITECTURE.md).
"""
