"""`kith demo`: the main job on the bundled sample sales call, in a throwaway profile.

The demo never touches the user's data or keyring: it makes a profile of its own in Kith's
cache directory, protected by a random one-time passphrase, shares only the model cache
(so the default models are joined once), and deletes the profile afterwards unless --keep.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import sys
import tomllib
from datetime import datetime, timezone
from pathlib import Path

from app.context import Kith
from app.core.domain import Contact
from app.core.errors import KithError
from app.core.paths import Paths, resource_path

SAMPLE_TOML = "demo_sales_call.toml"


def sample_dir() -> Path:
    return resource_path("resources", "samples")


def load_sample() -> tuple[Path, dict]:
    meta_path = sample_dir() / SAMPLE_TOML
    if not meta_path.exists():
        raise KithError(f"the bundled demo sample is missing ({meta_path})", hint="reinstall Kith")
    meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    audio = sample_dir() / meta["audio"]
    if not audio.exists():
        raise KithError(f"the bundled demo audio is missing ({audio})", hint="reinstall Kith")
    return audio, meta


def throwaway_profile(kith: Kith) -> Kith:
    from app.store.keys import SALT_BYTES, new_master_key, write_salt

    kith.paths.cache.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile_dir(kith.paths.cache))
    paths = dataclasses.replace(Paths.under(root), models_override=kith.paths.models).ensure()
    write_salt(paths.key_salt_file, new_master_key()[:SALT_BYTES])  # passphrase mode: never the keyring
    return Kith(paths=paths, settings=kith.settings, bus=kith.bus, passphrase=secrets.token_urlsafe(24))


def tempfile_dir(parent: Path) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="demo-", dir=parent)


def run_demo(kith: Kith, process, keep: bool = False, quiet: bool = False) -> int:
    """``process(kith, path, opts, quiet=...)`` runs and shows the main job (the CLI's own)."""
    from app.meetings.pipeline import ProcessOptions

    audio, meta = load_sample()
    demo = throwaway_profile(kith)
    demo.settings = kith.settings.model_copy(deep=True)
    demo.settings.crm.my_company = meta.get("product", "")  # the demo's seller: not a lead, not the deal
    print(
        f"kith demo: processing the bundled sample '{meta.get('title', audio.name)}' in a throwaway profile\n"
        f"           ({demo.paths.data.parent}); your own data and keyring are not touched.",
        file=sys.stderr,
    )
    try:
        store = demo.store()
        emails = []
        for a in meta.get("attendees", []):  # as a calendar invite would bring them
            if a.get("email"):
                store.contacts.add(Contact(name=a["name"], emails=[a["email"]], title=a.get("title", ""), source="calendar"))
                emails.append(a["email"])
        when = meta.get("date")
        started = datetime.fromisoformat(str(when)).replace(tzinfo=timezone.utc) if when else None
        opts = ProcessOptions(template=meta.get("template", "sales"), title=meta.get("title"), with_emails=emails, started_at=started)
        rc = process(demo, audio, opts, quiet=quiet)
    finally:
        demo.close()
        if keep:
            print(f"kith demo: profile kept at {demo.paths.data.parent} (KITH_HOME={demo.paths.data.parent})", file=sys.stderr)
        else:
            shutil.rmtree(demo.paths.data.parent, ignore_errors=True)
    return rc
