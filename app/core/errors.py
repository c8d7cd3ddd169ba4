"""Errors a user can act on: a message plus what to do about it."""
from __future__ import annotations


class KithError(Exception):
    """Base of every error Kith shows to a user. ``hint`` says what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class NotFound(KithError):
    exit_code = 4


class Cancelled(KithError):
    exit_code = 130

    def __init__(self, message: str = "cancelled", hint: str | None = None):
        super().__init__(message, hint)
