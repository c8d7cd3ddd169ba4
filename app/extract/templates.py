"""Meeting templates: resource files (``resources/templates/<name>.toml``) a user can copy into
``<config>/templates/`` and edit. A user file with the same name wins."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from app.core.errors import KithError
from app.core.paths import Paths, resource_path

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class SignalField:
    key: str
    description: str
    kind: str = "text"  # text | list


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    instructions: str
    signals: tuple[SignalField, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def signal_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.signals)


def _dirs(paths: Paths | None) -> list[Path]:
    dirs = []
    if paths is not None:
        dirs.append(paths.config / "templates")
    dirs.append(resource_path("resources", "templates"))
    return dirs


def list_templates(paths: Paths | None = None) -> list[str]:
    names: set[str] = set()
    for d in _dirs(paths):
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def parse_template(text: str, name: str, source: str = "") -> Template:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise KithError(f"template {name!r} is not valid TOML: {e}", hint=f"fix or remove {source or name}") from e
    signals = []
    seen = set()
    for i, s in enumerate(data.get("signals", [])):
        key = str(s.get("key", "")).strip()
        if not _KEY_RE.match(key) or key in seen:
            raise KithError(
                f"template {name!r}: signal #{i + 1} has a bad or repeated key {key!r}",
                hint="keys are lower-case words with underscores, e.g. next_step",
            )
        kind = str(s.get("kind", "text"))
        if kind not in ("text", "list"):
            raise KithError(f"template {name!r}: signal {key!r} has kind {kind!r}", hint="use kind = \"text\" or \"list\"")
        seen.add(key)
        signals.append(SignalField(key=key, description=str(s.get("description", key)).strip(), kind=kind))
    if len(signals) > 10:
        raise KithError(f"template {name!r} has {len(signals)} signals", hint="keep it to 10 or fewer (each costs model time)")
    return Template(
        name=str(data.get("name", name)),
        title=str(data.get("title", name)),
        instructions=str(data.get("instructions", "")).strip(),
        signals=tuple(signals),
        source=source,
    )


def load_template(name: str, paths: Paths | None = None) -> Template:
    """Find a template by name (user override dir first) or by path to a .toml file."""
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.is_file():
        return parse_template(candidate.read_text(encoding="utf-8"), candidate.stem, str(candidate))
    if not _KEY_RE.match(name):
        raise KithError(f"unknown meeting template {name!r}", hint="choose one of: " + ", ".join(list_templates(paths)))
    for d in _dirs(paths):
        f = d / f"{name}.toml"
        if f.is_file():
            return parse_template(f.read_text(encoding="utf-8"), name, str(f))
    raise KithError(f"unknown meeting template {name!r}", hint="choose one of: " + ", ".join(list_templates(paths)))


def copy_for_editing(name: str, paths: Paths) -> Path:
    """The user's own copy of a template (``<config>/templates/<name>.toml``), made from the
    built-in one the first time. Kith reads that copy from then on; deleting it restores the built-in."""
    load_template(name, paths)  # a known name (raises a clear error otherwise)
    dst = paths.config / "templates" / f"{name}.toml"
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        src = resource_path("resources", "templates", f"{name}.toml")
        tmp = dst.with_suffix(".toml.tmp")
        tmp.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        tmp.replace(dst)
    return dst
