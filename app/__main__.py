"""`python -m app` = the `kith` command."""
from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
