"""`kith config show|set|path`: read and change the settings file (TOML) with validation."""
from __future__ import annotations

import json

from app.core.config import Settings, save_settings, set_value


def _rows(settings: Settings):
    for section, fields in settings.model_dump(mode="json").items():
        model = type(getattr(settings, section))
        for key, value in fields.items():
            yield f"{section}.{key}", value, model.model_fields[key].description or ""


def cmd_config(kith, args) -> int:
    path = kith.paths.settings_file
    if args.action == "path":
        print(path)
        return 0
    if args.action == "set":
        if args.key is None or args.value is None:
            from app.core.errors import KithError

            raise KithError("kith config set needs a key and a value", hint="e.g. kith config set llm.threads 4")
        new = set_value(kith.settings, args.key, args.value)
        save_settings(new, path)
        kith.settings = new
        section, _, key = args.key.partition(".")
        print(f"{args.key} = {json.dumps(getattr(getattr(new, section), key))}  (saved to {path})")
        return 0
    rows = [r for r in _rows(kith.settings) if not args.key or r[0] == args.key or r[0].startswith(args.key + ".")]
    if args.json:
        print(json.dumps({k: v for k, v, _ in rows}, indent=2))
        return 0
    width = max((len(k) for k, _, _ in rows), default=0)
    for k, v, help_ in rows:
        print(f"{k:<{width}}  {json.dumps(v):<22}  {help_}".rstrip())
    if not path.exists():
        print(f"(defaults: {path} does not exist yet; `kith config set` creates it)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("config", help="show or change settings (the TOML file `kith config path` prints)")
    p.add_argument("action", nargs="?", choices=["show", "set", "path"], default="show")
    p.add_argument("key", nargs="?", help="section.key, e.g. llm.model (show: a section or key to filter)")
    p.add_argument("value", nargs="?", help="new value (lists: comma-separated)")
    p.add_argument("--json", action="store_true", help="show as JSON")
    p.set_defaults(func=cmd_config)
