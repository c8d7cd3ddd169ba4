"""Entry point of the packaged app: `kith` with no verb opens the desktop app."""
import sys

from app.cli import main as cli_main


def run() -> int:
    if len(sys.argv) == 1:
        from app.ui.application import main

        return main(sys.argv)
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(run())
