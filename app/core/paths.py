"""Where Kith keeps things on disk.

One override, ``KITH_HOME``, moves every directory under one folder (tests, the demo's
throwaway profile, portable installs). Otherwise platformdirs gives the platform's usual
places. The environment is read once, at the edge, by :func:`Paths.from_env`; everything
else receives a ``Paths`` value.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "kith"


@dataclass(frozen=True)
class Paths:
    data: Path
    config: Path
    cache: Path
    logs: Path
    models_override: Path | None = None

    @classmethod
    def under(cls, home: Path) -> "Paths":
        home = Path(home).expanduser().resolve()
        return cls(data=home / "data", config=home / "config", cache=home / "cache", logs=home / "logs")

    @classmethod
    def platform_default(cls) -> "Paths":
        return cls(
            data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Paths":
        env = os.environ if environ is None else environ
        home = env.get("KITH_HOME")
        paths = cls.under(Path(home)) if home else cls.platform_default()
        shared_models = env.get("KITH_MODELS")  # optional: share the model cache between profiles
        if shared_models:
            paths = dataclasses.replace(paths, models_override=Path(shared_models).expanduser().resolve())
        return paths

    # -- well-known files -------------------------------------------------------------
    @property
    def settings_file(self) -> Path:
        return self.config / "settings.toml"

    @property
    def database(self) -> Path:
        return self.data / "kith.db"

    @property
    def key_salt_file(self) -> Path:
        """Salt for the passphrase-derived key (only used when no keyring works)."""
        return self.data / "kith.salt"

    @property
    def recordings(self) -> Path:
        return self.data / "recordings"

    @property
    def models(self) -> Path:
        """User model cache: joined/downloaded weights live here."""
        return self.models_override or self.data / "models"

    @property
    def tmp(self) -> Path:
        """Kith's own scratch space (never the system temp dir for sensitive data)."""
        return self.cache / "tmp"

    def ensure(self) -> "Paths":
        for p in (self.data, self.config, self.cache, self.logs, self.recordings, self.models, self.tmp):
            p.mkdir(parents=True, exist_ok=True)
            try:
                os.chmod(p, 0o700)
            except OSError:
                pass
        return self


def resource_path(*parts: str) -> Path:
    """Path to a bundled resource (resources/, models/) that works from a checkout,
    an installed package and a PyInstaller bundle."""
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else Path(__file__).resolve().parents[2]
    return root.joinpath(*parts)
