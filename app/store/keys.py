"""Key material for the encrypted store.

* Normal case: a random 32-byte master key, created on first run and kept (hex) in the
  OS keyring under service ``kith``, username ``database-key``.
* No usable keyring (none installed, the fail/null backend, a locked or erroring one, or
  a ``keyrings.alt`` file backend that would write to disk or prompt on stdin): a
  passphrase — from ``Kith.passphrase`` (``KITH_PASSPHRASE``) or ``ask_passphrase`` —
  stretched with scrypt and a random salt stored in ``paths.key_salt_file``.
  The salt file's existence marks a passphrase-protected database.
* Never plaintext. The database is opened with a raw key (``PRAGMA key = "x'…'"``).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app.core.errors import KithError

SERVICE = "kith"
USERNAME = "database-key"
PENDING_USERNAME = "database-key.pending"  # set during a key rotation, before the rekey
KEY_BYTES = 32
SALT_BYTES = 16
# scrypt: ~100 ms and 32 MiB on a laptop core; the result is a raw SQLCipher key.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

KEYRING_HINT = (
    "install and unlock an OS keyring (Secret Service / GNOME Keyring / KWallet, macOS "
    "Keychain, Windows Credential Manager), or set KITH_PASSPHRASE to use a passphrase"
)


class KeyError_(KithError):
    """A key problem the user must resolve (wrong key, missing key, no keyring)."""


class WrongKey(KeyError_):
    exit_code = 3


@dataclass
class MasterKey:
    key: bytes
    mode: str  # "keyring" | "passphrase"

    def pragma(self) -> str:
        return raw_key_pragma(self.key)

    def __repr__(self) -> str:  # never print the key
        return f"MasterKey(mode={self.mode!r}, key=<{len(self.key)} bytes>)"


def raw_key_pragma(key: bytes, statement: str = "key", schema: str | None = None) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError("SQLCipher raw key must be 32 bytes")
    target = f"{schema}." if schema else ""
    return f"PRAGMA {target}{statement} = \"x'{key.hex()}'\""


def derive_subkey(master: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` (e.g. "recordings") derived from the master key (HKDF-SHA256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if not purpose:
        raise ValueError("purpose must be a non-empty string")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kith-subkey-v1", info=purpose.encode()).derive(master)


MIN_NEW_PASSPHRASE = 8  # the one policy for a passphrase being chosen, in the CLI and the app


def new_passphrase_problem(first: str, repeat: str | None = None) -> str | None:
    """What is wrong with a passphrase being chosen (typed twice), or None: the one rule for
    `kith` at a terminal, `kith db rekey --passphrase` and the app's dialog. Passphrases that
    already protect a database are never re-judged."""
    if not first:
        return "the passphrase is empty"
    if len(unicodedata.normalize("NFC", first)) < MIN_NEW_PASSPHRASE:
        return f"use at least {MIN_NEW_PASSPHRASE} characters"
    if repeat is not None and unicodedata.normalize("NFC", repeat) != unicodedata.normalize("NFC", first):
        return "the two passphrases differ"
    return None


def passphrase_key(passphrase: str, salt: bytes, *, normalize: bool = True) -> bytes:
    """scrypt of the passphrase in Unicode NFC, so "é" typed as one code point or as e + accent is the same."""
    if not passphrase:
        raise KithError("the passphrase is empty", hint="choose a non-empty passphrase")
    text = unicodedata.normalize("NFC", passphrase) if normalize else passphrase
    return hashlib.scrypt(
        text.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES
    )


def legacy_passphrase_keys(passphrase: str, salt: bytes) -> list[bytes]:
    """Keys of the un-normalised forms (as typed, NFD) that differ from NFC: a database created before
    passphrases were normalised opens with one of these, and is then re-keyed to the NFC key."""
    nfc = unicodedata.normalize("NFC", passphrase)
    forms = [f for f in dict.fromkeys((passphrase, unicodedata.normalize("NFD", passphrase))) if f != nfc]
    return [passphrase_key(f, salt, normalize=False) for f in forms]


# -- keyring ---------------------------------------------------------------------------------
def _backend_problem(backend) -> str | None:
    """Why this keyring backend must not hold the key (None = it is fine)."""
    mod = type(backend).__module__
    name = type(backend).__name__
    if mod.startswith("keyring.backends.fail") or mod.startswith("keyring.backends.null"):
        return "no keyring backend is available"
    if mod.startswith("keyrings.alt") or "file" in mod.split(".")[-1].lower():
        return f"the keyring backend {mod}.{name} stores secrets in a file or prompts on stdin"
    if mod.startswith("keyring.backends.chainer"):
        inner = getattr(backend, "backends", [])
        if not inner:
            return "no keyring backend is available"
        problems = [_backend_problem(b) for b in inner]
        return problems[0] if all(problems) else None
    try:
        if float(getattr(backend, "priority", 1)) <= 0:
            return f"the keyring backend {mod}.{name} is not usable here"
    except Exception:  # priority is a classproperty that may raise when the backend is not viable
        return f"the keyring backend {mod}.{name} is not usable here"
    return None


class Keyring:
    """The OS keyring backend Kith may use, or the reason there is none.

    Calls go to one acceptable backend directly (never through a chainer that could fall
    through to a file backend which prompts on stdin). Errors from locked or broken
    backends become ``problem`` instead of exceptions."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.backend = None
        try:
            import keyring

            backend = keyring.get_keyring()
            self.problem = _backend_problem(backend)
            if type(backend).__module__.startswith("keyring.backends.chainer") and self.problem is None:
                backend = next(b for b in backend.backends if _backend_problem(b) is None)
            self.backend = backend if self.problem is None else None
        except Exception as e:  # noqa: BLE001 — any backend failure means "no keyring"
            self.problem = f"the keyring failed to load ({type(e).__name__})"

    @property
    def usable(self) -> bool:
        return self.problem is None

    def get(self, username: str = USERNAME) -> bytes | None:
        try:
            value = self.backend.get_password(SERVICE, username)
        except Exception as e:  # noqa: BLE001 — locked, dbus errors, NoKeyringError …
            self.problem = f"the keyring could not be read ({type(e).__name__}: it may be locked)"
            return None
        if value is None:
            return None
        try:
            key = bytes.fromhex(value)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyError_(
                f"the keyring entry {SERVICE}/{username} is not a 32-byte hex key",
                hint="restore the entry from a backup of your keyring",
            )
        return key

    def set(self, key: bytes, username: str = USERNAME) -> None:
        try:
            self.backend.set_password(SERVICE, username, key.hex())
            if self.backend.get_password(SERVICE, username) != key.hex():
                raise RuntimeError("read-back mismatch")
        except Exception as e:  # noqa: BLE001
            raise KeyError_(f"could not save the database key in the keyring ({type(e).__name__})", hint=KEYRING_HINT) from e

    def delete(self, username: str) -> None:
        try:
            self.backend.delete_password(SERVICE, username)
        except Exception:  # noqa: BLE001 — absent is fine
            pass


# -- passphrase ------------------------------------------------------------------------------
def read_salt(path: Path) -> bytes | None:
    if not path.exists():
        return None
    salt = path.read_bytes()
    if len(salt) != SALT_BYTES:
        raise KeyError_(f"{path} is damaged (expected {SALT_BYTES} bytes)", hint="restore it from a backup")
    return salt


def write_salt(path: Path, salt: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(salt)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def get_passphrase(
    passphrase: str | None, ask: Callable[[str], str] | None, reason: str, *, new: bool
) -> str:
    if passphrase:
        return passphrase
    if ask is None:
        raise KeyError_(
            f"{reason}, and no passphrase was given",
            hint="set KITH_PASSPHRASE for non-interactive use, or " + KEYRING_HINT.split(", or")[0],
        )
    if not new:
        value = ask("Kith database passphrase: ")
    elif callable(getattr(ask, "ask_new", None)):  # a dialog that asks twice and warns (the desktop app)
        value = ask.ask_new(reason)
    else:
        value = ask("Choose a passphrase for Kith's encrypted database: ")
        problem = new_passphrase_problem(value, ask("Repeat the passphrase: "))
        if problem:
            raise KithError(problem, hint="run the command again")
    if not value:
        raise KithError("the passphrase is empty", hint="choose a non-empty passphrase")
    return value


def new_master_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)
