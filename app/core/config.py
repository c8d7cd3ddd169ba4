"""Settings: a human-readable TOML file with defaults, validated on load.

A bad value raises :class:`SettingsError` naming the key (``transcribe.beam_size: …``).
Every area owns one section; add a field with a default and it appears in new files.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import KithError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TranscribeSettings(_Section):
    model: str = Field("tiny.en", description="catalog name (tiny.en, base, …) or a path to a CTranslate2 Whisper folder")
    language: str = Field("auto", description="'auto' or an ISO code such as 'en', 'de'")
    threads: int = Field(2, ge=1, le=64)
    beam_size: int = Field(1, ge=1, le=10)
    vad_min_silence_ms: int = Field(500, ge=100, le=10000)


class LLMSettings(_Section):
    model: str = Field("qwen2.5-coder-1.5b", description="catalog name or a path to a .gguf file")
    threads: int = Field(2, ge=1, le=64)
    context: int = Field(4096, ge=512, le=131072)
    max_tokens: int = Field(700, ge=64, le=8192, description="answer budget per transcript chunk (≈10 minutes)")


class CaptureSettings(_Section):
    mic: str = Field("", description="input device name or index; empty = system default")
    system: str = Field("", description="loopback/monitor source; empty = monitor of the default output")
    sample_rate: int = Field(16000, ge=8000, le=48000)
    silence_warning_s: int = Field(30, ge=5, le=600)
    min_free_disk_mb: int = Field(500, ge=50)


class CRMSettings(_Section):
    auto_accept: list[Literal["create_contact", "create_company", "update_contact", "update_deal", "action_item"]] = Field(
        default_factory=list, description="suggestion kinds applied without review"
    )
    default_template: Literal["general", "sales", "investor", "one_on_one"] = "general"
    my_name: str = Field("You", description="how you appear in transcripts and action items")
    my_email: str = Field("", description="your email: you are not suggested as a contact from calendar invites")
    my_company: str = Field("", description="your own company: never suggested as a new company")


class CalendarSettings(_Section):
    sync_minutes: int = Field(0, ge=0, le=1440, description="0 = only sync when asked")
    brief_ahead_hours: int = Field(24, ge=0, le=168)


class Settings(_Section):
    transcribe: TranscribeSettings = Field(default_factory=TranscribeSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    crm: CRMSettings = Field(default_factory=CRMSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)


class SettingsError(KithError):
    pass


def _describe(err: ValidationError, source: Path | str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown setting")
        else:
            lines.append(f"{key}: {e['msg']} (got {e.get('input')!r})")
    return f"{source}: " + "; ".join(lines)


def load_settings(path: Path) -> Settings:
    """Load settings; a missing file means defaults. Never rewrites the user's file."""
    if not path.exists():
        return Settings()
    if path.is_dir():
        raise SettingsError(f"{path} is a folder, not a settings file", hint="move the folder aside to get defaults")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"{path}: not valid TOML ({e})", hint="fix the file or move it aside to get defaults") from e
    except OSError as e:
        from app.core.files import os_error

        raise os_error(e, path, "read") from e
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise SettingsError(_describe(e, path), hint=f"edit {path}") from e


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically, readable by the owner only (they hold name, email, company)."""
    from app.core.files import os_error, write_private

    if path.is_dir():
        raise SettingsError(f"{path} is a folder, not a settings file", hint="move the folder aside")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise os_error(e, path.parent, "create") from e
    write_private(path, tomli_w.dumps(settings.model_dump(mode="json")))


def set_value(settings: Settings, dotted: str, raw: str) -> Settings:
    """Return a copy with ``section.key`` set from a string (CLI ``kith config set``)."""
    data = settings.model_dump(mode="json")
    section, _, key = dotted.partition(".")
    if section not in data or key not in data[section]:
        raise SettingsError(f"{dotted}: unknown setting", hint="see `kith config show`")
    current = data[section][key]
    if isinstance(current, bool):
        value: object = raw.lower() in ("1", "true", "yes", "on")
    elif isinstance(current, int):
        value = raw
    elif isinstance(current, list):
        value = [v for v in (s.strip() for s in raw.split(",")) if v]
    else:
        value = raw
    data[section][key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise SettingsError(_describe(e, "setting")) from e
