"""File dialogs that start where the user was last (or in their home folder), never in the
process's working directory. One remembered folder per profile (ui.ini ``dialogs/last``)."""
from __future__ import annotations

from pathlib import Path

from app.ui.qt import QFileDialog, QSettings


def _qs(ctx) -> QSettings:
    return QSettings(str(ctx.kith.paths.config / "ui.ini"), QSettings.Format.IniFormat)


def start_dir(ctx) -> str:
    last = _qs(ctx).value("dialogs/last", "")
    return str(last) if last and Path(str(last)).is_dir() else str(Path.home())


def remember(ctx, path: str) -> str:
    if path:
        p = Path(path)
        qs = _qs(ctx)
        qs.setValue("dialogs/last", str(p if p.is_dir() else p.parent))
        qs.sync()
    return path


def open_file(parent, ctx, title: str, filters: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, start_dir(ctx), filters)
    return remember(ctx, path)


def save_file(parent, ctx, title: str, name: str, filters: str = "") -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(start_dir(ctx)) / name), filters)
    return remember(ctx, path)


def pick_folder(parent, ctx, title: str) -> str:
    return remember(ctx, QFileDialog.getExistingDirectory(parent, title, start_dir(ctx)))
