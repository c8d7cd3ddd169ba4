"""Kith — a local-first meeting copilot."""
__version__ = "0.1.0"
