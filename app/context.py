"""The composition root (above every layer, see docs/ARCHITECTURE.md): paths, settings, event bus and a lazily opened store.

The CLI builds one from the environment (:meth:`Kith.from_env`); tests and the UI build
one explicitly. Nothing else reads the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from app.core.config import Settings, load_settings
from app.core.events import EventBus
from app.core.paths import Paths

if TYPE_CHECKING:  # pragma: no cover
    from app.store.db import Store


@dataclass
class Kith:
    paths: Paths
    settings: Settings
    bus: EventBus = field(default_factory=EventBus)
    # Non-interactive passphrase (KITH_PASSPHRASE) for machines with no working keyring.
    passphrase: str | None = None
    # Asks the user for a passphrase; None = not interactive (raise a clear error instead).
    ask_passphrase: Callable[[str], str] | None = None
    _store: "Store | None" = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: dict | None = None, ask_passphrase: Callable[[str], str] | None = None) -> "Kith":
        env = os.environ if environ is None else environ
        paths = Paths.from_env(env)
        return cls(
            paths=paths,
            settings=load_settings(paths.settings_file),
            passphrase=env.get("KITH_PASSPHRASE") or None,
            ask_passphrase=ask_passphrase,
        )

    def store(self) -> "Store":
        """Open (creating on first run) the encrypted CRM. Raises KithError on a wrong key."""
        if self._store is None:
            from app.store.db import open_store

            if self.paths.database.is_dir():
                from app.core.errors import KithError

                raise KithError(f"{self.paths.database} is a folder, not Kith's database",
                                hint="move the folder aside (Kith then starts a new, empty database)")
            self.paths.ensure()
            self._store = open_store(self.paths, passphrase=self.passphrase, ask_passphrase=self.ask_passphrase)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
