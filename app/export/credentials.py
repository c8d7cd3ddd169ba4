"""CRM credentials live in the OS keyring (service "kith"), never in settings or files."""
from __future__ import annotations

import json

from app.core.errors import KithError

SERVICE = "kith"
HUBSPOT = "hubspot-token"
SALESFORCE = "salesforce-credentials"


def _keyring():
    import keyring
    import keyring.errors

    return keyring, keyring.errors


def get_secret(name: str) -> str | None:
    keyring, errors = _keyring()
    try:
        return keyring.get_password(SERVICE, name)
    except errors.KeyringError as e:
        raise KithError(f"cannot read the keyring ({type(e).__name__})",
                        hint="unlock or install a keyring (see `kith doctor`)") from e


def set_secret(name: str, value: str) -> None:
    keyring, errors = _keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except errors.KeyringError as e:
        raise KithError(f"cannot write to the keyring ({type(e).__name__})",
                        hint="unlock or install a keyring (see `kith doctor`)") from e


def hubspot_token() -> str:
    token = get_secret(HUBSPOT)
    if not token:
        raise KithError("HubSpot is not connected", hint="run `kith connect hubspot`")
    return token


def salesforce_credentials() -> dict:
    raw = get_secret(SALESFORCE)
    if not raw:
        raise KithError("Salesforce is not connected", hint="run `kith connect salesforce`")
    try:
        creds = json.loads(raw)
    except ValueError as e:
        raise KithError("the stored Salesforce credentials are unreadable",
                        hint="run `kith connect salesforce` again") from e
    return creds
