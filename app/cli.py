"""`kith` command line. Each area registers its own verbs (``register(sub)``) from its
``cli`` module, so this file stays small and knows nothing of the areas' internals.

Exit codes: 0 ok, 1 error, 2 usage, 4 not found, 130 cancelled.
"""
from __future__ import annotations

import argparse
import getpass
import importlib
import sys

from app import __version__
from app.core.errors import KithError

# Area modules that add verbs; each exposes register(subparsers). Imports inside them
# must stay light (heavy engines load inside the command functions).
COMMAND_MODULES = [
    "app.doctor",
    "app.config_cli",
    "app.store.cli",
    "app.catalog.cli",
    "app.transcribe.cli",
    "app.meetings.cli",
    "app.capture.cli",
    "app.calendar.cli",
    "app.brief.cli",
    "app.export.cli",
    "app.speakers.cli",
    "app.ui.cli",
]


def _ask_passphrase(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise KithError(
            "no keyring is available and there is no terminal to ask for a passphrase",
            hint="set KITH_PASSPHRASE for non-interactive use, or install/unlock a keyring",
        )
    return getpass.getpass(prompt)


def _crash_report(kith, e: BaseException) -> str:
    """Write where it happened (files, lines, functions, error type — never the message, which may
    hold transcript text or names) to Kith's log folder; returns ``"; details in PATH"`` or ""."""
    import time
    import traceback

    if kith is None:
        return ""
    try:
        frames = traceback.extract_tb(e.__traceback__)
        lines = [f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {type(e).__module__}.{type(e).__name__}"]
        lines += [f"  {f.filename}:{f.lineno} in {f.name}" for f in frames]
        kith.paths.logs.mkdir(parents=True, exist_ok=True)
        path = kith.paths.logs / "cli-crash.log"
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return f"; details in {path}"
    except OSError:
        return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kith",
        description="Kith — a local-first meeting copilot. Nothing leaves this machine unless you export it.",
        epilog="Run `kith COMMAND --help` for the options of a command. Data lives where `kith doctor` says.",
    )
    parser.add_argument("--version", action="version", version=f"kith {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:  # an area not built yet
            if e.name == name:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from app.context import Kith
    from app.core.output import SafeStream

    kith = None
    # titles, names and transcript text come from strangers' files: no raw escapes to the terminal
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        kith = Kith.from_env(ask_passphrase=_ask_passphrase)
        rc = args.func(kith, args)
        return int(rc or 0)
    except KithError as e:
        print(f"kith: error: {e}", file=sys.stderr)
        return e.exit_code
    except Exception as e:  # a damaged database met mid-command: one clear line, not a traceback
        from app.store.repair import damage_error

        damage = damage_error(e)
        if damage is None:
            raise
        print(f"kith: error: {damage}", file=sys.stderr)
        return damage.exit_code
    except KeyboardInterrupt:
        print("kith: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # a full disk, a folder where a file should be, … during any command
        from app.core.files import os_error

        print(f"kith: error: {os_error(e, e.filename, 'use')}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 — last resort: one line for the user, the details in Kith's log
        if "database or disk is full" in str(e) or "disk I/O error" in str(e):
            print("kith: error: the disk is full (the database could not be written)\n"
                  "  → free some space and run the command again; nothing was changed", file=sys.stderr)
            return 1
        print(f"kith: error: unexpected internal error ({type(e).__name__}){_crash_report(kith, e)}\n"
              "  → this is a bug in Kith; please report it with the file above", file=sys.stderr)
        return 1
    finally:
        if kith is not None:
            kith.close()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
