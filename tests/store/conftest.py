"""Fixtures for the store tests: an open encrypted store on the test's own profile."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.core.paths import Paths


@pytest.fixture
def paths(kith_home) -> Paths:
    return Paths.under(kith_home).ensure()


@pytest.fixture
def store(paths):
    from app.store.db import open_store

    s = open_store(paths)
    yield s
    s.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FailKeyring:
    """keyring's own fail backend, as on a headless box."""

    @staticmethod
    def install():
        import keyring
        from keyring.backends import fail

        keyring.set_keyring(fail.Keyring())


def decrypt_pages(path: Path, key: bytes, page_size: int = 4096, reserve: int = 80) -> bytes:
    """Decrypt every page of a SQLCipher 4 file (AES-256-CBC, IV stored per page) — freed pages included.

    Page layout: [ciphertext (page_size - reserve)] [IV 16] [HMAC-SHA512 64]; page 1 starts
    with the 16-byte file salt, which is not encrypted."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = Path(path).read_bytes()
    out = bytearray()
    for off in range(0, len(data) - page_size + 1, page_size):
        page = data[off:off + page_size]
        start = 16 if off == 0 else 0
        iv = page[page_size - reserve:page_size - reserve + 16]
        body = page[start:page_size - reserve]
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        out += dec.update(body) + dec.finalize()
    return bytes(out)
