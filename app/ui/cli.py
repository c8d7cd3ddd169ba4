"""`kith app`: open the desktop app. Qt is imported only when the command runs."""
from __future__ import annotations


def _run_app(kith, args) -> int:
    from app.ui.application import main

    kith.close()
    kith.ask_passphrase = None  # the app asks in a dialog, not on the terminal
    return main(["kith"], kith=kith, wizard=True if args.wizard else None, audio_wav=args.replay_wav)


def register(sub) -> None:
    p = sub.add_parser("app", help="open the desktop app", description="Open Kith's desktop app (PySide6).")
    p.add_argument("--wizard", action="store_true", help="show the first-run wizard again")
    p.add_argument("--replay-wav", metavar="WAV", default=None,
                   help="live meetings replay this WAV file instead of the microphone (demos, tests)")
    p.set_defaults(func=_run_app)
